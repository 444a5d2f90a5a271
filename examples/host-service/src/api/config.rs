//! Configuration per connection and object: the saved mapping (checked against the
//! provider's catalog: a mapping made for an older catalog is flagged stale) beside
//! the provider's default, saving a reviewed mapping; integration rules validated by
//! the rule schema and the provider's constraints; the rule schema itself.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use devflow_sync_core::mapping::ObjectMapping;
use devflow_sync_core::model::ConnectionId;
use devflow_sync_core::registry::ProviderCatalog;
use devflow_sync_core::rules::{IntegrationRule, RULE_SCHEMA};
use devflow_sync_core::store::ConnectionRecord;
use serde_json::{Value, json};

use super::ApiError;
use crate::state::AppState;

fn catalog_of(provider: &str) -> Result<ProviderCatalog, ApiError> {
    match provider {
        "jira" => devflow_provider_jira::catalog(),
        "github" => devflow_provider_github::catalog(),
        "confluence" => devflow_provider_confluence::catalog(),
        "bqe" => devflow_provider_bqe::catalog(),
        other => return Err(ApiError::not_found(format!("no provider {other:?}"))),
    }
    .map_err(|e| ApiError::bad_request(e.to_string()))
}

/// The provider's default mapping of `object`, where it ships one.
fn default_of(provider: &str, object: &str) -> Option<ObjectMapping> {
    match (provider, object) {
        ("jira", "issue") => devflow_provider_jira::mapping::default_mapping().ok(),
        ("jira", "worklog") => devflow_provider_jira::mapping::worklog_mapping().ok(),
        ("github", "issue") => devflow_provider_github::mapping::default_mapping().ok(),
        ("confluence", "page") => devflow_provider_confluence::mapping::default_mapping().ok(),
        _ => None,
    }
}

async fn record(state: &AppState, id: &str) -> Result<ConnectionRecord, ApiError> {
    state
        .engine
        .connections()
        .await?
        .into_iter()
        .find(|c| c.id.as_str() == id)
        .ok_or_else(|| ApiError::not_found(format!("no connection {id:?}")))
}

/// `GET /api/integrations/{id}/mappings`: per object, the saved mapping (with `stale`)
/// and the default.
#[utoipa::path(get, path = "/api/integrations/{id}/mappings", tag = "configuration", params(("id" = String, Path, description = "The connection")), responses((status = 200, description = "Per object: the saved mapping with stale, and the default")))]
pub(crate) async fn mappings(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let record = record(&state, &id).await?;
    let catalog = catalog_of(record.provider.as_str())?;
    let mut out = Vec::new();
    for binding in &record.bindings {
        let object = binding.object.as_str();
        let saved = binding
            .mapping
            .clone()
            .map(|m| match catalog.object(object) {
                Some(o) => m.checked_against(o),
                None => m,
            });
        out.push(json!({
            "object": object,
            "saved": saved,
            "stale": saved.as_ref().is_some_and(|m| m.stale),
            "default": default_of(record.provider.as_str(), object),
        }));
    }
    Ok(Json(json!({ "connection": record.id, "mappings": out })))
}

/// `PUT /api/integrations/{id}/mappings/{object}` with a mapping: saved when every
/// entry names a field the catalog has (a stale one is refused with what is wrong).
#[utoipa::path(put, path = "/api/integrations/{id}/mappings/{object}", tag = "configuration", params(("id" = String, Path, description = "The connection"), ("object" = String, Path, description = "The provider object")), request_body(content = String, description = "A mapping", content_type = "application/json"), responses((status = 200, description = "Saved"), (status = 400, description = "It does not fit the catalog")))]
pub(crate) async fn save_mapping(
    State(state): State<Arc<AppState>>,
    Path((id, object)): Path<(String, String)>,
    Json(mapping): Json<ObjectMapping>,
) -> Result<Json<Value>, ApiError> {
    let record = record(&state, &id).await?;
    let catalog = catalog_of(record.provider.as_str())?;
    let object_catalog = catalog.object(&object).ok_or_else(|| {
        ApiError::not_found(format!("{} has no object {object:?}", record.provider))
    })?;
    let unknown: Vec<String> = mapping
        .fields
        .iter()
        .filter(|f| {
            !object_catalog
                .fields
                .iter()
                .any(|c| c.name == f.provider_field)
        })
        .map(|f| f.provider_field.clone())
        .collect();
    if !unknown.is_empty() {
        return Err(ApiError::bad_request(format!(
            "{} {object} has no field {}",
            record.provider,
            unknown.join(", ")
        )));
    }
    let checked = mapping.checked_against(object_catalog);
    if checked.stale {
        return Err(ApiError::bad_request(format!(
            "the mapping does not fit the {} catalog's {object}: {:?}",
            record.provider, checked.dropped
        )));
    }
    let saved = checked.resaved(object_catalog);
    let mut bindings = record.bindings.clone();
    let binding = bindings
        .iter_mut()
        .find(|b| b.object.as_str() == object)
        .ok_or_else(|| ApiError::not_found(format!("connection {id} does not sync {object:?}")))?;
    binding.mapping = Some(saved.clone());
    state
        .engine
        .update_bindings(&ConnectionId::new(id.as_str()), bindings)
        .await?;
    Ok(Json(json!({ "saved": saved })))
}

