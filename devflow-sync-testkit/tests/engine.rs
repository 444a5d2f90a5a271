//! The engine against the in-memory provider, one operation at a time.

use std::time::Duration;

use devflow_sync_core::Error;
use devflow_sync_core::engine::{DeletionPolicy, Outcome, PlanRequest, PullBudget, Resolution};
use devflow_sync_core::merge::{LastWriterWins, Manual};
use devflow_sync_core::model::{FieldValue, Fields, ItemId, ItemKind};
use devflow_sync_core::provider::Headers;
use devflow_sync_core::store::{
    ConflictStatus, ConflictType, ConnectionStatus, Exclusion, InboxStatus, ItemUpdate,
    MappingStore, RunStatus, WorkItemStore,
};
use devflow_sync_core::store::{ConflictStore, HealthStore, RunLog};
use devflow_sync_testkit::harness::{Harness, PROVIDER};
use devflow_sync_testkit::memory_provider::{FaultKind, Faults, Op};

fn title(t: &str) -> Fields {
    Fields::new().with("title", t)
}

async fn pull(h: &Harness) -> devflow_sync_core::engine::SyncReport {
    h.pull().await.unwrap()
}

async fn set_title(h: &Harness, id: &ItemId, value: &str) {
    let item = h.items.get(id).await.unwrap().unwrap();
    let old = item.record.fields.get("title").clone();
    h.items
        .update(
            id,
            &ItemUpdate {
                changes: vec![devflow_sync_core::model::FieldChange::new(
                    "title", old, value,
                )],
                ..Default::default()
            },
            None,
        )
        .await
        .unwrap();
}

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
async fn concurrent_edit_is_a_conflict_under_manual_and_settled_under_last_writer_wins() {
    for lww in [false, true] {
        let h = if lww {
            Harness::new(LastWriterWins::new(Duration::from_secs(2)))
        } else {
            Harness::new(Manual)
        };
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
        let report = pull(&h).await;
        let host = h.items.get(&epic).await.unwrap().unwrap();
        let remote = h.remote.record(&h.object, &ext).unwrap();
        if lww {
            assert_eq!(report.updated, 1, "{report:?}");
            assert_eq!(
                host.record.fields.get("title").as_str(),
                Some("Remote title")
            );
            assert!(h.journal.all_conflicts().is_empty());
        } else {
            assert_eq!(report.conflicts, 1, "{report:?}");
            let c = &h.journal.all_conflicts()[0];
            assert_eq!(c.conflict_type, ConflictType::Field);
            assert_eq!(c.field.as_deref(), Some("title"));
            assert_eq!(c.local.as_str(), Some("Host title"));
            assert_eq!(c.remote.as_str(), Some("Remote title"));
            assert_eq!(host.record.fields.get("title").as_str(), Some("Host title"));
            assert_eq!(
                remote.record.fields.get("title").as_str(),
                Some("Remote title")
            );
            // Settle with the host's value: both sides get it, and the next pull is quiet.
            h.engine
                .resolve_conflict(&c.id, Resolution::UseHost)
                .await
                .unwrap();
            let remote = h.remote.record(&h.object, &ext).unwrap();
            assert_eq!(
                remote.record.fields.get("title").as_str(),
                Some("Host title")
            );
            assert_eq!(
                h.journal.all_conflicts()[0].status,
                ConflictStatus::Resolved
            );
            h.tick(Duration::from_secs(1));
            let quiet = pull(&h).await;
            assert_eq!(quiet.conflicts + quiet.updated, 0, "{quiet:?}");
        }
    }
}

