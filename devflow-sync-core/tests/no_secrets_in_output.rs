//! Every type that carries a secret is formatted (`Debug`, and `Display` where it
//! exists) and the secret's text must not appear.

use std::sync::Arc;

use devflow_sync_core::auth::{
    AccessToken, ApiToken, ClientSecret, EncryptedTokenStore, KeyRing, PkceVerifier, RefreshToken,
    StateSigner, WebhookSecret,
};
use devflow_sync_core::model::{ConnectionId, ProviderKey};
use devflow_sync_core::provider::Headers;
use devflow_sync_core::store::memory::MemoryTokens;
use devflow_sync_core::store::{Credentials, StoredToken, TokenStore};
use devflow_sync_core::webhook::{SignatureScheme, WebhookVerifier, sign_hmac_sha256};
use secrecy::SecretString;

const SECRET: &str = "s3cr3t-VALUE-that-must-never-leak-0123456789";

fn assert_clean(what: &str, text: &str) {
    assert!(!text.contains(SECRET), "{what} shows the secret: {text}");
    assert!(
        !text.contains("s3cr3t"),
        "{what} shows part of the secret: {text}"
    );
}

#[tokio::test]
async fn no_type_that_holds_a_secret_shows_it() {
    assert_clean("AccessToken", &format!("{:?}", AccessToken::new(SECRET)));
    assert_clean("RefreshToken", &format!("{:?}", RefreshToken::new(SECRET)));
    assert_clean("ClientSecret", &format!("{:?}", ClientSecret::new(SECRET)));
    assert_clean(
        "WebhookSecret",
        &format!("{:?}", WebhookSecret::new(SECRET)),
    );
    assert_clean("ApiToken", &format!("{:?}", ApiToken::new(SECRET)));
    assert_clean(
        "PkceVerifier",
        &format!("{:?}", PkceVerifier::from_secret(SECRET)),
    );

    let mut creds = Credentials::bearer(SECRET);
    creds.refresh_token = Some(SecretString::from(SECRET.to_owned()));
    assert_clean("Credentials", &format!("{creds:?}"));
    let stored = StoredToken {
        connection: ConnectionId::new("c"),
        provider: ProviderKey::new("github"),
        credentials: creds.clone(),
        version: 1,
    };
    assert_clean("StoredToken", &format!("{stored:?}"));

    let signer = StateSigner::new(ClientSecret::new(SECRET));
    assert_clean("StateSigner", &format!("{signer:?}"));
    let ring = KeyRing::new().with_key("k1", [42; 32]).unwrap();
    assert_clean("KeyRing", &format!("{ring:?}"));
    assert!(
        !format!("{ring:?}").contains("42"),
        "KeyRing shows key bytes"
    );

    let verifier = WebhookVerifier::new(SignatureScheme::hmac_sha256(
        "X-Hub-Signature-256",
        "sha256=",
    ))
    .secret(WebhookSecret::new(SECRET));
    assert_clean("WebhookVerifier", &format!("{verifier:?}"));
    let shared = WebhookVerifier::new(SignatureScheme::shared_token("X-Token"))
        .secret(WebhookSecret::new(SECRET));
    // Errors of both schemes, Debug and Display.
    let headers = Headers::new()
        .with(
            "X-Hub-Signature-256",
            sign_hmac_sha256(&WebhookSecret::new("other"), b"x"),
        )
        .with("X-Token", "wrong");
    for err in [
        verifier.verify(&headers, b"x").unwrap_err(),
        shared.verify(&headers, b"x").unwrap_err(),
    ] {
        assert_clean("webhook error", &format!("{err:?} {err}"));
    }

    // HTTP requests and responses that carry credentials.
    let request = devflow_sync_core::http::HttpRequest::new(
        reqwest::Method::POST,
        format!("https://x.test/t?client_secret={SECRET}"),
        "github",
        "c",
    )
    .header("Authorization", format!("Bearer {SECRET}"))
    .header("X-Hub-Signature-256", SECRET)
    .body(format!("refresh_token={SECRET}"));
    assert_clean("HttpRequest", &format!("{request:?}"));
    let response = devflow_sync_core::http::HttpResponse {
        status: 200,
        headers: Headers::new().with("set-cookie", SECRET),
        body: format!(r#"{{"access_token":"{SECRET}","token_type":"bearer"}}"#).into_bytes(),
        request_id: "r".into(),
        attempts: 1,
    };
    assert_clean("HttpResponse", &format!("{response:?}"));
    // OAuth configuration and the token manager.
    let mut config = devflow_sync_core::auth::OAuthConfig::new(
        "jira",
        "client",
        "https://auth.atlassian.com/oauth/token",
    );
    config.client_secret = Some(ClientSecret::new(SECRET));
    assert_clean("OAuthConfig", &format!("{config:?}"));
    let http = devflow_sync_core::http::HttpClient::builder()
        .build()
        .unwrap();
    let flow = devflow_sync_core::auth::OAuthFlow::new(
        config,
        http,
        Arc::new(StateSigner::new(ClientSecret::new(SECRET))),
    )
    .unwrap();
    assert_clean("OAuthFlow", &format!("{flow:?}"));
    let start = flow.authorize("acme", &ConnectionId::new("c"), "actor");
    assert!(start.is_err(), "no authorization URL configured");
    let manager = devflow_sync_core::auth::TokenManager::new(
        Arc::new(MemoryTokens::new()),
        Arc::new(devflow_sync_core::store::memory::MemoryJournal::new()),
    );
    assert_clean("TokenManager", &format!("{manager:?}"));

    let inner = Arc::new(MemoryTokens::new());
    let store = EncryptedTokenStore::new(inner.clone(), ring, "tenant");
    assert_clean("EncryptedTokenStore", &format!("{store:?}"));
    let conn = ConnectionId::new("c");
    store
        .put(&conn, &ProviderKey::new("github"), &creds, None)
        .await
        .unwrap();
    assert_clean("MemoryTokens", &format!("{inner:?}"));
    let got = store.get(&conn).await.unwrap().unwrap();
    assert_clean("decrypted StoredToken", &format!("{got:?}"));
    // A decryption failure does not show the ciphertext's plaintext either.
    let other = EncryptedTokenStore::new(
        inner.clone(),
        KeyRing::new().with_key("k1", [1; 32]).unwrap(),
        "tenant",
    );
    let err = other.get(&conn).await.unwrap_err();
    assert_clean("decryption error", &format!("{err:?} {err}"));
    let err = store
        .put(&conn, &ProviderKey::new("github"), &creds, None)
        .await
        .unwrap_err();
    assert_clean("store error", &format!("{err:?} {err}"));
}
