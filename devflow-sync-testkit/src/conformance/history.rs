//! Sync history: [`RunLog::query_logs`] by item, status, object and time, newest first,
//! within the limit.

use chrono::Duration;
use devflow_sync_core::model::{ConnectionId, ExternalId, ItemId, ObjectType, ProviderKey};
use devflow_sync_core::store::{
    Direction, LogQuery, LogStatus, RunLog, SyncJournal, SyncLogEntry, Trigger,
};

use super::t0;

/// Lines of two items over three times, one failed; each filter and the limit hold.
pub(super) async fn log_history(journal: &dyn SyncJournal) {
    let conn = ConnectionId::new("conformance-history");
    journal.purge_connection(&conn).await.expect("purge");
    let line = |item: &str, minutes: i64, status: LogStatus| SyncLogEntry {
        run_id: format!("history-{item}-{minutes}"),
        connection: conn.clone(),
        provider: ProviderKey::new("memory"),
        object: ObjectType::new("worklog"),
        item: Some(ItemId::new(item)),
        external: Some(ExternalId::new(format!("w-{item}"))),
        operation: "create".into(),
        direction: Direction::Push,
        changes: Vec::new(),
        status,
        error: (status == LogStatus::Failed).then(|| "Jira refused it".to_owned()),
        duration_ms: 1,
        trigger: Trigger::User,
        request_id: None,
        at: t0() + Duration::minutes(minutes),
    };
    let lines = [
        line("rec-a", 0, LogStatus::Failed),
        line("rec-a", 5, LogStatus::Ok),
        line("rec-b", 10, LogStatus::Ok),
    ];
    RunLog::append_logs(journal, &lines).await.expect("append");
    let of = |q: LogQuery| async move {
        journal
            .query_logs(&q.connection(ConnectionId::new("conformance-history")))
            .await
            .expect("query")
    };
    let a = of(LogQuery::default().item(ItemId::new("rec-a"))).await;
    assert_eq!(a.len(), 2, "two lines of rec-a");
    assert!(a[0].at > a[1].at, "newest first");
    assert_eq!(a[1].error.as_deref(), Some("Jira refused it"));
    let failed = of(LogQuery::default().status(LogStatus::Failed)).await;
    assert_eq!(failed.len(), 1, "one failed line");
    assert_eq!(failed[0].item, Some(ItemId::new("rec-a")));
    let window =
        of(LogQuery::default().between(t0() + Duration::minutes(5), t0() + Duration::minutes(10)))
            .await;
    assert_eq!(window.len(), 1, "from is inclusive, until exclusive");
    assert_eq!(window[0].at, t0() + Duration::minutes(5));
    let none = of(LogQuery::default().object(ObjectType::new("issue"))).await;
    assert!(none.is_empty(), "another object matches nothing");
    let one = of(LogQuery::default().limit(1)).await;
    assert_eq!(one.len(), 1, "the limit holds");
    assert_eq!(one[0].item, Some(ItemId::new("rec-b")));
    journal.purge_connection(&conn).await.expect("purge");
    assert!(
        of(LogQuery::default()).await.is_empty(),
        "purged with its connection"
    );
}
