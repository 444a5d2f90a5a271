//! Engine regressions of the hardening review: leases released on every way out of a
//! pull (panics included), stale page tokens dropped with the listing restarted, empty
//! delivery ids refused, and only the headers parsing needs stored with a delivery.

use std::sync::Arc;

use devflow_sync_core::Error;
use devflow_sync_core::auth::WebhookSecret;
use devflow_sync_core::engine::{PullBudget, SyncEngine};
use devflow_sync_core::merge::Manual;
use devflow_sync_core::model::{FieldValue, Fields, ItemKind};
use devflow_sync_core::provider::Headers;
use devflow_sync_core::store::{CursorPass, MappingStore, SyncCursor, WebhookInbox};
use devflow_sync_core::webhook::sign_hmac_sha256;
use devflow_sync_testkit::faulty::FaultyProvider;
use devflow_sync_testkit::harness::{Harness, PROVIDER};
use devflow_sync_testkit::memory_provider::{DELIVERY_HEADER, FaultKind, Op};

#[tokio::test]
async fn a_panicking_provider_releases_the_pull_lease() {
    let h = Harness::new(Manual);
    h.remote.remote_create(
        &h.object,
        Some(ItemKind::Prd),
        None,
        Fields::new().with("title", FieldValue::text("A PRD")),
    );
    let panicky = Arc::new(FaultyProvider::wrap(h.remote.clone(), 1));
    panicky.fail_next(Op::List, FaultKind::Panic);
    let engine = SyncEngine::builder()
        .provider(panicky.clone())
        .bind("conn-1", PROVIDER, "issue")
        .build()
        .unwrap();
    let err = engine
        .pull(&h.connection, &h.object, PullBudget::UNLIMITED)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("panicked"), "{err}");
    // The lease went back: the next pull is not refused as "another worker".
    let report = engine
        .pull(&h.connection, &h.object, PullBudget::UNLIMITED)
        .await
        .unwrap();
    assert_eq!(report.conflicts + report.created, 1, "{report:?}");
}

#[tokio::test]
async fn a_stale_page_token_is_dropped_and_the_listing_restarts_from_the_high_water_mark() {
    let h = Harness::importing(Manual);
    for title in ["one", "two", "three"] {
        h.remote.remote_create(
            &h.object,
            Some(ItemKind::Prd),
            None,
            Fields::new().with("title", FieldValue::text(title)),
        );
    }
    // A cursor saved mid-listing whose page token the provider no longer accepts.
    let cursor = SyncCursor {
        high_water: None,
        boundary_ids: Vec::new(),
        pass: Some(CursorPass {
            since: None,
            page_token: "a token of a removed repository".into(),
        }),
    };
    h.mappings
        .put_cursor(&h.connection, &h.object, &cursor)
        .await
        .unwrap();
    let report = h.pull().await.unwrap();
    assert_eq!(report.created, 3, "{report:?}");
    assert!(
        report
            .warnings
            .iter()
            .any(|w| w.contains("page token discarded")),
        "{report:?}"
    );
    let saved = h
        .mappings
        .cursor(&h.connection, &h.object)
        .await
        .unwrap()
        .unwrap();
    assert!(
        saved.pass.is_none() && saved.high_water.is_some(),
        "{saved:?}"
    );
    // And the lease is free again.
    h.pull().await.unwrap();
}

#[tokio::test]
async fn an_empty_delivery_id_is_refused() {
    let h = Harness::new(Manual);
    let secret = WebhookSecret::new("memory-secret");
    for (header, body_id) in [("", "d-1"), ("   ", "d-1"), ("d-2", "")] {
        let body = format!(r#"{{"delivery_id":"{body_id}","events":[]}}"#).into_bytes();
        let headers = Headers::new()
            .with("x-memory-signature", sign_hmac_sha256(&secret, &body))
            .with(DELIVERY_HEADER, header);
        let err = h
            .engine
            .accept_webhook(&PROVIDER.into(), &h.connection, &headers, &body)
            .await
            .unwrap_err();
        assert!(matches!(err, Error::InvalidInput { .. }), "{err:?}");
    }
    let inbox = h.journal.due_inbox(chrono::Utc::now(), 10).await.unwrap();
    assert!(inbox.is_empty(), "nothing was stored: {inbox:?}");
}

#[tokio::test]
async fn only_the_headers_parsing_needs_are_stored_with_a_delivery() {
    let h = Harness::new(Manual);
    h.remote.remote_create(
        &h.object,
        Some(ItemKind::Prd),
        None,
        Fields::new().with("title", FieldValue::text("A PRD")),
    );
    let hook = h.remote.take_webhooks().pop().unwrap();
    let mut headers = hook.headers.clone();
    headers = headers
        .with("Authorization", "Bearer leaked-bearer-token")
        .with("X-Hook-Token", "leaked-shared-token")
        .with("Cookie", "session=leaked-session");
    h.engine
        .accept_webhook(&PROVIDER.into(), &h.connection, &headers, &hook.body)
        .await
        .unwrap();
    let stored = h
        .journal
        .due_inbox(devflow_sync_core::clock::Clock::now(&*h.clock), 10)
        .await
        .unwrap();
    assert_eq!(stored.len(), 1);
    let shown = format!("{:?} {:?}", stored[0].headers, stored[0]);
    for leaked in [
        "leaked-bearer-token",
        "leaked-shared-token",
        "leaked-session",
        "sha256=",
    ] {
        assert!(!shown.contains(leaked), "{leaked} stored: {shown}");
    }
    // It is still applied from what was kept.
    let report = h.engine.process_inbox(10).await.unwrap();
    assert_eq!(report.errors, 0, "{report:?}");
}
