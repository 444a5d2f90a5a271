//! The BQE provider against the in-process simulator: the identity server (PKCE and
//! secret apps, `endpoint`, rotation, revocation), parent projects only (the server's
//! filter and the guard), clients through the same generic path, deletions from the
//! history, and the conformance suite for read-only providers.

use std::sync::Arc;

use devflow_provider_bqe::{BqeConfig, BqeProvider, Revocation, endpoint_of, oauth_config};
use devflow_sync_core::auth::{
    AccessToken, ClientSecret, OAuthFlow, PkceVerifier, RefreshToken, StateSigner,
};
use devflow_sync_core::engine::{BindingOptions, ImportMode, PullBudget, SyncEngine};
use devflow_sync_core::http::HttpClient;
use devflow_sync_core::model::{ConnectionId, ExternalId, FieldValue, Fields, ObjectType};
use devflow_sync_core::provider::{Provider, ProviderExt};
use devflow_sync_testkit::bqe_sim::BqeSimulator;
use serde_json::json;

const TOKEN: &str = "bqe-static-token";

async fn sim() -> BqeSimulator {
    let sim = BqeSimulator::start().await.unwrap();
    sim.accept_token(TOKEN, &["read:core"]);
    sim
}

fn provider(sim: &BqeSimulator) -> BqeProvider {
    let mut config = BqeConfig::with_token(sim.api_url(), AccessToken::new(TOKEN));
    config.webhook_secrets = vec![devflow_sync_core::auth::WebhookSecret::new("bqe-hook")];
    BqeProvider::new(config, HttpClient::builder().build().unwrap()).unwrap()
}

fn engine(p: BqeProvider, object: &str) -> SyncEngine {
    SyncEngine::builder()
        .provider(Arc::new(p))
        .bind_with("bqe", "bqe", object, BindingOptions::default())
        .import_mode(ImportMode::Import)
        .build()
        .unwrap()
}

#[tokio::test]
async fn only_parent_projects_come_in_and_the_server_filters_them() {
    let sim = sim().await;
    sim.seed_projects(700, 300);
    let e = engine(provider(&sim), "project");
    let report = e
        .pull(
            &ConnectionId::new("bqe"),
            &ObjectType::new("project"),
            PullBudget::UNLIMITED,
        )
        .await
        .unwrap();
    assert_eq!(report.created, 700, "{}", report.summary());
    let queries = sim.queries();
    assert!(
        queries
            .iter()
            .filter(|q| q.iter().any(|(k, _)| k == "fields"))
            .all(|q| q
                .iter()
                .any(|(k, v)| k == "where" && v.contains("parentId eq null"))),
        "every list asked the server for parents only: {queries:?}"
    );
    assert!(
        queries
            .iter()
            .any(|q| q.iter().any(|(k, v)| k == "page" && v == "1,500")),
        "paged as <n>,<size>"
    );
    // A second pull reaches back the overlap only.
    let again = e
        .pull(
            &ConnectionId::new("bqe"),
            &ObjectType::new("project"),
            PullBudget::UNLIMITED,
        )
        .await
        .unwrap();
    assert_eq!(again.created, 0, "{}", again.summary());
    let last_list = sim
        .queries()
        .into_iter()
        .rev()
        .find(|q| q.iter().any(|(k, _)| k == "fields"))
        .unwrap();
    assert!(
        last_list
            .iter()
            .any(|(k, v)| k == "where" && v.contains("parentId eq null and lastUpdated ge '")),
        "{last_list:?}"
    );
}

#[tokio::test]
async fn a_sub_project_that_slips_through_is_dropped_by_the_guard() {
    let sim = sim().await;
    let parent = sim.add_project("P-1", "Parent", None, None);
    let sub = sim.add_project("P-1.1", "Phase", None, Some(&parent));
    let p = provider(&sim);
    let conn = ConnectionId::new("bqe");
    let object = ObjectType::new("project");
    // The server's filter is what keeps sub-projects out; a listing without it (as a
    // server ignoring the filter would answer) still yields parents only.
    let all = p.list_all(&conn, &object, None, 100).await.unwrap();
    assert_eq!(
        all.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(),
        vec![parent.as_str()]
    );
    let err = p
        .get(&conn, &object, &ExternalId::new(sub))
        .await
        .unwrap_err();
    assert!(
        matches!(err, devflow_sync_core::Error::NotFound(_)),
        "{err:?}"
    );
    let parent_record = p
        .get(&conn, &object, &ExternalId::new(parent))
        .await
        .unwrap();
    assert_eq!(
        parent_record.record.fields.get("code").as_str(),
        Some("P-1")
    );
}

#[tokio::test]
async fn clients_sync_through_the_same_generic_path() {
    let sim = sim().await;
    let acme = sim.add_client("Acme");
    sim.add_client("Globex");
    let e = engine(provider(&sim), "client");
    let report = e
        .pull(
            &ConnectionId::new("bqe"),
            &ObjectType::new("client"),
            PullBudget::UNLIMITED,
        )
        .await
        .unwrap();
    assert_eq!(report.created, 2, "{}", report.summary());
    sim.edit("client", &acme, &json!({"name": "Acme Inc."}));
    let report = e
        .pull(
            &ConnectionId::new("bqe"),
            &ObjectType::new("client"),
            PullBudget::UNLIMITED,
        )
        .await
        .unwrap();
    assert_eq!(report.updated, 1, "{}", report.summary());
}

