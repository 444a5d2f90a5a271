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
        Handle::Bqe(p) => match p.company(&connection).await {
            Ok(company) => json!({"ok": true, "company": company}),
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

/// The body of configuring a repository.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(crate) struct RepoForm {
    /// `owner/name`.
    repo: String,
}

/// `POST /api/integrations/github/{id}/configure-repo` with `{repo}`: DevFlow's labels
/// created in it where missing.
#[utoipa::path(post, path = "/api/integrations/github/{id}/configure-repo", tag = "setup", params(("id" = String, Path, description = "A GitHub connection")), request_body = RepoForm, responses((status = 200, description = "The labels are there"), (status = 404, description = "The token does not reach the repository")))]
pub(crate) async fn github_labels(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    Json(form): Json<RepoForm>,
) -> Result<Json<Value>, ApiError> {
    let (connection, Handle::GitHub(p)) = handle(&state, &id)? else {
        return Err(ApiError::bad_request(format!(
            "{id} is not a GitHub connection"
        )));
    };
    p.ensure_labels(&connection, &form.repo).await?;
    Ok(Json(
        json!({"repo": form.repo, "labels": "created where missing"}),
    ))
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

/// `POST /api/integrations/bqe/{id}/matches/suggest`: the host's projects (object
/// `project`) paired with BQE's parent projects, each pair with its reason; ambiguous
/// ones reported, not guessed.
#[utoipa::path(post, path = "/api/integrations/bqe/{id}/matches/suggest", tag = "setup", params(("id" = String, Path, description = "A BQE connection")), responses((status = 200, description = "pairs, ambiguous, unmatched")))]
pub(crate) async fn bqe_suggest(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let (connection, Handle::Bqe(p)) = handle(&state, &id)? else {
        return Err(ApiError::bad_request(format!(
            "{id} is not a BQE connection"
        )));
    };
    let mut locals = Vec::new();
    let mut after = 0;
    loop {
        let page = state.engine.work_items().changed_after(after, 500).await?;
        let Some((last, _)) = page.last() else { break };
        after = *last;
        for (_, item) in page {
            if item.record.object.as_str() != "project" {
                continue;
            }
            let f = &item.record.fields;
            locals.push(devflow_provider_bqe::matching::LocalProject {
                item: item.id.clone(),
                external_id: None,
                number: f.get("number").as_str().map(str::to_owned),
                name: f.get("name").as_str().unwrap_or_default().to_owned(),
                client: f.get("client").as_str().map(str::to_owned),
            });
        }
    }
    let plan = p.suggest_matches(&connection, &locals).await?;
    Ok(Json(serde_json::to_value(plan).unwrap_or(Value::Null)))
}

/// A confirmed pair.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(crate) struct Pair {
    /// The host project.
    item: String,
    /// BQE's project id.
    project: String,
}

/// The body of a confirmation.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(crate) struct Confirm {
    /// The pairs a person confirmed.
    pairs: Vec<Pair>,
}

/// `POST /api/integrations/bqe/{id}/matches/confirm` with `{"pairs": [{item, project}]}`:
/// linked in one transaction; a record or item linked already is refused.
#[utoipa::path(post, path = "/api/integrations/bqe/{id}/matches/confirm", tag = "setup", params(("id" = String, Path, description = "A BQE connection")), request_body = Confirm, responses((status = 200, description = "{matched, changed, skipped}"), (status = 409, description = "A pair is linked already")))]
pub(crate) async fn bqe_confirm(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    Json(body): Json<Confirm>,
) -> Result<Json<Value>, ApiError> {
    let (connection, Handle::Bqe(_)) = handle(&state, &id)? else {
        return Err(ApiError::bad_request(format!(
            "{id} is not a BQE connection"
        )));
    };
    let pairs: Vec<(
        devflow_sync_core::model::ItemId,
        devflow_sync_core::model::ExternalId,
    )> = body
        .pairs
        .iter()
        .map(|p| {
            (
                devflow_sync_core::model::ItemId::new(p.item.as_str()),
                devflow_sync_core::model::ExternalId::new(p.project.as_str()),
            )
        })
        .collect();
    let summary = state
        .engine
        .link_records(
            &connection,
            &devflow_sync_core::model::ObjectType::new("project"),
            &pairs,
        )
        .await?;
    Ok(Json(serde_json::to_value(summary).unwrap_or(Value::Null)))
}