#[tokio::test]
async fn a_create_retried_after_a_timeout_makes_no_duplicate() {
    let h = Harness::new(Manual);
    let epic = h.create_item(ItemKind::Epic, None, "Once").await.unwrap();
    h.remote
        .fail_next(Op::Create, FaultKind::TimeoutAfterCommit);
    let err = h
        .engine
        .push(&h.connection, &h.object, &epic)
        .await
        .unwrap_err();
    assert!(err.is_retryable(), "{err:?}");
    assert_eq!(h.remote.records(&h.object).len(), 1, "the create happened");
    // The retry finds the record by its marker instead of creating another.
    let report = h
        .engine
        .push(&h.connection, &h.object, &epic)
        .await
        .unwrap();
    assert_eq!(report.outcomes[0].outcome, Outcome::Linked, "{report:?}");
    assert_eq!(h.remote.records(&h.object).len(), 1);
    assert_eq!(h.remote.calls().create, 1);
    assert_eq!(h.remote.calls().find_by_marker, 1);
    // A pull that sees the record finds it linked.
    pull(&h).await;
    assert_eq!(h.items.len(), 1);
    assert!(h.journal.all_conflicts().is_empty());
}

#[tokio::test]
async fn a_version_mismatch_on_update_rereads_and_merges() {
    let h = Harness::new(Manual);
    let epic = h.create_item(ItemKind::Epic, None, "T").await.unwrap();
    h.engine
        .push(&h.connection, &h.object, &epic)
        .await
        .unwrap();
    let ext = h.external_id(&epic).await;
    set_title(&h, &epic, "New title").await;
    h.remote.edit_before_next_update(
        &h.object,
        &ext,
        Fields::new().with("status", FieldValue::enumeration("done")),
    );
    let report = h
        .engine
        .push(&h.connection, &h.object, &epic)
        .await
        .unwrap();
    assert_eq!(report.updated, 1, "{report:?}");
    let remote = h.remote.record(&h.object, &ext).unwrap();
    let host = h.items.get(&epic).await.unwrap().unwrap();
    assert_eq!(
        remote.record.fields.get("title").as_str(),
        Some("New title")
    );
    assert_eq!(host.record.fields.get("status").as_str(), Some("done"));
    assert_eq!(host.record.fields, remote.record.fields);
}

#[tokio::test]
async fn duplicate_and_out_of_order_webhooks_change_nothing() {
    let h = Harness::new(Manual);
    let epic = h.create_item(ItemKind::Epic, None, "v0").await.unwrap();
    h.engine
        .push(&h.connection, &h.object, &epic)
        .await
        .unwrap();
    let ext = h.external_id(&epic).await;
    h.remote.take_webhooks();
    h.tick(Duration::from_secs(1));
    h.remote.remote_edit(&h.object, &ext, title("v1")).unwrap();
    h.tick(Duration::from_secs(1));
    h.remote.remote_edit(&h.object, &ext, title("v2")).unwrap();
    let hooks = h.remote.take_webhooks();
    assert_eq!(hooks.len(), 2);
    // Newest first, then the older one, then the newest again.
    for hook in [&hooks[1], &hooks[0], &hooks[1]] {
        h.engine
            .accept_webhook(&PROVIDER.into(), &h.connection, &hook.headers, &hook.body)
            .await
            .unwrap();
        h.engine.process_inbox(10).await.unwrap();
    }
    let host = h.items.get(&epic).await.unwrap().unwrap();
    assert_eq!(host.record.fields.get("title").as_str(), Some("v2"));
    let version = host.record.version.clone();
    // The duplicate was dropped at the door; the old one skipped as older than the base.
    let inbox = h.journal.all_inbox();
    assert_eq!(inbox.len(), 2);
    assert!(inbox.iter().all(|e| e.status == InboxStatus::Processed));
    // Delivering everything again changes nothing.
    for hook in &hooks {
        let accepted = h
            .engine
            .accept_webhook(&PROVIDER.into(), &h.connection, &hook.headers, &hook.body)
            .await
            .unwrap();
        assert!(accepted.duplicate);
    }
    h.engine.process_inbox(10).await.unwrap();
    assert_eq!(
        h.items.get(&epic).await.unwrap().unwrap().record.version,
        version
    );
}

