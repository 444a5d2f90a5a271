//! GitHub App authentication: the JWT, installation tokens cached until expiry, and the
//! provider working on them, against the simulator. The keys under `tests/data` were
//! generated for these tests only.

use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{TimeZone, Utc};
use devflow_provider_github::app::{AppPrivateKey, GitHubApp, InstallationTokens};
use devflow_provider_github::{GitHubConfig, GitHubProvider, TokenSource};
use devflow_sync_core::Error;
use devflow_sync_core::clock::{Clock, ManualClock};
use devflow_sync_core::http::HttpClient;
use devflow_sync_core::model::{ConnectionId, ObjectType};
use devflow_sync_core::provider::{ChangeQuery, Provider};
use devflow_sync_testkit::github_sim::GitHubSimulator;
use serde_json::{Value, json};

const KEY: &str = include_str!("data/test-app-key.pem");
const OTHER_KEY: &str = include_str!("data/other-app-key.pkcs8.pem");
const REPO: &str = "octo-org/app";

fn clock() -> Arc<ManualClock> {
    Arc::new(ManualClock::new(
        Utc.with_ymd_and_hms(2026, 11, 22, 9, 0, 0).unwrap(),
    ))
}

fn claims(jwt: &str) -> Value {
    let part = jwt.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
}

#[test]
fn the_app_jwt_is_rs256_with_the_claims_github_wants() {
    let clock = clock();
    let key = AppPrivateKey::from_pem(KEY).unwrap();
    let public = key.public_key_der();
    let app = GitHubApp::new("Iv23liExample", key).with_clock(clock.clone());
    let jwt = app.jwt().unwrap();
    let jwt = jwt.secret();
    let header: Value = serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(jwt.split('.').next().unwrap())
            .unwrap(),
    )
    .unwrap();
    assert_eq!(header, json!({"alg": "RS256", "typ": "JWT"}));
    let now = clock.now().timestamp();
    assert_eq!(
        claims(jwt),
        json!({"iat": now - 60, "exp": now + 540, "iss": "Iv23liExample"})
    );
    let (signed, signature) = jwt.rsplit_once('.').unwrap();
    ring::signature::UnparsedPublicKey::new(&ring::signature::RSA_PKCS1_2048_8192_SHA256, public)
        .verify(
            signed.as_bytes(),
            &URL_SAFE_NO_PAD.decode(signature).unwrap(),
        )
        .expect("the signature verifies with the app's public key");
    // PKCS#8 keys work too.
    assert!(AppPrivateKey::from_pem(OTHER_KEY).is_ok());
}

#[test]
fn bad_keys_are_config_errors_that_show_no_key_material() {
    for (pem, says) in [
        ("hello", "no -----BEGIN"),
        (
            "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEE\n-----END EC PRIVATE KEY-----",
            "not an RSA private key",
        ),
        (
            "-----BEGIN RSA PRIVATE KEY-----\n!!!\n-----END RSA PRIVATE KEY-----",
            "not base64",
        ),
        (
            "-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----",
            "refused",
        ),
        (
            "-----BEGIN RSA PRIVATE KEY-----\nAAAA\n",
            "no matching -----END",
        ),
    ] {
        let err = AppPrivateKey::from_pem(pem).unwrap_err();
        assert!(
            matches!(&err, Error::InvalidConfig { pointer, .. } if pointer == "github.app.private_key"),
            "{err:?}"
        );
        assert!(err.to_string().contains(says), "{err} should say {says}");
    }
    let key = AppPrivateKey::from_pem(KEY).unwrap();
    let body_line = KEY.lines().nth(1).unwrap();
    let shown = format!("{:?}", GitHubApp::new("Iv23li", key));
    assert!(!shown.contains(body_line), "{shown}");
    assert!(shown.contains("redacted"), "{shown}");
}

async fn setup(clock: Arc<ManualClock>) -> (GitHubSimulator, Arc<InstallationTokens>) {
    let sim = GitHubSimulator::start_with_clock(clock.clone())
        .await
        .unwrap();
    sim.add_repo(REPO);
    let key = AppPrivateKey::from_pem(KEY).unwrap();
    sim.register_app("Iv23liExample", &key.public_key_der(), 4242);
    let app = GitHubApp::new("Iv23liExample", key).with_clock(clock);
    let tokens =
        InstallationTokens::new(app, 4242, sim.url(), HttpClient::builder().build().unwrap())
            .repositories(vec!["app".into()]);
    (sim, Arc::new(tokens))
}

#[tokio::test]
async fn installation_tokens_are_cached_until_shortly_before_they_expire() {
    let clock = clock();
    let (sim, tokens) = setup(clock.clone()).await;
    let conn = ConnectionId::new("gh-app");
    let first = tokens.token(&conn).await.unwrap();
    // Opaque and long, like GitHub's stateless installation tokens.
    assert!(first.secret().starts_with("ghs_") && first.secret().len() > 480);
    assert_eq!(tokens.token(&conn).await.unwrap(), first);
    clock.advance(std::time::Duration::from_secs(54 * 60));
    assert_eq!(
        tokens.token(&conn).await.unwrap(),
        first,
        "still 6 minutes left"
    );
    assert_eq!(sim.installation_tokens_minted(), 1);
    clock.advance(std::time::Duration::from_secs(120));
    let second = tokens.token(&conn).await.unwrap();
    assert_ne!(second, first, "inside the 5-minute margin: a new token");
    assert_eq!(sim.installation_tokens_minted(), 2);
    let shown = format!("{tokens:?}");
    assert!(!shown.contains(second.secret()), "{shown}");
}

#[tokio::test]
async fn the_provider_works_on_installation_tokens_and_mints_again_after_a_revocation() {
    let clock = clock();
    let (sim, tokens) = setup(clock).await;
    sim.open_issue(REPO, &json!({"title": "From the app"}));
    let provider = GitHubProvider::new(
        GitHubConfig::new(
            sim.url(),
            vec![REPO.into()],
            TokenSource::Installation(tokens),
        ),
        HttpClient::builder().build().unwrap(),
    )
    .unwrap();
    let conn = ConnectionId::new("gh-app");
    let query = ChangeQuery {
        since: None,
        page_token: None,
        limit: 100,
        filter: Default::default(),
    };
    let page = provider
        .list_changed(&conn, &ObjectType::new("issue"), &query)
        .await
        .unwrap();
    assert_eq!(page.records.len(), 1);
    sim.revoke_all_tokens();
    let again = provider
        .list_changed(&conn, &ObjectType::new("issue"), &query)
        .await
        .unwrap();
    assert_eq!(again.records.len(), 1);
    assert_eq!(sim.installation_tokens_minted(), 2);
}

#[tokio::test]
async fn a_jwt_from_another_key_is_refused_as_unauthenticated() {
    let clock = clock();
    let (sim, _) = setup(clock.clone()).await;
    let impostor = GitHubApp::new("Iv23liExample", AppPrivateKey::from_pem(OTHER_KEY).unwrap())
        .with_clock(clock);
    let tokens = InstallationTokens::new(
        impostor,
        4242,
        sim.url(),
        HttpClient::builder().build().unwrap(),
    );
    let err = tokens
        .token(&ConnectionId::new("gh-app"))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Unauthenticated(_)), "{err:?}");
    assert_eq!(sim.installation_tokens_minted(), 0);
}
