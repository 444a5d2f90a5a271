use std::collections::HashSet;

use devflow_sync_core::Error;
use devflow_sync_core::model::{ConnectionId, FieldChange, Fields, ItemId, ItemKind, ObjectType};
use devflow_sync_core::provider::{
    ChangeQuery, Headers, NewRemote, Provider, ProviderExt, RemoteUpdate,
};

/// What the provider suite needs to know about the system under test.
pub struct ProviderSetup {
    /// A connection the provider can act for.
    pub connection: ConnectionId,
    /// The object type to exercise.
    pub object: ObjectType,
    /// Fields a new record may carry.
    pub fields: Fields,
    /// A field the suite may change: its name and a new value.
    pub edit: (String, devflow_sync_core::model::FieldValue),
    /// Moves the system's clock forward a little, so successive changes get later
    /// change times (a no-op for systems on real time).
    pub tick: Box<dyn Fn() + Send + Sync>,
}

impl std::fmt::Debug for ProviderSetup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProviderSetup")
            .field("connection", &self.connection)
            .field("object", &self.object)
            .finish_non_exhaustive()
    }
}

/// Runs the provider checks its declared capabilities allow: create with a marker and
/// find it again, get, conditional update, parent links, paged listing without gaps or
/// repeats, delete, and webhook verification refusing unsigned deliveries.
pub async fn provider(p: &dyn Provider, setup: &ProviderSetup) {
    let caps = p.capabilities(&setup.object);
    let (conn, object) = (&setup.connection, &setup.object);
    let mut created = Vec::new();
    if caps.create {
        let marker = ItemId::new("conformance-marker-1");
        let new = NewRemote {
            kind: caps.hierarchy.then_some(ItemKind::Epic),
            parent: None,
            fields: setup.fields.clone(),
            marker: marker.clone(),
        };
        let record = p.create(conn, object, &new).await.expect("create");
        for (name, value) in setup.fields.iter() {
            assert_eq!(
                record.record.fields.get(name),
                value,
                "create keeps field {name}"
            );
        }
        let got = p.get(conn, object, &record.id).await.expect("get");
        assert_eq!(got.id, record.id);
        assert_eq!(
            got.record.fields, record.record.fields,
            "get returns what create returned"
        );
        if caps.markers {
            let found = p
                .find_by_marker(conn, object, &marker)
                .await
                .expect("find by marker");
            assert_eq!(
                found.map(|r| r.id),
                Some(record.id.clone()),
                "the marker finds the record"
            );
            let none = p
                .find_by_marker(conn, object, &ItemId::new("conformance-marker-none"))
                .await
                .expect("find by marker");
            assert!(none.is_none(), "an unknown marker finds nothing");
        }
        created.push(record.clone());

        if caps.hierarchy {
            (setup.tick)();
            let child = p
                .create(
                    conn,
                    object,
                    &NewRemote {
                        kind: Some(ItemKind::Story),
                        parent: Some(record.id.clone()),
                        fields: setup.fields.clone(),
                        marker: ItemId::new("conformance-marker-2"),
                    },
                )
                .await
                .expect("create child");
            let got = p.get(conn, object, &child.id).await.expect("get child");
            assert_eq!(
                got.record.parent.as_ref(),
                Some(&record.id),
                "the child keeps its parent"
            );
            created.push(child);
        }

        if caps.update {
            (setup.tick)();
            let (field, value) = &setup.edit;
            let update = RemoteUpdate {
                changes: vec![FieldChange::new(
                    field.as_str(),
                    record.record.fields.get(field).clone(),
                    value.clone(),
                )],
                parent: None,
            };
            let expected = caps
                .conditional_update
                .then(|| record.record.version.clone())
                .flatten();
            let updated = p
                .update(conn, object, &record.id, &update, expected.as_ref())
                .await
                .expect("update");
            assert_eq!(
                updated.record.fields.get(field),
                value,
                "update sets {field}"
            );
            assert_ne!(
                updated.record.version, record.record.version,
                "update changes the version"
            );
            assert!(updated.record.updated_at >= record.record.updated_at);
            if caps.conditional_update {
                let err = p
                    .update(
                        conn,
                        object,
                        &record.id,
                        &update,
                        record.record.version.as_ref(),
                    )
                    .await
                    .expect_err("update with a stale version");
                assert!(matches!(err, Error::Precondition(_)), "{err:?}");
            }
        }
    }

    if caps.list {
        for page_size in [1, 2, 100] {
            let all = p
                .list_all(conn, object, None, page_size)
                .await
                .expect("list");
            let ids: Vec<_> = all.iter().map(|r| r.id.clone()).collect();
            let unique: HashSet<_> = ids.iter().collect();
            assert_eq!(
                unique.len(),
                ids.len(),
                "paging by {page_size} repeats no record"
            );
            for r in &created {
                assert!(
                    ids.contains(&r.id),
                    "paging by {page_size} finds record {}",
                    r.id
                );
            }
            assert!(
                all.windows(2)
                    .all(|w| w[0].record.updated_at <= w[1].record.updated_at),
                "changes come oldest first"
            );
        }
        if let Some(newest) = created.iter().map(|r| r.record.updated_at).max() {
            let page = p
                .list_changed(
                    conn,
                    object,
                    &ChangeQuery {
                        since: Some(newest),
                        page_token: None,
                        limit: 100,
                        ..ChangeQuery::default()
                    },
                )
                .await
                .expect("list since");
            assert!(
                page.records.iter().all(|r| r.record.updated_at >= newest),
                "since filters older changes"
            );
        }
        let err = p
            .list_changed(
                conn,
                object,
                &ChangeQuery {
                    since: None,
                    page_token: Some("\u{0}garbage".into()),
                    limit: 10,
                    ..ChangeQuery::default()
                },
            )
            .await;
        assert!(
            matches!(err, Err(Error::StalePageToken(_))),
            "a page token the provider cannot use is a stale page token (the engine lists again from its high-water mark), not a crash: {err:?}"
        );
    }

    if caps.delete {
        for record in created.iter().rev() {
            p.delete(conn, object, &record.id).await.expect("delete");
            let err = p
                .get(conn, object, &record.id)
                .await
                .expect_err("get after delete");
            assert!(matches!(err, Error::NotFound(_)), "{err:?}");
            p.delete(conn, object, &record.id)
                .await
                .expect("deleting twice succeeds");
            assert!(
                p.get_opt(conn, object, &record.id)
                    .await
                    .expect("get_opt")
                    .is_none()
            );
        }
    }

    let err = p
        .parse_webhook(conn, &Headers::new(), b"{}")
        .expect_err("unsigned webhook");
    assert!(
        matches!(err, Error::Unauthenticated(_)),
        "an unsigned delivery is refused: {err:?}"
    );
}
