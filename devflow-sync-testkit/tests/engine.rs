//! The engine against the in-memory provider: pulls and cursors, dry runs, status,
//! disconnects, webhooks and workers.

use std::time::Duration;

use devflow_sync_core::Error;
use devflow_sync_core::engine::{PlanRequest, PullBudget};
use devflow_sync_core::merge::Manual;
use devflow_sync_core::model::ItemKind;
use devflow_sync_core::provider::Headers;
use devflow_sync_core::store::HealthStore;
use devflow_sync_core::store::{ConnectionStatus, InboxStatus, MappingStore};
use devflow_sync_testkit::harness::{Harness, PROVIDER};
use devflow_sync_testkit::memory_provider::{FaultKind, Faults, Op};

mod common;
use common::{pull, set_title, title};

#[tokio::test]
async fn plan_writes_nothing_and_reports_what_it_would_do() {
    let h = Harness::importing(Manual);
    let epic = h
        .remote
        .remote_create(&h.object, Some(ItemKind::Epic), None, title("E"));
    h.remote.remote_create(
        &h.object,
        Some(ItemKind::Story),
        Some(epic.id.clone()),
        title("S"),
    );
    h.remote
        .remote_create(&h.object, Some(ItemKind::Task), None, title("orphan"));
    let prd = h.create_item(ItemKind::Prd, None, "P").await.unwrap();
    let calls = h.remote.calls();
    let logs = h.journal.all_logs().len();

    let plan = h
        .engine
        .plan(PlanRequest::Pull {
            connection: h.connection.clone(),
            object: h.object.clone(),
        })
        .await
        .unwrap();
    assert_eq!(plan.report.created, 2, "{plan:?}");
    assert_eq!(plan.conflicts.len(), 1);
    assert_eq!(plan.conflicts[0].message, "Task requires a parent");
    assert_eq!(
        plan.writes
            .iter()
            .filter(|w| matches!(
                w,
                devflow_sync_core::engine::PlannedWrite::CreateItem { .. }
            ))
            .count(),
        2
    );

    let plan = h
        .engine
        .plan(PlanRequest::Push {
            connection: h.connection.clone(),
            object: h.object.clone(),
            item: prd.clone(),
        })
        .await
        .unwrap();
    assert!(matches!(
        plan.writes[0],
        devflow_sync_core::engine::PlannedWrite::CreateRemote { .. }
    ));

    // Nothing was written anywhere.
    assert_eq!(h.items.len(), 1);
    assert!(
        h.mappings
            .links(&h.connection, &h.object)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        h.mappings
            .cursor(&h.connection, &h.object)
            .await
            .unwrap()
            .is_none()
    );
    assert!(h.journal.all_conflicts().is_empty());
    assert_eq!(h.journal.all_logs().len(), logs);
    assert_eq!(h.remote.records(&h.object).len(), 3);
    assert_eq!(h.remote.calls().create, calls.create);
    assert_eq!(h.remote.calls().update, calls.update);
}

#[tokio::test]
async fn pull_pages_with_a_cursor_and_a_lagging_feed_is_caught_by_the_lookback() {
    let h = Harness::with(Manual, |b| {
        let mut config = devflow_sync_core::engine::EngineConfig {
            import_mode: devflow_sync_core::engine::ImportMode::Import,
            page_size: 3,
            lookback: Duration::from_secs(120),
            ..Default::default()
        };
        config.worker_id = "w1".into();
        b.config(config)
    });
    for i in 0..7 {
        h.remote.remote_create(
            &h.object,
            Some(ItemKind::Epic),
            None,
            title(&format!("e{i}")),
        );
        h.tick(Duration::from_secs(1));
    }
    // One page only: the cursor remembers where the pass stopped.
    let report = h
        .engine
        .pull(&h.connection, &h.object, PullBudget::pages(1))
        .await
        .unwrap();
    assert_eq!(report.created, 3);
    let cursor = h
        .mappings
        .cursor(&h.connection, &h.object)
        .await
        .unwrap()
        .unwrap();
    assert!(cursor.pass.is_some());
    let report = pull(&h).await;
    assert_eq!(report.created, 4, "{report:?}");
    assert_eq!(h.items.len(), 7);

    // A change that shows up in the feed 60 s late, stamped before the high-water mark.
    h.remote.set_faults(
        Faults {
            feed_lag: Duration::from_secs(60),
            ..Faults::default()
        },
        1,
    );
    let late = h
        .remote
        .remote_create(&h.object, Some(ItemKind::Epic), None, title("late"));
    h.tick(Duration::from_secs(5));
    h.remote.clear_faults();
    h.remote
        .remote_create(&h.object, Some(ItemKind::Epic), None, title("on time"));
    h.tick(Duration::from_secs(1));
    let report = pull(&h).await;
    assert_eq!(report.created, 1, "{report:?}");
    h.tick(Duration::from_secs(60));
    let report = pull(&h).await;
    assert_eq!(
        report.created, 1,
        "the late record is found by the lookback: {report:?}"
    );
    assert!(
        h.mappings
            .link_by_external(&h.connection, &h.object, &late.id)
            .await
            .unwrap()
            .is_some()
    );
    // Re-listing the lookback window applies nothing twice.
    let report = pull(&h).await;
    assert_eq!(report.created + report.updated, 0, "{report:?}");
    assert_eq!(h.items.len(), 9);
}

