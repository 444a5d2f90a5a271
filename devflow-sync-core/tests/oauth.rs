//! OAuth flows and the token lifecycle against a local mock authorization server.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use devflow_sync_core::Error;
use devflow_sync_core::auth::PkceVerifier;
use devflow_sync_core::auth::{
    AccessToken, ClientSecret, OAuthConfig, OAuthFlow, RefreshToken, StateSigner, TokenManager,
    TokenRefresher,
};
use devflow_sync_core::clock::{Clock, ManualClock};
use devflow_sync_core::http::{HttpClient, HttpConfig, RetryConfig};
use devflow_sync_core::model::{ConnectionId, ProviderKey};
use devflow_sync_core::store::HealthStore;
use devflow_sync_core::store::memory::{MemoryJournal, MemoryTokens};
use devflow_sync_core::store::{ConnectionStatus, Credentials, TokenStore};
use mockito::Matcher;
use secrecy::{ExposeSecret, SecretString};

fn clock() -> ManualClock {
    ManualClock::starting_at_epoch_secs(1_780_000_000)
}

fn http(retries: u32) -> HttpClient {
    HttpClient::builder()
        .config(HttpConfig {
            retry: RetryConfig {
                max_retries: retries,
                backoff: devflow_sync_core::http::BackoffConfig {
                    init: Duration::from_millis(1),
                    max: Duration::from_millis(5),
                    base: 2.0,
                },
                ..RetryConfig::default()
            },
            ..HttpConfig::default()
        })
        .build()
        .unwrap()
}

fn flow(server: &mockito::Server, clock: &ManualClock, provider: &str) -> OAuthFlow {
    let mut config = OAuthConfig::new(
        provider,
        "client-1",
        format!("{}/oauth/token", server.url()),
    );
    config.client_secret = Some(ClientSecret::new("client-secret-value"));
    config.auth_url = Some(format!("{}/authorize", server.url()));
    config.redirect_url = Some("https://host.example/callback".into());
    config.scopes = vec!["read:jira-work".into(), "offline_access".into()];
    config.auth_params = vec![
        ("audience".into(), "api.atlassian.com".into()),
        ("prompt".into(), "consent".into()),
    ];
    let signer = Arc::new(
        StateSigner::new(ClientSecret::new("state-key")).with_clock(Arc::new(clock.clone())),
    );
    OAuthFlow::new(config, http(2), signer)
        .unwrap()
        .with_clock(Arc::new(clock.clone()))
}

const TOKENS: &str = r#"{"access_token":"at-1","token_type":"Bearer","expires_in":3600,"refresh_token":"rt-1","scope":"read:jira-work offline_access"}"#;

