//! Connections: the list with status, last sync and last error; overall health; each
//! provider's catalog; disconnect (and delete the connection's data).

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, Query, State};
use chrono::Utc;
use devflow_sync_core::model::ConnectionId;
use devflow_sync_core::store::ConnectionStatus;
use serde::Deserialize;
use serde_json::{Value, json};

use super::ApiError;
use crate::state::AppState;

/// `GET /api/integrations`: every connection with its state. Settings are never
/// secret (tokens live in the token store and are never returned).
#[utoipa::path(get, path = "/api/integrations", tag = "connections", responses((status = 200, description = "Every connection with its status, last sync and last error"), (status = 401, description = "No admin token")))]
pub(crate) async fn list(State(state): State<Arc<AppState>>) -> Result<Json<Value>, ApiError> {
    let mut out = Vec::new();
    for record in state.engine.connections().await? {
        let health = state.engine.journal().health(&record.id).await?;
        out.push(json!({
            "id": record.id,
            "provider": record.provider,
            "objects": record.bindings.iter().map(|b| b.object.as_str()).collect::<Vec<_>>(),
            "status": health.as_ref().map_or(ConnectionStatus::Active, |h| h.status),
            "last_sync_at": health.as_ref().and_then(|h| h.last_sync_at),
            "last_error": health.as_ref().and_then(|h| h.last_error.clone()),
            "error_count": health.as_ref().map_or(0, |h| h.error_count),
        }));
    }
    Ok(Json(json!({ "connections": out })))
}

/// `GET /api/integrations/health`: `ok` when every connection is active, else
/// `degraded`, with each connection's state and the deliveries waiting.
#[utoipa::path(get, path = "/api/integrations/health", tag = "connections", responses((status = 200, description = "ok or degraded, each connection, deliveries waiting")))]
pub(crate) async fn health(State(state): State<Arc<AppState>>) -> Result<Json<Value>, ApiError> {
    let mut connections = Vec::new();
    let mut degraded = false;
    for record in state.engine.connections().await? {
        let status = state
            .engine
            .journal()
            .health(&record.id)
            .await?
            .map_or(ConnectionStatus::Active, |h| h.status);
        degraded |= status != ConnectionStatus::Active;
        connections.push(json!({"id": record.id, "status": status}));
    }
    let waiting = state
        .engine
        .journal()
        .due_inbox(Utc::now() + chrono::Duration::days(365), 10_000)
        .await?
        .len();
    Ok(Json(json!({
        "status": if degraded { "degraded" } else { "ok" },
        "connections": connections,
        "inbox_waiting": waiting,
    })))
}

/// `GET /api/integrations/{provider}/catalog`: what the provider offers, as its
/// catalog declares it (objects, fields, capabilities, rule constraints).
#[utoipa::path(get, path = "/api/integrations/{provider}/catalog", tag = "connections", params(("provider" = String, Path, description = "jira, github, confluence or bqe")), responses((status = 200, description = "The provider catalog"), (status = 404, description = "No such provider")))]
pub(crate) async fn catalog(Path(provider): Path<String>) -> Result<Json<Value>, ApiError> {
    let catalog = match provider.as_str() {
        "jira" => devflow_provider_jira::catalog(),
        "github" => devflow_provider_github::catalog(),
        "confluence" => devflow_provider_confluence::catalog(),
        "bqe" => devflow_provider_bqe::catalog(),
        other => return Err(ApiError::not_found(format!("no provider {other:?}"))),
    }
    .map_err(|e| ApiError::bad_request(e.to_string()))?;
    Ok(Json(serde_json::to_value(catalog).unwrap_or(Value::Null)))
}

#[derive(Debug, Deserialize)]
pub(crate) struct DisconnectQuery {
    /// Keep the connection's links and history (default: delete them).
    #[serde(default)]
    keep_data: bool,
}

/// `DELETE /api/integrations/{id}`: disconnects (revoking the grant where the
/// provider can) and deletes the connection's data unless `?keep_data=true`.
#[utoipa::path(delete, path = "/api/integrations/{id}", tag = "connections", params(("id" = String, Path, description = "The connection"), ("keep_data" = Option<bool>, Query, description = "Keep its links and history")), responses((status = 200, description = "Disconnected"), (status = 404, description = "No such connection")))]
pub(crate) async fn disconnect(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    Query(query): Query<DisconnectQuery>,
) -> Result<Json<Value>, ApiError> {
    let connection = ConnectionId::new(id);
    let known = state
        .engine
        .connections()
        .await?
        .iter()
        .any(|c| c.id == connection);
    if !known {
        return Err(ApiError::not_found(format!("no connection {connection}")));
    }
    let report = state
        .engine
        .remove_connection(&connection, !query.keep_data)
        .await?;
    state.drop_handle(&connection);
    Ok(Json(json!({"disconnected": connection, "report": report})))
}
