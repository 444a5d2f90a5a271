//! GitHub regressions of the hardening review: loopback means the parsed host, tokens
//! go only to the configured origin, stale page tokens restart the listing, deliveries
//! about other repositories are dropped and counted, empty delivery ids are refused,
//! only parsing headers are stored, and a refused OAuth token is refreshed once.

use std::path::PathBuf;
use std::sync::Arc;

use devflow_provider_github::{GitHubConfig, GitHubProvider, TokenSource};
use devflow_sync_core::Error;
use devflow_sync_core::auth::{
    AccessToken, ClientSecret, OAuthConfig, OAuthFlow, StateSigner, TokenManager, WebhookSecret,
};
use devflow_sync_core::engine::{PullBudget, SyncEngine};
use devflow_sync_core::http::HttpClient;
use devflow_sync_core::model::{ConnectionId, ExternalId, ObjectType, ProviderKey};
use devflow_sync_core::provider::{ChangeQuery, Headers, Provider};
use devflow_sync_core::store::memory::{MemoryJournal, MemoryMappings, MemoryTokens};
use devflow_sync_core::store::{Credentials, CursorPass, MappingStore, SyncCursor, TokenStore};
use devflow_sync_core::store::{HealthStore, RunLog, WebhookInbox};
use devflow_sync_core::webhook::sign_hmac_sha256;
use devflow_sync_testkit::github_sim::{GitHubSimulator, WEBHOOK_SECRET};
use secrecy::SecretString;
use serde_json::Value;

fn fixture(name: &str) -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/fixtures/github")
        .join(name);
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn config(url: &str, repos: &[&str]) -> GitHubConfig {
    let mut config = GitHubConfig::new(
        url,
        repos.iter().map(|r| (*r).to_owned()).collect(),
        TokenSource::Static(AccessToken::new("ghp_hardening_token")),
    );
    config.webhook_secrets = vec![WebhookSecret::new(WEBHOOK_SECRET)];
    config
}

fn provider(url: &str, repos: &[&str]) -> GitHubProvider {
    GitHubProvider::new(config(url, repos), HttpClient::builder().build().unwrap()).unwrap()
}

#[test]
fn plain_http_only_when_the_parsed_host_is_loopback() {
    for hostile in [
        "http://localhost.attacker.test",
        "http://127.0.0.1.nip.io",
        "http://127.0.0.1@attacker.test",
        "http://[::1].attacker.test",
        "http://attacker.test/127.0.0.1",
        "https://user:pw@api.github.com",
        "javascript:alert(1)",
    ] {
        let err = GitHubProvider::new(
            config(hostile, &["a/b"]),
            HttpClient::builder().build().unwrap(),
        )
        .unwrap_err();
        assert!(
            matches!(err, Error::InvalidConfig { .. }),
            "{hostile}: {err:?}"
        );
    }
    for fine in [
        "https://api.github.com",
        "https://ghe.acme.test/api/v3",
        "http://127.0.0.1:8080",
        "http://127.8.9.10",
        "http://localhost:3000",
        "http://[::1]:8080/api/v3",
    ] {
        GitHubProvider::new(
            config(fine, &["a/b"]),
            HttpClient::builder().build().unwrap(),
        )
        .unwrap_or_else(|e| panic!("{fine}: {e}"));
    }
    for bad_repo in ["a", "a/b/c", "/b", "a/", "a/b c", "a/b?x=1"] {
        assert!(
            GitHubProvider::new(
                config("https://api.github.com", &[bad_repo]),
                HttpClient::builder().build().unwrap()
            )
            .is_err(),
            "{bad_repo}"
        );
    }
}