#[tokio::test]
async fn authorization_code_with_pkce_end_to_end() {
    let mut server = mockito::Server::new_async().await;
    let clock = clock();
    let flow = flow(&server, &clock, "jira");
    let conn = ConnectionId::new("conn-1");
    let start = flow.authorize("acme", &conn, "user-7").unwrap();
    let url = reqwest::Url::parse(&start.url).unwrap();
    let q: std::collections::HashMap<_, _> = url.query_pairs().into_owned().collect();
    assert_eq!(q["response_type"], "code");
    assert_eq!(q["client_id"], "client-1");
    assert_eq!(q["code_challenge_method"], "S256");
    assert_eq!(q["state"], start.state);
    assert_eq!(q["audience"], "api.atlassian.com");
    assert_eq!(q["scope"], "read:jira-work offline_access");
    let verifier = start.pkce_verifier.unwrap();
    assert_eq!(
        q["code_challenge"],
        devflow_sync_core::auth::PkceVerifier::challenge_of(verifier.secret()).challenge
    );
    let token = server
        .mock("POST", "/oauth/token")
        .match_body(Matcher::AllOf(vec![
            Matcher::UrlEncoded("grant_type".into(), "authorization_code".into()),
            Matcher::UrlEncoded("code".into(), "the-code".into()),
            Matcher::UrlEncoded("code_verifier".into(), verifier.secret().into()),
            Matcher::UrlEncoded(
                "redirect_uri".into(),
                "https://host.example/callback".into(),
            ),
        ]))
        .match_header("authorization", Matcher::Regex("^Basic ".into()))
        .with_status(200)
        .with_header("content-type", "application/json")
        .with_body(TOKENS)
        .expect(1)
        .create_async()
        .await;

    let spare = || Some(PkceVerifier::from_secret("v".repeat(43)));
    // A state for another connection is refused before any call.
    let other = flow
        .authorize("acme", &ConnectionId::new("conn-2"), "user-7")
        .unwrap();
    let err = flow
        .exchange_code("acme", &conn, "the-code", &other.state, spare())
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("issued for connection conn-2"),
        "{err}"
    );
    // Regression: a wrong-connection callback, a wrong-tenant one and one without the
    // PKCE verifier do not use the right state up.
    let err = flow
        .exchange_code(
            "acme",
            &ConnectionId::new("conn-2"),
            "the-code",
            &start.state,
            spare(),
        )
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("issued for connection conn-1"),
        "{err}"
    );
    let err = flow
        .exchange_code("globex", &conn, "the-code", &start.state, spare())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("another tenant"), "{err}");
    let err = flow
        .exchange_code("acme", &conn, "the-code", &start.state, None)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::InvalidInput { pointer: Some(p), .. } if p == "pkce_verifier"),
        "{err:?}"
    );

    let grant = flow
        .exchange_code("acme", &conn, "the-code", &start.state, Some(verifier))
        .await
        .unwrap();
    assert_eq!(grant.credentials.access_token.expose_secret(), "at-1");
    assert_eq!(
        grant
            .credentials
            .refresh_token
            .as_ref()
            .unwrap()
            .expose_secret(),
        "rt-1"
    );
    assert_eq!(
        grant.credentials.expires_at,
        Some(clock.now() + chrono::Duration::seconds(3600))
    );
    token.assert_async().await;

    // The state is single use: a replayed callback is refused without a call.
    let err = flow
        .exchange_code("acme", &conn, "the-code", &start.state, spare())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("already used"), "{err}");
    // A tampered state is refused.
    let tampered = format!("{}x", start.state);
    assert!(matches!(
        flow.exchange_code("acme", &conn, "c", &tampered, spare())
            .await,
        Err(Error::Unauthenticated(_))
    ));
    // An expired one too.
    let late = flow.authorize("acme", &conn, "user-7").unwrap();
    clock.advance(Duration::from_secs(601));
    let err = flow
        .exchange_code("acme", &conn, "c", &late.state, spare())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("expired"), "{err}");
}

