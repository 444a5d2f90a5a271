use chrono::Duration;
use devflow_sync_core::Error;
use devflow_sync_core::model::{
    ConnectionId, ExternalId, FieldValue, ItemId, ObjectType, ProviderKey,
};
use devflow_sync_core::provider::Headers;
use devflow_sync_core::store::{
    ConflictRecord, ConflictSide, ConflictStatus, ConflictType, ConnectionHealth, ConnectionStatus,
    Direction, InboxEntry, InboxStatus, LogStatus, RunRecord, RunStatus, SyncJournal, SyncLogEntry,
    Trigger, recommend_newest,
};

use super::t0;

fn conflict(conn: &ConnectionId, ext: &str, field: Option<&str>) -> ConflictRecord {
    ConflictRecord {
        id: String::new(),
        connection: conn.clone(),
        provider: ProviderKey::new("memory"),
        object: ObjectType::new("issue"),
        item: None,
        external: Some(ExternalId::new(ext)),
        conflict_type: if field.is_some() {
            ConflictType::Field
        } else {
            ConflictType::HierarchyViolation
        },
        field: field.map(str::to_owned),
        base: FieldValue::Null,
        local: FieldValue::text("a"),
        remote: FieldValue::text("b"),
        message: "Story requires a parent".into(),
        suggested_action: "Link to an epic".into(),
        sides: Vec::new(),
        status: ConflictStatus::Pending,
        resolution: None,
        created_at: t0(),
        updated_at: t0(),
    }
}

fn inbox(conn: &ConnectionId, delivery: &str, minutes: i64) -> InboxEntry {
    InboxEntry {
        id: String::new(),
        provider: ProviderKey::new("memory"),
        connection: conn.clone(),
        delivery_id: delivery.into(),
        headers: Headers::new().with("x-delivery", delivery),
        body: br#"{"raw":true}"#.to_vec(),
        received_at: t0() + Duration::minutes(minutes),
        status: InboxStatus::Pending,
        attempts: 0,
        last_error: None,
        next_attempt_at: t0() + Duration::minutes(minutes),
        claimed_by: None,
        claimed_until: None,
        entity: Some(format!("issue/{delivery}")),
    }
}

