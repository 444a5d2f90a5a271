//! Connecting through an OAuth app the host configured (GitHub, BQE): `connect` with
//! `{"oauth": true, "id": ...}` answers the authorization URL; the provider sends the
//! person back to `GET /api/integrations/{provider}/callback?code=&state=` (no admin
//! token: the signed, single-use state is the proof), where the code is exchanged, the
//! tokens stored in the token store (never returned) and the connection added with a
//! token manager that refreshes them. `{"client_credentials": true}` connects with the
//! app's own credentials (or a client id and secret typed into the form) where the host
//! enabled that grant for the app; the token is then granted again when it runs out.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use devflow_sync_core::auth::{
    ClientCredentials, OAuthFlow, PkceVerifier, TokenGrant, TokenRefresher,
};
use devflow_sync_core::http::HttpClient;
use devflow_sync_core::model::{ConnectionId, ProviderKey};
use serde::Deserialize;
use serde_json::{Value, json};

use super::ApiError;
use crate::state::AppState;

/// The tenant the service's states are signed for.
const TENANT: &str = "demo";

/// What a connection made through an app becomes.
#[derive(Clone, Debug)]
pub enum OAuthTarget {
    /// A GitHub connection to `repo` at `api_url`.
    GitHub {
        /// The API base.
        api_url: String,
        /// The repository synced (`owner/name`).
        repo: String,
    },
    /// A BQE connection; its API base is the token response's `endpoint`.
    Bqe {
        /// The identity server (`.../idp`), for apps typed into the form.
        identity: String,
    },
}

/// An OAuth app of the host's.
pub struct OAuthApp {
    /// The flow (client id and secret, token URL, PKCE).
    pub flow: Arc<OAuthFlow>,
    /// What its connections become.
    pub target: OAuthTarget,
    /// Whether connections may be made by the client-credentials grant (off unless the
    /// host turns it on: BQE's catalog lists the code flow only).
    pub client_credentials: bool,
}

impl std::fmt::Debug for OAuthApp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OAuthApp")
            .field("target", &self.target)
            .field("client_credentials", &self.client_credentials)
            .finish_non_exhaustive()
    }
}

impl OAuthApp {
    /// An app whose connections become `target`.
    pub fn new(flow: OAuthFlow, target: OAuthTarget) -> Self {
        Self {
            flow: Arc::new(flow),
            target,
            client_credentials: false,
        }
    }

    /// Allows connections by the client-credentials grant.
    #[must_use]
    pub fn allowing_client_credentials(mut self) -> Self {
        self.client_credentials = true;
        self
    }
}

/// The host's OAuth apps by provider, and the flows started.
#[derive(Debug, Default)]
pub struct OAuthApps {
    apps: HashMap<String, OAuthApp>,
    /// Started flows by state.
    pending: Mutex<HashMap<String, Started>>,
}

/// A started flow: the provider, the connection and the PKCE verifier.
type Started = (String, ConnectionId, Option<PkceVerifier>);

impl OAuthApps {
    /// Adds (or replaces) `provider`'s app.
    pub fn insert(&mut self, provider: impl Into<String>, app: OAuthApp) {
        self.apps.insert(provider.into(), app);
    }

    /// Starts `provider`'s code flow for connection `id`: the URL to send the person to
    /// and the state it comes back with (single use). [`Error::InvalidInput`] when
    /// `provider` has no app.
    ///
    /// [`Error::InvalidInput`]: devflow_sync_core::Error::InvalidInput
    pub fn begin(
        &self,
        provider: &str,
        id: &ConnectionId,
    ) -> devflow_sync_core::Result<(String, String)> {
        let app = self.apps.get(provider).ok_or_else(|| {
            devflow_sync_core::Error::invalid_input(
                "provider",
                format!("no {provider} OAuth app is configured"),
            )
        })?;
        let started = app.flow.authorize(TENANT, id, "admin")?;
        let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        if pending.len() > 1_000 {
            pending.clear();
        }
        pending.insert(
            started.state.clone(),
            (provider.to_owned(), id.clone(), started.pkce_verifier),
        );
        Ok((started.url, started.state))
    }

    /// The flow of `provider`'s app.
    pub fn flow(&self, provider: &str) -> Option<Arc<OAuthFlow>> {
        self.apps.get(provider).map(|a| a.flow.clone())
    }

    /// Whether no app is configured.
    pub fn is_empty(&self) -> bool {
        self.apps.is_empty()
    }

    fn app(&self, provider: &str) -> Result<&OAuthApp, ApiError> {
        self.apps
            .get(provider)
            .ok_or_else(|| ApiError::bad_request(format!("no {provider} OAuth app is configured")))
    }
}

