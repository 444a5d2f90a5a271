use chrono::Duration;
use devflow_sync_core::Error;
use devflow_sync_core::model::{ConnectionId, ExternalId, ExternalRef, Fields, ItemId, ObjectType};
use devflow_sync_core::store::{Exclusion, Link, MappingStore, Snapshot, SyncCursor};

use super::t0;

fn link(conn: &ConnectionId, object: &ObjectType, item: &str, ext: &str) -> Link {
    Link {
        item: ItemId::new(item),
        remote: ExternalRef::new("memory", conn.clone(), object.clone(), ext),
        base: Snapshot {
            fields: Fields::new().with("title", item),
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

/// Links are unique both ways per connection and object and found both ways; bases,
/// cursors, exclusions and intents round-trip; a purge removes only its connection.
pub async fn mapping_store(store: &dyn MappingStore) {
    let conn = ConnectionId::new("conformance-mappings");
    let other = ConnectionId::new("conformance-mappings-other");
    let object = ObjectType::new("issue");
    store.purge_connection(&conn).await.expect("purge");
    store.purge_connection(&other).await.expect("purge");

    let a = link(&conn, &object, "item-a", "100");
    store.insert_link(&a).await.expect("insert");
    let by_item = store
        .link_by_item(&conn, &object, &a.item)
        .await
        .expect("by item");
    assert_eq!(by_item.as_ref(), Some(&a));
    let by_ext = store
        .link_by_external(&conn, &object, &a.remote.id)
        .await
        .expect("by external");
    assert_eq!(by_ext.as_ref(), Some(&a));
    assert_eq!(
        store
            .item_of_external(&conn, &object, &a.remote.id)
            .await
            .expect("item of external"),
        Some(a.item.clone())
    );
    assert!(
        store
            .item_of_external(&conn, &object, &ExternalId::new("nope"))
            .await
            .expect("item of external")
            .is_none()
    );

    for dup in [
        link(&conn, &object, "item-a", "101"),
        link(&conn, &object, "item-b", "100"),
    ] {
        let err = store.insert_link(&dup).await.expect_err("duplicate link");
        assert!(matches!(err, Error::AlreadyExists(_)), "{err:?}");
    }
    // The same ids in another connection or object are other links.
    store
        .insert_link(&link(&other, &object, "item-a", "100"))
        .await
        .expect("other connection");
    store
        .insert_link(&link(&conn, &ObjectType::new("page"), "item-a", "100"))
        .await
        .expect("other object");

    let mut base = a.base.clone();
    base.fields.insert("title", "agreed");
    base.remote_deleted = true;
    store
        .update_base(&conn, &object, &a.item, &base)
        .await
        .expect("update base");
    let got = store
        .link_by_external(&conn, &object, &a.remote.id)
        .await
        .expect("get")
        .expect("linked");
    assert_eq!(got.base, base);
    let err = store
        .update_base(&conn, &object, &ItemId::new("nobody"), &base)
        .await
        .expect_err("base of a missing link");
    assert!(matches!(err, Error::NotFound(_)), "{err:?}");

    store
        .insert_link(&link(&conn, &object, "item-b", "200"))
        .await
        .expect("insert b");
    let all = store.links(&conn, &object).await.expect("links");
    assert_eq!(
        all.iter().map(|l| l.item.as_str()).collect::<Vec<_>>(),
        ["item-a", "item-b"]
    );
    assert_eq!(
        store
            .links_of_item(&a.item)
            .await
            .expect("links of item")
            .len(),
        3
    );

    store
        .delete_link(&conn, &object, &ItemId::new("item-b"))
        .await
        .expect("delete");
    store
        .delete_link(&conn, &object, &ItemId::new("item-b"))
        .await
        .expect("delete again");
    assert!(
        store
            .link_by_external(&conn, &object, &ExternalId::new("200"))
            .await
            .expect("get")
            .is_none()
    );
    store
        .insert_link(&link(&conn, &object, "item-c", "200"))
        .await
        .expect("the record is free again");

    assert!(
        store
            .cursor(&conn, &object)
            .await
            .expect("cursor")
            .is_none()
    );
    let cursor = SyncCursor {
        high_water: Some(t0()),
        boundary_ids: vec![ExternalId::new("100")],
        pass: None,
    };
    store
        .put_cursor(&conn, &object, &cursor)
        .await
        .expect("put cursor");
    assert_eq!(
        store.cursor(&conn, &object).await.expect("cursor"),
        Some(cursor)
    );

    let ex = Exclusion::External(ExternalId::new("300"));
    assert!(
        !store
            .is_excluded(&conn, &object, &ex)
            .await
            .expect("excluded?")
    );
    store.exclude(&conn, &object, &ex).await.expect("exclude");
    store
        .exclude(&conn, &object, &ex)
        .await
        .expect("exclude again");
    assert!(
        store
            .is_excluded(&conn, &object, &ex)
            .await
            .expect("excluded?")
    );
    assert!(
        !store
            .is_excluded(&other, &object, &ex)
            .await
            .expect("excluded elsewhere?")
    );
    assert!(
        !store
            .is_excluded(&conn, &object, &Exclusion::Item(ItemId::new("300")))
            .await
            .expect("other side")
    );

    let item = ItemId::new("item-d");
    assert!(
        store
            .intent(&conn, &object, &item)
            .await
            .expect("intent")
            .is_none()
    );
    store
        .put_intent(&conn, &object, &item, t0())
        .await
        .expect("put intent");
    store
        .put_intent(&conn, &object, &item, t0() + Duration::seconds(5))
        .await
        .expect("put intent again");
    assert_eq!(
        store.intent(&conn, &object, &item).await.expect("intent"),
        Some(t0() + Duration::seconds(5))
    );
    store
        .clear_intent(&conn, &object, &item)
        .await
        .expect("clear");
    assert!(
        store
            .intent(&conn, &object, &item)
            .await
            .expect("intent")
            .is_none()
    );

    let removed = store.purge_connection(&conn).await.expect("purge");
    assert!(removed >= 5, "purge reports what it removed: {removed}");
    assert!(store.links(&conn, &object).await.expect("links").is_empty());
    assert!(
        store
            .cursor(&conn, &object)
            .await
            .expect("cursor")
            .is_none()
    );
    assert!(
        !store
            .is_excluded(&conn, &object, &ex)
            .await
            .expect("excluded?")
    );
    assert_eq!(
        store.links(&other, &object).await.expect("links").len(),
        1,
        "other connections stay"
    );
    store.purge_connection(&other).await.expect("cleanup");
}
