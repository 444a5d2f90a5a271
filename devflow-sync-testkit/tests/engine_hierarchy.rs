//! The engine enforcing the hierarchy: parents first, orphans refused or held as
//! conflicts, reparents, strict and import modes.

use std::time::Duration;

use devflow_sync_core::Error;
use devflow_sync_core::engine::Resolution;
use devflow_sync_core::merge::Manual;
use devflow_sync_core::model::{ItemId, ItemKind};
use devflow_sync_core::store::{
    ConflictStatus, ConflictType, MappingStore, RunStatus, WorkItemStore,
};
use devflow_sync_core::store::{ConflictStore, RunLog};
use devflow_sync_testkit::harness::Harness;

mod common;
use common::{pull, title};

#[tokio::test]
async fn push_tree_creates_parents_first_with_markers_and_parent_links() {
    let h = Harness::new(Manual);
    let prd = h
        .create_item(ItemKind::Prd, None, "Checkout")
        .await
        .unwrap();
    let epic = h
        .create_item(ItemKind::Epic, Some(&prd), "Cards")
        .await
        .unwrap();
    let story = h
        .create_item(ItemKind::Story, Some(&epic), "Saved card")
        .await
        .unwrap();
    let task = h
        .create_item(ItemKind::Task, Some(&story), "API")
        .await
        .unwrap();
    let sub = h
        .create_item(ItemKind::Subtask, Some(&task), "Tests")
        .await
        .unwrap();
    let report = h
        .engine
        .push_tree(&h.connection, &h.object, &prd)
        .await
        .unwrap();
    assert_eq!(report.created, 5, "{report:?}");
    assert_eq!(report.errors, 0);
    let records = h.remote.records(&h.object);
    assert_eq!(records.len(), 5);
    // Parents were created first, so ids count down the tree, and every parent link
    // points at the parent's record.
    let ext = |id: &ItemId| {
        let mappings = h.mappings.clone();
        let (c, o, id) = (h.connection.clone(), h.object.clone(), id.clone());
        async move {
            mappings
                .link_by_item(&c, &o, &id)
                .await
                .unwrap()
                .unwrap()
                .remote
                .id
        }
    };
    let (p, e, s, t, st) = (
        ext(&prd).await,
        ext(&epic).await,
        ext(&story).await,
        ext(&task).await,
        ext(&sub).await,
    );
    assert_eq!(
        [&p, &e, &s, &t, &st].map(|x| x.as_str().to_owned()),
        ["1", "2", "3", "4", "5"]
    );
    let rec = h.remote.record(&h.object, &st).unwrap();
    assert_eq!(rec.record.parent.as_ref(), Some(&t));
    assert_eq!(rec.marker.as_ref(), Some(&sub));
    assert_eq!(rec.record.kind, Some(ItemKind::Subtask));
    // Nothing changed: a second push is a no-op.
    let again = h
        .engine
        .push_tree(&h.connection, &h.object, &prd)
        .await
        .unwrap();
    assert_eq!(again.unchanged, 5);
    assert_eq!(h.remote.calls().create, 5);
    // The run is in the journal.
    let run = h.journal.run(&report.run_id).await.unwrap().unwrap();
    assert_eq!(run.status, RunStatus::Succeeded);
    assert_eq!(
        h.journal.logs_of_run(&report.run_id).await.unwrap().len(),
        5
    );
}

#[tokio::test]
async fn push_refuses_an_orphan_with_a_hierarchy_error() {
    let h = Harness::new(Manual);
    let story = h
        .create_item(ItemKind::Story, None, "Orphan")
        .await
        .unwrap();
    let err = h
        .engine
        .push(&h.connection, &h.object, &story)
        .await
        .unwrap_err();
    let Error::Hierarchy(v) = err else {
        panic!("{err:?}")
    };
    assert_eq!(v.message, "Story requires a parent");
    assert_eq!(v.suggested_action, "Link to an epic");
    assert!(h.remote.records(&h.object).is_empty());
}

