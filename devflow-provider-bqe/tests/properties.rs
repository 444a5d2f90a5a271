//! The BQE provider's part of the property suite: webhook deliveries (signed and not),
//! error bodies and page tokens, arbitrary and mutated; never a panic.

use devflow_provider_bqe::webhook::parse_verified;
use devflow_provider_bqe::{BqeConfig, BqeErrors, BqeProvider};
use devflow_sync_core::Error;
use devflow_sync_core::api::ErrorMapper;
use devflow_sync_core::auth::{AccessToken, WebhookSecret};
use devflow_sync_core::http::HttpClient;
use devflow_sync_core::model::{ConnectionId, ObjectType};
use devflow_sync_core::provider::{ChangeQuery, Headers, Provider};
use devflow_sync_core::webhook::sign_hmac_sha256;
use devflow_sync_testkit::fuzz::strategies::{mutated, thousand_cases};
use proptest::prelude::*;

const DELIVERY: &str = r#"{"entity":"Project","action":"Update","entityId":"6f1c0001-0000-4000-8000-000000000001","timestamp":1780000000}"#;

fn provider() -> BqeProvider {
    let mut config = BqeConfig::with_token("http://127.0.0.1:9/api", AccessToken::new("t"));
    config.webhook_secrets = vec![WebhookSecret::new("s3cret")];
    BqeProvider::new(config, HttpClient::builder().build().unwrap()).unwrap()
}

proptest! {
    #![proptest_config(thousand_cases())]

    #[test]
    fn deliveries_parse_or_fail_typed(bytes in mutated(DELIVERY.as_bytes().to_vec())) {
        if let Err(e) = parse_verified(&bytes) {
            prop_assert!(matches!(e, Error::InvalidInput { .. }), "{e:?}");
        }
        let p = provider();
        let conn = ConnectionId::new("c");
        // The bare hex digest (no `sha256=` prefix).
        let signature = sign_hmac_sha256(&WebhookSecret::new("s3cret"), &bytes);
        let signed = Headers::new().with("X-BQE-Signature", signature.trim_start_matches("sha256="));
        prop_assert_eq!(p.parse_webhook(&conn, &signed, &bytes).is_ok(), parse_verified(&bytes).is_ok());
        prop_assert!(matches!(p.parse_webhook(&conn, &Headers::new(), &bytes), Err(Error::Unauthenticated(_))));
    }

    #[test]
    fn error_bodies_map_without_panic(status in 400u16..600, body in prop::collection::vec(any::<u8>(), 0..200)) {
        let _ = BqeErrors.map(status, &body);
    }
}

#[test]
fn the_delivery_reads() {
    let d = parse_verified(DELIVERY.as_bytes()).unwrap();
    assert_eq!(d.events[0].object.as_str(), "project");
    let other = parse_verified(DELIVERY.replace("Project", "Invoice").as_bytes()).unwrap();
    assert_eq!((other.events.len(), other.out_of_scope), (0, 1));
}

#[tokio::test]
async fn page_tokens_of_any_shape_are_stale_not_a_crash() {
    let p = provider();
    for token in [
        "",
        "bqe1",
        "bqe1 list",
        "bqe1 list x",
        "bqe1 other 1",
        "\u{0}",
        "bqe2 list 1",
    ] {
        let err = p
            .list_changed(
                &ConnectionId::new("c"),
                &ObjectType::new("project"),
                &ChangeQuery {
                    page_token: Some(token.into()),
                    limit: 10,
                    ..ChangeQuery::default()
                },
            )
            .await
            .unwrap_err();
        assert!(
            matches!(err, Error::StalePageToken(_)),
            "{token:?}: {err:?}"
        );
    }
}
