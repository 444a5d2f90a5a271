//! The HTTP API: the integration endpoints (admin bearer token), the webhook intake
//! (the provider's signature instead), and the dashboard's page.

mod config;
mod conflicts;
mod connect;
mod connections;
mod events;
mod notifications;
pub mod oauth;
pub mod openapi;
mod setup;
mod sync;
mod time;
mod webhooks;

use std::sync::Arc;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{delete, get, post};
use devflow_sync_core::Error;
use serde_json::json;

use crate::state::AppState;

/// An error as the API answers it: a status and `{"error", "message"}`. Internal
/// failures say only that something went wrong; the detail goes to the log.
#[derive(Debug)]
pub struct ApiError(pub StatusCode, pub String, pub String);

impl ApiError {
    /// A `400` naming what was wrong.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self(
            StatusCode::BAD_REQUEST,
            "invalid_input".into(),
            message.into(),
        )
    }

    /// A `404`.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self(StatusCode::NOT_FOUND, "not_found".into(), message.into())
    }
}

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        let (status, kind) = match &e {
            Error::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
            Error::InvalidInput { .. } | Error::InvalidConfig { .. } => {
                (StatusCode::BAD_REQUEST, "invalid_input")
            }
            Error::Hierarchy(_) => (StatusCode::UNPROCESSABLE_ENTITY, "hierarchy"),
            Error::AlreadyExists(_) | Error::Precondition(_) => (StatusCode::CONFLICT, "conflict"),
            Error::Unauthenticated(_) | Error::NeedsReauth { .. } => {
                (StatusCode::UNAUTHORIZED, "unauthenticated")
            }
            Error::PermissionDenied(_) => (StatusCode::FORBIDDEN, "forbidden"),
            Error::NotSupported(_) => (StatusCode::NOT_IMPLEMENTED, "not_supported"),
            Error::RateLimited { .. } => (StatusCode::TOO_MANY_REQUESTS, "rate_limited"),
            _ => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        };
        if status == StatusCode::INTERNAL_SERVER_ERROR {
            tracing::error!(error = %e, "request failed");
            return Self(
                status,
                kind.into(),
                "the request failed; see the service's log".into(),
            );
        }
        Self(status, kind.into(), e.to_string())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (
            self.0,
            axum::Json(json!({"error": self.1, "message": self.2})),
        )
            .into_response()
    }
}

/// Every integrations endpoint needs the admin bearer token.
async fn admin_only(State(state): State<Arc<AppState>>, request: Request, next: Next) -> Response {
    let presented = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    if !state.is_admin(presented.trim()) {
        return ApiError(
            StatusCode::UNAUTHORIZED,
            "unauthenticated".into(),
            "the admin bearer token is missing or wrong".into(),
        )
        .into_response();
    }
    next.run(request).await
}

/// The dashboard's single page.
async fn dashboard() -> Html<&'static str> {
    Html(include_str!("../../static/index.html"))
}

/// The whole API over `state`.
pub fn router(state: Arc<AppState>) -> Router {
    let admin = Router::new()
        .route("/api/integrations", get(connections::list))
        .route("/api/integrations/health", get(connections::health))
        .route("/api/integrations/events", get(events::stream))
        .route("/api/integrations/events/history", get(events::history))
        .route(
            "/api/integrations/notifications",
            get(notifications::unread),
        )
        .route(
            "/api/integrations/notifications/read",
            post(notifications::mark_read),
        )
        .route("/api/integrations/sync/trigger", post(sync::trigger))
        .route("/api/integrations/sync/history", get(sync::history))
        .route("/api/integrations/sync/{id}/status", get(sync::status))
        .route("/api/integrations/conflicts", get(conflicts::list))
        .route("/api/integrations/conflicts/{id}", get(conflicts::one))
        .route(
            "/api/integrations/conflicts/{id}/resolve",
            post(conflicts::resolve),
        )
        .route("/api/integrations/jira/search", get(time::search))
        .route(
            "/api/integrations/jira/worklogs/sync",
            post(time::sync_many),
        )
        .route(
            "/api/integrations/jira/worklogs/{record}/history",
            get(time::history),
        )
        .route(
            "/api/integrations/{provider}/catalog",
            get(connections::catalog),
        )
        .route("/api/integrations/{id}/test", post(setup::test))
        .route(
            "/api/integrations/bqe/{id}/matches/suggest",
            post(setup::bqe_suggest),
        )
        .route(
            "/api/integrations/bqe/{id}/matches/confirm",
            post(setup::bqe_confirm),
        )
        .route("/api/integrations/schemas/rule", get(config::rule_schema))
        .route(
            "/api/integrations/schemas/mapping",
            get(config::mapping_schema),
        )
        .route("/api/integrations/{id}/mappings", get(config::mappings))
        .route(
            "/api/integrations/{id}/mappings/{object}",
            axum::routing::put(config::save_mapping),
        )
        .route("/api/integrations/{id}/rules", get(config::rules))
        .route(
            "/api/integrations/{id}/rules/{object}",
            axum::routing::put(config::save_rule),
        )
        .route(
            "/api/integrations/{provider}/connect",
            post(connect::connect),
        )
        .route(
            "/api/integrations/jira/{id}/setup-custom-fields",
            post(setup::jira_fields),
        )
        .route(
            "/api/integrations/confluence/{id}/configure-space",
            post(setup::confluence_space),
        )
        .route(
            "/api/integrations/github/{id}/configure-repo",
            get(setup::github_repos).post(setup::github_labels),
        )
        .route("/api/integrations/{id}", delete(connections::disconnect))
        .route_service("/mcp", crate::mcp::http::service(&state))
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            admin_only,
        ));
    Router::new()
        .route("/", get(dashboard))
        .route("/api/openapi.json", get(openapi::document))
        .route("/api/webhooks/{provider}", post(webhooks::intake))
        .route(
            "/api/integrations/{provider}/callback",
            get(oauth::callback),
        )
        .merge(admin)
        .with_state(state)
}