#[tokio::test]
async fn a_failed_page_leaves_the_cursor_and_the_retry_applies_it_once() {
    let h = Harness::importing(Manual);
    for i in 0..3 {
        h.remote.remote_create(
            &h.object,
            Some(ItemKind::Epic),
            None,
            title(&format!("e{i}")),
        );
    }
    h.engine.work_items();
    // The second record's import fails: the host store is fine, the provider's `get`
    // is not used; make the page fail through a transient list error instead.
    h.remote.fail_next(Op::List, FaultKind::Transient);
    let err = h
        .engine
        .pull(&h.connection, &h.object, PullBudget::UNLIMITED)
        .await
        .unwrap_err();
    assert!(err.is_retryable());
    assert!(
        h.mappings
            .cursor(&h.connection, &h.object)
            .await
            .unwrap()
            .is_none()
    );
    let health = h.journal.health(&h.connection).await.unwrap().unwrap();
    assert_eq!(health.status, ConnectionStatus::Error);
    let report = pull(&h).await;
    assert_eq!(report.created, 3);
    assert_eq!(
        h.journal
            .health(&h.connection)
            .await
            .unwrap()
            .unwrap()
            .status,
        ConnectionStatus::Active
    );
}

#[tokio::test]
async fn webhooks_with_a_bad_token_are_rejected_and_failing_ones_dead_letter() {
    let h = Harness::new(Manual);
    let err = h
        .engine
        .accept_webhook(
            &PROVIDER.into(),
            &h.connection,
            &Headers::new().with("x-memory-signature", "sha256=00"),
            b"{}",
        )
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Unauthenticated(_)), "{err:?}");
    let err = h
        .engine
        .accept_webhook(&PROVIDER.into(), &h.connection, &Headers::new(), b"{}")
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Unauthenticated(_)));

    // A partial payload makes the engine fetch the record; when that keeps failing the
    // delivery is retried with backoff, then given up.
    let h = Harness::with(Manual, |b| {
        b.config(devflow_sync_core::engine::EngineConfig {
            max_inbox_attempts: 2,
            ..Default::default()
        })
    });
    h.remote.set_faults(
        Faults {
            partial_webhooks: true,
            ..Faults::default()
        },
        1,
    );
    h.remote
        .remote_create(&h.object, Some(ItemKind::Epic), None, title("x"));
    h.remote.fail_next(Op::Get, FaultKind::Transient);
    h.remote.fail_next(Op::Get, FaultKind::Transient);
    h.deliver_webhooks().await.unwrap();
    let entry = h.journal.all_inbox().remove(0);
    assert_eq!(entry.status, InboxStatus::Pending);
    assert_eq!(entry.attempts, 1);
    // Not due yet: nothing happens.
    h.engine.process_inbox(10).await.unwrap();
    assert_eq!(h.journal.all_inbox()[0].attempts, 1);
    h.tick(Duration::from_secs(31));
    h.engine.process_inbox(10).await.unwrap();
    let entry = h.journal.all_inbox().remove(0);
    assert_eq!(entry.status, InboxStatus::Failed);
    assert!(entry.last_error.unwrap().contains("injected"));
}

