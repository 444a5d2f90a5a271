//! Authentication against the simulator: OAuth 2.0 (3LO) with JSON token requests,
//! the site lookup and the gateway, rotating refresh tokens shared by two workers, API
//! tokens on the site and the gateway, and `test_connection`'s diagnosis.

use std::sync::Arc;

use chrono::{Duration, Utc};
use devflow_provider_jira::{Diagnosis, JiraAuth, JiraConfig, JiraProvider, oauth_config};
use devflow_sync_core::Error;
use devflow_sync_core::auth::{
    AccessToken, ClientSecret, OAuthFlow, RefreshToken, StateSigner, TokenManager,
};
use devflow_sync_core::clock::{Clock, ManualClock};
use devflow_sync_core::http::HttpClient;
use devflow_sync_core::model::{ConnectionId, ObjectType, ProviderKey};
use devflow_sync_core::provider::ProviderExt;
use devflow_sync_core::store::TokenStore;
use devflow_sync_core::store::memory::{MemoryJournal, MemoryTokens};
use devflow_sync_testkit::jira_sim::{CLOUD_ID, JiraSimulator};
use secrecy::ExposeSecret;

const SCOPES: [&str; 4] = [
    "read:jira-work",
    "write:jira-work",
    "read:jira-user",
    "offline_access",
];

fn provider_at(base: String, auth: JiraAuth) -> JiraProvider {
    JiraProvider::new(
        JiraConfig::new(base, "KAN", auth),
        HttpClient::builder().build().unwrap(),
    )
    .unwrap()
}

#[tokio::test]
async fn the_3lo_flow_finds_the_site_and_two_workers_share_one_rotation() {
    let clock = Arc::new(ManualClock::starting_at_epoch_secs(1_780_000_000));
    let sim = JiraSimulator::start_with_clock(clock.clone())
        .await
        .unwrap();
    sim.add_project("KAN", "DevFlow", true);
    sim.seed_issues("KAN", 3);
    sim.register_oauth_client("app-id", "app-secret");
    let mut config = oauth_config("app-id", ClientSecret::new("app-secret")).unwrap();
    config.token_url = format!("{}/oauth/token", sim.url());
    config.redirect_url = Some("http://127.0.0.1/callback".into());
    let http = HttpClient::builder().build().unwrap();
    let flow = Arc::new(
        OAuthFlow::new(
            config,
            http.clone(),
            Arc::new(StateSigner::new(ClientSecret::new("k"))),
        )
        .unwrap()
        .with_clock(clock.clone()),
    );
    let conn = ConnectionId::new("jira");
    let start = flow.authorize("acme", &conn, "user-1").unwrap();
    for part in [
        "audience=api.atlassian.com",
        "prompt=consent",
        "offline_access",
        "response_type=code",
    ] {
        assert!(start.url.contains(part), "{part} in {}", start.url);
    }
    let code = sim.authorize("app-id", &SCOPES);
    let grant = flow
        .exchange_code("acme", &conn, &code, &start.state, None)
        .await
        .unwrap();
    let first_refresh = grant
        .credentials
        .refresh_token
        .as_ref()
        .expect("offline_access gives a refresh token")
        .expose_secret()
        .to_owned();
    let access = AccessToken::new(grant.credentials.access_token.expose_secret().to_owned());

    // The person picks a site: its cloud id makes the gateway URL.
    let sites = devflow_atlassian::accessible_resources(&http, &sim.url(), &conn, &access)
        .await
        .unwrap();
    assert_eq!(sites.len(), 1);
    assert_eq!(sites[0].id, CLOUD_ID);
    let gateway = format!("{}/ex/jira/{}", sim.url(), sites[0].id);
    assert_eq!(gateway, sim.gateway_url());

    // Two workers, one token store: the token expires, both call at once.
    let tokens = Arc::new(MemoryTokens::new());
    tokens
        .put(&conn, &ProviderKey::new("jira"), &grant.credentials, None)
        .await
        .unwrap();
    let worker = || {
        let manager = Arc::new(
            TokenManager::new(tokens.clone(), Arc::new(MemoryJournal::new()))
                .refresher("jira", flow.clone())
                .clock(clock.clone()),
        );
        provider_at(gateway.clone(), JiraAuth::oauth(manager))
    };
    let (a, b) = (worker(), worker());
    let issue = ObjectType::new("issue");
    a.list_all(&conn, &issue, None, 100).await.unwrap();
    clock.advance(std::time::Duration::from_secs(2 * 3600));
    let (ra, rb) = tokio::join!(
        a.list_all(&conn, &issue, None, 100),
        b.list_all(&conn, &issue, None, 100)
    );
    assert_eq!(
        (ra.unwrap().len(), rb.unwrap().len()),
        (3, 3),
        "both workers go on"
    );
    assert_eq!(
        sim.refreshes(),
        1,
        "one rotation, the other worker used its result"
    );
    assert!(
        sim.json_token_requests() >= 2,
        "code and refresh grants went as JSON"
    );
    let stored = tokens.get(&conn).await.unwrap().unwrap();
    let rotated = stored
        .credentials
        .refresh_token
        .as_ref()
        .unwrap()
        .expose_secret()
        .to_owned();
    assert_ne!(rotated, first_refresh, "the new refresh token was kept");

    // Past the reuse leeway the old refresh token is dead: a person must consent again.
    clock.advance(std::time::Duration::from_secs(11 * 60));
    let err = flow
        .refresh(&conn, &RefreshToken::new(first_refresh))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::NeedsReauth { .. }), "{err:?}");
    assert!(clock.now() > Utc::now() - Duration::days(36500));
}

