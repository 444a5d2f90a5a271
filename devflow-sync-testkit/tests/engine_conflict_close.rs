//! A field conflict closes by itself when the sides later agree.

use std::time::Duration;

use devflow_sync_core::merge::Manual;
use devflow_sync_core::model::ItemKind;
use devflow_sync_core::store::{ConflictStatus, WorkItemStore};
use devflow_sync_testkit::harness::Harness;

mod common;
use common::{pull, set_title, title};

#[tokio::test]
async fn a_field_conflict_closes_when_a_person_makes_the_sides_agree() {
    let h = Harness::new(Manual);
    let epic = h.create_item(ItemKind::Epic, None, "Base").await.unwrap();
    h.engine
        .push(&h.connection, &h.object, &epic)
        .await
        .unwrap();
    let ext = h.external_id(&epic).await;
    h.tick(Duration::from_secs(10));
    set_title(&h, &epic, "Host title").await;
    h.tick(Duration::from_secs(60));
    h.remote
        .remote_edit(&h.object, &ext, title("Remote title"))
        .unwrap();
    assert_eq!(pull(&h).await.conflicts, 1);
    assert_eq!(h.journal.all_conflicts()[0].status, ConflictStatus::Pending);

    // Someone types the host's title in the provider too: nothing is left to decide.
    h.tick(Duration::from_secs(60));
    h.remote
        .remote_edit(&h.object, &ext, title("Host title"))
        .unwrap();
    let report = pull(&h).await;
    assert_eq!(report.conflicts, 0, "{report:?}");
    let c = &h.journal.all_conflicts()[0];
    assert_eq!(c.status, ConflictStatus::Resolved, "{c:?}");
    assert_eq!(c.resolution.as_deref(), Some("the sides agree"));
    let host = h.items.get(&epic).await.unwrap().unwrap();
    assert_eq!(host.record.fields.get("title").as_str(), Some("Host title"));
}
