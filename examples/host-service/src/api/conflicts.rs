//! Conflicts: the list (by status and platform), one with what a person needs to
//! settle it (for a hierarchy violation: candidate parents with their child counts),
//! and the resolution (`link_to_parent`, `create_parent`, `keep_external`, `import`,
//! `use_host`, `use_remote`, `use_side`, `use_value`, `ignore`).

use std::collections::BTreeSet;
use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, Query, State};
use devflow_sync_core::engine::Resolution;
use devflow_sync_core::model::{ConnectionId, FieldValue, ItemKind};
use devflow_sync_core::store::{ConflictRecord, ConflictStatus, ConflictType};
use serde::Deserialize;
use serde_json::{Value, json};

use super::ApiError;
use crate::state::AppState;

#[derive(Debug, Deserialize)]
pub(crate) struct ListQuery {
    /// `pending` (default), `resolved` or `ignored`.
    status: Option<ConflictStatus>,
    /// A provider key (`jira`) or a connection id.
    platform: Option<String>,
}

async fn connections(state: &AppState) -> Vec<ConnectionId> {
    let set: BTreeSet<ConnectionId> = state
        .engine
        .bindings()
        .into_iter()
        .map(|b| b.connection)
        .collect();
    set.into_iter().collect()
}

/// `GET /api/integrations/conflicts?status=&platform=`.
#[utoipa::path(get, path = "/api/integrations/conflicts", tag = "conflicts", params(("status" = Option<String>, Query, description = "pending (default), resolved or ignored"), ("platform" = Option<String>, Query, description = "a provider key or a connection id")), responses((status = 200, description = "The conflicts"), (status = 401, description = "No admin token")))]
pub(crate) async fn list(
    State(state): State<Arc<AppState>>,
    Query(q): Query<ListQuery>,
) -> Result<Json<Value>, ApiError> {
    let status = q.status.unwrap_or(ConflictStatus::Pending);
    let mut out: Vec<ConflictRecord> = Vec::new();
    for connection in connections(&state).await {
        for c in state
            .engine
            .journal()
            .conflicts(&connection, Some(status))
            .await?
        {
            let wanted = q
                .platform
                .as_deref()
                .is_none_or(|p| c.provider.as_str() == p || c.connection.as_str() == p);
            if wanted {
                out.push(c);
            }
        }
    }
    out.sort_by_key(|c| c.created_at);
    Ok(Json(json!({ "conflicts": out })))
}

/// The level a hierarchy conflict's record has, read from the record kept in it.
fn kind_of(conflict: &ConflictRecord) -> Option<ItemKind> {
    match &conflict.remote {
        FieldValue::Json(record) => record
            .pointer("/record/kind")
            .and_then(Value::as_str)
            .and_then(|k| k.parse().ok()),
        _ => None,
    }
}

/// `GET /api/integrations/conflicts/{id}`: the conflict, and for a hierarchy
/// violation the host items that may be its parent, with their child counts.
#[utoipa::path(get, path = "/api/integrations/conflicts/{id}", tag = "conflicts", params(("id" = String, Path, description = "The conflict")), responses((status = 200, description = "The conflict with candidate parents and their child counts"), (status = 404, description = "No such conflict")))]
pub(crate) async fn one(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let conflict = state
        .engine
        .journal()
        .conflict(&id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no conflict {id}")))?;
    let mut candidates = Vec::new();
    let wants_parent = matches!(
        conflict.conflict_type,
        ConflictType::HierarchyViolation | ConflictType::ExternalCreation
    );
    let parent_kind = kind_of(&conflict)
        .and_then(|k| k.level().checked_sub(1))
        .and_then(|l| ItemKind::ALL.get(l).copied());
    if let (true, Some(parent_kind)) = (wants_parent, parent_kind) {
        let mut after = 0;
        loop {
            let page = state.engine.work_items().changed_after(after, 500).await?;
            let Some((last, _)) = page.last() else { break };
            after = *last;
            for (_, item) in page {
                if item.active && item.record.kind == Some(parent_kind) {
                    let children = state.engine.work_items().children(&item.id).await?.len();
                    candidates.push(json!({
                        "id": item.id,
                        "kind": parent_kind,
                        "title": item.record.fields.get("title").as_str(),
                        "children": children,
                    }));
                }
            }
        }
    }
    Ok(Json(json!({
        "conflict": conflict,
        "candidate_parents": candidates,
        "parent_kind": parent_kind,
    })))
}

/// `POST /api/integrations/conflicts/{id}/resolve` with
/// `{"resolution": "link_to_parent", "parent": "item-3"}` (or `"action"` for
/// `"resolution"`): settles it and syncs the entity again.
#[utoipa::path(post, path = "/api/integrations/conflicts/{id}/resolve", tag = "conflicts", params(("id" = String, Path, description = "The conflict")), request_body(content = String, description = "A resolution: {\"resolution\": \"link_to_parent\", \"parent\": ...}, create_parent, keep_external, import, use_host, use_remote, use_side, use_value, ignore", content_type = "application/json"), responses((status = 200, description = "Resolved, and the entity synced again"), (status = 400, description = "Not a resolution"), (status = 404, description = "No such conflict")))]
pub(crate) async fn resolve(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    Json(mut body): Json<Value>,
) -> Result<Json<Value>, ApiError> {
    if let Some(action) = body.get("action").cloned()
        && body.get("resolution").is_none()
        && let Some(map) = body.as_object_mut()
    {
        map.insert("resolution".into(), action);
    }
    let resolution: Resolution = serde_json::from_value(body)
        .map_err(|e| ApiError::bad_request(format!("not a resolution: {e}")))?;
    if state.engine.journal().conflict(&id).await?.is_none() {
        return Err(ApiError::not_found(format!("no conflict {id}")));
    }
    let report = state.engine.resolve_conflict(&id, resolution).await?;
    Ok(Json(json!({"resolved": id, "report": report})))
}