#[tokio::test]
async fn status_shows_link_sync_state_and_pending_conflicts() {
    let h = Harness::new(Manual);
    let epic = h.create_item(ItemKind::Epic, None, "S").await.unwrap();
    let status = h.engine.status(&epic).await.unwrap();
    assert_eq!(status.len(), 1);
    assert!(!status[0].synced && status[0].external.is_none());
    h.engine
        .push(&h.connection, &h.object, &epic)
        .await
        .unwrap();
    let status = h.engine.status(&epic).await.unwrap();
    assert!(status[0].synced);
    assert_eq!(
        status[0].external.as_ref().unwrap().url.as_deref(),
        Some("memory://memory/issue/1")
    );
    set_title(&h, &epic, "changed").await;
    assert!(!h.engine.status(&epic).await.unwrap()[0].synced);
}

#[tokio::test]
async fn disconnect_revokes_and_purge_deletes_the_connections_data() {
    let h = Harness::new(Manual);
    let epic = h.create_item(ItemKind::Epic, None, "D").await.unwrap();
    h.engine
        .push(&h.connection, &h.object, &epic)
        .await
        .unwrap();
    h.remote
        .remote_create(&h.object, Some(ItemKind::Story), None, title("orphan"));
    pull(&h).await;
    assert!(!h.journal.all_conflicts().is_empty());
    let report = h.engine.disconnect(&h.connection, true).await.unwrap();
    assert!(report.revoked);
    assert!(report.purged_rows >= 3, "{report:?}");
    assert!(
        h.mappings
            .links(&h.connection, &h.object)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(h.journal.all_conflicts().is_empty());
    assert!(h.journal.all_logs().is_empty());
    assert_eq!(
        h.journal
            .health(&h.connection)
            .await
            .unwrap()
            .unwrap()
            .status,
        ConnectionStatus::Disabled
    );
    // The provider now refuses the connection.
    let err = h
        .engine
        .pull(&h.connection, &h.object, PullBudget::UNLIMITED)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Unauthenticated(_)));
}

#[tokio::test]
async fn a_second_worker_cannot_pull_the_same_connection_at_once() {
    let h = Harness::new(Manual);
    use devflow_sync_core::store::LeaseManager;
    let leases = devflow_sync_core::store::memory::MemoryLeases::with_clock(h.clock.clone());
    let held = leases
        .acquire(&h.connection, &h.object, "other", Duration::from_secs(60))
        .await
        .unwrap()
        .unwrap();
    let engine = devflow_sync_core::engine::SyncEngine::builder()
        .provider(h.remote.clone())
        .bind("conn-1", PROVIDER, "issue")
        .leases(std::sync::Arc::new(leases))
        .clock(h.clock.clone())
        .build()
        .unwrap();
    let err = engine
        .pull(&h.connection, &h.object, PullBudget::UNLIMITED)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Precondition(_)), "{err:?}");
    let _ = held;
}

#[tokio::test]
async fn delivery_ids_are_remembered_for_the_ttl_then_forgotten() {
    let h = Harness::new(Manual);
    h.remote
        .remote_create(&h.object, Some(ItemKind::Epic), None, title("x"));
    let hook = h.remote.take_webhooks().remove(0);
    let first = h
        .engine
        .accept_webhook(&PROVIDER.into(), &h.connection, &hook.headers, &hook.body)
        .await
        .unwrap();
    assert!(!first.duplicate);
    h.engine.process_inbox(10).await.unwrap();
    let again = h
        .engine
        .accept_webhook(&PROVIDER.into(), &h.connection, &hook.headers, &hook.body)
        .await
        .unwrap();
    assert!(
        again.duplicate,
        "a replayed delivery id is reported as a duplicate"
    );
    assert_eq!(
        h.engine.prune_inbox().await.unwrap(),
        0,
        "inside the TTL nothing goes"
    );
    h.tick(Duration::from_secs(8 * 24 * 3600));
    assert_eq!(h.engine.prune_inbox().await.unwrap(), 1);
    let later = h
        .engine
        .accept_webhook(&PROVIDER.into(), &h.connection, &hook.headers, &hook.body)
        .await
        .unwrap();
    assert!(!later.duplicate, "past the TTL the id is forgotten");
    // Applying it again changes nothing: the record's version is already agreed.
    let report = h.engine.process_inbox(10).await.unwrap();
    assert_eq!(report.updated + report.created, 0, "{report:?}");
}
