//! Two workers draining one webhook inbox at once: every delivery is applied exactly
//! once.

use std::sync::Arc;

use devflow_sync_core::engine::{EngineConfig, ImportMode, SyncEngine};
use devflow_sync_core::hierarchy::HierarchyRules;
use devflow_sync_core::merge::Manual;
use devflow_sync_core::model::{FieldValue, Fields, ItemKind};
use devflow_sync_core::store::InboxStatus;
use devflow_sync_testkit::harness::{Harness, PROVIDER};

const DELIVERIES: usize = 1_000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_workers_apply_each_of_1000_deliveries_once() {
    let h = Harness::importing(Manual);
    for i in 0..DELIVERIES {
        h.remote.remote_create(
            &h.object,
            Some(ItemKind::Epic),
            None,
            Fields::new().with("title", FieldValue::text(format!("epic {i}"))),
        );
    }
    let hooks = h.remote.take_webhooks();
    assert_eq!(hooks.len(), DELIVERIES);
    for hook in &hooks {
        h.engine
            .accept_webhook(&PROVIDER.into(), &h.connection, &hook.headers, &hook.body)
            .await
            .unwrap();
    }
    let worker = |name: &str| {
        SyncEngine::builder()
            .provider(h.remote.clone())
            .bind("conn-1", PROVIDER, "issue")
            .work_items(h.items.clone())
            .mappings(h.mappings.clone())
            .journal(h.journal.clone())
            .clock(h.clock.clone())
            .rules(HierarchyRules::devflow())
            .policy(Arc::new(Manual))
            .config(EngineConfig {
                worker_id: name.into(),
                import_mode: ImportMode::Import,
                ..EngineConfig::default()
            })
            .build()
            .unwrap()
    };
    let drain = |engine: SyncEngine| {
        tokio::spawn(async move {
            let mut applied = 0;
            loop {
                let report = engine.process_inbox(25).await.unwrap();
                if report.outcomes.is_empty() {
                    return applied;
                }
                applied += report.outcomes.len();
                tokio::task::yield_now().await;
            }
        })
    };
    let (a, b) = (drain(worker("worker-a")), drain(worker("worker-b")));
    let (a, b) = (a.await.unwrap(), b.await.unwrap());
    assert_eq!(a + b, DELIVERIES, "worker-a applied {a}, worker-b {b}");
    let entries = h.journal.all_inbox();
    assert_eq!(entries.len(), DELIVERIES);
    assert!(
        entries.iter().all(|e| e.status == InboxStatus::Processed
            && e.attempts == 1
            && e.claimed_by.is_none()),
        "every delivery processed once and its claim given back"
    );
    assert_eq!(
        h.items.all().len(),
        DELIVERIES,
        "one item per record, no duplicate"
    );
}
