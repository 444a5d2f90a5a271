//! Engine events: each kind emitted exactly when its cause happens (a conflict once,
//! not again when a retry finds the same problem; a dead letter only when the last
//! attempt failed, not when a retry succeeds; health on a change of state; a bulk run
//! when it ends), told live and read back from a cursor once.

use std::sync::Arc;
use std::time::Duration;

use devflow_sync_core::clock::ManualClock;
use devflow_sync_core::engine::{
    BulkItem, BulkOptions, EngineConfig, PullBudget, Resolution, SyncEngine,
};
use devflow_sync_core::memory_provider::MemoryProvider;
use devflow_sync_core::model::{ConnectionId, FieldValue, Fields, ItemKind, ObjectType, Record};
use devflow_sync_core::store::{ConflictType, ConnectionStatus, EngineEvent, EventKind};
use devflow_sync_testkit::faulty::FaultyProvider;
use devflow_sync_testkit::memory_provider::{FaultKind, Op};

struct Setup {
    clock: Arc<ManualClock>,
    remote: Arc<MemoryProvider>,
    faulty: Arc<FaultyProvider<MemoryProvider>>,
    engine: SyncEngine,
}

fn setup() -> Setup {
    let clock = Arc::new(ManualClock::starting_at_epoch_secs(1_780_000_000));
    let remote =
        Arc::new(MemoryProvider::new("memory", clock.clone()).with_webhook_secret("s3cret"));
    let faulty = Arc::new(FaultyProvider::wrap(remote.clone(), 1));
    let config = EngineConfig {
        max_inbox_attempts: 2,
        inbox_backoff: Duration::from_secs(1),
        tenant: Some("acme".into()),
        ..EngineConfig::default()
    };
    let engine = SyncEngine::builder()
        .provider(faulty.clone())
        .bind("conn-1", "memory", "issue")
        .clock(clock.clone())
        .config(config)
        .build()
        .unwrap();
    Setup {
        clock,
        remote,
        faulty,
        engine,
    }
}

fn conn() -> ConnectionId {
    ConnectionId::new("conn-1")
}

fn issue() -> ObjectType {
    ObjectType::new("issue")
}

async fn all(engine: &SyncEngine) -> Vec<EngineEvent> {
    engine.events_after(0, 10_000).await.unwrap()
}

