//! `POST /api/integrations/{provider}/connect`: a connection from an API-token form
//! (Jira, Confluence: site, email, token and project or space; GitHub: API URL, token
//! and repository), tested before it is added; or through the host's OAuth app (the
//! code flow, or the client-credentials grant: see [`super::oauth`]); the same id again replaces the
//! credentials (reconnect, e.g. after `needs_reauth`). Secrets are write-only: never
//! returned, never logged.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use devflow_provider_jira::Diagnosis;
use devflow_sync_core::auth::AccessToken;
use devflow_sync_core::model::ConnectionId;
use serde::Deserialize;
use serde_json::{Value, json};

use super::ApiError;
use crate::state::{AppState, Handle};

/// The form.
#[derive(Deserialize, utoipa::ToSchema)]
pub(crate) struct Form {
    /// The new connection's id (letters, digits, `-`, `_`).
    id: String,
    /// The site (`https://acme.atlassian.net`) or the API (`https://api.github.com`).
    #[serde(default)]
    base_url: String,
    /// The account's email (Jira, Confluence).
    #[serde(default)]
    email: String,
    /// The API token; write-only.
    #[serde(default)]
    api_token: String,
    /// The Jira project key.
    #[serde(default)]
    project: String,
    /// The Confluence space key.
    #[serde(default)]
    space: String,
    /// The GitHub repository (`owner/name`).
    #[serde(default)]
    repo: String,
    /// GitHub, BQE: start the OAuth code flow of the host's app instead (the answer is
    /// the URL to send the person to).
    #[serde(default)]
    oauth: bool,
    /// BQE: connect by the client-credentials grant (where the host enabled it), with
    /// the host's app or the app given in `client_id` and `client_secret`.
    #[serde(default)]
    client_credentials: bool,
    /// The app's client id, for `client_credentials`.
    #[serde(default)]
    client_id: String,
    /// The app's secret, for `client_credentials`; write-only.
    #[serde(default)]
    client_secret: String,
}

impl std::fmt::Debug for Form {
    /// The token is left out.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Form")
            .field("id", &self.id)
            .field("base_url", &self.base_url)
            .finish_non_exhaustive()
    }
}

fn refused(message: String) -> ApiError {
    ApiError(StatusCode::BAD_REQUEST, "connection_failed".into(), message)
}

/// The connect (or reconnect) endpoint.
#[utoipa::path(post, path = "/api/integrations/{provider}/connect", tag = "connections", params(("provider" = String, Path, description = "jira, confluence, github or bqe")), request_body = Form, responses((status = 201, description = "Connected"), (status = 200, description = "Reconnected: new credentials"), (status = 400, description = "The provider refused the credentials")))]
pub(crate) async fn connect(
    State(state): State<Arc<AppState>>,
    Path(provider): Path<String>,
    Json(form): Json<Form>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let id = form.id.trim();
    if id.is_empty()
        || !id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(ApiError::bad_request("id: letters, digits, - and _ only"));
    }
    if form.oauth {
        return super::oauth::start(&state, &provider, &ConnectionId::new(id));
    }
    if form.client_credentials {
        let typed = match (form.client_id.trim(), form.client_secret.trim()) {
            ("", "") => None,
            ("", _) | (_, "") => {
                return Err(ApiError::bad_request(
                    "client_id and client_secret go together",
                ));
            }
            (client_id, secret) => Some((client_id, secret)),
        };
        let id = ConnectionId::new(id);
        return super::oauth::client_credentials(&state, &provider, &id, typed).await;
    }
    if provider == "bqe" {
        return Err(ApiError::bad_request(
            "BQE has no API tokens: send {\"oauth\": true} for the code flow or \
             {\"client_credentials\": true}",
        ));
    }
    if form.api_token.trim().is_empty() {
        return Err(ApiError::bad_request("api_token is empty"));
    }
    let connection = ConnectionId::new(id);
    let existed = state.handle(&connection).is_some();
    let token = AccessToken::new(form.api_token.trim());
    // What the connection needs again after a restart, without its secret.
    let auth = crate::resume::AuthKind::ApiToken.name();
    let (record, settings) = match provider.as_str() {
        "jira" => (
            crate::records::jira(id)?,
            json!({"auth": auth, "base_url": form.base_url, "email": form.email, "project": form.project}),
        ),
        "confluence" => (
            crate::records::confluence(id)?,
            json!({"auth": auth, "base_url": form.base_url, "email": form.email, "space": form.space}),
        ),
        "github" => (
            crate::records::github(id)?,
            json!({"auth": auth, "base_url": form.base_url, "repo": form.repo}),
        ),
        other => return Err(ApiError::not_found(format!("no provider {other:?}"))),
    };
    let record = record.with_settings(settings);
    let handle = crate::resume::handle_for(&state, &record, Some(&token))?;
    let check = match &handle {
        Handle::Jira(p) => {
            let check = p.test_connection(&connection).await;
            (check.diagnosis != Diagnosis::Ok).then(|| format!("Jira says: {:?}", check.diagnosis))
        }
        Handle::Confluence(p) => p
            .list_spaces(&connection)
            .await
            .err()
            .map(|e| format!("Confluence says: {e}")),
        Handle::GitHub(p) => p
            .list_repositories(&connection)
            .await
            .err()
            .map(|e| format!("GitHub says: {e}")),
        Handle::Bqe(_) => None,
    };
    if let Some(message) = check {
        return Err(refused(message));
    }
    crate::resume::keep_api_token(&state, &connection, &provider, &token).await?;
    state
        .engine
        .add_connection(record, handle.provider())
        .await?;
    state.set_handle(connection.clone(), handle);
    let status = if existed {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((
        status,
        Json(json!({"id": connection, "provider": provider, "reconnected": existed})),
    ))
}
