//! Saving a simulator's site to a file and loading it into a new one, so an example (or
//! a host's test) can stop and start against the same Jira.

use std::path::Path;

use super::*;

/// What is kept: projects, issues (fields, properties, changelog), worklogs (with their
/// properties and the deletions the delta reports), custom fields and the counters, with
/// the address they were served at.
#[derive(serde::Serialize, serde::Deserialize)]
struct Saved {
    base_url: String,
    projects: BTreeMap<String, Project>,
    issues: Vec<Issue>,
    fields: Vec<Field>,
    next_issue_id: u64,
    next_change_id: u64,
    next_field: u64,
    /// Absent in files saved before worklogs were kept.
    #[serde(default)]
    worklogs: worklogs::SavedWorklogs,
}

impl JiraSimulator {
    /// Writes the site to `path` (JSON). Tokens, webhooks and faults are not kept.
    pub fn save(&self, path: impl AsRef<Path>) -> std::io::Result<()> {
        let s = lock(&self.state);
        let saved = Saved {
            base_url: s.base_url.clone(),
            projects: s.projects.clone(),
            issues: s.issues.values().cloned().collect(),
            fields: s.fields.clone(),
            next_issue_id: s.next_issue_id,
            next_change_id: s.next_change_id,
            next_field: s.next_field,
            worklogs: s.worklogs.saved(),
        };
        std::fs::write(
            path,
            serde_json::to_vec(&saved).map_err(std::io::Error::other)?,
        )
    }

    /// Loads a site saved by [`JiraSimulator::save`], replacing what this one holds;
    /// the URLs in it now point at this simulator. `Ok(false)` when there is no such
    /// file.
    pub fn load(&self, path: impl AsRef<Path>) -> std::io::Result<bool> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
            Err(e) => return Err(e),
        };
        let old: Saved = serde_json::from_str(&text).map_err(std::io::Error::other)?;
        let mut s = lock(&self.state);
        let text = text.replace(&old.base_url, &s.base_url);
        let saved: Saved = serde_json::from_str(&text).map_err(std::io::Error::other)?;
        s.projects = saved.projects;
        s.fields = saved.fields;
        s.next_issue_id = saved.next_issue_id;
        s.next_change_id = saved.next_change_id;
        s.next_field = saved.next_field;
        s.worklogs.restore(saved.worklogs);
        s.issues.clear();
        s.keys.clear();
        s.index.clear();
        s.feed.clear();
        for issue in saved.issues {
            s.keys.insert(issue.key.clone(), issue.id);
            let id = issue.id;
            s.issues.insert(id, issue);
            s.index_now(id);
        }
        Ok(true)
    }
}
