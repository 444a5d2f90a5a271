//! Connections made at run time come back after a restart. Each connection record keeps
//! its non-secret settings (`auth`, site or API URL, project, space, repository, email);
//! its secret (an API token, or OAuth tokens) is in the engine's token store, sealed
//! with the service's key ring. [`handle_for`] builds a provider from the two, both when
//! a connection is made and when the service starts again ([`resume`]).

use std::sync::Arc;

use devflow_provider_bqe::{BqeConfig, BqeProvider};
use devflow_provider_confluence::{ConfluenceAuth, ConfluenceConfig, ConfluenceProvider};
use devflow_provider_github::{GitHubConfig, GitHubProvider, TokenSource};
use devflow_provider_jira::{JiraAuth, JiraConfig, JiraProvider};
use devflow_sync_core::auth::{AccessToken, KeyRing, TokenManager, TokenRefresher};
use devflow_sync_core::http::HttpClient;
use devflow_sync_core::model::{ConnectionId, ProviderKey};
use devflow_sync_core::store::{ConnectionRecord, Credentials};
use devflow_sync_core::{Error, Result};
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;

use crate::state::{AppState, Handle};

/// How a connection authenticates, as its settings' `auth` says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuthKind {
    /// An API token typed into the form (kept in the token store).
    ApiToken,
    /// The OAuth code flow of the host's app (refreshed by a token manager).
    OAuth,
    /// The client-credentials grant of the host's app (granted again when it runs out).
    ClientCredentials,
}

impl AuthKind {
    /// The name kept in the settings.
    pub fn name(self) -> &'static str {
        match self {
            AuthKind::ApiToken => "api_token",
            AuthKind::OAuth => "oauth",
            AuthKind::ClientCredentials => "client_credentials",
        }
    }

    fn of(record: &ConnectionRecord) -> Result<Self> {
        match record.settings.get("auth").and_then(Value::as_str) {
            Some("api_token") => Ok(AuthKind::ApiToken),
            Some("oauth") => Ok(AuthKind::OAuth),
            Some("client_credentials") => Ok(AuthKind::ClientCredentials),
            other => Err(setting(record, "auth", other)),
        }
    }
}

fn setting(record: &ConnectionRecord, name: &str, found: Option<&str>) -> Error {
    Error::InvalidConfig {
        pointer: format!("/connections/{}/settings/{name}", record.id),
        message: match found {
            Some(v) => format!("{v:?} is not a value this service knows"),
            None => "missing".into(),
        },
    }
}

fn text<'a>(record: &'a ConnectionRecord, name: &str) -> Result<&'a str> {
    record
        .settings
        .get(name)
        .and_then(Value::as_str)
        .filter(|v| !v.is_empty())
        .ok_or_else(|| setting(record, name, None))
}

/// The token manager of a connection authenticating through `refresher`.
pub fn manager(
    state: &AppState,
    provider: &str,
    refresher: Arc<dyn TokenRefresher>,
) -> Arc<TokenManager> {
    Arc::new(
        TokenManager::new(
            state.engine.tokens().clone(),
            state.engine.journal().clone(),
        )
        .refresher(provider, refresher),
    )
}

/// Keeps an API token in the token store (sealed), for [`resume`].
pub async fn keep_api_token(
    state: &AppState,
    connection: &ConnectionId,
    provider: &str,
    token: &AccessToken,
) -> Result<()> {
    let tokens = state.engine.tokens();
    let version = tokens.get(connection).await?.map(|t| t.version);
    let credentials = Credentials {
        access_token: SecretString::from(token.secret().to_owned()),
        refresh_token: None,
        expires_at: None,
        scopes: Vec::new(),
    };
    tokens
        .put(
            connection,
            &ProviderKey::new(provider),
            &credentials,
            version,
        )
        .await?;
    Ok(())
}

/// The provider of `record`: an API-token connection with `token`; an OAuth or
/// client-credentials one with a token manager over the host's app of its provider.
pub fn handle_for(
    state: &AppState,
    record: &ConnectionRecord,
    token: Option<&AccessToken>,
) -> Result<Handle> {
    handle_with(state, record, token, None)
}