#[tokio::test]
async fn the_engines_own_write_echoed_back_is_a_no_op() {
    let h = Harness::new(Manual);
    let epic = h.create_item(ItemKind::Epic, None, "Echo").await.unwrap();
    h.engine
        .push(&h.connection, &h.object, &epic)
        .await
        .unwrap();
    set_title(&h, &epic, "Echo 2").await;
    h.engine
        .push(&h.connection, &h.object, &epic)
        .await
        .unwrap();
    let before = h.items.get(&epic).await.unwrap().unwrap();
    let updates = h.remote.calls().update;
    let n = h.deliver_webhooks().await.unwrap();
    assert_eq!(n, 2, "the create and the update each came back");
    let report = h.engine.process_inbox(10).await.unwrap();
    assert_eq!(report.updated, 0);
    let after = h.items.get(&epic).await.unwrap().unwrap();
    assert_eq!(after.record.version, before.record.version);
    assert_eq!(h.remote.calls().update, updates, "nothing was written back");
}

#[tokio::test]
async fn a_remote_delete_marks_the_host_item_inactive_and_keeps_the_link() {
    let h = Harness::new(Manual);
    let epic = h.create_item(ItemKind::Epic, None, "Doomed").await.unwrap();
    h.engine
        .push(&h.connection, &h.object, &epic)
        .await
        .unwrap();
    let ext = h.external_id(&epic).await;
    h.tick(Duration::from_secs(1));
    h.remote.remote_delete(&h.object, &ext).unwrap();
    let report = pull(&h).await;
    assert_eq!(report.deleted, 1, "{report:?}");
    let host = h.items.get(&epic).await.unwrap().unwrap();
    assert!(!host.active);
    let link = h
        .mappings
        .link_by_item(&h.connection, &h.object, &epic)
        .await
        .unwrap()
        .unwrap();
    assert!(link.base.remote_deleted);
    let status = h.engine.status(&epic).await.unwrap();
    assert!(status[0].remote_deleted);

    // Propagate deletes the host item and the link instead.
    let h = Harness::with(Manual, |b| b.deletion_policy(DeletionPolicy::Propagate));
    let epic = h.create_item(ItemKind::Epic, None, "Doomed").await.unwrap();
    h.engine
        .push(&h.connection, &h.object, &epic)
        .await
        .unwrap();
    let ext = h.external_id(&epic).await;
    h.remote.remote_delete(&h.object, &ext).unwrap();
    h.deliver_webhooks().await.unwrap();
    assert!(h.items.get(&epic).await.unwrap().is_none());
    assert!(
        h.mappings
            .link_by_item(&h.connection, &h.object, &epic)
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn an_excluded_entity_is_skipped_both_ways() {
    let h = Harness::importing(Manual);
    let epic = h
        .create_item(ItemKind::Epic, None, "Private")
        .await
        .unwrap();
    h.mappings
        .exclude(&h.connection, &h.object, &Exclusion::Item(epic.clone()))
        .await
        .unwrap();
    let report = h
        .engine
        .push(&h.connection, &h.object, &epic)
        .await
        .unwrap();
    assert_eq!(report.excluded, 1);
    assert!(h.remote.records(&h.object).is_empty());

    let theirs = h
        .remote
        .remote_create(&h.object, Some(ItemKind::Epic), None, title("Theirs"));
    h.mappings
        .exclude(
            &h.connection,
            &h.object,
            &Exclusion::External(theirs.id.clone()),
        )
        .await
        .unwrap();
    let report = pull(&h).await;
    assert_eq!(report.excluded, 1);
    assert_eq!(h.items.len(), 1);

    // Keep-external on a conflict excludes the record too.
    let h = Harness::new(Manual);
    let rec = h
        .remote
        .remote_create(&h.object, Some(ItemKind::Epic), None, title("Theirs"));
    pull(&h).await;
    let c = h.journal.all_conflicts().remove(0);
    h.engine
        .resolve_conflict(&c.id, Resolution::KeepExternal)
        .await
        .unwrap();
    h.remote
        .remote_edit(&h.object, &rec.id, title("Edited"))
        .unwrap();
    let report = pull(&h).await;
    assert_eq!(report.excluded, 1);
    assert!(h.items.is_empty());
}

#[tokio::test]
async fn plan_writes_nothing_and_reports_what_it_would_do() {
    let h = Harness::importing(Manual);
    let epic = h
        .remote
        .remote_create(&h.object, Some(ItemKind::Epic), None, title("E"));
    h.remote.remote_create(
        &h.object,
        Some(ItemKind::Story),
        Some(epic.id.clone()),
        title("S"),
    );
    h.remote
        .remote_create(&h.object, Some(ItemKind::Task), None, title("orphan"));
    let prd = h.create_item(ItemKind::Prd, None, "P").await.unwrap();
    let calls = h.remote.calls();
    let logs = h.journal.all_logs().len();

    let plan = h
        .engine
        .plan(PlanRequest::Pull {
            connection: h.connection.clone(),
            object: h.object.clone(),
        })
        .await
        .unwrap();
    assert_eq!(plan.report.created, 2, "{plan:?}");
    assert_eq!(plan.conflicts.len(), 1);
    assert_eq!(plan.conflicts[0].message, "Task requires a parent");
    assert_eq!(
        plan.writes
            .iter()
            .filter(|w| matches!(
                w,
                devflow_sync_core::engine::PlannedWrite::CreateItem { .. }
            ))
            .count(),
        2
    );

    let plan = h
        .engine
        .plan(PlanRequest::Push {
            connection: h.connection.clone(),
            object: h.object.clone(),
            item: prd.clone(),
        })
        .await
        .unwrap();
    assert!(matches!(
        plan.writes[0],
        devflow_sync_core::engine::PlannedWrite::CreateRemote { .. }
    ));

    // Nothing was written anywhere.
    assert_eq!(h.items.len(), 1);
    assert!(
        h.mappings
            .links(&h.connection, &h.object)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        h.mappings
            .cursor(&h.connection, &h.object)
            .await
            .unwrap()
            .is_none()
    );
    assert!(h.journal.all_conflicts().is_empty());
    assert_eq!(h.journal.all_logs().len(), logs);
    assert_eq!(h.remote.records(&h.object).len(), 3);
    assert_eq!(h.remote.calls().create, calls.create);
    assert_eq!(h.remote.calls().update, calls.update);
}

#[tokio::test]
async fn pull_pages_with_a_cursor_and_a_lagging_feed_is_caught_by_the_lookback() {
    let h = Harness::with(Manual, |b| {
        let mut config = devflow_sync_core::engine::EngineConfig {
            import_mode: devflow_sync_core::engine::ImportMode::Import,
            page_size: 3,
            lookback: Duration::from_secs(120),
            ..Default::default()
        };
        config.worker_id = "w1".into();
        b.config(config)
    });
    for i in 0..7 {
        h.remote.remote_create(
            &h.object,
            Some(ItemKind::Epic),
            None,
            title(&format!("e{i}")),
        );
        h.tick(Duration::from_secs(1));
    }
    // One page only: the cursor remembers where the pass stopped.
    let report = h
        .engine
        .pull(&h.connection, &h.object, PullBudget::pages(1))
        .await
        .unwrap();
    assert_eq!(report.created, 3);
    let cursor = h
        .mappings
        .cursor(&h.connection, &h.object)
        .await
        .unwrap()
        .unwrap();
    assert!(cursor.pass.is_some());
    let report = pull(&h).await;
    assert_eq!(report.created, 4, "{report:?}");
    assert_eq!(h.items.len(), 7);

    // A change that shows up in the feed 60 s late, stamped before the high-water mark.
    h.remote.set_faults(
        Faults {
            feed_lag: Duration::from_secs(60),
            ..Faults::default()
        },
        1,
    );
    let late = h
        .remote
        .remote_create(&h.object, Some(ItemKind::Epic), None, title("late"));
    h.tick(Duration::from_secs(5));
    h.remote.clear_faults();
    h.remote
        .remote_create(&h.object, Some(ItemKind::Epic), None, title("on time"));
    h.tick(Duration::from_secs(1));
    let report = pull(&h).await;
    assert_eq!(report.created, 1, "{report:?}");
    h.tick(Duration::from_secs(60));
    let report = pull(&h).await;
    assert_eq!(
        report.created, 1,
        "the late record is found by the lookback: {report:?}"
    );
    assert!(
        h.mappings
            .link_by_external(&h.connection, &h.object, &late.id)
            .await
            .unwrap()
            .is_some()
    );
    // Re-listing the lookback window applies nothing twice.
    let report = pull(&h).await;
    assert_eq!(report.created + report.updated, 0, "{report:?}");
    assert_eq!(h.items.len(), 9);
}

#[tokio::test]
async fn a_failed_page_leaves_the_cursor_and_the_retry_applies_it_once() {
    let h = Harness::importing(Manual);
    for i in 0..3 {
        h.remote.remote_create(
            &h.object,
            Some(ItemKind::Epic),
            None,
            title(&format!("e{i}")),
        );
    }
    h.engine.work_items();
    // The second record's import fails: the host store is fine, the provider's `get`
    // is not used; make the page fail through a transient list error instead.
    h.remote.fail_next(Op::List, FaultKind::Transient);
    let err = h
        .engine
        .pull(&h.connection, &h.object, PullBudget::UNLIMITED)
        .await
        .unwrap_err();
    assert!(err.is_retryable());
    assert!(
        h.mappings
            .cursor(&h.connection, &h.object)
            .await
            .unwrap()
            .is_none()
    );
    let health = h.journal.health(&h.connection).await.unwrap().unwrap();
    assert_eq!(health.status, ConnectionStatus::Error);
    let report = pull(&h).await;
    assert_eq!(report.created, 3);
    assert_eq!(
        h.journal
            .health(&h.connection)
            .await
            .unwrap()
            .unwrap()
            .status,
        ConnectionStatus::Active
    );
}

#[tokio::test]
async fn webhooks_with_a_bad_token_are_rejected_and_failing_ones_dead_letter() {
    let h = Harness::new(Manual);
    let err = h
        .engine
        .accept_webhook(
            &PROVIDER.into(),
            &h.connection,
            &Headers::new().with("x-memory-signature", "sha256=00"),
            b"{}",
        )
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Unauthenticated(_)), "{err:?}");
    let err = h
        .engine
        .accept_webhook(&PROVIDER.into(), &h.connection, &Headers::new(), b"{}")
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Unauthenticated(_)));

    // A partial payload makes the engine fetch the record; when that keeps failing the
    // delivery is retried with backoff, then given up.
    let h = Harness::with(Manual, |b| {
        b.config(devflow_sync_core::engine::EngineConfig {
            max_inbox_attempts: 2,
            ..Default::default()
        })
    });
    h.remote.set_faults(
        Faults {
            partial_webhooks: true,
            ..Faults::default()
        },
        1,
    );
    h.remote
        .remote_create(&h.object, Some(ItemKind::Epic), None, title("x"));
    h.remote.fail_next(Op::Get, FaultKind::Transient);
    h.remote.fail_next(Op::Get, FaultKind::Transient);
    h.deliver_webhooks().await.unwrap();
    let entry = h.journal.all_inbox().remove(0);
    assert_eq!(entry.status, InboxStatus::Pending);
    assert_eq!(entry.attempts, 1);
    // Not due yet: nothing happens.
    h.engine.process_inbox(10).await.unwrap();
    assert_eq!(h.journal.all_inbox()[0].attempts, 1);
    h.tick(Duration::from_secs(31));
    h.engine.process_inbox(10).await.unwrap();
    let entry = h.journal.all_inbox().remove(0);
    assert_eq!(entry.status, InboxStatus::Failed);
    assert!(entry.last_error.unwrap().contains("injected"));
}

