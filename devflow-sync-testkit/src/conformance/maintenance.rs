//! The [`Maintenance`] suites: retention by age keeps what is pending or recent, and the
//! restore guard refuses pulls and creates until the host clears a scope.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use devflow_sync_core::Error;
use devflow_sync_core::clock::{Clock, ManualClock};
use devflow_sync_core::engine::{ImportMode, PullBudget, SyncEngine};
use devflow_sync_core::memory_provider::MemoryProvider;
use devflow_sync_core::model::{ConnectionId, Fields, ItemKind, ObjectType, ProviderKey, Record};
use devflow_sync_core::provider::Headers;
use devflow_sync_core::store::{
    ConflictRecord, ConflictStatus, ConflictStore, ConflictType, ConnectionStatus, ConnectionStore,
    Direction, EventLog, InboxEntry, InboxStatus, LeaseManager, LogStatus, Maintenance,
    MappingStore, PageStore, Retention, RunLog, SyncJournal, SyncLogEntry, TokenStore, Trigger,
    WebhookInbox, WorkItemStore,
};

use super::t0;

const DAY: Duration = Duration::from_secs(86_400);

fn at(days_ago: u64, now: DateTime<Utc>) -> DateTime<Utc> {
    devflow_sync_core::clock::before(now, DAY * u32::try_from(days_ago).unwrap())
}

fn log_line(run: &str, when: DateTime<Utc>) -> SyncLogEntry {
    SyncLogEntry {
        run_id: run.into(),
        connection: ConnectionId::new("gh"),
        provider: ProviderKey::new("github"),
        object: ObjectType::new("issue"),
        item: None,
        external: None,
        operation: "update".into(),
        direction: Direction::Pull,
        changes: Vec::new(),
        status: LogStatus::Ok,
        error: None,
        duration_ms: 1,
        trigger: Trigger::Poll,
        request_id: None,
        at: when,
    }
}

fn conflict(field: &str, when: DateTime<Utc>) -> ConflictRecord {
    ConflictRecord {
        id: String::new(),
        connection: ConnectionId::new("gh"),
        provider: ProviderKey::new("github"),
        object: ObjectType::new("issue"),
        item: Some("item-1".into()),
        external: Some("acme/app#1".into()),
        conflict_type: ConflictType::Field,
        field: Some(field.into()),
        base: Default::default(),
        local: Default::default(),
        remote: Default::default(),
        message: "both changed".into(),
        suggested_action: "pick one".into(),
        sides: Vec::new(),
        status: ConflictStatus::Pending,
        resolution: None,
        created_at: when,
        updated_at: when,
    }
}

fn delivery(id: &str, when: DateTime<Utc>) -> InboxEntry {
    InboxEntry {
        id: String::new(),
        provider: ProviderKey::new("github"),
        connection: ConnectionId::new("gh"),
        delivery_id: id.into(),
        headers: Headers::new(),
        body: b"{}".to_vec(),
        received_at: when,
        status: InboxStatus::Pending,
        attempts: 0,
        last_error: None,
        next_attempt_at: when,
        claimed_by: None,
        claimed_until: None,
        entity: None,
    }
}

