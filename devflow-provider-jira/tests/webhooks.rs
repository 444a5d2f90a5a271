//! Dynamic webhooks of an OAuth app: registered with a JQL filter, refreshed before they
//! expire, delivered with a JWT signed by the app's client secret.

use std::sync::Arc;

use chrono::{Duration, Utc};
use devflow_provider_jira::dynamic::verify_jwt;
use devflow_provider_jira::{JiraAuth, JiraConfig, JiraProvider};
use devflow_sync_core::Error;
use devflow_sync_core::auth::{AccessToken, WebhookSecret};
use devflow_sync_core::clock::ManualClock;
use devflow_sync_core::http::HttpClient;
use devflow_sync_core::model::ConnectionId;
use devflow_sync_core::provider::{Headers, Provider, WebhookAction};
use devflow_sync_core::store::ConnectionStore;
use devflow_sync_core::store::memory::MemoryConnections;
use devflow_sync_testkit::jira_sim::JiraSimulator;
use serde_json::json;

const SECRET: &str = "app-client-secret";

async fn oauth_provider(sim: &JiraSimulator) -> JiraProvider {
    sim.register_oauth_client("app-id", SECRET);
    let code = sim.authorize(
        "app-id",
        &["read:jira-work", "write:jira-work", "manage:jira-webhook"],
    );
    let body = json!({"grant_type": "authorization_code", "client_id": "app-id", "client_secret": SECRET, "code": code, "redirect_uri": "http://127.0.0.1/cb"});
    let grant: serde_json::Value = reqwest::Client::new()
        .post(format!("{}/oauth/token", sim.url()))
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = grant["access_token"].as_str().unwrap().to_owned();
    let mut config = JiraConfig::new(
        sim.gateway_url(),
        "KAN",
        JiraAuth::bearer(AccessToken::new(token)),
    );
    config.webhook_jwt_secret = Some(WebhookSecret::new(SECRET));
    JiraProvider::new(config, HttpClient::builder().build().unwrap()).unwrap()
}

#[tokio::test]
async fn dynamic_webhooks_are_registered_refreshed_and_verified_by_their_jwt() {
    let clock = Arc::new(ManualClock::new(Utc::now()));
    let sim = JiraSimulator::start_with_clock(clock.clone())
        .await
        .unwrap();
    sim.add_project("KAN", "DevFlow", false);
    sim.add_project("OPS", "Operations", false);
    let p = oauth_provider(&sim).await;
    let conn = ConnectionId::new("c");
    let regs = p
        .register_webhooks(&conn, "https://host.test/hooks/jira", None)
        .await
        .unwrap();
    assert_eq!(regs.len(), 1);
    let in_30_days = Utc::now() + Duration::days(30);
    let expires_at = regs[0].expires_at.unwrap();
    assert!(
        (expires_at - in_30_days).num_minutes().abs() < 5,
        "{regs:?}"
    );
    assert_eq!(regs[0].refresh_due, Some(expires_at - Duration::days(7)));
    assert_eq!(regs[0].filter.as_deref(), Some("project = \"KAN\""));
    assert_eq!(sim.dynamic_webhooks()[0]["jqlFilter"], "project = \"KAN\"");

    // Kept in the connection store; the scheduler refreshes what is due, and only that.
    let store = MemoryConnections::new();
    store.put_registration(&regs[0]).await.unwrap();
    let nothing = p
        .refresh_due_webhooks(&store, &conn, Utc::now())
        .await
        .unwrap();
    assert!(nothing.is_empty(), "not due yet: no call");
    let later = expires_at - Duration::days(3);
    clock.advance(std::time::Duration::from_secs(27 * 24 * 3600));
    // Four weeks on, the access token of the first grant has long expired: a new one.
    let p = oauth_provider(&sim).await;
    let refreshed = p.refresh_due_webhooks(&store, &conn, later).await.unwrap();
    assert_eq!(refreshed.len(), 1);
    let new_expiry = refreshed[0].expires_at.unwrap();
    assert!(new_expiry > expires_at, "{new_expiry} after {expires_at}");
    assert_eq!(store.registrations(Some(&conn)).await.unwrap(), refreshed);
    assert!(store.registrations_due(later).await.unwrap().is_empty());

    // A person edits an issue of the project: the app's delivery carries a JWT.
    let key = sim
        .create_issue(
            "KAN",
            &json!({"summary": "S", "issuetype": {"name": "Task"}}),
        )
        .unwrap();
    sim.create_issue(
        "OPS",
        &json!({"summary": "Elsewhere", "issuetype": {"name": "Task"}}),
    )
    .unwrap();
    let hooks = sim.take_webhooks();
    let dynamic: Vec<_> = hooks
        .iter()
        .filter(|(h, _)| h.get("authorization").is_some())
        .collect();
    assert_eq!(dynamic.len(), 1, "the filter keeps the other project out");
    let (headers, body) = dynamic[0];
    let delivery = p.parse_webhook(&conn, headers, body).unwrap();
    assert_eq!(delivery.events[0].action, WebhookAction::Upsert);
    assert_eq!(
        Some(delivery.events[0].id.as_str()),
        sim.issue(&key).unwrap()["id"].as_str()
    );

    // A JWT signed with another secret, or none at all, is refused.
    let wrong = verify_jwt(headers, &WebhookSecret::new("not-the-secret"));
    assert!(matches!(wrong, Err(Error::Unauthenticated(_))), "{wrong:?}");
    let forged = headers
        .iter()
        .filter(|(n, _)| !n.eq_ignore_ascii_case("authorization"))
        .collect::<Headers>()
        .with("Authorization", "Bearer a.b.c");
    assert!(matches!(
        p.parse_webhook(&conn, &forged, body),
        Err(Error::Unauthenticated(_))
    ));
    // The admin delivery of the same change: no admin secret is configured here.
    let (admin_headers, admin_body) = hooks
        .iter()
        .find(|(h, _)| h.get("authorization").is_none())
        .unwrap();
    let refused = p.parse_webhook(&conn, admin_headers, admin_body);
    assert!(
        matches!(refused, Err(Error::InvalidConfig { .. })),
        "{refused:?}"
    );
}

#[tokio::test]
async fn an_api_token_cannot_register_dynamic_webhooks() {
    let sim = JiraSimulator::start().await.unwrap();
    sim.add_project("KAN", "DevFlow", false);
    sim.add_api_token("dev@acme.test", "t", true, None);
    let p = JiraProvider::new(
        JiraConfig::new(
            sim.url(),
            "KAN",
            JiraAuth::api_token("dev@acme.test", AccessToken::new("t")),
        ),
        HttpClient::builder().build().unwrap(),
    )
    .unwrap();
    let err = p
        .register_webhooks(&ConnectionId::new("c"), "https://host.test/h", None)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::PermissionDenied(_)), "{err:?}");
}