#[tokio::test]
async fn status_shows_link_sync_state_and_pending_conflicts() {
    let h = Harness::new(Manual);
    let epic = h.create_item(ItemKind::Epic, None, "S").await.unwrap();
    let status = h.engine.status(&epic).await.unwrap();
    assert_eq!(status.len(), 1);
    assert!(!status[0].synced && status[0].external.is_none());
    h.engine
        .push(&h.connection, &h.object, &epic)
        .await
        .unwrap();
    let status = h.engine.status(&epic).await.unwrap();
    assert!(status[0].synced);
    assert_eq!(
        status[0].external.as_ref().unwrap().url.as_deref(),
        Some("memory://memory/issue/1")
    );
    set_title(&h, &epic, "changed").await;
    assert!(!h.engine.status(&epic).await.unwrap()[0].synced);
}

#[tokio::test]
async fn disconnect_revokes_and_purge_deletes_the_connections_data() {
    let h = Harness::new(Manual);
    let epic = h.create_item(ItemKind::Epic, None, "D").await.unwrap();
    h.engine
        .push(&h.connection, &h.object, &epic)
        .await
        .unwrap();
    h.remote
        .remote_create(&h.object, Some(ItemKind::Story), None, title("orphan"));
    pull(&h).await;
    assert!(!h.journal.all_conflicts().is_empty());
    let report = h.engine.disconnect(&h.connection, true).await.unwrap();
    assert!(report.revoked);
    assert!(report.purged_rows >= 3, "{report:?}");
    assert!(
        h.mappings
            .links(&h.connection, &h.object)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(h.journal.all_conflicts().is_empty());
    assert!(h.journal.all_logs().is_empty());
    assert_eq!(
        h.journal
            .health(&h.connection)
            .await
            .unwrap()
            .unwrap()
            .status,
        ConnectionStatus::Disabled
    );
    // The provider now refuses the connection.
    let err = h
        .engine
        .pull(&h.connection, &h.object, PullBudget::UNLIMITED)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Unauthenticated(_)));
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
async fn field_conflicts_settle_with_the_remote_value_a_given_value_or_not_at_all() {
    for resolution in [
        Resolution::UseRemote,
        Resolution::UseValue {
            value: FieldValue::text("Agreed"),
        },
        Resolution::Ignore,
    ] {
        let h = Harness::new(Manual);
        let epic = h.create_item(ItemKind::Epic, None, "Base").await.unwrap();
        h.engine
            .push(&h.connection, &h.object, &epic)
            .await
            .unwrap();
        let ext = h.external_id(&epic).await;
        set_title(&h, &epic, "Host").await;
        h.tick(Duration::from_secs(1));
        h.remote
            .remote_edit(&h.object, &ext, title("Remote"))
            .unwrap();
        pull(&h).await;
        let c = h.journal.all_conflicts().remove(0);
        h.engine
            .resolve_conflict(&c.id, resolution.clone())
            .await
            .unwrap();
        let host = h.items.get(&epic).await.unwrap().unwrap();
        let remote = h.remote.record(&h.object, &ext).unwrap();
        let settled = h.journal.conflict(&c.id).await.unwrap().unwrap();
        match resolution {
            Resolution::Ignore => {
                assert_eq!(settled.status, ConflictStatus::Ignored);
                assert_eq!(host.record.fields.get("title").as_str(), Some("Host"));
                assert_eq!(remote.record.fields.get("title").as_str(), Some("Remote"));
            }
            Resolution::UseRemote => {
                assert_eq!(settled.status, ConflictStatus::Resolved);
                assert_eq!(host.record.fields.get("title").as_str(), Some("Remote"));
                assert_eq!(remote.record.fields.get("title").as_str(), Some("Remote"));
            }
            _ => {
                assert_eq!(host.record.fields.get("title").as_str(), Some("Agreed"));
                assert_eq!(remote.record.fields.get("title").as_str(), Some("Agreed"));
            }
        }
        // A settled conflict cannot be settled again.
        let err = h
            .engine
            .resolve_conflict(&c.id, Resolution::UseHost)
            .await
            .unwrap_err();
        assert!(matches!(err, Error::Precondition(_)), "{err:?}");
    }
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

#[tokio::test]
async fn a_second_worker_cannot_pull_the_same_connection_at_once() {
    let h = Harness::new(Manual);
    use devflow_sync_core::store::LeaseManager;
    let leases = devflow_sync_core::store::memory::MemoryLeases::with_clock(h.clock.clone());
    let held = leases
        .acquire(&h.connection, &h.object, "other", Duration::from_secs(60))
        .await
        .unwrap()
        .unwrap();
    let engine = devflow_sync_core::engine::SyncEngine::builder()
        .provider(h.remote.clone())
        .bind("conn-1", PROVIDER, "issue")
        .leases(std::sync::Arc::new(leases))
        .clock(h.clock.clone())
        .build()
        .unwrap();
    let err = engine
        .pull(&h.connection, &h.object, PullBudget::UNLIMITED)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Precondition(_)), "{err:?}");
    let _ = held;
}