#[tokio::test]
async fn a_deleted_project_arrives_from_the_history() {
    let sim = sim().await;
    let keep = sim.add_project("P-1", "Kept", None, None);
    let gone = sim.add_project("P-2", "Gone", None, None);
    let e = engine(provider(&sim), "project");
    let (conn, object) = (ConnectionId::new("bqe"), ObjectType::new("project"));
    e.pull(&conn, &object, PullBudget::UNLIMITED).await.unwrap();
    assert!(sim.delete("project", &gone));
    let report = e.pull(&conn, &object, PullBudget::UNLIMITED).await.unwrap();
    assert_eq!(report.deleted, 1, "{}", report.summary());
    let link = e
        .mappings()
        .link_by_external(&conn, &object, &ExternalId::new(gone))
        .await
        .unwrap()
        .unwrap();
    let item = e.work_items().get(&link.item).await.unwrap().unwrap();
    assert!(!item.active, "marked inactive, link kept");
    let kept = e
        .mappings()
        .link_by_external(&conn, &object, &ExternalId::new(keep))
        .await
        .unwrap()
        .unwrap();
    assert!(
        e.work_items()
            .get(&kept.item)
            .await
            .unwrap()
            .unwrap()
            .active
    );
}

#[tokio::test]
async fn the_identity_server_gives_the_endpoint_rotates_and_revokes() {
    let sim = BqeSimulator::start().await.unwrap();
    sim.add_project("P-1", "Kept", None, None);
    let http = HttpClient::builder().build().unwrap();
    let conn = ConnectionId::new("bqe");
    // A public app: PKCE, no secret.
    sim.register_app("public-app", None);
    let mut config = oauth_config(&sim.identity_url(), "public-app", None).unwrap();
    config.redirect_url = Some("http://127.0.0.1/callback".into());
    assert!(config.pkce && config.client_secret.is_none());
    let flow = OAuthFlow::new(
        config,
        http.clone(),
        Arc::new(StateSigner::new(ClientSecret::new("k"))),
    )
    .unwrap();
    let start = flow.authorize("acme", &conn, "user-1").unwrap();
    let challenge = start
        .url
        .split(['?', '&'])
        .find_map(|p| p.strip_prefix("code_challenge="))
        .unwrap()
        .to_owned();
    let code = sim.authorize(
        "public-app",
        &["read:core", "offline_access"],
        Some(&challenge),
    );
    let grant = flow
        .exchange_code("acme", &conn, &code, &start.state, start.pkce_verifier)
        .await
        .unwrap();
    let endpoint = endpoint_of(&grant.fields).unwrap();
    assert_eq!(
        endpoint,
        sim.api_url(),
        "the API base comes from the token response"
    );
    // A wrong verifier is refused.
    let code = sim.authorize("public-app", &["read:core"], Some(&challenge));
    let wrong = flow
        .exchange_code(
            "acme",
            &conn,
            &code,
            &flow.authorize("acme", &conn, "user-1").unwrap().state,
            Some(PkceVerifier::from_secret(
                "not-the-verifier-not-the-verifier-0123456789",
            )),
        )
        .await;
    assert!(wrong.is_err());

    // A web app: a client secret; the refresh token rotates; revocation.
    sim.register_app("web-app", Some("web-secret"));
    let mut config = oauth_config(
        &sim.identity_url(),
        "web-app",
        Some(ClientSecret::new("web-secret")),
    )
    .unwrap();
    config.redirect_url = Some("http://127.0.0.1/callback".into());
    assert!(!config.pkce);
    let flow = OAuthFlow::new(
        config,
        http.clone(),
        Arc::new(StateSigner::new(ClientSecret::new("k"))),
    )
    .unwrap();
    let start = flow.authorize("acme", &conn, "user-1").unwrap();
    let code = sim.authorize("web-app", &["read:core", "offline_access"], None);
    let grant = flow
        .exchange_code("acme", &conn, &code, &start.state, None)
        .await
        .unwrap();
    let refresh = RefreshToken::new(
        secrecy::ExposeSecret::expose_secret(grant.credentials.refresh_token.as_ref().unwrap())
            .to_owned(),
    );
    let refreshed = flow.refresh(&conn, &refresh).await.unwrap();
    assert!(refreshed.credentials.refresh_token.is_some());
    assert!(
        flow.refresh(&conn, &refresh).await.is_err(),
        "a rotated refresh token is spent"
    );
    let access = AccessToken::new(
        secrecy::ExposeSecret::expose_secret(&refreshed.credentials.access_token).to_owned(),
    );
    let mut cfg = BqeConfig::with_token(endpoint, access);
    cfg.revocation = Some(Revocation {
        url: format!("{}/connect/revocation", sim.identity_url()),
        client_id: "web-app".into(),
        client_secret: Some(ClientSecret::new("web-secret")),
    });
    let p = BqeProvider::new(cfg, http).unwrap();
    assert_eq!(p.company(&conn).await.unwrap(), "Simulated Company");
    p.revoke(&conn).await.unwrap();
    assert_eq!(sim.refreshes_and_revocations(), (1, 1));
    assert!(
        p.company(&conn).await.is_err(),
        "a revoked token is refused"
    );
}

#[tokio::test]
async fn the_provider_passes_the_read_only_conformance_suite() {
    let sim = sim().await;
    sim.seed_projects(5, 2);
    let p = provider(&sim);
    let setup = devflow_sync_testkit::conformance::ProviderSetup {
        connection: ConnectionId::new("bqe"),
        object: ObjectType::new("project"),
        fields: Fields::new().with("name", "Conformance"),
        edit: ("name".into(), FieldValue::text("Edited")),
        tick: Box::new(|| std::thread::sleep(std::time::Duration::from_millis(2))),
    };
    devflow_sync_testkit::conformance::provider(&p, &setup).await;
}
