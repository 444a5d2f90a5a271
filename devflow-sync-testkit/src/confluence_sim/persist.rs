//! Saving a simulator's site to a file and loading it into a new one, so an example (or
//! a host's test) can stop and start against the same Confluence.

use std::path::Path;

use super::*;

/// What is kept: spaces and pages (bodies, versions, properties) and the id counter.
#[derive(serde::Serialize, serde::Deserialize)]
struct Saved {
    spaces: Vec<Space>,
    pages: Vec<Page>,
    next_id: u64,
}

impl ConfluenceSimulator {
    /// Writes the site to `path` (JSON). Tokens, webhooks and faults are not kept.
    pub fn save(&self, path: impl AsRef<Path>) -> std::io::Result<()> {
        let s = lock(&self.state);
        let saved = Saved {
            spaces: s.spaces.values().cloned().collect(),
            pages: s.pages.values().cloned().collect(),
            next_id: s.next_id,
        };
        std::fs::write(
            path,
            serde_json::to_vec(&saved).map_err(std::io::Error::other)?,
        )
    }

    /// Loads a site saved by [`ConfluenceSimulator::save`], replacing what this one
    /// holds (everything searchable at once). `Ok(false)` when there is no such file.
    pub fn load(&self, path: impl AsRef<Path>) -> std::io::Result<bool> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
            Err(e) => return Err(e),
        };
        let saved: Saved = serde_json::from_str(&text).map_err(std::io::Error::other)?;
        let mut s = lock(&self.state);
        s.spaces = saved.spaces.into_iter().map(|x| (x.id, x)).collect();
        s.pages = saved.pages.into_iter().map(|p| (p.id, p)).collect();
        s.next_id = saved.next_id;
        s.index.clear();
        s.pending.clear();
        let (lag, ids) = (s.search_lag_ms, s.pages.keys().copied().collect::<Vec<_>>());
        s.search_lag_ms = 0;
        for id in ids {
            s.reindex(id);
        }
        s.search_lag_ms = lag;
        Ok(true)
    }
}