#[tokio::test]
async fn orphan_story_created_remotely_is_a_conflict_until_linked_to_a_parent() {
    let h = Harness::new(Manual);
    let epic = h
        .create_item(ItemKind::Epic, None, "Payments")
        .await
        .unwrap();
    h.engine
        .push(&h.connection, &h.object, &epic)
        .await
        .unwrap();
    let orphan = h.remote.remote_create(
        &h.object,
        Some(ItemKind::Story),
        None,
        title("Made in the provider"),
    );
    let report = pull(&h).await;
    assert_eq!(report.conflicts, 1, "{report:?}");
    let conflicts = h
        .journal
        .conflicts(&h.connection, Some(ConflictStatus::Pending))
        .await
        .unwrap();
    assert_eq!(conflicts.len(), 1);
    let c = &conflicts[0];
    assert_eq!(c.conflict_type, ConflictType::HierarchyViolation);
    assert_eq!(c.message, "Story requires a parent");
    assert_eq!(c.suggested_action, "Link to an epic");
    assert_eq!(c.external.as_ref(), Some(&orphan.id));
    assert_eq!(h.items.len(), 1, "nothing imported");

    // Pulling again records no second conflict.
    h.tick(Duration::from_secs(1));
    pull(&h).await;
    assert_eq!(h.journal.all_conflicts().len(), 1);

    let report = h
        .engine
        .resolve_conflict(
            &c.id,
            Resolution::LinkToParent {
                parent: epic.clone(),
            },
        )
        .await
        .unwrap();
    assert_eq!(report.created, 1, "{report:?}");
    let settled = h.journal.conflict(&c.id).await.unwrap().unwrap();
    assert_eq!(settled.status, ConflictStatus::Resolved);
    assert_eq!(settled.resolution.as_deref(), Some("link_to_parent"));
    // The provider record now sits under the epic's record; the host has the story.
    let epic_ext = h.external_id(&epic).await;
    assert_eq!(
        h.remote
            .record(&h.object, &orphan.id)
            .unwrap()
            .record
            .parent,
        Some(epic_ext)
    );
    let link = h
        .mappings
        .link_by_external(&h.connection, &h.object, &orphan.id)
        .await
        .unwrap()
        .unwrap();
    let story = h.items.get(&link.item).await.unwrap().unwrap();
    assert_eq!(story.record.parent.as_ref(), Some(&epic));
    assert_eq!(
        story.record.fields.get("title").as_str(),
        Some("Made in the provider")
    );
}

#[tokio::test]
async fn strict_mode_records_external_creation_and_import_mode_imports() {
    let h = Harness::new(Manual);
    let epic = h
        .remote
        .remote_create(&h.object, Some(ItemKind::Epic), None, title("From Jira"));
    pull(&h).await;
    let conflicts = h.journal.all_conflicts();
    assert_eq!(conflicts.len(), 1);
    assert_eq!(conflicts[0].conflict_type, ConflictType::ExternalCreation);
    assert_eq!(conflicts[0].message, "Epic was created outside the host");
    // Resolving by import brings it in.
    h.engine
        .resolve_conflict(&conflicts[0].id, Resolution::Import)
        .await
        .unwrap();
    assert_eq!(h.items.len(), 1);

    let h = Harness::importing(Manual);
    let epic2 = h
        .remote
        .remote_create(&h.object, Some(ItemKind::Epic), None, title("E"));
    let story = h.remote.remote_create(
        &h.object,
        Some(ItemKind::Story),
        Some(epic2.id.clone()),
        title("S"),
    );
    let report = pull(&h).await;
    assert_eq!(report.created, 2, "{report:?}");
    let s = h
        .mappings
        .link_by_external(&h.connection, &h.object, &story.id)
        .await
        .unwrap()
        .unwrap();
    let e = h
        .mappings
        .link_by_external(&h.connection, &h.object, &epic2.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        h.items.get(&s.item).await.unwrap().unwrap().record.parent,
        Some(e.item)
    );
    let _ = epic;
}