/// `GET /api/integrations/schemas/mapping`: the JSON Schema of a saved mapping (the
/// dashboard renders its mapping form from it).
#[utoipa::path(get, path = "/api/integrations/schemas/mapping", tag = "configuration", responses((status = 200, description = "The JSON Schema of mappings")))]
pub(crate) async fn mapping_schema() -> Result<Json<Value>, ApiError> {
    serde_json::from_str(include_str!("../../static/mapping.schema.json"))
        .map(Json)
        .map_err(|e| ApiError::bad_request(e.to_string()))
}

/// `GET /api/integrations/schemas/rule`: the JSON Schema rules are checked against.
#[utoipa::path(get, path = "/api/integrations/schemas/rule", tag = "configuration", responses((status = 200, description = "The JSON Schema of integration rules")))]
pub(crate) async fn rule_schema() -> Result<Json<Value>, ApiError> {
    serde_json::from_str(RULE_SCHEMA)
        .map(Json)
        .map_err(|e| ApiError::bad_request(e.to_string()))
}

/// `PUT /api/integrations/{id}/rules/{object}` with a rule: validated by the rule
/// schema and the provider's constraints (errors name the JSON pointer), then kept
/// in the connection's settings.
#[utoipa::path(put, path = "/api/integrations/{id}/rules/{object}", tag = "configuration", params(("id" = String, Path, description = "The connection"), ("object" = String, Path, description = "The provider object")), request_body(content = String, description = "An integration rule", content_type = "application/json"), responses((status = 200, description = "Saved"), (status = 400, description = "Invalid: the JSON pointer and why")))]
pub(crate) async fn save_rule(
    State(state): State<Arc<AppState>>,
    Path((id, object)): Path<(String, String)>,
    Json(rule): Json<Value>,
) -> Result<Json<Value>, ApiError> {
    let mut record = record(&state, &id).await?;
    let text = rule.to_string();
    let parsed =
        IntegrationRule::load("rule", &text).map_err(|e| ApiError::bad_request(e.to_string()))?;
    if parsed.object != object || parsed.provider != record.provider.as_str() {
        return Err(ApiError::bad_request(format!(
            "the rule is for {}/{}, not {}/{object}",
            parsed.provider, parsed.object, record.provider
        )));
    }
    let catalog = catalog_of(record.provider.as_str())?;
    parsed
        .check_for("rule", &catalog)
        .map_err(|e| ApiError::bad_request(e.to_string()))?;
    if !record.settings.is_object() {
        record.settings = json!({});
    }
    record.settings["rules"][object.as_str()] = rule;
    let provider = state
        .handle(&record.id)
        .map(|h| h.provider())
        .ok_or_else(|| ApiError::not_found(format!("no provider for {id}")))?;
    state.engine.add_connection(record, provider).await?;
    Ok(Json(json!({ "saved": parsed })))
}

/// `GET /api/integrations/{id}/rules`: the rules kept for the connection.
#[utoipa::path(get, path = "/api/integrations/{id}/rules", tag = "configuration", params(("id" = String, Path, description = "The connection")), responses((status = 200, description = "The rules kept for it")))]
pub(crate) async fn rules(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let record = record(&state, &id).await?;
    Ok(Json(
        json!({ "rules": record.settings.get("rules").cloned().unwrap_or_else(|| json!({})) }),
    ))
}
