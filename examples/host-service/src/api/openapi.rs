//! The OpenAPI document of the endpoints, generated from the handlers' annotations
//! (`utoipa`), served at `/api/openapi.json`.

use axum::Json;
use utoipa::OpenApi;

use super::{
    config, conflicts, connect, connections, events, notifications, oauth, setup, sync, time,
    webhooks,
};

/// The document.
#[derive(Debug, OpenApi)]
#[openapi(
    info(title = "devflow-sync host service", description = "The integration endpoints of a devflow-sync host. Every /api/integrations endpoint needs the admin bearer token; webhooks need their provider's signature."),
    paths(
        connections::list, connections::health, connections::catalog, connections::disconnect,
        connect::connect, setup::test, setup::jira_fields, setup::confluence_space, setup::github_repos,
        sync::trigger, sync::status, sync::history,
        conflicts::list, conflicts::one, conflicts::resolve,
        events::stream, events::history, notifications::unread, notifications::mark_read,
        time::search, time::sync_many, time::history,
        webhooks::intake, oauth::callback, setup::bqe_suggest, setup::bqe_confirm, setup::github_labels,
        config::mappings, config::save_mapping, config::rule_schema, config::mapping_schema, config::rules, config::save_rule,
    ),
    components(schemas(setup::RepoForm, setup::Confirm, setup::Pair, sync::Trigger, connect::Form, setup::SpaceForm, time::Book, notifications::Read)),
    modifiers(&Bearer)
)]
pub struct ApiDoc;

/// The admin bearer token as the security scheme.
#[derive(Debug)]
struct Bearer;

impl utoipa::Modify for Bearer {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "admin",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// `GET /api/openapi.json`.
pub(crate) async fn document() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
