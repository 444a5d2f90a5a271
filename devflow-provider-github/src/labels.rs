//! The DevFlow labels of a repository, created when missing.

use devflow_sync_core::http::Method;
use devflow_sync_core::model::ConnectionId;
use devflow_sync_core::{Error, Result};
use serde_json::{Value, json};

use crate::client::{GitHubProvider, json};
use crate::wire::{CONFLICT_LABEL, KIND_LABELS, SYNCED_LABEL};

impl GitHubProvider {
    /// Creates the DevFlow labels a repository lacks (the level labels, `devflow:synced`,
    /// `devflow:conflict`), with their colours; once per repository and process. A
    /// host's "configure repository" step calls it; the provider also does before its
    /// first write.
    pub async fn ensure_labels(&self, connection: &ConnectionId, repo: &str) -> Result<()> {
        let mut done = self.labelled.lock().await;
        if done.contains(repo) {
            return Ok(());
        }
        let url = format!("{}/repos/{repo}/labels?per_page=100", self.api.base_url());
        let existing = json(&self.call(connection, Method::GET, url, None).await?)?;
        let names: Vec<&str> = existing
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|l| l.get("name").and_then(Value::as_str))
                    .collect()
            })
            .unwrap_or_default();
        let wanted = KIND_LABELS
            .iter()
            .map(|(_, name, colour)| (*name, *colour))
            .chain([SYNCED_LABEL, CONFLICT_LABEL]);
        for (name, colour) in wanted {
            if names.contains(&name) {
                continue;
            }
            let url = format!("{}/repos/{repo}/labels", self.api.base_url());
            match self
                .call(
                    connection,
                    Method::POST,
                    url,
                    Some(json!({"name": name, "color": colour})),
                )
                .await
            {
                // Created meanwhile by someone else: fine.
                Ok(_) | Err(Error::AlreadyExists(_)) => {}
                Err(e) => return Err(e),
            }
        }
        done.insert(repo.to_owned());
        Ok(())
    }
}