/// [`handle_for`], an OAuth connection refreshed by `refresher` when one is given (a
/// grant just made, with the flow that made it) rather than by the host's app.
pub fn handle_with(
    state: &AppState,
    record: &ConnectionRecord,
    token: Option<&AccessToken>,
    refresher: Option<&Arc<dyn TokenRefresher>>,
) -> Result<Handle> {
    let http = HttpClient::builder().build()?;
    let auth = AuthKind::of(record)?;
    let api_token = || {
        token.cloned().ok_or_else(|| Error::NeedsReauth {
            connection: record.id.to_string(),
            message: "no API token is kept for this connection: connect it again".into(),
        })
    };
    let oauth = || -> Result<Arc<TokenManager>> {
        if let Some(refresher) = refresher {
            return Ok(manager(state, record.provider.as_str(), refresher.clone()));
        }
        let flow =
            state
                .oauth
                .flow(record.provider.as_str())
                .ok_or_else(|| Error::InvalidConfig {
                    pointer: format!("/connections/{}", record.id),
                    message: format!("no {} OAuth app is configured", record.provider),
                })?;
        let typed = record.settings.get("client_id").and_then(Value::as_str);
        if typed.is_some_and(|c| c != flow.config().client_id) {
            return Err(Error::NeedsReauth {
                connection: record.id.to_string(),
                message: "its app was typed into the form and is not kept: connect it again".into(),
            });
        }
        let refresher: Arc<dyn TokenRefresher> = if auth == AuthKind::ClientCredentials {
            Arc::new(devflow_sync_core::auth::ClientCredentials::new(flow))
        } else {
            flow
        };
        Ok(manager(state, record.provider.as_str(), refresher))
    };
    Ok(match (record.provider.as_str(), auth) {
        ("jira", AuthKind::ApiToken) => {
            let config = JiraConfig::new(
                text(record, "base_url")?,
                text(record, "project")?,
                JiraAuth::api_token(text(record, "email")?, api_token()?),
            );
            Handle::Jira(Arc::new(JiraProvider::new(config, http)?))
        }
        ("confluence", AuthKind::ApiToken) => {
            let config = ConfluenceConfig::new(
                text(record, "base_url")?,
                text(record, "space")?,
                ConfluenceAuth::api_token(text(record, "email")?, api_token()?),
            );
            Handle::Confluence(Arc::new(ConfluenceProvider::new(config, http)?))
        }
        ("github", kind) => {
            let tokens = match kind {
                AuthKind::ApiToken => TokenSource::Static(api_token()?),
                _ => TokenSource::Manager(oauth()?),
            };
            let config = GitHubConfig::new(
                text(record, "base_url")?,
                vec![text(record, "repo")?.to_owned()],
                tokens,
            );
            Handle::GitHub(Arc::new(GitHubProvider::new(config, http)?))
        }
        ("bqe", AuthKind::OAuth | AuthKind::ClientCredentials) => {
            let config = BqeConfig::with_manager(text(record, "api_base")?, oauth()?);
            Handle::Bqe(Arc::new(BqeProvider::new(config, http)?))
        }
        _ => return Err(setting(record, "auth", Some(auth.name()))),
    })
}

/// Brings back every stored connection the service does not hold yet (those made at
/// run time before a restart): its provider built again from its settings and its
/// kept secret. Returns how many came back, and each that could not with why (an app
/// no longer configured, a token no longer kept: connect it again).
pub async fn resume(state: &AppState) -> Result<(usize, Vec<(ConnectionId, Error)>)> {
    let mut resumed = 0;
    let mut failed = Vec::new();
    for record in state.engine.connections().await? {
        if state.handle(&record.id).is_some() {
            continue;
        }
        // A token that cannot be read (sealed with another key) fails this one only.
        let built = match state.engine.tokens().get(&record.id).await {
            Ok(stored) => handle_for(
                state,
                &record,
                stored
                    .map(|t| AccessToken::new(t.credentials.access_token.expose_secret()))
                    .as_ref(),
            ),
            Err(e) => Err(e),
        };
        match built {
            Ok(handle) => {
                let id = record.id.clone();
                state
                    .engine
                    .add_connection(record, handle.provider())
                    .await?;
                state.set_handle(id, handle);
                resumed += 1;
            }
            Err(e) => failed.push((record.id.clone(), e)),
        }
    }
    Ok((resumed, failed))
}

/// The key ring tokens are sealed with: [`KEYS_ENV`](devflow_sync_core::auth::KEYS_ENV)
/// when set, else the key in `file` (made, readable by its owner only, when missing).
pub fn key_ring(file: &std::path::Path) -> Result<KeyRing> {
    if let Some(ring) = KeyRing::from_env()? {
        return Ok(ring);
    }
    let invalid = |e: std::io::Error| Error::InvalidConfig {
        pointer: file.display().to_string(),
        message: e.to_string(),
    };
    match std::fs::read_to_string(file) {
        Ok(text) => KeyRing::parse(text.trim()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let text = new_key_entry()?;
            crate::write_private(file, &text).map_err(invalid)?;
            KeyRing::parse(&text)
        }
        Err(e) => Err(invalid(e)),
    }
}

/// The engine over `store`, its tokens sealed with `ring` (bound to the service's
/// tenant): only ciphertext reaches the database.
pub fn engine_over(
    store: Arc<devflow_store_sqlite::SqliteStore>,
    ring: KeyRing,
) -> Result<devflow_sync_core::engine::SyncEngine> {
    let tokens = devflow_sync_core::auth::EncryptedTokenStore::new(store.clone(), ring, "host");
    devflow_sync_core::engine::SyncEngine::builder()
        .stores(store)
        .tokens(Arc::new(tokens))
        .build()
}

/// A key ring of one key made for this process (a temporary database, tests).
pub fn process_key_ring() -> Result<KeyRing> {
    KeyRing::parse(&new_key_entry()?)
}

fn new_key_entry() -> Result<String> {
    use base64::Engine as _;
    let mut key = [0u8; 32];
    getrandom::getrandom(&mut key).map_err(|e| Error::transient(e.to_string()))?;
    Ok(format!(
        "k1:{}",
        base64::engine::general_purpose::STANDARD.encode(key)
    ))
}