#[tokio::test]
async fn refresh_rotation_and_client_credentials() {
    let mut server = mockito::Server::new_async().await;
    let clock = clock();
    let flow = flow(&server, &clock, "jira");
    let conn = ConnectionId::new("c");
    server
        .mock("POST", "/oauth/token")
        .match_body(Matcher::AllOf(vec![
            Matcher::UrlEncoded("grant_type".into(), "refresh_token".into()),
            Matcher::UrlEncoded("refresh_token".into(), "rt-1".into()),
        ]))
        .with_header("content-type", "application/json")
        .with_body(r#"{"access_token":"at-2","token_type":"Bearer","expires_in":3600,"refresh_token":"rt-2"}"#)
        .expect(1)
        .create_async()
        .await;
    let grant = flow
        .refresh(&conn, &RefreshToken::new("rt-1"))
        .await
        .unwrap();
    assert_eq!(
        grant.credentials.refresh_token.unwrap().expose_secret(),
        "rt-2",
        "Atlassian rotates refresh tokens"
    );

    server
        .mock("POST", "/oauth/token")
        .match_body(Matcher::UrlEncoded("grant_type".into(), "client_credentials".into()))
        .with_header("content-type", "application/json")
        .with_body(r#"{"access_token":"app-token","token_type":"bearer","expires_in":3600,"endpoint":"https://api-sandbox.bqecore.com/api"}"#)
        .expect(1)
        .create_async()
        .await;
    let grant = flow.client_credentials(&conn).await.unwrap();
    assert_eq!(grant.credentials.access_token.expose_secret(), "app-token");
    assert_eq!(
        grant.fields.endpoint.as_deref(),
        Some("https://api-sandbox.bqecore.com/api"),
        "BQE's endpoint field"
    );
    assert!(grant.credentials.refresh_token.is_none());
}

#[tokio::test]
async fn github_answers_oauth_errors_with_200() {
    let mut server = mockito::Server::new_async().await;
    let clock = clock();
    let mut config = OAuthConfig::new(
        "github",
        "Iv1.abc",
        format!("{}/login/oauth/access_token", server.url()),
    );
    config.client_secret = Some(ClientSecret::new("s"));
    config.errors_as_200 = true;
    config.credentials_in_body = true;
    let flow = OAuthFlow::new(
        config,
        http(0),
        Arc::new(StateSigner::new(ClientSecret::new("k"))),
    )
    .unwrap();
    server
        .mock("POST", "/login/oauth/access_token")
        .with_status(200)
        .with_header("content-type", "application/json")
        .with_body(r#"{"error":"bad_refresh_token","error_description":"The refresh token passed is incorrect or expired.","error_uri":"https://docs.github.com"}"#)
        .create_async()
        .await;
    let err = flow
        .refresh(&ConnectionId::new("c"), &RefreshToken::new("ghr_x"))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::NeedsReauth { .. }), "{err:?}");
    assert!(err.to_string().contains("bad_refresh_token"), "{err}");
    let _ = clock;
}

fn stored(access: &str, refresh: &str, expires_in: i64, clock: &ManualClock) -> Credentials {
    Credentials {
        access_token: SecretString::from(access.to_owned()),
        refresh_token: Some(SecretString::from(refresh.to_owned())),
        expires_at: Some(clock.now() + chrono::Duration::seconds(expires_in)),
        scopes: vec![],
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_concurrent_callers_cause_exactly_one_refresh() {
    let mut server = mockito::Server::new_async().await;
    let clock = clock();
    let token = server
        .mock("POST", "/oauth/token")
        .match_body(Matcher::UrlEncoded("refresh_token".into(), "rt-1".into()))
        .with_header("content-type", "application/json")
        .with_body(r#"{"access_token":"at-2","token_type":"Bearer","expires_in":3600,"refresh_token":"rt-2"}"#)
        .expect(1)
        .create_async()
        .await;
    let store = Arc::new(MemoryTokens::new());
    let conn = ConnectionId::new("c");
    // Expires in two minutes: inside the five-minute margin.
    store
        .put(
            &conn,
            &ProviderKey::new("jira"),
            &stored("at-1", "rt-1", 120, &clock),
            None,
        )
        .await
        .unwrap();
    let manager = Arc::new(
        TokenManager::new(store.clone(), Arc::new(MemoryJournal::new()))
            .refresher("jira", Arc::new(flow(&server, &clock, "jira")))
            .clock(Arc::new(clock.clone())),
    );
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let (m, c) = (manager.clone(), conn.clone());
        tasks.push(tokio::spawn(async move { m.access_token(&c).await }));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap().unwrap(), AccessToken::new("at-2"));
    }
    token.assert_async().await;
    let now = store.get(&conn).await.unwrap().unwrap();
    assert_eq!(now.version, 2);
    assert_eq!(
        now.credentials.refresh_token.unwrap().expose_secret(),
        "rt-2"
    );

    // A valid token is handed out without a call; a 401 refreshes once.
    assert_eq!(
        manager.access_token(&conn).await.unwrap(),
        AccessToken::new("at-2")
    );
    server
        .mock("POST", "/oauth/token")
        .match_body(Matcher::UrlEncoded("refresh_token".into(), "rt-2".into()))
        .with_header("content-type", "application/json")
        .with_body(r#"{"access_token":"at-3","token_type":"Bearer","expires_in":3600,"refresh_token":"rt-3"}"#)
        .expect(1)
        .create_async()
        .await;
    let fresh = manager
        .after_unauthorized(&conn, &AccessToken::new("at-2"))
        .await
        .unwrap();
    assert_eq!(fresh, AccessToken::new("at-3"));
    // A 401 for an old token returns the current one without refreshing.
    assert_eq!(
        manager
            .after_unauthorized(&conn, &AccessToken::new("at-2"))
            .await
            .unwrap(),
        AccessToken::new("at-3")
    );
}

/// Another worker rotates the refresh token while this one's refresh is on the wire.
#[derive(Debug)]
struct RacingRefresher {
    inner: OAuthFlow,
    store: Arc<MemoryTokens>,
    rotate_first: bool,
}

#[async_trait]
impl TokenRefresher for RacingRefresher {
    async fn refresh(
        &self,
        connection: &ConnectionId,
        refresh_token: &RefreshToken,
    ) -> devflow_sync_core::Result<Credentials> {
        if self.rotate_first {
            let current = self.store.get(connection).await?.unwrap();
            let mut winner = current.credentials.clone();
            winner.access_token = SecretString::from("at-other-worker".to_owned());
            winner.refresh_token = Some(SecretString::from("rt-other-worker".to_owned()));
            winner.expires_at = Some(chrono::Utc::now() + chrono::Duration::hours(10));
            self.store
                .put(
                    connection,
                    &current.provider,
                    &winner,
                    Some(current.version),
                )
                .await?;
        }
        TokenRefresher::refresh(&self.inner, connection, refresh_token).await
    }
}

#[tokio::test]
async fn invalid_grant_after_a_concurrent_rotation_does_not_mark_needs_reauth() {
    for rotated in [true, false] {
        let mut server = mockito::Server::new_async().await;
        let clock = ManualClock::new(chrono::Utc::now());
        server
            .mock("POST", "/oauth/token")
            .with_status(400)
            .with_header("content-type", "application/json")
            .with_body(r#"{"error":"invalid_grant","error_description":"Unknown or invalid refresh token."}"#)
            .expect(1)
            .create_async()
            .await;
        let store = Arc::new(MemoryTokens::new());
        let journal = Arc::new(MemoryJournal::new());
        let conn = ConnectionId::new("c");
        store
            .put(
                &conn,
                &ProviderKey::new("jira"),
                &stored("at-1", "rt-1", 10, &clock),
                None,
            )
            .await
            .unwrap();
        let refresher = RacingRefresher {
            inner: flow(&server, &clock, "jira"),
            store: store.clone(),
            rotate_first: rotated,
        };
        let manager = TokenManager::new(store.clone(), journal.clone())
            .refresher("jira", Arc::new(refresher))
            .clock(Arc::new(clock.clone()));
        let result = manager.access_token(&conn).await;
        let health = journal.health(&conn).await.unwrap();
        if rotated {
            assert_eq!(result.unwrap(), AccessToken::new("at-other-worker"));
            assert!(health.is_none(), "the connection state is untouched");
        } else {
            let err = result.unwrap_err();
            assert!(matches!(err, Error::NeedsReauth { .. }), "{err:?}");
            assert!(err.to_string().contains("invalid_grant"));
            assert_eq!(health.unwrap().status, ConnectionStatus::NeedsReauth);
        }
    }
}

#[tokio::test]
async fn a_transient_failure_changes_nothing() {
    let mut server = mockito::Server::new_async().await;
    let clock = ManualClock::new(chrono::Utc::now());
    server
        .mock("POST", "/oauth/token")
        .with_status(503)
        .create_async()
        .await;
    let store = Arc::new(MemoryTokens::new());
    let journal = Arc::new(MemoryJournal::new());
    let conn = ConnectionId::new("c");
    store
        .put(
            &conn,
            &ProviderKey::new("jira"),
            &stored("at-1", "rt-1", 10, &clock),
            None,
        )
        .await
        .unwrap();
    let manager = TokenManager::new(store.clone(), journal.clone())
        .refresher("jira", Arc::new(flow(&server, &clock, "jira")))
        .clock(Arc::new(clock.clone()));
    let err = manager.access_token(&conn).await.unwrap_err();
    assert!(err.is_retryable(), "{err:?}");
    assert!(journal.health(&conn).await.unwrap().is_none());
    let kept = store.get(&conn).await.unwrap().unwrap();
    assert_eq!(
        (
            kept.version,
            kept.credentials
                .refresh_token
                .unwrap()
                .expose_secret()
                .to_owned()
        ),
        (1, "rt-1".to_owned())
    );
}

#[tokio::test]
async fn pkce_on_without_a_verifier_is_refused_before_anything_is_sent() {
    let mut server = mockito::Server::new_async().await;
    let token = server
        .mock("POST", "/oauth/token")
        .expect(0)
        .create_async()
        .await;
    let clock = clock();
    let flow = flow(&server, &clock, "jira");
    assert!(flow.config().pkce);
    let conn = ConnectionId::new("conn-1");
    let start = flow.authorize("acme", &conn, "user-7").unwrap();
    let err = flow
        .exchange_code("acme", &conn, "the-code", &start.state, None)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::InvalidInput { pointer: Some(p), .. } if p == "pkce_verifier"),
        "{err:?}"
    );
    token.assert_async().await;
}

/// A slow refresh at a provider that rotates `rt-1` once and refuses it after.
#[derive(Debug, Default)]
struct CountedRotation(std::sync::atomic::AtomicUsize);

#[async_trait]
impl TokenRefresher for CountedRotation {
    async fn refresh(
        &self,
        connection: &ConnectionId,
        refresh_token: &RefreshToken,
    ) -> devflow_sync_core::Result<Credentials> {
        self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        tokio::time::sleep(Duration::from_millis(100)).await;
        if refresh_token.secret() != "rt-1" {
            return Err(Error::NeedsReauth {
                connection: connection.to_string(),
                message: "invalid_grant".into(),
            });
        }
        Ok(Credentials {
            access_token: SecretString::from("at-2".to_owned()),
            refresh_token: Some(SecretString::from("rt-2".to_owned())),
            expires_at: Some(chrono::Utc::now() + chrono::Duration::hours(1)),
            scopes: vec![],
        })
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_workers_sharing_a_lease_store_refresh_once() {
    use devflow_sync_core::store::memory::MemoryLeases;
    let store = Arc::new(MemoryTokens::new());
    let leases = Arc::new(MemoryLeases::new());
    let conn = ConnectionId::new("c");
    let clock = ManualClock::starting_at_epoch_secs(chrono::Utc::now().timestamp());
    store
        .put(
            &conn,
            &ProviderKey::new("jira"),
            &stored("at-1", "rt-1", 60, &clock),
            None,
        )
        .await
        .unwrap();
    let provider = Arc::new(CountedRotation::default());
    // Two workers: two managers (no shared in-process lock), one token and lease store.
    let worker = |name: &str| {
        TokenManager::new(store.clone(), Arc::new(MemoryJournal::new()))
            .refresher("jira", provider.clone())
            .leases(leases.clone(), name)
    };
    let (one, two) = (worker("w1"), worker("w2"));
    let (a, b) = tokio::join!(one.access_token(&conn), two.access_token(&conn));
    assert_eq!(a.unwrap(), AccessToken::new("at-2"));
    assert_eq!(b.unwrap(), AccessToken::new("at-2"));
    assert_eq!(provider.0.load(std::sync::atomic::Ordering::SeqCst), 1);
    // Without the lease store, the same race reaches the provider twice.
    store
        .put(
            &conn,
            &ProviderKey::new("jira"),
            &stored("at-1", "rt-1", 60, &clock),
            Some(2),
        )
        .await
        .unwrap();
    let bare = || {
        TokenManager::new(store.clone(), Arc::new(MemoryJournal::new()))
            .refresher("jira", provider.clone())
    };
    let (one, two) = (bare(), bare());
    let _ = tokio::join!(one.access_token(&conn), two.access_token(&conn));
    assert_eq!(provider.0.load(std::sync::atomic::Ordering::SeqCst), 3);
}
