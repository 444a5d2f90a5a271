//! Connecting GitHub through the OAuth code flow with PKCE: `connect` with
//! `{"oauth": true, "id": ...}` answers the authorization URL; the provider sends the
//! person back to `GET /api/integrations/github/callback?code=&state=` (no admin token:
//! the signed, single-use state is the proof), where the code is exchanged, the tokens
//! stored in the token store (never returned) and the connection added with a token
//! manager that refreshes them.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::Json;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use devflow_provider_github::{GitHubConfig, GitHubProvider, TokenSource};
use devflow_sync_core::auth::{OAuthFlow, PkceVerifier, TokenManager};
use devflow_sync_core::http::HttpClient;
use devflow_sync_core::model::{ConnectionId, ProviderKey};
use devflow_sync_core::store::{BindingRecord, ConnectionRecord};
use serde::Deserialize;
use serde_json::{Value, json};

use super::ApiError;
use crate::state::{AppState, Handle};

/// The tenant the demo's states are signed for.
const TENANT: &str = "demo";

/// GitHub's OAuth app as the host configured it, and the flows started.
pub struct GitHubOAuth {
    /// The flow (client id and secret, token URL, PKCE).
    pub flow: Arc<OAuthFlow>,
    /// The API base the connection will use.
    pub api_url: String,
    /// The repository it syncs.
    pub repo: String,
    /// Started flows by state: the connection and the PKCE verifier (single use).
    pending: Mutex<HashMap<String, (ConnectionId, Option<PkceVerifier>)>>,
}

impl std::fmt::Debug for GitHubOAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GitHubOAuth")
            .field("api_url", &self.api_url)
            .finish_non_exhaustive()
    }
}

impl GitHubOAuth {
    /// GitHub's OAuth for connections to `repo` at `api_url`.
    pub fn new(flow: OAuthFlow, api_url: impl Into<String>, repo: impl Into<String>) -> Self {
        Self {
            flow: Arc::new(flow),
            api_url: api_url.into(),
            repo: repo.into(),
            pending: Mutex::new(HashMap::new()),
        }
    }
}

/// Starts the flow for connection `id`: the URL to send the person to.
pub(crate) fn start(
    state: &AppState,
    id: &ConnectionId,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let oauth = state
        .github_oauth
        .as_ref()
        .ok_or_else(|| ApiError::bad_request("no GitHub OAuth app is configured"))?;
    let started = oauth.flow.authorize(TENANT, id, "admin")?;
    let mut pending = oauth.pending.lock().unwrap_or_else(|e| e.into_inner());
    if pending.len() > 1_000 {
        pending.clear();
    }
    pending.insert(started.state.clone(), (id.clone(), started.pkce_verifier));
    Ok((
        StatusCode::OK,
        Json(json!({"authorize_url": started.url, "state": started.state})),
    ))
}

#[derive(Debug, Deserialize)]
pub(crate) struct Callback {
    code: String,
    state: String,
}

/// `GET /api/integrations/github/callback?code=&state=`.
#[utoipa::path(get, path = "/api/integrations/github/callback", tag = "connections", params(("code" = String, Query, description = "The provider's code"), ("state" = String, Query, description = "The signed state")), responses((status = 201, description = "Connected"), (status = 400, description = "An unknown, used or forged state")))]
pub(crate) async fn callback(
    State(state): State<Arc<AppState>>,
    Query(q): Query<Callback>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let oauth = state
        .github_oauth
        .as_ref()
        .ok_or_else(|| ApiError::bad_request("no GitHub OAuth app is configured"))?;
    let taken = oauth
        .pending
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .remove(&q.state);
    let Some((connection, verifier)) = taken else {
        return Err(ApiError::bad_request("unknown or already used state"));
    };
    let grant = oauth
        .flow
        .exchange_code(TENANT, &connection, &q.code, &q.state, verifier)
        .await
        .map_err(|e| ApiError::bad_request(format!("GitHub refused the code: {e}")))?;
    let tokens = state.engine.tokens().clone();
    let provider = ProviderKey::new("github");
    let version = tokens.get(&connection).await?.map(|t| t.version);
    tokens
        .put(&connection, &provider, &grant.credentials, version)
        .await?;
    let manager = TokenManager::new(tokens, state.engine.journal().clone())
        .refresher("github", oauth.flow.clone());
    let config = GitHubConfig::new(
        &oauth.api_url,
        vec![oauth.repo.clone()],
        TokenSource::Manager(Arc::new(manager)),
    );
    let github = Arc::new(GitHubProvider::new(config, HttpClient::builder().build()?)?);
    let record = ConnectionRecord::new(connection.as_str(), "github").with_binding(
        BindingRecord::new("issue")
            .for_host_object("work_item")
            .with_mapping(devflow_provider_github::mapping::default_mapping()?),
    );
    state.engine.add_connection(record, github.clone()).await?;
    state.set_handle(connection.clone(), Handle::GitHub(github));
    Ok((
        StatusCode::CREATED,
        Json(json!({"connected": connection, "provider": "github"})),
    ))
}