/// Retention: old log lines, settled conflicts and finished deliveries go; pending or
/// recent ones stay; a pruned delivery id is new again; keeping forever prunes nothing.
/// Needs a store with no history yet.
pub async fn retention<S: Maintenance + RunLog + ConflictStore + WebhookInbox + ?Sized>(store: &S) {
    let now = t0();
    for (run, days) in [("old", 40), ("new", 1)] {
        for _ in 0..3 {
            store
                .append_log(&log_line(run, at(days, now)))
                .await
                .unwrap();
        }
    }
    // Settled long ago, settled lately, pending long ago.
    let old = store
        .record_conflict(&conflict("title", at(100, now)))
        .await
        .unwrap();
    store
        .settle_conflict(&old, ConflictStatus::Resolved, "host", at(100, now))
        .await
        .unwrap();
    let recent = store
        .record_conflict(&conflict("body", at(100, now)))
        .await
        .unwrap();
    store
        .settle_conflict(&recent, ConflictStatus::Ignored, "dismissed", at(2, now))
        .await
        .unwrap();
    let pending = store
        .record_conflict(&conflict("labels", at(100, now)))
        .await
        .unwrap();
    // A processed delivery long ago, a pending one long ago, a processed one lately.
    for (id, days, status) in [
        ("d-old", 10, InboxStatus::Processed),
        ("d-pending", 10, InboxStatus::Pending),
        ("d-new", 1, InboxStatus::Processed),
    ] {
        let n = store
            .insert_inbox(&delivery(id, at(days, now)))
            .await
            .unwrap();
        let mut entry = store.inbox_entry(&n).await.unwrap().unwrap();
        entry.status = status;
        store.update_inbox(&entry).await.unwrap();
    }

    let pruned = store.prune(now, &Retention::default()).await.unwrap();
    assert_eq!(
        (pruned.log_lines, pruned.conflicts, pruned.deliveries),
        (3, 1, 1)
    );
    assert!(store.logs_of_run("old").await.unwrap().is_empty());
    assert_eq!(store.logs_of_run("new").await.unwrap().len(), 3);
    assert!(store.conflict(&old).await.unwrap().is_none());
    assert!(store.conflict(&recent).await.unwrap().is_some());
    assert!(store.conflict(&pending).await.unwrap().is_some());
    // The old delivery id is forgotten with it: the same id is new again.
    assert!(store.insert_inbox(&delivery("d-old", now)).await.is_ok());
    assert!(matches!(
        store.insert_inbox(&delivery("d-pending", now)).await,
        Err(Error::AlreadyExists(_))
    ));
    // Keeping forever prunes nothing.
    let none = store
        .prune(
            now,
            &Retention {
                log: None,
                conflicts: None,
                inbox: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(none, Default::default());
}

/// The restore guard: a recent backup changes nothing; an old one marks every
/// connection `needs_reauth` and refuses pulls and creates of every scope until the
/// host clears it, after which the scope is listed again and nothing is duplicated.
/// `store` must read time from `clock` and hold no data yet.
pub async fn restore_guard<S>(store: Arc<S>, clock: Arc<ManualClock>)
where
    S: Maintenance
        + WorkItemStore
        + MappingStore
        + SyncJournal
        + TokenStore
        + LeaseManager
        + PageStore
        + ConnectionStore
        + EventLog
        + 'static,
{
    let remote = Arc::new(MemoryProvider::new("memory", clock.clone()));
    let (conn, object) = (ConnectionId::new("conn-1"), ObjectType::new("issue"));
    for i in 0..5 {
        remote.remote_create(
            &object,
            Some(ItemKind::Epic),
            None,
            Fields::new().with("title", format!("Epic {i}")),
        );
    }
    let engine = SyncEngine::builder()
        .provider(remote.clone())
        .bind("conn-1", "memory", "issue")
        .stores(store.clone())
        .clock(clock.clone())
        .import_mode(ImportMode::Import)
        .build()
        .unwrap();
    let first = engine
        .pull(&conn, &object, PullBudget::UNLIMITED)
        .await
        .unwrap();
    assert_eq!(first.created, 5);
    let now = clock.now();

    // A recent backup: nothing to do.
    let fresh = store.mark_restored(at(0, now), DAY, now).await.unwrap();
    assert!(!fresh.stale && fresh.scopes.is_empty());
    engine
        .pull(&conn, &object, PullBudget::UNLIMITED)
        .await
        .unwrap();

    // A backup two days old with a one-day threshold.
    let report = store.mark_restored(at(2, now), DAY, now).await.unwrap();
    assert!(report.stale);
    assert_eq!(report.scopes, vec![(conn.clone(), object.clone())]);
    assert!(report.connections.contains(&conn));
    let health = store.health(&conn).await.unwrap().unwrap();
    assert_eq!(health.status, ConnectionStatus::NeedsReauth);

    let refused = engine.pull(&conn, &object, PullBudget::UNLIMITED).await;
    let message = format!("{:?}", refused.expect_err("a pull is refused"));
    assert!(message.contains("must resync"), "{message}");
    let item = store
        .create(
            None,
            Record::new("work_item", now)
                .with_kind(ItemKind::Epic)
                .with_field("title", "New in the host"),
        )
        .await
        .unwrap();
    let push = engine.push(&conn, &object, &item.id).await;
    assert!(
        push.is_err() || push.as_ref().is_ok_and(|r| r.errors > 0),
        "a create is refused: {push:?}"
    );
    assert_eq!(remote.records(&object).len(), 5, "nothing created remotely");

    // The host resyncs: the cursor is forgotten and everything is listed again.
    store.clear_resync(&conn, &object).await.unwrap();
    assert!(store.resync_required().await.unwrap().is_empty());
    let again = engine
        .pull(&conn, &object, PullBudget::UNLIMITED)
        .await
        .unwrap();
    assert_eq!(again.created, 0, "{}", again.summary());
    engine.push(&conn, &object, &item.id).await.unwrap();
    assert_eq!(remote.records(&object).len(), 6);
}
