use chrono::Utc;
use devflow_sync_core::Error;
use devflow_sync_core::model::{FieldChange, FieldValue, ItemId, ItemKind, Record};
use devflow_sync_core::store::{ItemUpdate, WorkItemStore};

/// Create with and without an id; ids are unique; updates are conditional on the
/// version and bump it; parents, the active flag and children; delete is idempotent.
pub async fn work_item_store(store: &dyn WorkItemStore) {
    let record = |kind| {
        Record::new("work_item", Utc::now())
            .with_kind(kind)
            .with_field("title", "t")
    };
    let epic = store
        .create(
            Some(ItemId::new("conformance-epic")),
            record(ItemKind::Epic),
        )
        .await
        .expect("create with id");
    assert_eq!(epic.id.as_str(), "conformance-epic");
    assert!(epic.active);
    let v1 = epic
        .record
        .version
        .clone()
        .expect("a created item has a version");
    let err = store
        .create(Some(epic.id.clone()), record(ItemKind::Epic))
        .await
        .expect_err("duplicate id");
    assert!(matches!(err, Error::AlreadyExists(_)), "{err:?}");

    let story = store
        .create(None, record(ItemKind::Story).with_parent(epic.id.clone()))
        .await
        .expect("create without id");
    assert_ne!(story.id, epic.id);
    let children = store.children(&epic.id).await.expect("children");
    assert_eq!(
        children.iter().map(|c| &c.id).collect::<Vec<_>>(),
        vec![&story.id]
    );

    let change = ItemUpdate {
        changes: vec![FieldChange::new("title", "t", "renamed")],
        ..Default::default()
    };
    let updated = store
        .update(&epic.id, &change, Some(&v1))
        .await
        .expect("conditional update");
    assert_eq!(updated.record.fields.get("title").as_str(), Some("renamed"));
    assert_ne!(
        updated.record.version.as_ref(),
        Some(&v1),
        "an update bumps the version"
    );
    let err = store
        .update(&epic.id, &change, Some(&v1))
        .await
        .expect_err("stale version");
    assert!(matches!(err, Error::Precondition(_)), "{err:?}");
    let unchanged = store.get(&epic.id).await.expect("get").expect("exists");
    assert_eq!(
        unchanged.record.version, updated.record.version,
        "a refused update changes nothing"
    );

    let moved = store
        .update(
            &story.id,
            &ItemUpdate {
                parent: Some(None),
                active: Some(false),
                changes: vec![FieldChange::new("points", FieldValue::Null, 3)],
            },
            None,
        )
        .await
        .expect("unconditional update");
    assert_eq!(moved.record.parent, None);
    assert!(!moved.active);
    assert_eq!(moved.record.fields.get("points"), &FieldValue::int(3));
    assert!(store.children(&epic.id).await.expect("children").is_empty());

    let err = store
        .update(&ItemId::new("conformance-missing"), &change, None)
        .await
        .expect_err("missing");
    assert!(matches!(err, Error::NotFound(_)), "{err:?}");
    store.delete(&story.id).await.expect("delete");
    store.delete(&story.id).await.expect("delete again");
    assert!(store.get(&story.id).await.expect("get").is_none());
    store.delete(&epic.id).await.expect("cleanup");
    change_feed(store).await;
}

/// The change feed, where the store has one: each write moves its item to the end;
/// reading after a change number gives what changed since, oldest first, once each.
async fn change_feed(store: &dyn WorkItemStore) {
    let start = match store.changed_after(0, usize::MAX).await {
        Ok(all) => all.last().map_or(0, |(seq, _)| *seq),
        Err(Error::NotSupported(_)) => return,
        Err(e) => panic!("change feed: {e:?}"),
    };
    let record = Record::new("work_item", Utc::now()).with_field("title", "feed");
    let a = store
        .create(Some(ItemId::new("conformance-feed-a")), record.clone())
        .await
        .expect("create a");
    let b = store
        .create(Some(ItemId::new("conformance-feed-b")), record)
        .await
        .expect("create b");
    let ids = |feed: &[(u64, devflow_sync_core::store::WorkItem)]| -> Vec<String> {
        feed.iter().map(|(_, i)| i.id.as_str().to_owned()).collect()
    };
    let feed = store.changed_after(start, 100).await.expect("feed");
    assert_eq!(
        ids(&feed),
        ["conformance-feed-a", "conformance-feed-b"],
        "oldest first"
    );
    assert!(
        feed.windows(2).all(|w| w[0].0 < w[1].0),
        "change numbers grow"
    );
    let after_b = feed[1].0;
    let change = ItemUpdate {
        changes: vec![FieldChange::new(
            "title",
            FieldValue::text("feed"),
            FieldValue::text("fed"),
        )],
        ..ItemUpdate::default()
    };
    store.update(&a.id, &change, None).await.expect("update a");
    let feed = store.changed_after(start, 100).await.expect("feed");
    assert_eq!(
        ids(&feed),
        ["conformance-feed-b", "conformance-feed-a"],
        "a moved to the end, once"
    );
    let since_b = store.changed_after(after_b, 100).await.expect("feed");
    assert_eq!(ids(&since_b), ["conformance-feed-a"]);
    assert_eq!(
        since_b[0].1.record.fields.get("title").as_str(),
        Some("fed")
    );
    assert_eq!(
        store.changed_after(start, 1).await.expect("feed").len(),
        1,
        "limited"
    );
    store.delete(&a.id).await.expect("cleanup");
    store.delete(&b.id).await.expect("cleanup");
}