#[tokio::test]
async fn delivery_ids_are_remembered_for_the_ttl_then_forgotten() {
    let h = Harness::new(Manual);
    h.remote
        .remote_create(&h.object, Some(ItemKind::Epic), None, title("x"));
    let hook = h.remote.take_webhooks().remove(0);
    let first = h
        .engine
        .accept_webhook(&PROVIDER.into(), &h.connection, &hook.headers, &hook.body)
        .await
        .unwrap();
    assert!(!first.duplicate);
    h.engine.process_inbox(10).await.unwrap();
    let again = h
        .engine
        .accept_webhook(&PROVIDER.into(), &h.connection, &hook.headers, &hook.body)
        .await
        .unwrap();
    assert!(
        again.duplicate,
        "a replayed delivery id is reported as a duplicate"
    );
    assert_eq!(
        h.engine.prune_inbox().await.unwrap(),
        0,
        "inside the TTL nothing goes"
    );
    h.tick(Duration::from_secs(8 * 24 * 3600));
    assert_eq!(h.engine.prune_inbox().await.unwrap(), 1);
    let later = h
        .engine
        .accept_webhook(&PROVIDER.into(), &h.connection, &hook.headers, &hook.body)
        .await
        .unwrap();
    assert!(!later.duplicate, "past the TTL the id is forgotten");
    // Applying it again changes nothing: the record's version is already agreed.
    let report = h.engine.process_inbox(10).await.unwrap();
    assert_eq!(report.updated + report.created, 0, "{report:?}");
}