/// Starts the flow for connection `id`: the URL to send the person to.
pub(crate) fn start(
    state: &AppState,
    provider: &str,
    id: &ConnectionId,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let (url, started) = state.oauth.begin(provider, id)?;
    Ok((
        StatusCode::OK,
        Json(json!({"authorize_url": url, "state": started})),
    ))
}

#[derive(Debug, Deserialize)]
pub(crate) struct Callback {
    code: String,
    state: String,
}

/// `GET /api/integrations/{provider}/callback?code=&state=`.
#[utoipa::path(get, path = "/api/integrations/{provider}/callback", tag = "connections", params(("provider" = String, Path, description = "github or bqe"), ("code" = String, Query, description = "The provider's code"), ("state" = String, Query, description = "The signed state")), responses((status = 201, description = "Connected"), (status = 400, description = "An unknown, used or forged state")))]
pub(crate) async fn callback(
    State(state): State<Arc<AppState>>,
    Path(provider): Path<String>,
    Query(q): Query<Callback>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let app = state.oauth.app(&provider)?;
    let taken = state
        .oauth
        .pending
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .remove(&q.state);
    let Some((started_for, connection, verifier)) = taken.filter(|(p, _, _)| *p == provider) else {
        return Err(ApiError::bad_request("unknown or already used state"));
    };
    let grant = app
        .flow
        .exchange_code(TENANT, &connection, &q.code, &q.state, verifier)
        .await
        .map_err(|e| ApiError::bad_request(format!("{started_for} refused the code: {e}")))?;
    let refresher: Arc<dyn TokenRefresher> = app.flow.clone();
    let how = json!({"auth": crate::resume::AuthKind::OAuth.name()});
    connect_with(&state, &app.target, &connection, &grant, refresher, how).await
}

/// Connects `id` by the client-credentials grant of `provider`'s app, or of the app
/// whose `client_id` and `client_secret` the form gives.
pub(crate) async fn client_credentials(
    state: &AppState,
    provider: &str,
    id: &ConnectionId,
    typed: Option<(&str, &str)>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let app = state.oauth.app(provider)?;
    if !app.client_credentials {
        return Err(ApiError::bad_request(format!(
            "the client-credentials grant is not enabled for {provider}'s app"
        )));
    }
    let flow = match (typed, &app.target) {
        (Some((client_id, secret)), OAuthTarget::Bqe { identity }) => {
            let config = devflow_provider_bqe::oauth_config(
                identity,
                client_id,
                Some(devflow_sync_core::auth::ClientSecret::new(secret)),
            )?;
            Arc::new(OAuthFlow::new(
                config,
                HttpClient::builder().build()?,
                app.flow.signer().clone(),
            )?)
        }
        (Some(_), _) => {
            return Err(ApiError::bad_request(format!(
                "{provider} connects with the host's own app only"
            )));
        }
        (None, _) => app.flow.clone(),
    };
    let grant = flow
        .client_credentials(id)
        .await
        .map_err(|e| ApiError::bad_request(format!("{provider} refused the app: {e}")))?;
    let mut how = json!({"auth": crate::resume::AuthKind::ClientCredentials.name()});
    if let Some((client_id, _)) = typed {
        how["client_id"] = json!(client_id);
    }
    let refresher: Arc<dyn TokenRefresher> = Arc::new(ClientCredentials::new(flow));
    connect_with(state, &app.target, id, &grant, refresher, how).await
}

/// Stores `grant`'s tokens and adds the connection with a manager that keeps them fresh;
/// `how` (the settings' `auth`, a typed app's client id) is kept with the connection,
/// completed with where it points, for a restart.
async fn connect_with(
    state: &AppState,
    target: &OAuthTarget,
    connection: &ConnectionId,
    grant: &TokenGrant,
    refresher: Arc<dyn TokenRefresher>,
    mut how: Value,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let key = match target {
        OAuthTarget::GitHub { .. } => "github",
        OAuthTarget::Bqe { .. } => "bqe",
    };
    let tokens = state.engine.tokens().clone();
    let version = tokens.get(connection).await?.map(|t| t.version);
    tokens
        .put(
            connection,
            &ProviderKey::new(key),
            &grant.credentials,
            version,
        )
        .await?;
    let record = match target {
        OAuthTarget::GitHub { api_url, repo } => {
            how["base_url"] = json!(api_url);
            how["repo"] = json!(repo);
            crate::records::github(connection.as_str())?
        }
        OAuthTarget::Bqe { .. } => {
            how["api_base"] = json!(devflow_provider_bqe::endpoint_of(&grant.fields)?);
            crate::records::bqe(connection.as_str())?
        }
    }
    .with_settings(how);
    let handle = crate::resume::handle_with(state, &record, None, Some(&refresher))?;
    state
        .engine
        .add_connection(record, handle.provider())
        .await?;
    state.set_handle(connection.clone(), handle);
    Ok((
        StatusCode::CREATED,
        Json(json!({"connected": connection, "provider": key})),
    ))
}
