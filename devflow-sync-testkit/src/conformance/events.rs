//! [`EventLog`]: ids count up, a cursor returns what came after it once, in order,
//! within the limit, and every field comes back as stored.

use devflow_sync_core::model::{ConnectionId, ItemId, ObjectType, ProviderKey};
use devflow_sync_core::store::{ConflictType, ConnectionStatus, EngineEvent, EventKind, EventLog};

use super::t0;

/// Three events appended, read back from several cursors.
pub async fn event_log(log: &dyn EventLog) {
    let start = log
        .events_after(0, 10_000)
        .await
        .expect("read")
        .last()
        .map_or(0, |e| e.id);
    let base = EngineEvent {
        id: 0,
        tenant: Some("acme".into()),
        connection: Some(ConnectionId::new("conformance-events")),
        at: t0(),
        kind: EventKind::ConflictRecorded {
            conflict_id: "7".into(),
            conflict_type: ConflictType::HierarchyViolation,
            platform: ProviderKey::new("jira"),
            object: ObjectType::new("issue"),
            item: Some(ItemId::new("item-1")),
            external: None,
            field: None,
            message: "Story requires a parent".into(),
            suggested_action: "Link to an epic".into(),
        },
    };
    let health = EngineEvent {
        kind: EventKind::HealthChanged {
            from: Some(ConnectionStatus::Active),
            to: ConnectionStatus::NeedsReauth,
            message: Some("authorize again".into()),
        },
        ..base.clone()
    };
    let done = EngineEvent {
        kind: EventKind::BulkFinished {
            operation: "push_many".into(),
            total: 3,
            succeeded: 2,
            failed: 1,
        },
        connection: None,
        ..base.clone()
    };
    let mut ids = Vec::new();
    for e in [&base, &health, &done] {
        ids.push(log.append_event(e).await.expect("append"));
    }
    assert!(
        ids[0] > start && ids[0] < ids[1] && ids[1] < ids[2],
        "ids count up: {ids:?}"
    );
    let all = log.events_after(start, 100).await.expect("read");
    assert_eq!(all.len(), 3, "what came after the cursor");
    assert_eq!(all.iter().map(|e| e.id).collect::<Vec<_>>(), ids);
    assert_eq!(all[0], EngineEvent { id: ids[0], ..base });
    assert_eq!(all[1].kind, health.kind);
    assert_eq!(all[2].connection, None);
    let rest = log.events_after(ids[0], 100).await.expect("read");
    assert_eq!(rest.len(), 2, "after the first: the other two, once");
    let one = log.events_after(start, 1).await.expect("read");
    assert_eq!(one.len(), 1, "the limit holds");
    assert!(
        log.events_after(ids[2], 100)
            .await
            .expect("read")
            .is_empty()
    );
}
