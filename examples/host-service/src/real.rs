//! Against real providers: each one whose settings are in the environment
//! (`DEVFLOW_SYNC_JIRA_*`, `DEVFLOW_SYNC_GITHUB_*`: the providers' `from_env`; nothing
//! secret on the command line) becomes a connection (`jira`, `github`) of the engine,
//! with the providers' catalog rate limits. Confluence and BQE are connected at run
//! time through `POST /api/integrations/{provider}/connect`.

use std::collections::HashMap;
use std::sync::Arc;

use devflow_provider_github::GitHubBuilder;
use devflow_provider_jira::JiraBuilder;
use devflow_store_sqlite::SqliteStore;
use devflow_sync_core::engine::SyncEngine;
use devflow_sync_core::model::ConnectionId;
use devflow_sync_core::{Error, Result};

use crate::state::{Handle, Handles};

/// The engine over `store` with a connection for each provider `lookup` has settings
/// for (`std::env::var` in the service). [`Error::InvalidConfig`] when there is none,
/// or when one's settings do not do (naming the setting).
pub async fn start(
    store: Arc<SqliteStore>,
    lookup: impl Fn(&str) -> Option<String>,
) -> Result<(SyncEngine, Handles)> {
    let engine = SyncEngine::builder().stores(store).build()?;
    let mut handles: Handles = HashMap::new();
    if lookup("DEVFLOW_SYNC_JIRA_BASE_URL").is_some() {
        let jira = Arc::new(JiraBuilder::from_lookup(&lookup)?.build()?);
        let record = crate::records::jira("jira")?;
        engine.add_connection(record, jira.clone()).await?;
        handles.insert(ConnectionId::new("jira"), Handle::Jira(jira));
    }
    if lookup("DEVFLOW_SYNC_GITHUB_TOKEN").is_some() {
        let github = Arc::new(GitHubBuilder::from_lookup(&lookup)?.build()?);
        let record = crate::records::github("github")?;
        engine.add_connection(record, github.clone()).await?;
        handles.insert(ConnectionId::new("github"), Handle::GitHub(github));
    }
    if handles.is_empty() {
        return Err(Error::InvalidConfig {
            pointer: "environment".into(),
            message: "no provider is configured: set DEVFLOW_SYNC_JIRA_BASE_URL (and its \
                      project and credentials) or DEVFLOW_SYNC_GITHUB_TOKEN (and its \
                      repositories)"
                .into(),
        });
    }
    Ok((engine, handles))
}
