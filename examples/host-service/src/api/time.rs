//! Time tracking on Jira: issue search for an autocomplete box, bulk worklog sync with
//! its summary, and a record's history.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, Query, State};
use devflow_provider_jira::JiraProvider;
use devflow_provider_jira::timecard::{
    TimecardOptions, history as record_history, sync_many as book,
};
use devflow_sync_core::engine::BulkOptions;
use devflow_sync_core::model::{ConnectionId, ItemId};
use serde::Deserialize;
use serde_json::{Value, json};

use super::ApiError;
use crate::state::AppState;

#[derive(Debug, Deserialize)]
pub(crate) struct Search {
    /// The text typed (a key, or words of a summary); empty lists the caller's open issues.
    #[serde(default)]
    q: String,
    /// The Jira connection (default: the only one).
    connection: Option<String>,
}

fn jira(
    state: &AppState,
    given: Option<&str>,
) -> Result<(ConnectionId, Arc<JiraProvider>), ApiError> {
    let mut all = state.jira();
    match given {
        Some(id) => all
            .into_iter()
            .find(|(c, _)| c.as_str() == id)
            .ok_or_else(|| ApiError::not_found(format!("no Jira connection {id:?}"))),
        None if all.len() == 1 => all
            .pop()
            .ok_or_else(|| ApiError::not_found("no Jira connection")),
        None => Err(ApiError::bad_request(
            "say which Jira connection (?connection=ID)",
        )),
    }
}

/// `GET /api/integrations/jira/search?q=&connection=`.
#[utoipa::path(get, path = "/api/integrations/jira/search", tag = "time", params(("q" = Option<String>, Query, description = "A key or words of a summary; empty: assigned to me"), ("connection" = Option<String>, Query, description = "The Jira connection")), responses((status = 200, description = "Issues: key, summary, status and category, assignee, project, type")))]
pub(crate) async fn search(
    State(state): State<Arc<AppState>>,
    Query(q): Query<Search>,
) -> Result<Json<Value>, ApiError> {
    let (connection, provider) = jira(&state, q.connection.as_deref())?;
    let hits = if q.q.trim().is_empty() {
        provider.assigned_to_me(&connection).await?
    } else {
        provider.search_issues(&connection, &q.q).await?
    };
    Ok(Json(json!({ "issues": hits })))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(crate) struct Book {
    /// The host time records.
    records: Vec<String>,
    /// The connection of records that name none.
    connection: Option<String>,
}

/// `POST /api/integrations/jira/worklogs/sync` with `{"records": [...]}`: the summary
/// `{total, succeeded, failed, errors: [{record_id, error}]}`.
#[utoipa::path(post, path = "/api/integrations/jira/worklogs/sync", tag = "time", request_body = Book, responses((status = 200, description = "{total, succeeded, failed, errors: [{record_id, error}]}")))]
pub(crate) async fn sync_many(
    State(state): State<Arc<AppState>>,
    Json(body): Json<Book>,
) -> Result<Json<Value>, ApiError> {
    if body.records.len() > 10_000 {
        return Err(ApiError::bad_request("at most 10,000 records at once"));
    }
    let records: Vec<ItemId> = body.records.into_iter().map(ItemId::new).collect();
    let mut options = TimecardOptions::default().bulk(BulkOptions::default());
    if let Some(c) = body.connection {
        options = options.default_connection(c);
    }
    let summary = book(&state.engine, &records, &options).await;
    Ok(Json(serde_json::to_value(summary).unwrap_or(Value::Null)))
}

/// `GET /api/integrations/jira/worklogs/{record}/history`.
#[utoipa::path(get, path = "/api/integrations/jira/worklogs/{record}/history", tag = "time", params(("record" = String, Path, description = "A host time record")), responses((status = 200, description = "Its log lines, newest first")))]
pub(crate) async fn history(
    State(state): State<Arc<AppState>>,
    Path(record): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let lines = record_history(&state.engine, &ItemId::new(record), 100).await?;
    Ok(Json(json!({ "lines": lines })))
}
