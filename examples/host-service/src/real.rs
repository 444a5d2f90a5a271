//! Against real providers: each one whose settings are in the environment (the
//! providers' `from_env` keys: `DEVFLOW_SYNC_JIRA_*`, `DEVFLOW_SYNC_CONFLUENCE_*`,
//! `DEVFLOW_SYNC_GITHUB_*`, `DEVFLOW_SYNC_BQE_*`; nothing secret on the command line)
//! becomes a connection (`jira`, `confluence`, `github`, `bqe`) of the engine, with the
//! providers' catalog rate limits. OAuth apps from the environment
//! (`DEVFLOW_SYNC_GITHUB_CLIENT_ID`/`_CLIENT_SECRET`, `DEVFLOW_SYNC_BQE_CLIENT_ID`/
//! `_CLIENT_SECRET`, with the service's public URL in `DEVFLOW_SYNC_PUBLIC_URL` for the
//! callbacks) let people connect more through the dashboard.

use std::collections::HashMap;
use std::sync::Arc;

use devflow_provider_bqe::BqeBuilder;
use devflow_provider_confluence::ConfluenceBuilder;
use devflow_provider_github::GitHubBuilder;
use devflow_provider_jira::JiraBuilder;
use devflow_store_sqlite::SqliteStore;
use devflow_sync_core::auth::{ClientSecret, OAuthFlow, StateSigner};
use devflow_sync_core::engine::SyncEngine;
use devflow_sync_core::http::HttpClient;
use devflow_sync_core::model::ConnectionId;
use devflow_sync_core::{Error, Result};

use crate::api::oauth::{OAuthApp, OAuthApps, OAuthTarget};
use crate::state::{Handle, Handles};

/// The engine over `store` (tokens sealed with `ring`) with a connection for each provider `lookup` has settings
/// for (`std::env::var` in the service), and the OAuth apps it names.
/// [`Error::InvalidConfig`] when there is neither, or when one's settings do not do
/// (naming the setting).
pub async fn start(
    store: Arc<SqliteStore>,
    ring: devflow_sync_core::auth::KeyRing,
    lookup: impl Fn(&str) -> Option<String>,
) -> Result<(SyncEngine, Handles, OAuthApps)> {
    let engine = crate::resume::engine_over(store, ring)?;
    let mut handles: Handles = HashMap::new();
    let mut add = async |id: &str, record, handle: Handle| -> Result<()> {
        engine.add_connection(record, handle.provider()).await?;
        handles.insert(ConnectionId::new(id), handle);
        Ok(())
    };
    if lookup("DEVFLOW_SYNC_JIRA_BASE_URL").is_some() {
        let p = Arc::new(JiraBuilder::from_lookup(&lookup)?.build()?);
        add("jira", crate::records::jira("jira")?, Handle::Jira(p)).await?;
    }
    if lookup("DEVFLOW_SYNC_CONFLUENCE_BASE_URL").is_some() {
        let p = Arc::new(ConfluenceBuilder::from_lookup(&lookup)?.build()?);
        let record = crate::records::confluence("confluence")?;
        add("confluence", record, Handle::Confluence(p)).await?;
    }
    if lookup("DEVFLOW_SYNC_GITHUB_TOKEN").is_some() {
        let p = Arc::new(GitHubBuilder::from_lookup(&lookup)?.build()?);
        add(
            "github",
            crate::records::github("github")?,
            Handle::GitHub(p),
        )
        .await?;
    }
    if lookup("DEVFLOW_SYNC_BQE_ACCESS_TOKEN").is_some() {
        let p = Arc::new(BqeBuilder::from_lookup(&lookup)?.build()?);
        add("bqe", crate::records::bqe("bqe")?, Handle::Bqe(p)).await?;
    }
    let apps = oauth_apps(&lookup)?;
    if handles.is_empty() && apps.is_empty() {
        return Err(Error::InvalidConfig {
            pointer: "environment".into(),
            message: "no provider is configured: set DEVFLOW_SYNC_JIRA_BASE_URL, \
                      DEVFLOW_SYNC_CONFLUENCE_BASE_URL, DEVFLOW_SYNC_GITHUB_TOKEN or \
                      DEVFLOW_SYNC_BQE_ACCESS_TOKEN (with their other settings), or an OAuth \
                      app (DEVFLOW_SYNC_GITHUB_CLIENT_ID, DEVFLOW_SYNC_BQE_CLIENT_ID)"
                .into(),
        });
    }
    Ok((engine, handles, apps))
}

/// The OAuth apps the environment names, their states signed with a key made for
/// this process (a flow started before a restart is started again).
fn oauth_apps(lookup: &impl Fn(&str) -> Option<String>) -> Result<OAuthApps> {
    let mut apps = OAuthApps::default();
    let public = lookup("DEVFLOW_SYNC_PUBLIC_URL")
        .unwrap_or_else(|| "http://127.0.0.1:8080".into())
        .trim_end_matches('/')
        .to_owned();
    let mut key = [0u8; 32];
    getrandom::getrandom(&mut key).map_err(|e| Error::transient(e.to_string()))?;
    let key: String = key.iter().map(|b| format!("{b:02x}")).collect();
    let signer = Arc::new(StateSigner::new(ClientSecret::new(key)));
    let secret = |var: &str| lookup(var).filter(|s| !s.is_empty()).map(ClientSecret::new);
    if let Some(client_id) = lookup("DEVFLOW_SYNC_GITHUB_CLIENT_ID") {
        let builder = GitHubBuilder::from_lookup(lookup)?;
        let mut config = devflow_provider_github::oauth_config(
            &client_id,
            secret("DEVFLOW_SYNC_GITHUB_CLIENT_SECRET"),
        )?;
        config.redirect_url = Some(format!("{public}/api/integrations/github/callback"));
        let flow = OAuthFlow::new(config, HttpClient::builder().build()?, signer.clone())?;
        let repo = builder
            .repositories()
            .first()
            .cloned()
            .ok_or_else(|| Error::InvalidConfig {
                pointer: "DEVFLOW_SYNC_GITHUB_REPOSITORIES".into(),
                message: "a GitHub OAuth app needs the repository its connections sync".into(),
            })?;
        let target = OAuthTarget::GitHub {
            api_url: builder.api_url().to_owned(),
            repo,
        };
        apps.insert("github", OAuthApp::new(flow, target));
    }
    if let Some(client_id) = lookup("DEVFLOW_SYNC_BQE_CLIENT_ID") {
        let identity = BqeBuilder::from_lookup(lookup)?.identity().to_owned();
        let mut config = devflow_provider_bqe::oauth_config(
            &identity,
            &client_id,
            secret("DEVFLOW_SYNC_BQE_CLIENT_SECRET"),
        )?;
        config.redirect_url = Some(format!("{public}/api/integrations/bqe/callback"));
        let flow = OAuthFlow::new(config, HttpClient::builder().build()?, signer)?;
        let mut app = OAuthApp::new(flow, OAuthTarget::Bqe { identity });
        if lookup("DEVFLOW_SYNC_BQE_CLIENT_CREDENTIALS").is_some_and(|v| v == "1" || v == "true") {
            app = app.allowing_client_credentials();
        }
        apps.insert("bqe", app);
    }
    Ok(apps)
}
