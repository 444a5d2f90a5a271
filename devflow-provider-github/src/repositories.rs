//! The repositories a token reaches, for a person to choose.

use devflow_sync_core::Result;
use devflow_sync_core::model::ConnectionId;
use serde_json::Value;

use crate::client::GitHubProvider;

/// A repository a token reaches.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Repository {
    /// `owner/name`.
    pub full_name: String,
    /// Whether it is private.
    pub private: bool,
}

impl GitHubProvider {
    /// The repositories the connection's token reaches (`GET /user/repos`, every page),
    /// for a person to choose which to sync.
    pub async fn list_repositories(&self, connection: &ConnectionId) -> Result<Vec<Repository>> {
        let url = format!(
            "{}/user/repos?per_page=100&sort=full_name",
            self.api.base_url()
        );
        let mut out = Vec::new();
        for repo in self.every_page(connection, url).await? {
            if let Some(full_name) = repo.get("full_name").and_then(Value::as_str) {
                out.push(Repository {
                    full_name: full_name.to_owned(),
                    private: repo
                        .get("private")
                        .and_then(Value::as_bool)
                        .unwrap_or(false),
                });
            }
        }
        Ok(out)
    }
}
