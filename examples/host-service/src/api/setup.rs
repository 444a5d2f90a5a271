//! A connection's test and setup steps, as each provider offers them: Jira's custom
//! fields, Confluence's space, GitHub's repositories.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use devflow_provider_jira::Diagnosis;
use devflow_sync_core::model::ConnectionId;
use serde::Deserialize;
use serde_json::{Value, json};

use super::ApiError;
use crate::state::{AppState, Handle};

fn handle(state: &AppState, id: &str) -> Result<(ConnectionId, Handle), ApiError> {
    let connection = ConnectionId::new(id);
    state
        .handle(&connection)
        .map(|h| (connection, h))
        .ok_or_else(|| ApiError::not_found(format!("no connection {id:?}")))
}

/// `POST /api/integrations/{id}/test`: `{"ok", "diagnosis", ...}`; a failure is an
/// answer, not an error.
#[utoipa::path(post, path = "/api/integrations/{id}/test", tag = "connections", params(("id" = String, Path, description = "The connection")), responses((status = 200, description = "ok and what the provider said"), (status = 404, description = "No such connection")))]
pub(crate) async fn test(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let (connection, handle) = handle(&state, &id)?;
    let body = match handle {
        Handle::Jira(p) => {
            let check = p.test_connection(&connection).await;
            json!({"ok": check.diagnosis == Diagnosis::Ok, "diagnosis": check})
        }
        Handle::GitHub(p) => match p.list_repositories(&connection).await {
            Ok(repos) => json!({"ok": true, "repositories": repos.len()}),
            Err(e) => json!({"ok": false, "error": e.to_string()}),
        },
        Handle::Confluence(p) => match p.list_spaces(&connection).await {
            Ok(spaces) => json!({"ok": true, "spaces": spaces.len()}),
            Err(e) => json!({"ok": false, "error": e.to_string()}),
        },
    };
    Ok(Json(body))
}

/// `POST /api/integrations/jira/{id}/setup-custom-fields`: DevFlow's fields in Jira
/// (idempotent; without admin rights the refusal is reported and nothing changes).
#[utoipa::path(post, path = "/api/integrations/jira/{id}/setup-custom-fields", tag = "setup", params(("id" = String, Path, description = "A Jira connection")), responses((status = 200, description = "The fields found and made"), (status = 400, description = "Not a Jira connection")))]
pub(crate) async fn jira_fields(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let (connection, Handle::Jira(p)) = handle(&state, &id)? else {
        return Err(ApiError::bad_request(format!(
            "{id} is not a Jira connection"
        )));
    };
    let setup = p.setup_custom_fields(&connection, &[]).await?;
    Ok(Json(serde_json::to_value(setup).unwrap_or(Value::Null)))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(crate) struct SpaceForm {
    /// The space key (letters and digits).
    key: String,
    /// The project it is for (names a new space).
    #[serde(default)]
    project: String,
}

/// `POST /api/integrations/confluence/{id}/configure-space` with `{key, project}`: the
/// space, made when missing.
#[utoipa::path(post, path = "/api/integrations/confluence/{id}/configure-space", tag = "setup", params(("id" = String, Path, description = "A Confluence connection")), request_body = SpaceForm, responses((status = 200, description = "The space"), (status = 400, description = "Not a space key")))]
pub(crate) async fn confluence_space(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    Json(form): Json<SpaceForm>,
) -> Result<Json<Value>, ApiError> {
    let (connection, Handle::Confluence(p)) = handle(&state, &id)? else {
        return Err(ApiError::bad_request(format!(
            "{id} is not a Confluence connection"
        )));
    };
    let space = p
        .ensure_space(&connection, &form.key, &form.project)
        .await?;
    Ok(Json(json!({
        "id": space.id, "key": space.key, "name": space.name, "url": space.url,
    })))
}

/// `GET /api/integrations/github/{id}/configure-repo`: the repositories the token
/// reaches.
#[utoipa::path(get, path = "/api/integrations/github/{id}/configure-repo", tag = "setup", params(("id" = String, Path, description = "A GitHub connection")), responses((status = 200, description = "The repositories the token reaches")))]
pub(crate) async fn github_repos(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let (connection, Handle::GitHub(p)) = handle(&state, &id)? else {
        return Err(ApiError::bad_request(format!(
            "{id} is not a GitHub connection"
        )));
    };
    let repos = p.list_repositories(&connection).await?;
    let listed: Vec<Value> = repos
        .iter()
        .map(|r| json!({"full_name": r.full_name, "private": r.private}))
        .collect();
    Ok(Json(json!({ "repositories": listed })))
}
