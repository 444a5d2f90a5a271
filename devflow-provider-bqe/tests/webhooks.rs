//! BQE deliveries through the engine under each scheme the host can configure: the
//! HMAC signature (default) and a shared token; the record named is fetched and
//! imported, a delivery that proves nothing is refused and stores nothing.

use std::sync::Arc;

use devflow_provider_bqe::{BqeConfig, BqeProvider};
use devflow_sync_core::auth::{AccessToken, WebhookSecret};
use devflow_sync_core::engine::{BindingOptions, ImportMode, SyncEngine};
use devflow_sync_core::http::HttpClient;
use devflow_sync_core::model::{ConnectionId, ExternalId, ObjectType, ProviderKey};
use devflow_sync_core::provider::Headers;
use devflow_sync_core::webhook::{SignatureScheme, sign_hmac_sha256};
use devflow_sync_testkit::bqe_sim::BqeSimulator;

const TOKEN: &str = "bqe-token";
const SECRET: &str = "bqe-hook-secret";

async fn setup(scheme: Option<SignatureScheme>) -> (BqeSimulator, SyncEngine, String) {
    let sim = BqeSimulator::start().await.unwrap();
    sim.accept_token(TOKEN, &["read:core"]);
    let project = sim.add_project("P-1", "Checkout", None, None);
    let mut config = BqeConfig::with_token(sim.api_url(), AccessToken::new(TOKEN));
    config.webhook_secrets = vec![WebhookSecret::new(SECRET)];
    if let Some(scheme) = scheme {
        config.webhook_scheme = scheme;
    }
    let provider = BqeProvider::new(config, HttpClient::builder().build().unwrap()).unwrap();
    let engine = SyncEngine::builder()
        .provider(Arc::new(provider))
        .bind_with("bqe", "bqe", "project", BindingOptions::default())
        .import_mode(ImportMode::Import)
        .build()
        .unwrap();
    (sim, engine, project)
}

fn body(project: &str) -> Vec<u8> {
    format!(r#"{{"entity":"Project","action":"Update","entityId":"{project}","timestamp":1}}"#)
        .into_bytes()
}

async fn imported(engine: &SyncEngine, project: &str) -> bool {
    engine
        .mappings()
        .link_by_external(
            &ConnectionId::new("bqe"),
            &ObjectType::new("project"),
            &ExternalId::new(project),
        )
        .await
        .unwrap()
        .is_some()
}

#[tokio::test]
async fn an_hmac_signed_delivery_imports_the_project_and_an_unsigned_one_is_refused() {
    let (_sim, engine, project) = setup(None).await;
    let (provider, conn) = (ProviderKey::new("bqe"), ConnectionId::new("bqe"));
    let body = body(&project);
    let forged = Headers::new().with("X-BQE-Signature", "00".repeat(32));
    let err = engine
        .accept_webhook(&provider, &conn, &forged, &body)
        .await
        .unwrap_err();
    assert!(
        matches!(err, devflow_sync_core::Error::Unauthenticated(_)),
        "{err:?}"
    );
    let signature = sign_hmac_sha256(&WebhookSecret::new(SECRET), &body);
    let signed = Headers::new().with("X-BQE-Signature", signature.trim_start_matches("sha256="));
    let accepted = engine
        .accept_webhook(&provider, &conn, &signed, &body)
        .await
        .unwrap();
    assert_eq!(accepted.events, 1);
    engine.process_inbox(10).await.unwrap();
    assert!(imported(&engine, &project).await);
}

#[tokio::test]
async fn a_shared_token_scheme_takes_the_token_and_refuses_others() {
    let (_sim, engine, project) =
        setup(Some(SignatureScheme::shared_token("X-Webhook-Token"))).await;
    let (provider, conn) = (ProviderKey::new("bqe"), ConnectionId::new("bqe"));
    let body = body(&project);
    for wrong in [
        Headers::new().with("X-Webhook-Token", "not-the-secret"),
        Headers::new(),
        // The HMAC header is not what this host configured.
        Headers::new().with(
            "X-BQE-Signature",
            sign_hmac_sha256(&WebhookSecret::new(SECRET), &body).trim_start_matches("sha256="),
        ),
    ] {
        let err = engine
            .accept_webhook(&provider, &conn, &wrong, &body)
            .await
            .unwrap_err();
        assert!(
            matches!(err, devflow_sync_core::Error::Unauthenticated(_)),
            "{err:?}"
        );
        assert!(
            !format!("{err} {err:?}").contains(SECRET),
            "no secret in errors"
        );
    }
    engine.process_inbox(10).await.unwrap();
    assert!(!imported(&engine, &project).await, "nothing was stored");
    let good = Headers::new().with("X-Webhook-Token", SECRET);
    engine
        .accept_webhook(&provider, &conn, &good, &body)
        .await
        .unwrap();
    engine.process_inbox(10).await.unwrap();
    assert!(imported(&engine, &project).await);
}
