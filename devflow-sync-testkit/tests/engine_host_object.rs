//! A binding scoped to one host object: work items never go to a time-record binding,
//! time records never become issues, in a push, a fan-out, or a propagation.

use std::sync::Arc;

use devflow_sync_core::clock::SystemClock;
use devflow_sync_core::engine::{BindingOptions, PlatformStatus, SyncEngine};
use devflow_sync_core::memory_provider::MemoryProvider;
use devflow_sync_core::model::{ConnectionId, FieldValue, ItemKind, ObjectType, Record};
use devflow_sync_core::store::{BindingRecord, ConnectionRecord};

#[tokio::test]
async fn each_binding_carries_only_its_host_object() {
    let issues = Arc::new(MemoryProvider::new("memory", Arc::new(SystemClock)));
    let logs = Arc::new(MemoryProvider::new("memory", Arc::new(SystemClock)));
    let engine = SyncEngine::builder()
        .provider(issues.clone())
        .bind_with(
            "issues",
            "memory",
            "issue",
            BindingOptions::default().for_host_object("work_item"),
        )
        .build()
        .unwrap();
    // A second connection of its own provider, stored as a record (the scope kept).
    engine
        .add_connection(
            ConnectionRecord::new("logs", "memory")
                .with_binding(BindingRecord::new("worklog").for_host_object("time_record")),
            logs.clone(),
        )
        .await
        .unwrap();
    let epic = engine
        .work_items()
        .create(
            None,
            Record::new("work_item", chrono::Utc::now())
                .with_kind(ItemKind::Epic)
                .with_field("title", "E"),
        )
        .await
        .unwrap()
        .id;
    let time = engine
        .work_items()
        .create(
            None,
            Record::new("time_record", chrono::Utc::now())
                .with_field("duration_seconds", FieldValue::int(900)),
        )
        .await
        .unwrap()
        .id;
    let results = engine.sync_item(&epic, None, false).await.unwrap();
    let to: Vec<&str> = results.iter().map(|r| r.connection.as_str()).collect();
    assert_eq!(to, ["issues"], "a work item goes to the issue binding only");
    let results = engine.sync_item(&time, None, false).await.unwrap();
    assert_eq!(results.len(), 1);
    assert_eq!(results[0].connection, ConnectionId::new("logs"));
    assert_eq!(results[0].status, PlatformStatus::Synced);
    // A push through the wrong binding is skipped, not written.
    let report = engine
        .push(
            &ConnectionId::new("issues"),
            &ObjectType::new("issue"),
            &time,
        )
        .await
        .unwrap();
    assert_eq!(report.created, 0);
    engine.propagate(100).await.unwrap();
    assert_eq!(
        issues.records(&ObjectType::new("issue")).len(),
        1,
        "no issue for the time record"
    );
    assert_eq!(
        logs.records(&ObjectType::new("worklog")).len(),
        1,
        "no worklog for the epic"
    );
}
