//! Every in-memory implementation passes its conformance suite, directly and through
//! `Arc<dyn Trait>`.

use std::sync::Arc;
use std::time::Duration;

use devflow_sync_core::clock::ManualClock;
use devflow_sync_core::model::{ConnectionId, FieldValue, Fields, ObjectType};
use devflow_sync_core::provider::Provider;
use devflow_sync_core::store::memory::{
    MemoryJournal, MemoryLeases, MemoryMappings, MemoryTokens, MemoryWorkItems,
};
use devflow_sync_core::store::{
    ConnectionStore, LeaseManager, MappingStore, SyncJournal, TokenStore, WorkItemStore,
};
use devflow_sync_testkit::conformance::{self, ProviderSetup};
use devflow_sync_testkit::memory_provider::MemoryProvider;

#[tokio::test]
async fn memory_connection_store() {
    let store = devflow_sync_core::store::memory::MemoryConnections::new();
    conformance::connection_store(&store).await;
    conformance::connection_store(&store).await;
    conformance::webhook_registrations(&store).await;
    let shared: Arc<dyn ConnectionStore> = Arc::new(store);
    conformance::webhook_registrations(shared.as_ref()).await;
}

#[tokio::test]
async fn memory_token_store() {
    conformance::token_store(&MemoryTokens::new()).await;
    let shared: Arc<dyn TokenStore> = Arc::new(MemoryTokens::new());
    conformance::token_store(shared.as_ref()).await;
    // The suite leaves a store reusable: run it twice on one.
    conformance::token_store(shared.as_ref()).await;
}

#[tokio::test]
async fn memory_mapping_store() {
    conformance::mapping_store(&MemoryMappings::new()).await;
    let shared: Arc<dyn MappingStore> = Arc::new(MemoryMappings::new());
    conformance::mapping_store(shared.as_ref()).await;
    conformance::mapping_store(shared.as_ref()).await;
}

#[tokio::test]
async fn memory_journal() {
    conformance::sync_journal(&MemoryJournal::new()).await;
    let shared: Arc<dyn SyncJournal> = Arc::new(MemoryJournal::new());
    conformance::sync_journal(shared.as_ref()).await;
    conformance::sync_journal(shared.as_ref()).await;
}

#[tokio::test]
async fn memory_work_items() {
    conformance::work_item_store(&MemoryWorkItems::new()).await;
    let shared: Arc<dyn WorkItemStore> = Arc::new(MemoryWorkItems::new());
    conformance::work_item_store(shared.as_ref()).await;
    conformance::work_item_store(shared.as_ref()).await;
}

#[tokio::test]
async fn memory_leases() {
    let clock = ManualClock::starting_at_epoch_secs(1_780_000_000);
    conformance::lease_manager(&MemoryLeases::with_clock(Arc::new(clock.clone())), &clock).await;
    let shared: Arc<dyn LeaseManager> = Arc::new(MemoryLeases::with_clock(Arc::new(clock.clone())));
    conformance::lease_manager(shared.as_ref(), &clock).await;
}

fn setup(clock: &ManualClock) -> ProviderSetup {
    let clock = clock.clone();
    ProviderSetup {
        connection: ConnectionId::new("conn"),
        object: ObjectType::new("issue"),
        fields: Fields::new()
            .with("title", "Conformance")
            .with("labels", FieldValue::set(["a", "b"])),
        edit: ("title".into(), FieldValue::text("Edited")),
        tick: Box::new(move || clock.advance(Duration::from_secs(1))),
    }
}

#[tokio::test]
async fn memory_provider() {
    let clock = ManualClock::starting_at_epoch_secs(1_780_000_000);
    let p = MemoryProvider::new("memory", Arc::new(clock.clone()));
    // Some records that were there before.
    for i in 0..5 {
        p.remote_create(
            &ObjectType::new("issue"),
            None,
            None,
            Fields::new().with("title", format!("old {i}")),
        );
    }
    conformance::provider(&p, &setup(&clock)).await;
    let shared: Arc<dyn Provider> =
        Arc::new(MemoryProvider::new("memory", Arc::new(clock.clone())));
    conformance::provider(shared.as_ref(), &setup(&clock)).await;
}

#[tokio::test]
async fn faulty_provider_over_memory_provider() {
    use devflow_sync_testkit::faulty::{CallFaults, FaultyProvider};
    let clock = ManualClock::starting_at_epoch_secs(1_780_000_000);
    let inner = Arc::new(MemoryProvider::new("memory", Arc::new(clock.clone())));
    let faulty = FaultyProvider::wrap(inner, 11);
    // With its knobs off, the wrapper is the provider it wraps.
    conformance::provider(&faulty, &setup(&clock)).await;
    assert!(faulty.call_count() > 10);
    // With latency on, still the same behaviour, only slower.
    faulty.set_call_faults(CallFaults {
        latency: Duration::from_millis(1),
        ..CallFaults::default()
    });
    conformance::provider(&faulty, &setup(&clock)).await;
}

#[tokio::test]
async fn a_failed_behaviour_is_named_and_hides_none_of_the_others() {
    use devflow_sync_testkit::conformance::BehaviourOutcome;
    use devflow_sync_testkit::faulty::FaultyProvider;
    use devflow_sync_testkit::memory_provider::{FaultKind, Op};
    let clock = ManualClock::starting_at_epoch_secs(1_780_000_000);
    let inner = Arc::new(MemoryProvider::new("memory", Arc::new(clock.clone())));
    let faulty = FaultyProvider::wrap(inner, 5);
    faulty.fail_next(Op::FindByMarker, FaultKind::Transient);
    let report = conformance::provider_behaviours(&faulty, &setup(&clock)).await;
    assert!(
        matches!(report.outcome("markers"), Some(BehaviourOutcome::Failed(why)) if why.contains("find by marker")),
        "{report:?}"
    );
    for name in [
        "create",
        "hierarchy",
        "update",
        "list",
        "delta",
        "stale page token",
        "delete",
        "webhook verification",
    ] {
        assert_eq!(
            report.outcome(name),
            Some(&BehaviourOutcome::Passed),
            "{name}: {report:?}"
        );
    }
    assert_eq!(report.failures().len(), 1);
}

#[tokio::test]
async fn the_cores_memory_backend_with_any_capabilities() {
    use devflow_sync_core::memory_provider::MemoryProvider as Backend;
    use devflow_sync_core::provider::Capabilities;
    use devflow_sync_testkit::conformance::BehaviourOutcome;
    let clock = ManualClock::starting_at_epoch_secs(1_780_000_000);
    conformance::provider(
        &Backend::new("memory", Arc::new(clock.clone())),
        &setup(&clock),
    )
    .await;
    // A read-only system: the suite runs what it offers and names what it skips.
    let read_only =
        Backend::new("memory", Arc::new(clock.clone())).with_capabilities(Capabilities {
            list: true,
            delta: true,
            ..Capabilities::default()
        });
    read_only.remote_create(
        &ObjectType::new("issue"),
        None,
        None,
        Fields::new().with("title", "x"),
    );
    let report = conformance::provider_behaviours(&read_only, &setup(&clock)).await;
    assert!(report.failures().is_empty(), "{report:?}");
    assert!(matches!(
        report.outcome("create"),
        Some(BehaviourOutcome::Skipped(_))
    ));
    assert_eq!(report.outcome("list"), Some(&BehaviourOutcome::Passed));
}

#[tokio::test]
async fn memory_events() {
    let log = devflow_sync_core::store::memory::MemoryEvents::new();
    conformance::event_log(&log).await;
    conformance::event_log(&log).await;
}
