//! Saving a simulator's repositories to a file and loading them into a new one, so an
//! example (or a host's test) can stop and start against the same GitHub.

use std::path::Path;

use super::*;

/// What is kept: the repositories (issues, labels, milestones) and the id counter,
/// with the address they were served at.
#[derive(serde::Serialize, serde::Deserialize)]
struct Saved {
    base_url: String,
    next_id: u64,
    repos: BTreeMap<String, Repo>,
}

impl GitHubSimulator {
    /// Writes the repositories to `path` (JSON). Tokens, webhooks and faults are not
    /// kept.
    pub fn save(&self, path: impl AsRef<Path>) -> std::io::Result<()> {
        let s = lock(&self.state);
        let saved = Saved {
            base_url: s.base_url.clone(),
            next_id: s.next_id,
            repos: BTreeMap::new(),
        };
        // Serialised without moving the repositories out of the state.
        let mut value = serde_json::to_value(&saved).map_err(std::io::Error::other)?;
        value["repos"] = serde_json::to_value(&s.repos).map_err(std::io::Error::other)?;
        std::fs::write(
            path,
            serde_json::to_vec(&value).map_err(std::io::Error::other)?,
        )
    }

    /// Loads repositories saved by [`GitHubSimulator::save`], replacing any of the same
    /// name; the URLs in them now point at this simulator. `Ok(false)` when there is
    /// no such file.
    pub fn load(&self, path: impl AsRef<Path>) -> std::io::Result<bool> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
            Err(e) => return Err(e),
        };
        let saved: Saved = serde_json::from_str(&text).map_err(std::io::Error::other)?;
        let mut s = lock(&self.state);
        let text = serde_json::to_string(&saved.repos).map_err(std::io::Error::other)?;
        let text = text.replace(&saved.base_url, &s.base_url);
        let repos: BTreeMap<String, Repo> =
            serde_json::from_str(&text).map_err(std::io::Error::other)?;
        s.next_id = s.next_id.max(saved.next_id);
        s.repos.extend(repos);
        Ok(true)
    }
}
