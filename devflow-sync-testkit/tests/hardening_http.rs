//! Regression tests of the hardening review: each test names the finding it guards.
//! Servers here are hostile or careless on purpose (loopback only).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use devflow_sync_core::Error;
use devflow_sync_core::auth::{
    ClientSecret, MAX_TOKEN_LIFETIME, OAuthConfig, OAuthFlow, RefreshToken, StateSigner,
    TokenManager,
};
use devflow_sync_core::clock::{Clock, ManualClock};
use devflow_sync_core::http::{
    HttpClient, HttpConfig, HttpRequest, MAX_SERVER_WAIT, Method, Origin, RetryConfig, Sleeper,
    parse_reset, parse_retry_after,
};
use devflow_sync_core::model::{ConnectionId, ProviderKey};
use devflow_sync_core::provider::Headers;
use devflow_sync_core::store::HealthStore;
use devflow_sync_core::store::memory::{MemoryJournal, MemoryTokens};
use devflow_sync_core::store::{Credentials, TokenStore};
use devflow_sync_testkit::capture::CapturedTracing;
use devflow_sync_testkit::hostile::{HostileServer as Hostile, raw_response};
use secrecy::{ExposeSecret, SecretString};

/// Records waits instead of sleeping.
#[derive(Debug, Default)]
struct Waits(Mutex<Vec<Duration>>);

#[async_trait]
impl Sleeper for Waits {
    async fn sleep(&self, duration: Duration) {
        self.0.lock().unwrap().push(duration);
    }
}

fn client(clock: &ManualClock, waits: &Arc<Waits>) -> HttpClient {
    HttpClient::builder()
        .config(HttpConfig {
            retry: RetryConfig {
                retry_timeout: Duration::from_secs(60),
                ..RetryConfig::default()
            },
            ..HttpConfig::default()
        })
        .clock(Arc::new(clock.clone()))
        .sleeper(waits.clone())
        .jitter_seed(1)
        .build()
        .unwrap()
}

fn clock() -> ManualClock {
    ManualClock::starting_at_epoch_secs(1_780_000_000)
}

#[test]
fn retry_after_and_reset_values_of_any_size_are_clamped() {
    let now = clock().now();
    for value in [
        "1e20",
        "100000000000000",
        "18446744073709551615",
        "1.7976931348623157e308",
    ] {
        assert_eq!(
            parse_retry_after(value, now),
            Some(MAX_SERVER_WAIT),
            "{value}"
        );
    }
    assert_eq!(parse_retry_after("-5", now), None);
    assert_eq!(parse_retry_after("NaN", now), None);
    assert_eq!(parse_retry_after("inf", now), None);
    assert_eq!(parse_reset("18446744073709551615"), None);
    assert_eq!(parse_reset("99999999999999999"), None);
}

#[tokio::test]
async fn a_huge_wait_from_a_server_is_a_rate_limited_error_not_a_sleep_or_a_panic() {
    let server = Hostile::start().await;
    let clock = clock();
    let waits = Arc::new(Waits::default());
    let http = client(&clock, &waits);
    let cases: [&[(&str, &str)]; 5] = [
        &[("Retry-After", "1e20")],
        &[("Retry-After", "100000000000000")],
        &[("Retry-After", "18446744073709551615")],
        &[
            ("x-ratelimit-remaining", "0"),
            ("x-ratelimit-reset", "18446744073709551615"),
        ],
        &[
            ("x-ratelimit-remaining", "0"),
            ("x-ratelimit-reset", "8000000000000"),
        ],
    ];
    for headers in cases {
        server.reset();
        server.answer(429, headers, b"{\"message\":\"slow down\"}");
        let before = server.request_count();
        let err = http
            .send(HttpRequest::new(
                Method::GET,
                format!("{}/x", server.url),
                "github",
                "c",
            ))
            .await
            .unwrap_err();
        assert!(
            matches!(err, Error::RateLimited { .. }),
            "{headers:?}: {err:?}"
        );
        let after = server.request_count();
        assert!(after - before <= 6, "{headers:?}: bounded retries");
    }
    assert!(
        waits
            .0
            .lock()
            .unwrap()
            .iter()
            .all(|w| *w <= Duration::from_secs(60)),
        "no wait past the deadline was taken: {:?}",
        waits.0.lock().unwrap()
    );
}

fn oauth(server: &Hostile, clock: &ManualClock) -> OAuthFlow {
    let mut config = OAuthConfig::new("jira", "client-1", format!("{}/oauth/token", server.url));
    config.client_secret = Some(ClientSecret::new("client-secret-XYZ-123"));
    OAuthFlow::new(
        config,
        client(clock, &Arc::new(Waits::default())),
        Arc::new(StateSigner::new(ClientSecret::new("k"))),
    )
    .unwrap()
    .with_clock(Arc::new(clock.clone()))
}