#[tokio::test]
async fn api_tokens_work_on_the_site_and_the_gateway_and_oauth_tokens_only_on_the_gateway() {
    let sim = JiraSimulator::start().await.unwrap();
    sim.add_project("KAN", "DevFlow", false);
    sim.seed_issues("KAN", 2);
    sim.add_api_token("dev@acme.test", "ATATT-1", false, None);
    sim.accept_bearer("oauth-token", &SCOPES);
    let (conn, issue) = (ConnectionId::new("c"), ObjectType::new("issue"));
    let basic = || JiraAuth::api_token("dev@acme.test", AccessToken::new("ATATT-1"));
    for base in [sim.url(), sim.gateway_url()] {
        let p = provider_at(base.clone(), basic());
        assert_eq!(
            p.list_all(&conn, &issue, None, 100).await.unwrap().len(),
            2,
            "{base}"
        );
    }
    let on_gateway = provider_at(
        sim.gateway_url(),
        JiraAuth::bearer(AccessToken::new("oauth-token")),
    );
    assert_eq!(
        on_gateway
            .list_all(&conn, &issue, None, 100)
            .await
            .unwrap()
            .len(),
        2
    );
    let on_site = provider_at(sim.url(), JiraAuth::bearer(AccessToken::new("oauth-token")));
    let err = on_site
        .list_all(&conn, &issue, None, 100)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Unauthenticated(_)), "{err:?}");
}

#[tokio::test]
async fn test_connection_says_what_is_wrong() {
    let sim = JiraSimulator::start().await.unwrap();
    sim.add_project("KAN", "DevFlow", false);
    sim.add_api_token("dev@acme.test", "good", false, None);
    let yesterday = Utc::now() - Duration::days(1);
    sim.add_api_token("dev@acme.test", "old", false, Some(yesterday));
    sim.accept_bearer("narrow", &["read:jira-user"]);
    let conn = ConnectionId::new("c");
    let check = |base: String, auth: JiraAuth| async move {
        provider_at(base, auth)
            .test_connection(&ConnectionId::new("c"))
            .await
    };
    let api = |t: &str| JiraAuth::api_token("dev@acme.test", AccessToken::new(t));

    let ok = check(sim.url(), api("good")).await;
    assert_eq!(ok.diagnosis, Diagnosis::Ok);
    assert_eq!(ok.time_zone.as_deref(), Some("Europe/Warsaw"));
    assert_eq!(ok.project.map(|p| p.key), Some("KAN".to_owned()));

    assert!(matches!(
        check(sim.url(), api("wrong")).await.diagnosis,
        Diagnosis::BadCredentials(_)
    ));
    let expired = JiraAuth::ApiToken {
        email: "dev@acme.test".into(),
        token: AccessToken::new("old"),
        expires: Some(yesterday),
    };
    let d = check(sim.url(), expired).await.diagnosis;
    assert!(
        matches!(&d, Diagnosis::ExpiredToken(m) if m.contains(&yesterday.format("%Y-%m-%d").to_string())),
        "{d:?}"
    );
    let d = check(
        format!("{}/ex/jira/00000000-0000-0000-0000-000000000000", sim.url()),
        api("good"),
    )
    .await
    .diagnosis;
    assert!(matches!(d, Diagnosis::WrongSite(_)), "{d:?}");
    let d = check(
        sim.gateway_url(),
        JiraAuth::bearer(AccessToken::new("narrow")),
    )
    .await
    .diagnosis;
    assert!(matches!(d, Diagnosis::MissingScope(_)), "{d:?}");
    let other = JiraProvider::new(
        JiraConfig::new(sim.url(), "NOPE", api("good")),
        HttpClient::builder().build().unwrap(),
    )
    .unwrap();
    assert!(matches!(
        other.test_connection(&conn).await.diagnosis,
        Diagnosis::ProjectNotFound(_)
    ));
}
