//! Deleting an item in the host: each system that holds it is told per the policy.

use std::sync::Arc;

use devflow_sync_core::engine::{DeletionPolicy, PlatformStatus, SyncEngine};
use devflow_sync_core::memory_provider::MemoryProvider;
use devflow_sync_core::model::{ItemKind, ObjectType, Record};

async fn engine(policy: DeletionPolicy) -> (SyncEngine, Vec<Arc<MemoryProvider>>) {
    let clock = Arc::new(devflow_sync_core::clock::SystemClock);
    let remotes: Vec<Arc<MemoryProvider>> = ["jira", "github"]
        .iter()
        .map(|k| Arc::new(MemoryProvider::new(*k, clock.clone())))
        .collect();
    let engine = SyncEngine::builder()
        .provider(remotes[0].clone())
        .provider(remotes[1].clone())
        .bind("jira-1", "jira", "issue")
        .bind("gh-1", "github", "issue")
        .deletion_policy(policy)
        .build()
        .unwrap();
    (engine, remotes)
}

#[tokio::test]
async fn a_host_delete_reaches_every_system_per_the_policy() {
    for policy in [
        DeletionPolicy::Propagate,
        DeletionPolicy::MarkInactiveKeepLink,
    ] {
        let (engine, remotes) = engine(policy).await;
        let record = Record::new("work_item", chrono::Utc::now())
            .with_kind(ItemKind::Epic)
            .with_field("title", "E");
        let item = engine.work_items().create(None, record).await.unwrap().id;
        let pushed = engine.sync_item(&item, None, false).await.unwrap();
        assert_eq!(pushed.len(), 2, "{pushed:#?}");
        let results = engine.delete_item(&item, None).await.unwrap();
        assert_eq!(results.len(), 2, "{policy:?}: {results:#?}");
        let object = ObjectType::new("issue");
        for (r, remote) in results.iter().zip(&remotes) {
            let live: Vec<_> = remote
                .records(&object)
                .into_iter()
                .filter(|x| !x.deleted)
                .collect();
            match policy {
                DeletionPolicy::Propagate => {
                    assert_eq!(r.status, PlatformStatus::Deleted, "{r:?}");
                    assert!(live.is_empty(), "deleted there");
                }
                _ => {
                    assert_eq!(r.status, PlatformStatus::Skipped, "{r:?}");
                    assert_eq!(live.len(), 1, "kept there");
                }
            }
        }
        assert!(
            !engine
                .work_items()
                .get(&item)
                .await
                .unwrap()
                .unwrap()
                .active
        );
        let again = engine.sync_item(&item, None, false).await.unwrap();
        assert!(
            again
                .iter()
                .all(|r| r.status != PlatformStatus::Synced || r.report.created == 0),
            "not pushed again: {again:#?}"
        );
    }
}
