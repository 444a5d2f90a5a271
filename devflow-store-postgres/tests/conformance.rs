//! Every store conformance suite on Postgres, directly and through `Arc<dyn Trait>`,
//! twice on one store (the suites leave a store reusable), and two tenants in one
//! schema never seeing each other's rows.

use std::sync::Arc;

use devflow_sync_core::clock::ManualClock;
use devflow_sync_core::model::{ItemId, Record};
use devflow_sync_core::store::{
    ConnectionStore, LeaseManager, MappingStore, SyncJournal, TokenStore, WorkItemStore,
};
use devflow_sync_testkit::conformance;

mod support;

#[tokio::test]
async fn postgres_connection_store() {
    let Some(store) = support::store("connections").await else {
        return;
    };
    conformance::connection_store(&store).await;
    conformance::connection_store(&store).await;
    conformance::webhook_registrations(&store).await;
    let shared: Arc<dyn ConnectionStore> = Arc::new(store);
    conformance::webhook_registrations(shared.as_ref()).await;
}

#[tokio::test]
async fn postgres_token_store() {
    let Some(store) = support::store("tokens").await else {
        return;
    };
    conformance::token_store(&store).await;
    let shared: Arc<dyn TokenStore> = Arc::new(store);
    conformance::token_store(shared.as_ref()).await;
}

#[tokio::test]
async fn postgres_mapping_store() {
    let Some(store) = support::store("mappings").await else {
        return;
    };
    conformance::mapping_store(&store).await;
    let shared: Arc<dyn MappingStore> = Arc::new(store);
    conformance::mapping_store(shared.as_ref()).await;
}

#[tokio::test]
async fn postgres_journal() {
    let Some(store) = support::store("journal").await else {
        return;
    };
    conformance::sync_journal(&store).await;
    let shared: Arc<dyn SyncJournal> = Arc::new(store);
    conformance::sync_journal(shared.as_ref()).await;
}

#[tokio::test]
async fn postgres_work_items() {
    let Some(store) = support::store("items").await else {
        return;
    };
    conformance::work_item_store(&store).await;
    let shared: Arc<dyn WorkItemStore> = Arc::new(store);
    conformance::work_item_store(shared.as_ref()).await;
}

#[tokio::test]
async fn postgres_leases() {
    let Some(url) = support::url() else { return };
    let clock = ManualClock::starting_at_epoch_secs(1_780_000_000);
    let store = support::builder(&url, &support::fresh_schema("leases"))
        .clock(Arc::new(clock.clone()))
        .connect()
        .await
        .unwrap();
    conformance::lease_manager(&store, &clock).await;
    let shared: Arc<dyn LeaseManager> = Arc::new(store);
    conformance::lease_manager(shared.as_ref(), &clock).await;
}

#[tokio::test]
async fn postgres_page_store() {
    let Some(store) = support::store("page").await else {
        return;
    };
    conformance::page_store(&store).await;
    conformance::page_store(&store).await;
}

#[tokio::test]
async fn tenants_share_a_schema_without_crossing() {
    let Some(acme) = support::store("tenants").await else {
        return;
    };
    let acme = acme.for_tenant("acme");
    let globex = acme.for_tenant("globex");
    let record = Record::new("work_item", chrono::Utc::now()).with_field("title", "A");
    let item = acme.create(None, record.clone()).await.unwrap();
    assert!(
        WorkItemStore::get(&globex, &item.id)
            .await
            .unwrap()
            .is_none(),
        "globex sees no acme item"
    );
    // Each tenant counts its own ids and may use the same one.
    let theirs = globex.create(None, record).await.unwrap();
    assert_eq!(theirs.id, item.id);
    assert_eq!(
        WorkItemStore::get(&acme, &ItemId::new(item.id.as_str()))
            .await
            .unwrap()
            .unwrap()
            .record
            .fields
            .get("title")
            .as_str(),
        Some("A")
    );
    conformance::token_store(&acme).await;
    conformance::token_store(&globex).await;
}

#[tokio::test]
async fn postgres_events() {
    let Some(store) = support::store("events").await else {
        return;
    };
    conformance::event_log(&store).await;
    let other = store.for_tenant("other");
    assert!(
        devflow_sync_core::store::EventLog::events_after(&other, 0, 10)
            .await
            .unwrap()
            .is_empty(),
        "another tenant's events stay apart"
    );
    let shared: Arc<dyn devflow_sync_core::store::EventLog> = Arc::new(store);
    conformance::event_log(shared.as_ref()).await;
}