async fn deliver(s: &Setup) {
    for hook in s.remote.take_webhooks() {
        s.engine
            .accept_webhook(&"memory".into(), &conn(), &hook.headers, &hook.body)
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn an_orphan_story_is_told_once_and_its_resolution_too() {
    let s = setup();
    let mut live = s.engine.subscribe();
    let epic = s
        .engine
        .work_items()
        .create(
            None,
            Record::new("work_item", chrono::Utc::now())
                .with_kind(ItemKind::Epic)
                .with_field("title", "Payments"),
        )
        .await
        .unwrap()
        .id;
    s.engine.push(&conn(), &issue(), &epic).await.unwrap();
    let orphan = s.remote.remote_create(
        &issue(),
        Some(ItemKind::Story),
        None,
        Fields::new().with("title", "Made in the provider"),
    );
    s.engine
        .pull(&conn(), &issue(), PullBudget::UNLIMITED)
        .await
        .unwrap();
    // The same problem found again by a later pull is not news.
    s.clock.advance(Duration::from_secs(1));
    s.engine
        .pull(&conn(), &issue(), PullBudget::UNLIMITED)
        .await
        .unwrap();
    let events = all(&s.engine).await;
    let recorded: Vec<&EngineEvent> = events
        .iter()
        .filter(|e| matches!(e.kind, EventKind::ConflictRecorded { .. }))
        .collect();
    assert_eq!(recorded.len(), 1, "{events:#?}");
    let EventKind::ConflictRecorded {
        conflict_id,
        conflict_type,
        external,
        message,
        suggested_action,
        platform,
        ..
    } = &recorded[0].kind
    else {
        unreachable!()
    };
    assert_eq!(*conflict_type, ConflictType::HierarchyViolation);
    assert_eq!(external.as_ref(), Some(&orphan.id));
    assert_eq!(message, "Story requires a parent");
    assert_eq!(suggested_action, "Link to an epic");
    assert_eq!(platform.as_str(), "memory");
    assert_eq!(recorded[0].tenant.as_deref(), Some("acme"));
    assert_eq!(recorded[0].connection, Some(conn()));
    // Told live too, with the same id.
    let told = live.try_recv().unwrap();
    assert_eq!(told.id, recorded[0].id);

    s.engine
        .resolve_conflict(conflict_id, Resolution::LinkToParent { parent: epic })
        .await
        .unwrap();
    let events = all(&s.engine).await;
    assert!(
        events.iter().any(|e| matches!(&e.kind,
            EventKind::ConflictResolved { conflict_id: id, resolution } if id == conflict_id && resolution == "link_to_parent")),
        "{events:#?}"
    );
}

#[tokio::test]
async fn a_delivery_is_told_failed_only_when_its_last_attempt_fails() {
    let s = setup();
    s.remote.set_partial_webhooks(true);
    // One record's delivery fails once, then goes through: no event.
    s.remote.remote_create(
        &issue(),
        Some(ItemKind::Epic),
        None,
        Fields::new().with("title", "A"),
    );
    deliver(&s).await;
    s.faulty.fail_next(Op::Get, FaultKind::Transient);
    s.engine.process_inbox(10).await.unwrap();
    s.clock.advance(Duration::from_secs(5));
    s.engine.process_inbox(10).await.unwrap();
    assert!(
        !all(&s.engine)
            .await
            .iter()
            .any(|e| matches!(e.kind, EventKind::SyncFailed { .. })),
        "a retry that succeeded is no failure"
    );
    // Another fails on both attempts: dead-lettered, told once.
    s.remote.remote_create(
        &issue(),
        Some(ItemKind::Epic),
        None,
        Fields::new().with("title", "B"),
    );
    deliver(&s).await;
    s.faulty.fail_next(Op::Get, FaultKind::Transient);
    s.engine.process_inbox(10).await.unwrap();
    assert!(
        !all(&s.engine)
            .await
            .iter()
            .any(|e| matches!(e.kind, EventKind::SyncFailed { .. }))
    );
    s.clock.advance(Duration::from_secs(5));
    s.faulty.fail_next(Op::Get, FaultKind::Transient);
    s.engine.process_inbox(10).await.unwrap();
    s.clock.advance(Duration::from_secs(60));
    s.engine.process_inbox(10).await.unwrap();
    let failed: Vec<EngineEvent> = all(&s.engine)
        .await
        .into_iter()
        .filter(|e| matches!(e.kind, EventKind::SyncFailed { .. }))
        .collect();
    assert_eq!(failed.len(), 1, "{failed:#?}");
    let EventKind::SyncFailed {
        reason, platform, ..
    } = &failed[0].kind
    else {
        unreachable!()
    };
    assert_eq!(platform.as_str(), "memory");
    assert!(!reason.is_empty());
}

#[tokio::test]
async fn health_changes_are_told_and_a_subscriber_catches_up_from_its_cursor_once() {
    let s = setup();
    // A first success is no news.
    s.engine
        .pull(&conn(), &issue(), PullBudget::UNLIMITED)
        .await
        .unwrap();
    assert!(all(&s.engine).await.is_empty());
    let mut live = s.engine.subscribe();
    s.faulty.fail_next(Op::List, FaultKind::Unauthenticated);
    assert!(
        s.engine
            .pull(&conn(), &issue(), PullBudget::UNLIMITED)
            .await
            .is_err()
    );
    let first = live.try_recv().unwrap();
    assert!(
        matches!(
            first.kind,
            EventKind::HealthChanged {
                from: Some(ConnectionStatus::Active),
                to: ConnectionStatus::NeedsReauth,
                ..
            }
        ),
        "{first:?}"
    );
    // The subscriber goes away; meanwhile the connection recovers and a bulk run ends.
    let cursor = first.id;
    drop(live);
    s.engine
        .pull(&conn(), &issue(), PullBudget::UNLIMITED)
        .await
        .unwrap();
    let item = s
        .engine
        .work_items()
        .create(
            None,
            Record::new("work_item", chrono::Utc::now())
                .with_kind(ItemKind::Epic)
                .with_field("title", FieldValue::text("E")),
        )
        .await
        .unwrap()
        .id;
    let summary = s
        .engine
        .push_many(
            vec![BulkItem::new("conn-1", "issue", item)],
            &BulkOptions::default(),
        )
        .await;
    assert_eq!(summary.succeeded, 1);
    // Back: what it missed, once, in order.
    let missed = s.engine.events_after(cursor, 100).await.unwrap();
    assert_eq!(missed.len(), 2, "{missed:#?}");
    assert!(matches!(
        missed[0].kind,
        EventKind::HealthChanged {
            to: ConnectionStatus::Active,
            ..
        }
    ));
    assert!(matches!(
        missed[1].kind,
        EventKind::BulkFinished {
            total: 1,
            succeeded: 1,
            failed: 0,
            ..
        }
    ));
    assert!(missed[0].id > cursor && missed[1].id > missed[0].id);
    assert!(
        s.engine
            .events_after(missed[1].id, 100)
            .await
            .unwrap()
            .is_empty()
    );
    // Nothing secret in what a host is handed.
    let text = serde_json::to_string(&all(&s.engine).await).unwrap();
    assert!(!text.contains("s3cret"));
}