/// The log, runs, conflicts (deduplicated while pending, settled once), the inbox
/// (unique delivery ids, due order, retries) and health; a purge removes only its
/// connection; the sync history queries by item, status, object and time.
pub async fn sync_journal(journal: &dyn SyncJournal) {
    let conn = ConnectionId::new("conformance-journal");
    let other = ConnectionId::new("conformance-journal-other");
    journal.purge_connection(&conn).await.expect("purge");
    journal.purge_connection(&other).await.expect("purge");

    let entry = SyncLogEntry {
        run_id: "conformance-run".into(),
        connection: conn.clone(),
        provider: ProviderKey::new("memory"),
        object: ObjectType::new("issue"),
        item: None,
        external: Some(ExternalId::new("1")),
        operation: "update".into(),
        direction: Direction::Push,
        changes: Vec::new(),
        status: LogStatus::Ok,
        error: None,
        duration_ms: 3,
        trigger: Trigger::Poll,
        request_id: Some("req-1".into()),
        at: t0(),
    };
    journal.append_log(&entry).await.expect("log");
    journal
        .append_log(&SyncLogEntry {
            operation: "create".into(),
            ..entry.clone()
        })
        .await
        .expect("log");
    let logs = journal.logs_of_run("conformance-run").await.expect("logs");
    assert_eq!(
        logs.iter()
            .map(|l| l.operation.as_str())
            .collect::<Vec<_>>(),
        ["update", "create"]
    );

    let mut run = RunRecord {
        id: "conformance-run".into(),
        operation: "pull".into(),
        connection: Some(conn.clone()),
        started_at: t0(),
        finished_at: None,
        status: RunStatus::Running,
        summary: String::new(),
    };
    journal.put_run(&run).await.expect("run");
    run.status = RunStatus::Succeeded;
    run.finished_at = Some(t0());
    journal.put_run(&run).await.expect("run again");
    assert_eq!(
        journal.run("conformance-run").await.expect("run"),
        Some(run)
    );

    let first = journal
        .record_conflict(&conflict(&conn, "1", None))
        .await
        .expect("conflict");
    let again = journal
        .record_conflict(&conflict(&conn, "1", None))
        .await
        .expect("same conflict");
    assert_eq!(first, again, "a pending conflict is not duplicated");
    let field = journal
        .record_conflict(&conflict(&conn, "1", Some("title")))
        .await
        .expect("field conflict");
    assert_ne!(first, field, "another field is another conflict");
    let pending = journal
        .conflicts(&conn, Some(ConflictStatus::Pending))
        .await
        .expect("pending");
    assert_eq!(pending.len(), 2);
    assert_eq!(pending[0].id, first, "oldest first");
    journal
        .settle_conflict(&first, ConflictStatus::Resolved, "link_to_parent", t0())
        .await
        .expect("settle");
    let settled = journal
        .conflict(&first)
        .await
        .expect("get")
        .expect("exists");
    assert_eq!(settled.status, ConflictStatus::Resolved);
    assert_eq!(settled.resolution.as_deref(), Some("link_to_parent"));
    let err = journal
        .settle_conflict(&first, ConflictStatus::Ignored, "x", t0())
        .await
        .expect_err("twice");
    assert!(matches!(err, Error::Precondition(_)), "{err:?}");
    let err = journal
        .settle_conflict("999999", ConflictStatus::Ignored, "x", t0())
        .await
        .expect_err("missing");
    assert!(matches!(err, Error::NotFound(_)), "{err:?}");
    let reopened = journal
        .record_conflict(&conflict(&conn, "1", None))
        .await
        .expect("new conflict");
    assert_ne!(
        reopened, first,
        "after settling, the same problem is a new conflict"
    );
    assert_eq!(journal.conflicts(&conn, None).await.expect("all").len(), 3);
    item_conflicts(journal, &conn).await;

    let id1 = journal
        .insert_inbox(&inbox(&conn, "d-1", 2))
        .await
        .expect("inbox");
    let id0 = journal
        .insert_inbox(&inbox(&conn, "d-0", 1))
        .await
        .expect("inbox");
    let err = journal
        .insert_inbox(&inbox(&conn, "d-1", 3))
        .await
        .expect_err("duplicate delivery");
    assert!(matches!(err, Error::AlreadyExists(_)), "{err:?}");
    journal
        .insert_inbox(&inbox(&other, "d-1", 3))
        .await
        .expect("same delivery id elsewhere");
    let due = journal
        .due_inbox(t0() + Duration::minutes(2), 10)
        .await
        .expect("due");
    assert_eq!(
        due.iter().map(|e| e.id.as_str()).collect::<Vec<_>>(),
        [id0.as_str(), id1.as_str()]
    );
    assert_eq!(due[1].body, br#"{"raw":true}"#.to_vec());
    assert_eq!(due[1].headers.get("X-Delivery"), Some("d-1"));
    assert_eq!(
        journal
            .due_inbox(t0() + Duration::minutes(2), 1)
            .await
            .expect("due")
            .len(),
        1
    );
    // Claims: one worker's claim keeps the others off until it lapses or is given
    // back.
    let at = t0() + Duration::minutes(2);
    let visibility = std::time::Duration::from_secs(30);
    let a = journal
        .claim_due(at, 1, "worker-a", visibility)
        .await
        .expect("claim");
    assert_eq!(a.len(), 1);
    assert_eq!(a[0].id, id0, "oldest first");
    assert_eq!(a[0].claimed_by.as_deref(), Some("worker-a"));
    let b = journal
        .claim_due(at, 10, "worker-b", visibility)
        .await
        .expect("claim");
    assert_eq!(
        b.iter().map(|e| e.id.as_str()).collect::<Vec<_>>(),
        [id1.as_str()],
        "what worker-a holds is not handed out again"
    );
    assert!(
        journal
            .claim_due(at, 10, "worker-c", visibility)
            .await
            .expect("claim")
            .is_empty()
    );
    let lapsed = journal
        .claim_due(at + Duration::seconds(31), 10, "worker-c", visibility)
        .await
        .expect("claim");
    assert_eq!(lapsed.len(), 2, "lapsed claims are taken over");
    let mut retry = due[0].clone();
    retry.attempts = 1;
    retry.last_error = Some("transient".into());
    retry.next_attempt_at = t0() + Duration::minutes(30);
    journal.update_inbox(&retry).await.expect("update");
    let mut done = due[1].clone();
    done.status = InboxStatus::Processed;
    journal.update_inbox(&done).await.expect("update");
    assert!(
        journal
            .due_inbox(t0() + Duration::minutes(2), 10)
            .await
            .expect("due")
            .is_empty()
    );
    assert_eq!(
        journal.inbox_entry(&id0).await.expect("get"),
        Some(retry),
        "an update gives the claim back"
    );

    // Pruning forgets old finished deliveries and their ids, never pending ones.
    let old = journal
        .insert_inbox(&inbox(&conn, "d-old", -100))
        .await
        .expect("inbox");
    let mut finished = journal
        .inbox_entry(&old)
        .await
        .expect("get")
        .expect("exists");
    finished.status = InboxStatus::Processed;
    journal.update_inbox(&finished).await.expect("update");
    journal
        .insert_inbox(&inbox(&conn, "d-pending-old", -90))
        .await
        .expect("inbox");
    let pruned = journal
        .prune_inbox(t0() - Duration::minutes(10))
        .await
        .expect("prune");
    assert_eq!(pruned, 1, "only the finished old delivery goes");
    assert!(journal.inbox_entry(&old).await.expect("get").is_none());
    journal
        .insert_inbox(&inbox(&conn, "d-old", 5))
        .await
        .expect("a pruned delivery id is new again");
    let err = journal
        .insert_inbox(&inbox(&conn, "d-pending-old", 6))
        .await
        .expect_err("pending ids stay");
    assert!(matches!(err, Error::AlreadyExists(_)), "{err:?}");

    let mut health = ConnectionHealth::new(conn.clone());
    health.status = ConnectionStatus::NeedsReauth;
    health.error_count = 2;
    journal.put_health(&health).await.expect("health");
    assert_eq!(journal.health(&conn).await.expect("health"), Some(health));

    let removed = journal.purge_connection(&conn).await.expect("purge");
    assert!(removed >= 7, "purge reports what it removed: {removed}");
    assert!(
        journal
            .conflicts(&conn, None)
            .await
            .expect("conflicts")
            .is_empty()
    );
    assert!(journal.health(&conn).await.expect("health").is_none());
    assert!(
        journal
            .logs_of_run("conformance-run")
            .await
            .expect("logs")
            .is_empty()
    );
    assert_eq!(
        journal
            .due_inbox(t0() + Duration::minutes(5), 10)
            .await
            .expect("due")
            .len(),
        1,
        "other connections stay"
    );
    journal.purge_connection(&other).await.expect("cleanup");
}

/// Conflicts about one item are found across connections, oldest first, with their
/// sides kept as recorded (and replaced by a later record of the same subject).
async fn item_conflicts(journal: &dyn SyncJournal, conn: &ConnectionId) {
    let item = ItemId::new(format!("conformance-item-{}", conn.as_str()));
    let other = ConnectionId::new(format!("{}-other", conn.as_str()));
    let mut first = conflict(conn, "item-1", Some("title"));
    first.item = Some(item.clone());
    first.sides = vec![
        ConflictSide::host(FieldValue::text("a"), t0()),
        ConflictSide::system(
            (
                conn.clone(),
                ProviderKey::new("memory"),
                ObjectType::new("issue"),
            ),
            ExternalId::new("item-1"),
            FieldValue::text("b"),
            t0() + Duration::minutes(1),
        ),
    ];
    recommend_newest(&mut first.sides);
    let mut second = conflict(&other, "item-2", Some("title"));
    second.item = Some(item.clone());
    let a = journal.record_conflict(&first).await.expect("first");
    let b = journal.record_conflict(&second).await.expect("second");
    let mut unrelated = conflict(conn, "item-3", Some("title"));
    unrelated.item = Some(ItemId::new("conformance-another-item"));
    journal
        .record_conflict(&unrelated)
        .await
        .expect("unrelated");
    let found = journal
        .item_conflicts(&item, Some(ConflictStatus::Pending))
        .await
        .expect("item conflicts");
    let ids: Vec<&str> = found.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(
        ids,
        vec![a.as_str(), b.as_str()],
        "both connections, oldest first"
    );
    assert_eq!(found[0].sides, first.sides, "sides round-trip");
    assert!(found[0].sides[1].recommended);
    // A later record of the same subject replaces the sides.
    first.sides.push(ConflictSide::system(
        (
            other.clone(),
            ProviderKey::new("memory"),
            ObjectType::new("issue"),
        ),
        ExternalId::new("item-2"),
        FieldValue::text("c"),
        t0() + Duration::minutes(2),
    ));
    recommend_newest(&mut first.sides);
    assert_eq!(journal.record_conflict(&first).await.expect("again"), a);
    let found = journal.item_conflicts(&item, None).await.expect("all");
    assert_eq!(found[0].sides.len(), 3);
    assert!(found[0].sides[2].recommended);
    journal
        .settle_conflict(&b, ConflictStatus::Resolved, "use_side", t0())
        .await
        .expect("settle");
    assert_eq!(
        journal
            .item_conflicts(&item, Some(ConflictStatus::Pending))
            .await
            .expect("pending")
            .len(),
        1
    );
    journal.purge_connection(&other).await.expect("purge");
    super::history::log_history(journal).await;
}
