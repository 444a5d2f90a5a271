//! Engine regressions of the hardening review: leases released on every way out of a
//! pull (panics included), stale page tokens dropped with the listing restarted, empty
//! delivery ids refused, and only the headers parsing needs stored with a delivery.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use async_trait::async_trait;
use devflow_sync_core::auth::WebhookSecret;
use devflow_sync_core::engine::{PullBudget, SyncEngine};
use devflow_sync_core::merge::Manual;
use devflow_sync_core::model::{
    ConnectionId, ExternalId, FieldValue, Fields, ItemId, ItemKind, ObjectType, ProviderKey,
    Version,
};
use devflow_sync_core::provider::{
    Capabilities, ChangeQuery, Headers, NewRemote, Page, Provider, RemoteRecord, RemoteUpdate,
    WebhookDelivery,
};
use devflow_sync_core::store::WebhookInbox;
use devflow_sync_core::store::{CursorPass, MappingStore, SyncCursor};
use devflow_sync_core::webhook::sign_hmac_sha256;
use devflow_sync_core::{Error, Result};
use devflow_sync_testkit::harness::{Harness, PROVIDER};
use devflow_sync_testkit::memory_provider::{DELIVERY_HEADER, MemoryProvider};

/// A provider that delegates to a [`MemoryProvider`] and panics in `list_changed`
/// while told to.
#[derive(Debug)]
struct Panicky {
    inner: Arc<MemoryProvider>,
    panic: AtomicBool,
}

#[async_trait]
impl Provider for Panicky {
    fn key(&self) -> ProviderKey {
        self.inner.key()
    }
    fn capabilities(&self, object: &ObjectType) -> Capabilities {
        self.inner.capabilities(object)
    }
    async fn list_changed(
        &self,
        connection: &ConnectionId,
        object: &ObjectType,
        query: &ChangeQuery,
    ) -> Result<Page> {
        if self.panic.load(Ordering::SeqCst) {
            let index: Vec<u8> = Vec::new();
            // A provider bug: an index out of bounds.
            let _ = index[query.limit];
        }
        self.inner.list_changed(connection, object, query).await
    }
    async fn get(&self, c: &ConnectionId, o: &ObjectType, id: &ExternalId) -> Result<RemoteRecord> {
        self.inner.get(c, o, id).await
    }
    async fn create(
        &self,
        c: &ConnectionId,
        o: &ObjectType,
        new: &NewRemote,
    ) -> Result<RemoteRecord> {
        self.inner.create(c, o, new).await
    }
    async fn update(
        &self,
        c: &ConnectionId,
        o: &ObjectType,
        id: &ExternalId,
        update: &RemoteUpdate,
        expected: Option<&Version>,
    ) -> Result<RemoteRecord> {
        self.inner.update(c, o, id, update, expected).await
    }
    async fn delete(&self, c: &ConnectionId, o: &ObjectType, id: &ExternalId) -> Result<()> {
        self.inner.delete(c, o, id).await
    }
    async fn find_by_marker(
        &self,
        c: &ConnectionId,
        o: &ObjectType,
        marker: &ItemId,
    ) -> Result<Option<RemoteRecord>> {
        self.inner.find_by_marker(c, o, marker).await
    }
    fn parse_webhook(&self, c: &ConnectionId, h: &Headers, b: &[u8]) -> Result<WebhookDelivery> {
        self.inner.parse_webhook(c, h, b)
    }
    fn parse_verified_webhook(
        &self,
        c: &ConnectionId,
        h: &Headers,
        b: &[u8],
    ) -> Result<WebhookDelivery> {
        self.inner.parse_verified_webhook(c, h, b)
    }
    fn webhook_headers(&self) -> Vec<String> {
        self.inner.webhook_headers()
    }
    async fn revoke(&self, c: &ConnectionId) -> Result<()> {
        self.inner.revoke(c).await
    }
}

#[tokio::test]
async fn a_panicking_provider_releases_the_pull_lease() {
    let h = Harness::new(Manual);
    h.remote.remote_create(
        &h.object,
        Some(ItemKind::Prd),
        None,
        Fields::new().with("title", FieldValue::text("A PRD")),
    );
    let panicky = Arc::new(Panicky {
        inner: h.remote.clone(),
        panic: AtomicBool::new(true),
    });
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
    panicky.panic.store(false, Ordering::SeqCst);
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