#[tokio::test]
async fn a_link_header_to_another_origin_gets_no_token() {
    let mut home = mockito::Server::new_async().await;
    let mut elsewhere = mockito::Server::new_async().await;
    let stolen = elsewhere
        .mock("GET", mockito::Matcher::Any)
        .expect(0)
        .create_async()
        .await;
    let next = format!("{}/repos/acme/app/issues?page=2", elsewhere.url());
    home.mock("GET", "/repos/acme/app/issues")
        .match_query(mockito::Matcher::Any)
        .with_header("link", &format!("<{next}>; rel=\"next\""))
        .with_body("[]")
        .create_async()
        .await;
    let p = provider(&home.url(), &["acme/app"]);
    let err = p
        .list_changed(
            &ConnectionId::new("c"),
            &ObjectType::new("issue"),
            &ChangeQuery::default(),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, Error::PermissionDenied(_)), "{err:?}");
    assert!(
        err.to_string().contains(&elsewhere.url()),
        "names the refused origin: {err}"
    );
    // A stored page token naming the other origin is stale, and sends nothing.
    let query = ChangeQuery {
        page_token: Some(format!("0 acme/app {next}")),
        ..ChangeQuery::default()
    };
    let err = p
        .list_changed(&ConnectionId::new("c"), &ObjectType::new("issue"), &query)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::StalePageToken(_)), "{err:?}");
    stolen.assert_async().await;
}

#[tokio::test]
async fn a_page_token_of_a_removed_repository_restarts_the_listing() {
    let sim = GitHubSimulator::start().await.unwrap();
    for repo in ["acme/app", "acme/old"] {
        sim.add_repo(repo);
        sim.seed_issues(repo, 3);
    }
    sim.accept_token("ghp_hardening_token");
    let mappings = Arc::new(MemoryMappings::new());
    let engine = |repos: &[&str]| {
        SyncEngine::builder()
            .provider(Arc::new(provider(&sim.url(), repos)))
            .bind("gh", "github", "issue")
            .mappings(mappings.clone())
            .build()
            .unwrap()
    };
    let (conn, object) = (ConnectionId::new("gh"), ObjectType::new("issue"));
    // A pull of both repositories stopped after the first, its cursor saved with a
    // token for the second...
    let before = engine(&["acme/app", "acme/old"]);
    before
        .pull(&conn, &object, PullBudget::pages(1))
        .await
        .unwrap();
    let saved = mappings.cursor(&conn, &object).await.unwrap().unwrap();
    let token = saved.pass.as_ref().expect("mid-listing").page_token.clone();
    assert!(token.contains("acme/old"), "{token}");
    // ...then the host removed that repository from the configuration.
    let after = engine(&["acme/app"]);
    let report = after
        .pull(&conn, &object, PullBudget::UNLIMITED)
        .await
        .unwrap();
    assert!(
        report.warnings.iter().any(|w| w.contains("acme/old")),
        "{report:?}"
    );
    let cursor = mappings.cursor(&conn, &object).await.unwrap().unwrap();
    assert!(cursor.pass.is_none(), "{cursor:?}");
    // The lease was released: another pull runs.
    after
        .pull(&conn, &object, PullBudget::UNLIMITED)
        .await
        .unwrap();
    // A token that names an index past the configured repositories is stale too.
    mappings
        .put_cursor(
            &conn,
            &object,
            &SyncCursor {
                pass: Some(CursorPass {
                    since: None,
                    page_token: format!("7 acme/app {}/repos/acme/app/issues", sim.url()),
                }),
                ..SyncCursor::default()
            },
        )
        .await
        .unwrap();
    let report = after
        .pull(&conn, &object, PullBudget::UNLIMITED)
        .await
        .unwrap();
    assert_eq!(report.warnings.len(), 1, "{report:?}");
}

fn signed(event: &str, delivery: &str, body: &[u8]) -> Headers {
    Headers::new()
        .with("X-GitHub-Event", event)
        .with("X-GitHub-Delivery", delivery)
        .with(
            "X-Hub-Signature-256",
            sign_hmac_sha256(&WebhookSecret::new(WEBHOOK_SECRET), body),
        )
}

fn webhook_engine(journal: Arc<MemoryJournal>) -> SyncEngine {
    SyncEngine::builder()
        .provider(Arc::new(provider("https://api.github.com", &["acme/app"])))
        .bind("gh", "github", "issue")
        .journal(journal)
        .build()
        .unwrap()
}

