//! Every store conformance suite on SQLite: in memory and on a file, directly and
//! through `Arc<dyn Trait>`, twice on one store (the suites leave a store reusable).

use std::path::PathBuf;
use std::sync::Arc;

use devflow_store_sqlite::SqliteStore;
use devflow_sync_core::clock::ManualClock;
use devflow_sync_core::store::{
    ConnectionStore, LeaseManager, MappingStore, SyncJournal, TokenStore, WorkItemStore,
};
use devflow_sync_testkit::conformance;

/// A fresh database file under the target directory, removed first.
fn db_file(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("sqlite-conformance");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("{name}.db"));
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    path
}

async fn stores(name: &str) -> Vec<SqliteStore> {
    vec![
        SqliteStore::in_memory().await.unwrap(),
        SqliteStore::open(db_file(name)).await.unwrap(),
    ]
}

#[tokio::test]
async fn sqlite_connection_store() {
    for store in stores("connections").await {
        conformance::connection_store(&store).await;
        conformance::connection_store(&store).await;
        conformance::webhook_registrations(&store).await;
        let shared: Arc<dyn ConnectionStore> = Arc::new(store);
        conformance::webhook_registrations(shared.as_ref()).await;
    }
}

#[tokio::test]
async fn sqlite_token_store() {
    for store in stores("tokens").await {
        conformance::token_store(&store).await;
        let shared: Arc<dyn TokenStore> = Arc::new(store);
        conformance::token_store(shared.as_ref()).await;
    }
}

#[tokio::test]
async fn sqlite_mapping_store() {
    for store in stores("mappings").await {
        conformance::mapping_store(&store).await;
        let shared: Arc<dyn MappingStore> = Arc::new(store);
        conformance::mapping_store(shared.as_ref()).await;
    }
}

#[tokio::test]
async fn sqlite_journal() {
    for store in stores("journal").await {
        conformance::sync_journal(&store).await;
        let shared: Arc<dyn SyncJournal> = Arc::new(store);
        conformance::sync_journal(shared.as_ref()).await;
    }
}

#[tokio::test]
async fn sqlite_work_items() {
    for store in stores("items").await {
        conformance::work_item_store(&store).await;
        let shared: Arc<dyn WorkItemStore> = Arc::new(store);
        conformance::work_item_store(shared.as_ref()).await;
    }
}

#[tokio::test]
async fn sqlite_leases() {
    let clock = ManualClock::starting_at_epoch_secs(1_780_000_000);
    for location in ["memory", "file"] {
        let builder = SqliteStore::builder().clock(Arc::new(clock.clone()));
        let builder = match location {
            "memory" => builder.in_memory(),
            _ => builder.path(db_file("leases")),
        };
        let store = builder.open().await.unwrap();
        conformance::lease_manager(&store, &clock).await;
        let shared: Arc<dyn LeaseManager> = Arc::new(store);
        conformance::lease_manager(shared.as_ref(), &clock).await;
    }
}

#[tokio::test]
async fn sqlite_page_store() {
    for store in stores("page").await {
        conformance::page_store(&store).await;
        // Twice on one store: the suite leaves it reusable.
        conformance::page_store(&store).await;
    }
}

#[tokio::test]
async fn sqlite_events() {
    for store in stores("events").await {
        conformance::event_log(&store).await;
        let shared: Arc<dyn devflow_sync_core::store::EventLog> = Arc::new(store);
        conformance::event_log(shared.as_ref()).await;
    }
}
