//! Retention by age and the restore guard: the [`Maintenance`] suites on Postgres, and
//! a restore marked in one tenant leaving another alone.
//!
//! [`Maintenance`]: devflow_sync_core::store::Maintenance

use std::sync::Arc;
use std::time::Duration;

use devflow_sync_core::clock::{Clock, ManualClock};
use devflow_sync_core::model::{ConnectionId, ObjectType};
use devflow_sync_core::store::{Maintenance, MappingStore, SyncCursor};
use devflow_sync_testkit::conformance;

mod support;

#[tokio::test]
async fn old_history_goes_and_what_is_pending_or_recent_stays() {
    let Some(store) = support::store("retention").await else {
        return;
    };
    conformance::retention(&store).await;
}

#[tokio::test]
async fn after_a_restore_from_an_old_backup_syncs_refuse_until_cleared() {
    let Some(url) = support::url() else { return };
    let clock = Arc::new(ManualClock::starting_at_epoch_secs(1_780_000_000));
    let store = support::builder(&url, &support::fresh_schema("restore"))
        .clock(clock.clone())
        .connect()
        .await
        .unwrap();
    conformance::restore_guard(Arc::new(store), clock).await;
}

#[tokio::test]
async fn a_restore_marked_for_one_tenant_leaves_the_other_alone() {
    let Some(url) = support::url() else { return };
    let schema = support::fresh_schema("restore_tenants");
    let acme = support::builder(&url, &schema)
        .tenant("acme")
        .connect()
        .await
        .unwrap();
    let globex = support::builder(&url, &schema)
        .tenant("globex")
        .connect()
        .await
        .unwrap();
    let (conn, object) = (ConnectionId::new("c"), ObjectType::new("issue"));
    for store in [&acme, &globex] {
        store
            .put_cursor(&conn, &object, &SyncCursor::default())
            .await
            .unwrap();
    }
    let now = devflow_sync_core::clock::SystemClock.now();
    let day = Duration::from_secs(86_400);
    let report = acme
        .mark_restored(devflow_sync_core::clock::before(now, day * 2), day, now)
        .await
        .unwrap();
    assert_eq!(report.scopes, vec![(conn.clone(), object.clone())]);
    assert!(
        acme.cursor(&conn, &object).await.is_err(),
        "acme must resync"
    );
    assert!(globex.resync_required().await.unwrap().is_empty());
    assert!(
        globex.cursor(&conn, &object).await.is_ok(),
        "globex was not restored"
    );
}
