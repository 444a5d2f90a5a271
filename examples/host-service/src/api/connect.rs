//! `POST /api/integrations/{provider}/connect`: a connection from an API-token form
//! (Jira, Confluence: site, email, token and project or space; GitHub: API URL, token
//! and repository), tested before it is added; the same id again replaces the
//! credentials (reconnect, e.g. after `needs_reauth`). Secrets are write-only: never
//! returned, never logged.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use devflow_provider_confluence::{ConfluenceAuth, ConfluenceConfig, ConfluenceProvider};
use devflow_provider_github::{GitHubConfig, GitHubProvider, TokenSource};
use devflow_provider_jira::{Diagnosis, JiraAuth, JiraConfig, JiraProvider};
use devflow_sync_core::auth::AccessToken;
use devflow_sync_core::http::HttpClient;
use devflow_sync_core::model::{ConnectionId, ItemKind};
use devflow_sync_core::store::{BindingRecord, ConnectionRecord};
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
    /// GitHub: start the OAuth code flow instead (the answer is the URL to send the
    /// person to).
    #[serde(default)]
    oauth: bool,
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
#[utoipa::path(post, path = "/api/integrations/{provider}/connect", tag = "connections", params(("provider" = String, Path, description = "jira, confluence or github")), request_body = Form, responses((status = 201, description = "Connected"), (status = 200, description = "Reconnected: new credentials"), (status = 400, description = "The provider refused the credentials")))]
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
    if form.oauth && provider == "github" {
        return super::oauth::start(&state, &ConnectionId::new(id));
    }
    if form.api_token.trim().is_empty() {
        return Err(ApiError::bad_request("api_token is empty"));
    }
    let connection = ConnectionId::new(id);
    let existed = state.handle(&connection).is_some();
    let http = HttpClient::builder().build()?;
    let token = AccessToken::new(form.api_token.trim());
    let (record, handle) = match provider.as_str() {
        "jira" => {
            let config = JiraConfig::new(
                &form.base_url,
                &form.project,
                JiraAuth::api_token(&form.email, token),
            );
            let p = Arc::new(JiraProvider::new(config, http)?);
            let check = p.test_connection(&connection).await;
            if check.diagnosis != Diagnosis::Ok {
                return Err(refused(format!("Jira says: {:?}", check.diagnosis)));
            }
            let record = ConnectionRecord::new(id, "jira")
                .with_binding(
                    BindingRecord::new("issue")
                        .for_host_object("work_item")
                        .with_mapping(devflow_provider_jira::mapping::default_mapping()?),
                )
                .with_binding(
                    BindingRecord::new("worklog")
                        .for_host_object(devflow_provider_jira::timecard::TIME_RECORD)
                        .with_mapping(devflow_provider_jira::mapping::worklog_mapping()?),
                );
            (record, Handle::Jira(p))
        }
        "confluence" => {
            let config = ConfluenceConfig::new(
                &form.base_url,
                &form.space,
                ConfluenceAuth::api_token(&form.email, token),
            );
            let p = Arc::new(ConfluenceProvider::new(config, http)?);
            if let Err(e) = p.list_spaces(&connection).await {
                return Err(refused(format!("Confluence says: {e}")));
            }
            let record = ConnectionRecord::new(id, "confluence").with_binding(
                BindingRecord::new("page")
                    .for_host_object("work_item")
                    .with_mapping(devflow_provider_confluence::mapping::default_mapping()?)
                    .carrying([ItemKind::Prd, ItemKind::Epic]),
            );
            (record, Handle::Confluence(p))
        }
        "github" => {
            let config = GitHubConfig::new(
                &form.base_url,
                vec![form.repo.clone()],
                TokenSource::Static(token),
            );
            let p = Arc::new(GitHubProvider::new(config, http)?);
            if let Err(e) = p.list_repositories(&connection).await {
                return Err(refused(format!("GitHub says: {e}")));
            }
            let record = ConnectionRecord::new(id, "github").with_binding(
                BindingRecord::new("issue")
                    .for_host_object("work_item")
                    .with_mapping(devflow_provider_github::mapping::default_mapping()?),
            );
            (record, Handle::GitHub(p))
        }
        other => return Err(ApiError::not_found(format!("no provider {other:?}"))),
    };
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
