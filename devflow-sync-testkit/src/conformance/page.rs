use devflow_sync_core::Error;
use devflow_sync_core::model::{
    ConnectionId, ExternalId, ExternalRef, Fields, ItemId, ObjectType, Record, Version,
};
use devflow_sync_core::store::{
    Direction, Exclusion, Link, LogStatus, MappingStore, PageStore, PageWrites, RunLog, Snapshot,
    SyncCursor, SyncLogEntry, Trigger, WorkItem, WorkItemStore,
};

use super::t0;

fn item(id: &ItemId, title: &str) -> WorkItem {
    let mut record = Record::new("work_item", t0()).with_field("title", title);
    record.version = Some(Version::new("1"));
    WorkItem {
        id: id.clone(),
        record,
        active: true,
    }
}

fn link(conn: &ConnectionId, object: &ObjectType, item: &ItemId, ext: &str) -> Link {
    Link {
        item: item.clone(),
        remote: ExternalRef::new("memory", conn.clone(), object.clone(), ext),
        base: Snapshot {
            fields: Fields::new().with("title", ext),
            parent: None,
            kind: None,
            local_version: None,
            remote_version: None,
            remote_updated_at: None,
            remote_deleted: false,
            synced_at: t0(),
        },
    }
}

fn line(conn: &ConnectionId, object: &ObjectType, run: &str, item: &ItemId) -> SyncLogEntry {
    SyncLogEntry {
        run_id: run.into(),
        connection: conn.clone(),
        provider: "memory".into(),
        object: object.clone(),
        item: Some(item.clone()),
        external: None,
        operation: "import".into(),
        direction: Direction::Pull,
        changes: Vec::new(),
        status: LogStatus::Ok,
        error: None,
        duration_ms: 0,
        trigger: Trigger::Poll,
        request_id: None,
        at: t0(),
    }
}

/// Reserved ids are never handed out twice; a page's items, links, log lines and cursor
/// are written together and read back by every other trait; a page with a taken link
/// writes nothing at all; the bulk reads find what one-by-one reads find. `store` holds
/// the items, the links and the log (one database).
pub async fn page_store<S>(store: &S)
where
    S: PageStore + MappingStore + WorkItemStore + RunLog,
{
    let conn = ConnectionId::new("conformance-page");
    let object = ObjectType::new("issue");
    MappingStore::purge_connection(store, &conn)
        .await
        .expect("purge");

    let first = store.reserve_item_ids(3).await.expect("reserve");
    let second = store.reserve_item_ids(2).await.expect("reserve");
    let mut all: Vec<&ItemId> = first.iter().chain(&second).collect();
    assert_eq!(all.len(), 5);
    all.sort();
    all.dedup();
    assert_eq!(
        all.len(),
        5,
        "reserved ids are distinct: {first:?} {second:?}"
    );
    assert!(
        store
            .reserve_item_ids(0)
            .await
            .expect("reserve none")
            .is_empty()
    );
    // Exactly as many as asked, however a store serves them (in blocks, say), and
    // never one twice.
    let mut seen: std::collections::HashSet<ItemId> = all.into_iter().cloned().collect();
    for n in [700, 100, 1, 1500, 30] {
        let ids = store.reserve_item_ids(n).await.expect("reserve");
        assert_eq!(ids.len(), n, "asked for {n} ids");
        for id in ids {
            assert!(seen.insert(id.clone()), "{id} reserved twice");
        }
    }

    let run = format!("conformance-page-{}", first[0]);
    let cursor = SyncCursor {
        high_water: Some(t0()),
        boundary_ids: vec![ExternalId::new("p-1")],
        pass: None,
    };
    let mut page = PageWrites::default();
    page.connection = Some(conn.clone());
    page.object = Some(object.clone());
    page.items = vec![item(&first[0], "one"), item(&first[1], "two")];
    page.links = vec![
        link(&conn, &object, &first[0], "p-1"),
        link(&conn, &object, &first[1], "p-2"),
    ];
    page.logs = vec![
        line(&conn, &object, &run, &first[0]),
        line(&conn, &object, &run, &first[1]),
    ];
    page.cursor = Some(cursor.clone());
    store.apply_page(&page).await.expect("apply a page");
    let one = store
        .get(&first[0])
        .await
        .expect("get")
        .expect("item written");
    assert_eq!(one.record.fields.get("title").as_str(), Some("one"));
    assert_eq!(one.record.version.as_ref().map(Version::as_str), Some("1"));
    assert_eq!(
        store
            .item_of_external(&conn, &object, &ExternalId::new("p-2"))
            .await
            .expect("link"),
        Some(first[1].clone())
    );
    assert_eq!(store.logs_of_run(&run).await.expect("logs").len(), 2);
    assert_eq!(
        store.cursor(&conn, &object).await.expect("cursor"),
        Some(cursor.clone())
    );
    // Written items change like any other.
    let changed = store
        .update(&first[0], &Default::default(), Some(&Version::new("1")))
        .await
        .expect("update a page's item");
    assert_eq!(changed.id, first[0]);

    // A page whose link is taken writes nothing: not its item, nor its log, nor its cursor.
    let mut clash = PageWrites::default();
    clash.connection = Some(conn.clone());
    clash.object = Some(object.clone());
    clash.items = vec![item(&first[2], "three")];
    clash.links = vec![link(&conn, &object, &first[2], "p-1")];
    clash.logs = vec![line(&conn, &object, &run, &first[2])];
    clash.cursor = Some(SyncCursor::default());
    match store.apply_page(&clash).await {
        Err(Error::AlreadyExists(_)) => {}
        other => panic!("a taken link is AlreadyExists, got {other:?}"),
    }
    assert!(
        store.get(&first[2]).await.expect("get").is_none(),
        "nothing written"
    );
    assert_eq!(store.logs_of_run(&run).await.expect("logs").len(), 2);
    assert_eq!(
        store.cursor(&conn, &object).await.expect("cursor"),
        Some(cursor)
    );

    // Bulk reads answer as one-by-one reads do.
    let asked = [
        ExternalId::new("p-1"),
        ExternalId::new("p-2"),
        ExternalId::new("none"),
    ];
    let mut found: Vec<String> = store
        .links_by_externals(&conn, &object, &asked)
        .await
        .expect("bulk links")
        .into_iter()
        .map(|l| l.remote.id.as_str().to_owned())
        .collect();
    found.sort();
    assert_eq!(found, ["p-1", "p-2"]);
    store
        .exclude(&conn, &object, &Exclusion::External(ExternalId::new("p-2")))
        .await
        .expect("exclude");
    let excluded = store
        .excluded_among(
            &conn,
            &object,
            &[
                Exclusion::External(ExternalId::new("p-1")),
                Exclusion::External(ExternalId::new("p-2")),
            ],
        )
        .await
        .expect("bulk exclusions");
    assert_eq!(excluded, [Exclusion::External(ExternalId::new("p-2"))]);

    assert!(
        store.apply_page(&PageWrites::default()).await.is_ok(),
        "an empty page"
    );
    MappingStore::purge_connection(store, &conn)
        .await
        .expect("purge");
    for id in &first {
        store.delete(id).await.expect("delete");
    }
}
