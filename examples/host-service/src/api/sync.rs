//! Syncs on demand: trigger one item to its platforms (a job with per-platform
//! results), or plan it (a dry run: the writes and conflicts it would make); and the
//! sync history from the journal, filtered.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use devflow_sync_core::engine::PlanRequest;
use devflow_sync_core::model::{ConnectionId, ItemId, ObjectType};
use devflow_sync_core::store::{LogQuery, LogStatus};
use serde::Deserialize;
use serde_json::{Value, json};

use super::ApiError;
use crate::state::{AppState, SyncJob};

/// The body of `POST /api/integrations/sync/trigger`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(crate) struct Trigger {
    /// The host item.
    entity_id: String,
    /// The connections to sync to (default: every one carrying the item's kind).
    #[serde(default)]
    platforms: Option<Vec<String>>,
    /// Push even when nothing changed since the last sync.
    #[serde(default)]
    force: bool,
    /// Only plan: what would be written, and the conflicts it would record.
    #[serde(default)]
    dry_run: bool,
}

/// `POST /api/integrations/sync/trigger`: `202` with the job id (its results at
/// `GET /api/integrations/sync/{id}/status`), or `200` with the plan of a dry run.
#[utoipa::path(post, path = "/api/integrations/sync/trigger", tag = "sync", request_body = Trigger, responses((status = 202, description = "A job; its results at the status URL"), (status = 200, description = "The plan of a dry run"), (status = 404, description = "No such item")))]
pub(crate) async fn trigger(
    State(state): State<Arc<AppState>>,
    Json(body): Json<Trigger>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let item = ItemId::new(body.entity_id.trim());
    if item.as_str().is_empty() {
        return Err(ApiError::bad_request("entity_id is empty"));
    }
    if state.engine.work_items().get(&item).await?.is_none() {
        return Err(ApiError::not_found(format!("no host item {item}")));
    }
    let platforms: Option<Vec<ConnectionId>> = body
        .platforms
        .map(|p| p.into_iter().map(ConnectionId::new).collect());
    if body.dry_run {
        let mut plans = Vec::new();
        for binding in state.engine.bindings() {
            if platforms
                .as_ref()
                .is_some_and(|p| !p.contains(&binding.connection))
            {
                continue;
            }
            let plan = state
                .engine
                .plan(PlanRequest::Push {
                    connection: binding.connection.clone(),
                    object: binding.object.clone(),
                    item: item.clone(),
                })
                .await?;
            plans.push(
                json!({"connection": binding.connection, "object": binding.object, "plan": plan}),
            );
        }
        return Ok((
            StatusCode::OK,
            Json(json!({"dry_run": true, "plans": plans})),
        ));
    }
    let id = state.job_id();
    let job = SyncJob {
        id: id.clone(),
        entity_id: item.as_str().to_owned(),
        status: "running".into(),
        results: Vec::new(),
        error: None,
    };
    state
        .jobs
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(id.clone(), job);
    let (worker, job_id) = (state.clone(), id.clone());
    tokio::spawn(async move {
        let result = worker
            .engine
            .sync_item(&item, platforms.as_deref(), body.force)
            .await;
        let mut jobs = worker.jobs.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(job) = jobs.get_mut(&job_id) {
            match result {
                Ok(results) => {
                    job.status = "done".into();
                    job.results = results;
                }
                Err(e) => {
                    job.status = "failed".into();
                    job.error = Some(e.to_string());
                }
            }
        }
    });
    Ok((
        StatusCode::ACCEPTED,
        Json(
            json!({"job_id": id, "status": "running", "status_url": format!("/api/integrations/sync/{id}/status")}),
        ),
    ))
}

/// `GET /api/integrations/sync/{id}/status`.
#[utoipa::path(get, path = "/api/integrations/sync/{id}/status", tag = "sync", params(("id" = String, Path, description = "The job")), responses((status = 200, description = "The job with per-platform results"), (status = 404, description = "No such job")))]
pub(crate) async fn status(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> Result<Json<SyncJob>, ApiError> {
    state
        .jobs
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get(&id)
        .cloned()
        .map(Json)
        .ok_or_else(|| ApiError::not_found(format!("no sync job {id}")))
}

/// Filters of the sync history.
#[derive(Debug, Deserialize)]
pub(crate) struct HistoryQuery {
    item: Option<String>,
    connection: Option<String>,
    object: Option<String>,
    status: Option<LogStatus>,
    from: Option<DateTime<Utc>>,
    until: Option<DateTime<Utc>>,
    limit: Option<usize>,
}

/// `GET /api/integrations/sync/history?item=&connection=&object=&status=&from=&until=&limit=`:
/// log lines, newest first.
#[utoipa::path(get, path = "/api/integrations/sync/history", tag = "sync", params(("item" = Option<String>, Query, description = "A host item"), ("connection" = Option<String>, Query, description = "A connection"), ("object" = Option<String>, Query, description = "A provider object"), ("status" = Option<String>, Query, description = "ok, failed, skipped or conflict"), ("from" = Option<String>, Query, description = "RFC 3339, inclusive"), ("until" = Option<String>, Query, description = "RFC 3339, exclusive"), ("limit" = Option<usize>, Query, description = "At most this many")), responses((status = 200, description = "Log lines, newest first")))]
pub(crate) async fn history(
    State(state): State<Arc<AppState>>,
    Query(q): Query<HistoryQuery>,
) -> Result<Json<Value>, ApiError> {
    let query = LogQuery {
        item: q.item.map(ItemId::new),
        connection: q.connection.map(ConnectionId::new),
        object: q.object.map(ObjectType::new),
        status: q.status,
        from: q.from,
        until: q.until,
        limit: q.limit.unwrap_or(100),
    };
    let lines = state.engine.journal().query_logs(&query).await?;
    Ok(Json(json!({ "lines": lines })))
}