#[tokio::test]
async fn signed_deliveries_about_other_repositories_are_dropped_and_counted() {
    let journal = Arc::new(MemoryJournal::new());
    let engine = webhook_engine(journal.clone());
    // The recorded payload is about Codertocat/Hello-World, which is not configured.
    let body = serde_json::to_vec(&fixture("webhook-issues-opened.json")).unwrap();
    let accepted = engine
        .accept_webhook(
            &ProviderKey::new("github"),
            &ConnectionId::new("gh"),
            &signed("issues", "d-1", &body),
            &body,
        )
        .await
        .unwrap();
    assert_eq!(
        (accepted.events, accepted.out_of_scope),
        (0, 1),
        "{accepted:?}"
    );
    let report = engine.process_inbox(10).await.unwrap();
    assert_eq!(
        report.created + report.conflicts,
        0,
        "nothing imported: {report:?}"
    );
    // The same delivery about the configured repository is taken.
    let mut payload = fixture("webhook-issues-opened.json");
    payload["repository"]["full_name"] = Value::String("Acme/App".into());
    let body = serde_json::to_vec(&payload).unwrap();
    let accepted = engine
        .accept_webhook(
            &ProviderKey::new("github"),
            &ConnectionId::new("gh"),
            &signed("issues", "d-2", &body),
            &body,
        )
        .await
        .unwrap();
    assert_eq!((accepted.events, accepted.out_of_scope), (1, 0));
}

#[tokio::test]
async fn an_empty_github_delivery_id_is_refused_and_only_parsing_headers_are_stored() {
    let journal = Arc::new(MemoryJournal::new());
    let engine = webhook_engine(journal.clone());
    let mut payload = fixture("webhook-issues-opened.json");
    payload["repository"]["full_name"] = Value::String("acme/app".into());
    let body = serde_json::to_vec(&payload).unwrap();
    for id in ["", "  "] {
        let err = engine
            .accept_webhook(
                &ProviderKey::new("github"),
                &ConnectionId::new("gh"),
                &signed("issues", id, &body),
                &body,
            )
            .await
            .unwrap_err();
        assert!(
            matches!(&err, Error::InvalidInput { pointer: Some(p), .. } if p == "X-GitHub-Delivery"),
            "{err:?}"
        );
    }
    let headers = signed("issues", "d-9", &body)
        .with("Authorization", "token leaked-1")
        .with("X-Forwarded-For", "10.0.0.1");
    engine
        .accept_webhook(
            &ProviderKey::new("github"),
            &ConnectionId::new("gh"),
            &headers,
            &body,
        )
        .await
        .unwrap();
    let stored = journal.due_inbox(chrono::Utc::now(), 10).await.unwrap();
    let names: Vec<&str> = stored[0].headers.iter().map(|(n, _)| n).collect();
    assert_eq!(names, ["X-GitHub-Event", "X-GitHub-Delivery"]);
    let report = engine.process_inbox(10).await.unwrap();
    assert_eq!(
        report.errors, 0,
        "applied from the kept headers: {report:?}"
    );
}

