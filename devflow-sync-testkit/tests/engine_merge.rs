//! The engine merging and writing: conflicts and their settlement, retried creates,
//! version mismatches, duplicate and echoed webhooks, deletes and exclusions.

use std::time::Duration;

use devflow_sync_core::Error;
use devflow_sync_core::engine::{DeletionPolicy, Outcome, Resolution};
use devflow_sync_core::merge::{LastWriterWins, Manual};
use devflow_sync_core::model::{FieldValue, Fields, ItemKind};
use devflow_sync_core::provider::Headers;
use devflow_sync_core::store::ConflictStore;
use devflow_sync_core::store::{
    ConflictStatus, ConflictType, Exclusion, InboxStatus, MappingStore, WorkItemStore,
};
use devflow_sync_testkit::harness::{Harness, PROVIDER};
use devflow_sync_testkit::memory_provider::{FaultKind, Op};

mod common;
use common::{pull, set_title, title};

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
