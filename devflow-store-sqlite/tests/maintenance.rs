//! Retention by age and the restore guard: the [`Maintenance`] suites on SQLite.
//!
//! [`Maintenance`]: devflow_sync_core::store::Maintenance

use std::sync::Arc;

use devflow_store_sqlite::SqliteStore;
use devflow_sync_core::clock::ManualClock;
use devflow_sync_testkit::conformance;

#[tokio::test]
async fn old_history_goes_and_what_is_pending_or_recent_stays() {
    conformance::retention(&SqliteStore::in_memory().await.unwrap()).await;
}

#[tokio::test]
async fn after_a_restore_from_an_old_backup_syncs_refuse_until_cleared() {
    let clock = Arc::new(ManualClock::starting_at_epoch_secs(1_780_000_000));
    let store = SqliteStore::builder()
        .clock(clock.clone())
        .open()
        .await
        .unwrap();
    conformance::restore_guard(Arc::new(store), clock).await;
}