#[tokio::test]
async fn a_reparent_on_either_side_travels_and_an_illegal_one_is_a_conflict() {
    let h = Harness::new(Manual);
    let e1 = h.create_item(ItemKind::Epic, None, "E1").await.unwrap();
    let e2 = h.create_item(ItemKind::Epic, None, "E2").await.unwrap();
    let s = h
        .create_item(ItemKind::Story, Some(&e1), "S")
        .await
        .unwrap();
    let t = h.create_item(ItemKind::Task, Some(&s), "T").await.unwrap();
    h.engine.push(&h.connection, &h.object, &t).await.unwrap();
    h.engine.push(&h.connection, &h.object, &e2).await.unwrap();
    let ext = |id: ItemId| {
        let m = h.mappings.clone();
        let (c, o) = (h.connection.clone(), h.object.clone());
        async move {
            m.link_by_item(&c, &o, &id)
                .await
                .unwrap()
                .unwrap()
                .remote
                .id
        }
    };
    let (s_ext, e2_ext, t_ext) = (
        ext(s.clone()).await,
        ext(e2.clone()).await,
        ext(t.clone()).await,
    );
    // The provider moves the story under E2: the host follows.
    h.tick(Duration::from_secs(1));
    h.remote
        .remote_set_parent(&h.object, &s_ext, Some(e2_ext.clone()))
        .unwrap();
    pull(&h).await;
    assert_eq!(
        h.items.get(&s).await.unwrap().unwrap().record.parent,
        Some(e2.clone())
    );
    // The provider moves the task under an epic: not legal, so a conflict, host unchanged.
    h.tick(Duration::from_secs(1));
    h.remote
        .remote_set_parent(&h.object, &t_ext, Some(e2_ext))
        .unwrap();
    let report = pull(&h).await;
    assert_eq!(report.conflicts, 1, "{report:?}");
    let c = h.journal.all_conflicts().pop().unwrap();
    assert_eq!(
        c.message,
        "Task cannot have epic as parent. Valid parents: story"
    );
    assert_eq!(
        h.items.get(&t).await.unwrap().unwrap().record.parent,
        Some(s.clone())
    );
}

#[tokio::test]
async fn create_parent_makes_and_pushes_the_parent_then_links_the_orphan() {
    let h = Harness::new(Manual);
    let task = h.remote.remote_create(
        &h.object,
        Some(ItemKind::Story),
        None,
        title("Lonely story"),
    );
    pull(&h).await;
    let c = h.journal.all_conflicts().remove(0);
    // A parent of the wrong kind is refused with the rule.
    let err = h
        .engine
        .resolve_conflict(
            &c.id,
            Resolution::CreateParent {
                kind: ItemKind::Prd,
                title: "P".into(),
                parent: None,
            },
        )
        .await
        .unwrap_err();
    let Error::Hierarchy(v) = err else {
        panic!("{err:?}")
    };
    assert_eq!(
        v.message,
        "Story cannot have PRD as parent. Valid parents: epic"
    );
    assert!(
        h.items.is_empty(),
        "nothing was created for a refused resolution: {:?}",
        h.items.all()
    );
    assert!(h.remote.records(&h.object).len() == 1);
    let c = h
        .journal
        .conflicts(&h.connection, Some(ConflictStatus::Pending))
        .await
        .unwrap()
        .remove(0);
    h.engine
        .resolve_conflict(
            &c.id,
            Resolution::CreateParent {
                kind: ItemKind::Epic,
                title: "New epic".into(),
                parent: None,
            },
        )
        .await
        .unwrap();
    let link = h
        .mappings
        .link_by_external(&h.connection, &h.object, &task.id)
        .await
        .unwrap()
        .unwrap();
    let story = h.items.get(&link.item).await.unwrap().unwrap();
    let epic = h
        .items
        .get(story.record.parent.as_ref().unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(epic.record.kind, Some(ItemKind::Epic));
    assert_eq!(epic.record.fields.get("title").as_str(), Some("New epic"));
    let epic_ext = h
        .mappings
        .link_by_item(&h.connection, &h.object, &epic.id)
        .await
        .unwrap()
        .unwrap()
        .remote
        .id;
    assert_eq!(
        h.remote.record(&h.object, &task.id).unwrap().record.parent,
        Some(epic_ext)
    );
}