#[tokio::test]
async fn a_stale_payload_stamped_with_the_agreed_time_is_not_trusted() {
    use devflow_sync_core::auth::WebhookSecret;
    use devflow_sync_core::webhook::sign_hmac_sha256;
    let h = Harness::new(Manual);
    let epic = h
        .create_item(ItemKind::Epic, None, "Current")
        .await
        .unwrap();
    h.engine
        .push(&h.connection, &h.object, &epic)
        .await
        .unwrap();
    let ext = h.external_id(&epic).await;
    let link = h
        .mappings
        .link_by_item(&h.connection, &h.object, &epic)
        .await
        .unwrap()
        .unwrap();
    // A delivery claiming the agreed time, carrying an older title under another version.
    let mut stale = h.remote.record(&h.object, &ext).unwrap();
    stale.record.fields.insert("title", "Stale");
    stale.record.version = Some("0".into());
    let body = serde_json::to_vec(&serde_json::json!({
        "delivery_id": "crafted-1",
        "events": [{
            "object": "issue", "id": ext, "action": "upsert",
            "occurred_at": link.base.remote_updated_at.unwrap(),
            "record": stale,
        }]
    }))
    .unwrap();
    let headers = Headers::new()
        .with(
            "x-memory-signature",
            sign_hmac_sha256(&WebhookSecret::new("memory-secret"), &body),
        )
        .with("x-memory-delivery", "crafted-1");
    h.engine
        .accept_webhook(&PROVIDER.into(), &h.connection, &headers, &body)
        .await
        .unwrap();
    let gets = h.remote.calls().get;
    h.engine.process_inbox(10).await.unwrap();
    assert_eq!(
        h.remote.calls().get,
        gets + 1,
        "the record was fetched instead"
    );
    let host = h.items.get(&epic).await.unwrap().unwrap();
    assert_eq!(host.record.fields.get("title").as_str(), Some("Current"));
}