#[tokio::test]
async fn a_refused_oauth_token_is_refreshed_once_and_the_request_retried() {
    let mut server = mockito::Server::new_async().await;
    let refused = server
        .mock("GET", "/repos/acme/app/issues/1")
        .match_header("authorization", "Bearer gho_old_token")
        .with_status(401)
        .with_body(r#"{"message":"Bad credentials"}"#)
        .expect(1)
        .create_async()
        .await;
    let issue = fixture("webhook-issues-opened.json")["issue"].clone();
    let accepted = server
        .mock("GET", "/repos/acme/app/issues/1")
        .match_header("authorization", "Bearer gho_new_token")
        .with_body(issue.to_string())
        .expect(1)
        .create_async()
        .await;
    let refresh = server
        .mock("POST", "/login/oauth/access_token")
        .with_header("content-type", "application/json")
        .with_body(
            r#"{"access_token":"gho_new_token","token_type":"bearer","expires_in":28800,"refresh_token":"ghr_new"}"#,
        )
        .expect(1)
        .create_async()
        .await;
    let http = HttpClient::builder().build().unwrap();
    let mut oauth = OAuthConfig::new(
        "github",
        "Iv1.app",
        format!("{}/login/oauth/access_token", server.url()),
    );
    oauth.client_secret = Some(ClientSecret::new("app-secret"));
    let flow = OAuthFlow::new(
        oauth,
        http.clone(),
        Arc::new(StateSigner::new(ClientSecret::new("k"))),
    )
    .unwrap();
    let tokens = Arc::new(MemoryTokens::new());
    let conn = ConnectionId::new("gh");
    let mut creds = Credentials::bearer("gho_old_token");
    creds.refresh_token = Some(SecretString::from("ghr_old".to_owned()));
    tokens
        .put(&conn, &ProviderKey::new("github"), &creds, None)
        .await
        .unwrap();
    let manager = Arc::new(
        TokenManager::new(tokens.clone(), Arc::new(MemoryJournal::new()))
            .refresher("github", Arc::new(flow)),
    );
    let p = GitHubProvider::new(
        GitHubConfig::new(
            server.url(),
            vec!["acme/app".into()],
            TokenSource::Manager(manager),
        ),
        http,
    )
    .unwrap();
    let record = p
        .get(
            &conn,
            &ObjectType::new("issue"),
            &ExternalId::new("acme/app#1"),
        )
        .await
        .unwrap();
    assert_eq!(record.id.as_str(), "acme/app#1");
    refused.assert_async().await;
    refresh.assert_async().await;
    accepted.assert_async().await;
    let stored = tokens.get(&conn).await.unwrap().unwrap();
    assert!(stored.credentials.same_secrets(&{
        let mut c = Credentials::bearer("gho_new_token");
        c.refresh_token = Some(SecretString::from("ghr_new".to_owned()));
        c
    }));
}

#[tokio::test]
async fn an_echoed_token_reaches_no_error_run_record_health_or_log() {
    use devflow_sync_core::clock::{Clock, ManualClock};
    use devflow_sync_testkit::capture::CapturedTracing;
    let token = "ghp_EchoedBack0123456789abcdefABCDEF";
    let mut server = mockito::Server::new_async().await;
    server
        .mock("GET", mockito::Matcher::Any)
        .with_status(401)
        .with_body(format!(
            r#"{{"message":"Bad credentials: token {token} is revoked","accessToken":"{token}"}}"#
        ))
        .create_async()
        .await;
    let clock = Arc::new(ManualClock::starting_at_epoch_secs(1_780_000_000));
    let journal = Arc::new(MemoryJournal::new());
    let mut config = config(&server.url(), &["acme/app"]);
    config.tokens = TokenSource::Static(AccessToken::new(token));
    let engine = SyncEngine::builder()
        .provider(Arc::new(
            GitHubProvider::new(config, HttpClient::builder().build().unwrap()).unwrap(),
        ))
        .bind("gh", "github", "issue")
        .journal(journal.clone())
        .clock(clock.clone())
        .build()
        .unwrap();
    let captured = CapturedTracing::default();
    let _guard = tracing::subscriber::set_default(captured.clone());
    let conn = ConnectionId::new("gh");
    let err = engine
        .pull(&conn, &ObjectType::new("issue"), PullBudget::UNLIMITED)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Unauthenticated(_)), "{err:?}");
    let run_id = format!("worker-{}-1", clock.now().timestamp_millis());
    let run = journal
        .run(&run_id)
        .await
        .unwrap()
        .expect("the run is recorded");
    let logs = journal.logs_of_run(&run_id).await.unwrap();
    let health = journal
        .health(&conn)
        .await
        .unwrap()
        .expect("health is recorded");
    for (what, text) in [
        ("error", format!("{err} {err:?}")),
        ("run record", format!("{run:?}")),
        ("run log", format!("{logs:?}")),
        ("health", format!("{health:?}")),
        ("tracing", captured.text()),
    ] {
        assert!(!text.contains(token), "{what} shows the token: {text}");
    }
    assert!(health.last_error.unwrap().contains("Bad credentials"));
}