#[tokio::test]
async fn an_expires_in_of_1e14_is_clamped_not_a_panic() {
    let server = Hostile::start().await;
    let clock = clock();
    let flow = oauth(&server, &clock);
    for expires_in in ["100000000000000", "18446744073709551615"] {
        server.reset();
        server.answer(
            200,
            &[("content-type", "application/json")],
            format!(r#"{{"access_token":"at-1","token_type":"Bearer","expires_in":{expires_in}}}"#)
                .as_bytes(),
        );
        let grant = flow
            .refresh(&ConnectionId::new("c"), &RefreshToken::new("rt-0000"))
            .await;
        match grant {
            Ok(grant) => assert_eq!(
                grant.credentials.expires_at,
                Some(clock.now() + chrono::Duration::from_std(MAX_TOKEN_LIFETIME).unwrap())
            ),
            // Beyond u64: the token response does not parse, as a typed error.
            Err(e) => assert!(matches!(e, Error::InvalidInput { .. }), "{e:?}"),
        }
    }
}

const REFRESH: &str = "rt-9f8e7d6c5b4a-REFRESH";
const ACCESS: &str = "at-1a2b3c4d5e6f-ACCESS";

fn assert_clean(what: &str, text: &str) {
    for secret in [
        REFRESH,
        ACCESS,
        "client-secret-XYZ-123",
        "9f8e7d6c5b4a",
        "1a2b3c4d5e6f",
        "hunter2-pass",
    ] {
        assert!(!text.contains(secret), "{what} shows {secret}: {text}");
    }
}

#[tokio::test]
async fn secrets_never_reach_errors_health_or_logs() {
    let server = Hostile::start().await;
    let clock = clock();
    let captured = CapturedTracing::default();
    let _guard = tracing::subscriber::set_default(captured.clone());

    // Token endpoint errors: free text, OAuth error_description, echoed keys.
    let flow = Arc::new(oauth(&server, &clock));
    let tokens = Arc::new(MemoryTokens::new());
    let journal = Arc::new(MemoryJournal::new());
    let conn = ConnectionId::new("c1");
    let mut creds = Credentials::bearer(ACCESS);
    creds.refresh_token = Some(SecretString::from(REFRESH.to_owned()));
    creds.expires_at = Some(clock.now());
    tokens
        .put(&conn, &ProviderKey::new("jira"), &creds, None)
        .await
        .unwrap();
    let manager = TokenManager::new(tokens.clone(), journal.clone())
        .refresher("jira", flow.clone())
        .clock(Arc::new(clock.clone()));
    for body in [
        format!(
            r#"{{"error":"invalid_grant","error_description":"refresh token {REFRESH} was revoked"}}"#
        ),
        format!(
            r#"{{"error":"invalid_grant","error_description":"client secret client-secret-XYZ-123 is old; token={REFRESH}"}}"#
        ),
        format!(
            r#"{{"error":"invalid_grant","refreshToken":"{REFRESH}","clientSecret":"client-secret-XYZ-123"}}"#
        ),
    ] {
        server.reset();
        server.answer(
            400,
            &[("content-type", "application/json")],
            body.as_bytes(),
        );
        let err = manager.access_token(&conn).await.unwrap_err();
        assert!(matches!(err, Error::NeedsReauth { .. }), "{err:?}");
        assert_clean("token error Display", &err.to_string());
        assert_clean("token error Debug", &format!("{err:?}"));
        let health = journal.health(&conn).await.unwrap().unwrap();
        assert_clean("stored health", &format!("{health:?}"));
    }

    // API errors built from a response that echoes the request's credential.
    let http = client(&clock, &Arc::new(Waits::default()));
    for (status, body) in [
        (401, format!("token {ACCESS} is not valid")),
        (401, format!(r#"{{"message":"bad credentials {ACCESS}"}}"#)),
        (
            400,
            format!(r#"{{"accessToken":"{ACCESS}","apiKey":"{REFRESH}"}}"#),
        ),
        (
            400,
            format!(r#"{{"errors":{{"client_secret":"{REFRESH}","summary":"x"}}}}"#),
        ),
        (
            400,
            format!(
                r#"{{"errorMessages":["{ACCESS}"],"errors":{{"x":{{"apiKey":"{REFRESH}"}}}}}}"#
            ),
        ),
        (500, format!("upstream said Authorization: Bearer {ACCESS}")),
        (
            422,
            format!(
                r#"{{"message":"Validation","errors":[{{"field":"{ACCESS}","code":"invalid"}}]}}"#
            ),
        ),
    ] {
        server.reset();
        server.answer(status, &[], body.as_bytes());
        let request = HttpRequest::new(Method::POST, format!("{}/api", server.url), "jira", "c1")
            .header("Authorization", format!("Bearer {ACCESS}"))
            .body(format!(r#"{{"refresh_token":"{REFRESH}"}}"#));
        let err = http.send(request).await.unwrap_err();
        assert_clean("API error Display", &err.to_string());
        assert_clean("API error Debug", &format!("{err:?}"));
    }

    // Transport errors: a URL with a password, nothing listening.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://user:hunter2-pass@127.0.0.1:{port}/x?access_token={ACCESS}");
    let request = HttpRequest::new(Method::GET, url, "jira", "c1");
    assert_clean("HttpRequest Debug", &format!("{request:?}"));
    let err = http.send(request).await.unwrap_err();
    assert_clean("transport error", &format!("{err} {err:?}"));

    assert_clean("tracing output", &captured.text());
}

#[tokio::test]
async fn credentials_go_only_to_the_origin_they_belong_to() {
    let home = Hostile::start().await;
    let elsewhere = Hostile::start().await;
    let clock = clock();
    let http = client(&clock, &Arc::new(Waits::default()));
    let origin = Origin::of(&home.url).unwrap();
    // A URL at another origin (as a link header or a stored token would name it).
    let err = http
        .send(
            HttpRequest::new(
                Method::GET,
                format!("{}/repos", elsewhere.url),
                "github",
                "c",
            )
            .bound_to(&origin)
            .header("Authorization", format!("Bearer {ACCESS}")),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, Error::PermissionDenied(_)), "{err:?}");
    assert!(
        err.to_string().contains(&elsewhere.url),
        "names the refused origin: {err}"
    );
    assert_eq!(elsewhere.request_count(), 0);
    // A redirect to another origin is not followed.
    home.answer(
        302,
        &[("Location", &format!("{}/steal", elsewhere.url))],
        b"",
    );
    let err = http
        .send(
            HttpRequest::new(Method::GET, format!("{}/repos", home.url), "github", "c")
                .bound_to(&origin)
                .header("Authorization", format!("Bearer {ACCESS}")),
        )
        .await
        .unwrap_err();
    assert!(err.to_string().contains("another origin"), "{err}");
    assert_eq!(
        elsewhere.request_count(),
        0,
        "nothing reached the other origin"
    );
}

#[tokio::test]
async fn hostile_headers_and_bodies_give_typed_errors_not_panics() {
    let server = Hostile::start().await;
    let clock = clock();
    let http = HttpClient::builder()
        .config(HttpConfig {
            max_response_bytes: 1024,
            retry: RetryConfig {
                max_retries: 1,
                ..RetryConfig::default()
            },
            ..HttpConfig::default()
        })
        .clock(Arc::new(clock.clone()))
        .sleeper(Arc::new(Waits::default()))
        .build()
        .unwrap();
    let big = vec![b'x'; 4096];
    let responses: Vec<Vec<u8>> = vec![
        raw_response(200, &[], &big),
        b"HTTP/1.1 200 OK\r\nContent-Length: 99999999999\r\n\r\nshort".to_vec(),
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nZZZ\r\n".to_vec(),
        b"HTTP/1.1 999 Weird\r\nContent-Length: 0\r\n\r\n".to_vec(),
        b"garbage\r\n\r\n".to_vec(),
        raw_response(
            429,
            &[("Retry-After", "Wed, 21 Oct 99999 07:28:00 GMT")],
            b"",
        ),
        raw_response(
            403,
            &[
                ("x-ratelimit-remaining", "-1"),
                ("x-ratelimit-reset", "-99999999999999"),
            ],
            b"{",
        ),
        raw_response(400, &[], &[0xff, 0xfe, 0x00, b'{']),
        raw_response(
            401,
            &[("Retry-After", "\u{7f}")],
            b"{\"error\":{\"nested\":[1,2,{\"token\":\"t\"}]}}",
        ),
    ];
    for raw in responses {
        server.reset();
        server.answer_raw(raw.clone());
        let result = http
            .send(HttpRequest::new(
                Method::GET,
                format!("{}/x", server.url),
                "p",
                "c",
            ))
            .await;
        if let Err(e) = &result {
            assert!(!e.to_string().is_empty());
        }
    }
}

#[test]
fn webhook_headers_are_redacted_in_debug() {
    let headers = Headers::new()
        .with("X-Hub-Signature-256", "sha256=abcdef0123456789")
        .with("X-Atlassian-Token", "shared-token-value-1")
        .with("Authorization", "Basic dXNlcjpwYXNz")
        .with("Cookie", "session=abc123456")
        .with("X-GitHub-Event", "issues");
    let shown = format!("{headers:?}");
    for secret in [
        "abcdef0123456789",
        "shared-token-value-1",
        "dXNlcjpwYXNz",
        "abc123456",
    ] {
        assert!(!shown.contains(secret), "{shown}");
    }
    assert!(shown.contains("issues"));
    let kept = headers.only(&["X-GitHub-Event", "X-Atlassian-Token", "Cookie"]);
    assert_eq!(
        kept.iter().collect::<Vec<_>>(),
        vec![("X-GitHub-Event", "issues")]
    );
}

#[tokio::test]
async fn an_access_token_is_exposed_only_through_secret() {
    // The stored credentials of the redaction test are what a store would persist.
    let tokens = MemoryTokens::new();
    let conn = ConnectionId::new("c");
    tokens
        .put(
            &conn,
            &ProviderKey::new("p"),
            &Credentials::bearer(ACCESS),
            None,
        )
        .await
        .unwrap();
    let stored = tokens.get(&conn).await.unwrap().unwrap();
    assert_clean("StoredToken Debug", &format!("{stored:?}"));
    assert_eq!(stored.credentials.access_token.expose_secret(), ACCESS);
}
