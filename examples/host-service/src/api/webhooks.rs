//! `POST /api/webhooks/{provider}?connection=ID`: the raw body verified (the
//! provider's signature, not the admin token), deduplicated and stored, answered
//! `202` at once; the inbox worker applies it. Refusals say what was wrong with the
//! delivery, never what went wrong inside.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use devflow_sync_core::Error;
use devflow_sync_core::model::{ConnectionId, ProviderKey};
use devflow_sync_core::provider::Headers;
use serde::Deserialize;
use serde_json::{Value, json};

use super::ApiError;
use crate::state::AppState;

#[derive(Debug, Deserialize)]
pub(crate) struct Target {
    /// The connection the delivery is for; may be left out when the provider has
    /// exactly one.
    connection: Option<String>,
}

async fn connection_of(
    state: &AppState,
    provider: &ProviderKey,
    given: Option<String>,
) -> Result<ConnectionId, ApiError> {
    let of_provider: Vec<ConnectionId> = state
        .engine
        .connections()
        .await?
        .into_iter()
        .filter(|c| c.provider == *provider)
        .map(|c| c.id)
        .collect();
    match given {
        Some(id) => of_provider
            .into_iter()
            .find(|c| c.as_str() == id)
            .ok_or_else(|| ApiError::not_found(format!("no {provider} connection {id:?}"))),
        None if of_provider.len() == 1 => Ok(of_provider[0].clone()),
        None => Err(ApiError::bad_request(format!(
            "say which {provider} connection the delivery is for (?connection=ID)"
        ))),
    }
}

/// The intake.
#[utoipa::path(post, path = "/api/webhooks/{provider}", tag = "webhooks", params(("provider" = String, Path, description = "github, jira, confluence or bqe"), ("connection" = Option<String>, Query, description = "The connection, when the provider has several")), request_body(content = String, description = "The raw delivery", content_type = "application/json"), responses((status = 202, description = "Verified and stored"), (status = 401, description = "The signature does not verify"), (status = 429, description = "Too many deliveries for the connection")))]
pub(crate) async fn intake(
    State(state): State<Arc<AppState>>,
    Path(provider): Path<String>,
    Query(target): Query<Target>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let provider = ProviderKey::new(provider);
    let connection = connection_of(&state, &provider, target.connection).await?;
    if !state.allow_webhook(connection.as_str()) {
        return Err(ApiError(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited".into(),
            format!("too many deliveries for {connection}; retry later"),
        ));
    }
    let mut raw = Headers::new();
    for (name, value) in &headers {
        if let Ok(value) = value.to_str() {
            raw = raw.with(name.as_str(), value);
        }
    }
    match state
        .engine
        .accept_webhook(&provider, &connection, &raw, &body)
        .await
    {
        Ok(accepted) => Ok((
            StatusCode::ACCEPTED,
            Json(json!({
                "delivery_id": accepted.delivery_id,
                "duplicate": accepted.duplicate,
                "events": accepted.events,
            })),
        )),
        Err(Error::Unauthenticated(_) | Error::PermissionDenied(_)) => Err(ApiError(
            StatusCode::UNAUTHORIZED,
            "unauthenticated".into(),
            "the delivery's signature does not verify".into(),
        )),
        Err(Error::InvalidInput { message, .. }) => Err(ApiError::bad_request(message)),
        Err(e) => Err(e.into()),
    }
}
