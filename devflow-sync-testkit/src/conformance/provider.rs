use std::collections::HashSet;

use devflow_sync_core::Error;
use devflow_sync_core::model::{ConnectionId, FieldChange, Fields, ItemId, ItemKind, ObjectType};
use devflow_sync_core::provider::{
    ChangeQuery, Headers, NewRemote, Provider, ProviderExt, RemoteRecord, RemoteUpdate,
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

/// How one named behaviour of the provider suite went.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BehaviourOutcome {
    /// It holds.
    Passed,
    /// Not run: the capabilities do not offer it, or what it needs failed before.
    Skipped(String),
    /// It does not hold: the failed assertion.
    Failed(String),
}

/// The behaviours of the provider suite, by name, with their outcomes.
#[derive(Clone, Debug, Default)]
pub struct ProviderReport {
    /// Every behaviour, in the order run.
    pub behaviours: Vec<(&'static str, BehaviourOutcome)>,
}

impl ProviderReport {
    /// The names of the behaviours that failed, with why.
    pub fn failures(&self) -> Vec<String> {
        self.behaviours
            .iter()
            .filter_map(|(name, outcome)| match outcome {
                BehaviourOutcome::Failed(why) => Some(format!("{name}: {why}")),
                _ => None,
            })
            .collect()
    }

    /// The outcome of one behaviour.
    pub fn outcome(&self, name: &str) -> Option<&BehaviourOutcome> {
        self.behaviours
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, o)| o)
    }
}

/// The records the behaviours made, for those that build on them.
#[derive(Default)]
struct Made {
    records: Vec<RemoteRecord>,
}

/// Runs one behaviour, catching its failed assertion so the others still run.
async fn run<F>(report: &mut ProviderReport, name: &'static str, when: Result<(), String>, f: F)
where
    F: std::future::Future<Output = ()>,
{
    use futures_util::FutureExt as _;
    let outcome = match when {
        Err(why) => BehaviourOutcome::Skipped(why),
        Ok(()) => match std::panic::AssertUnwindSafe(f).catch_unwind().await {
            Ok(()) => BehaviourOutcome::Passed,
            Err(panic) => BehaviourOutcome::Failed(
                panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                    .unwrap_or_else(|| "a panic".into()),
            ),
        },
    };
    report.behaviours.push((name, outcome));
}

fn offered(on: bool, what: &str) -> Result<(), String> {
    if on {
        Ok(())
    } else {
        Err(format!("the capabilities offer no {what}"))
    }
}

/// Runs every behaviour the provider's declared capabilities allow, each on its own:
/// `create`, `markers`, `hierarchy`, `update`, `conditional update`, `list`, `delta`,
/// `stale page token`, `delete` and `webhook verification`. Returns how each went; a
/// failed one does not hide the rest.
pub async fn provider_behaviours(p: &dyn Provider, setup: &ProviderSetup) -> ProviderReport {
    let caps = p.capabilities(&setup.object);
    let mut report = ProviderReport::default();
    let made = std::sync::Mutex::new(Made::default());
    let first = || {
        made.lock()
            .unwrap_or_else(|e| e.into_inner())
            .records
            .first()
            .cloned()
    };
    run(
        &mut report,
        "create",
        offered(caps.create, "create"),
        async {
            let record = create(p, setup, "conformance-marker-1", None).await;
            made.lock()
                .unwrap_or_else(|e| e.into_inner())
                .records
                .push(record);
        },
    )
    .await;
    let created = first().ok_or_else(|| "no record was created".to_owned());
    let needs = |on: bool, what: &str| offered(on, what).and(created.clone().map(|_| ()));
    run(
        &mut report,
        "markers",
        needs(caps.markers, "markers"),
        async {
            markers(p, setup, &first().unwrap_or_else(|| unreachable!())).await;
        },
    )
    .await;
    run(
        &mut report,
        "hierarchy",
        needs(caps.hierarchy, "hierarchy"),
        async {
            let parent = first().unwrap_or_else(|| unreachable!());
            (setup.tick)();
            let child = create(p, setup, "conformance-marker-2", Some(&parent)).await;
            made.lock()
                .unwrap_or_else(|e| e.into_inner())
                .records
                .push(child);
        },
    )
    .await;
    run(&mut report, "update", needs(caps.update, "update"), async {
        update(p, setup, &first().unwrap_or_else(|| unreachable!())).await;
    })
    .await;
    run(
        &mut report,
        "conditional update",
        needs(caps.conditional_update && caps.update, "conditional update"),
        async {
            conditional_update(p, setup, &first().unwrap_or_else(|| unreachable!())).await;
        },
    )
    .await;
    let records = || {
        made.lock()
            .unwrap_or_else(|e| e.into_inner())
            .records
            .clone()
    };
    run(&mut report, "list", offered(caps.list, "list"), async {
        list(p, setup, &records()).await;
    })
    .await;
    run(
        &mut report,
        "delta",
        needs(caps.list && caps.delta, "delta"),
        async {
            delta(p, setup, &records()).await;
        },
    )
    .await;
    run(
        &mut report,
        "stale page token",
        offered(caps.list, "list"),
        async {
            stale_page_token(p, setup).await;
        },
    )
    .await;
    run(&mut report, "delete", needs(caps.delete, "delete"), async {
        delete(p, setup, &records()).await;
    })
    .await;
    run(&mut report, "webhook verification", Ok(()), async {
        let err = p
            .parse_webhook(&setup.connection, &Headers::new(), b"{}")
            .expect_err("unsigned webhook");
        assert!(
            matches!(err, Error::Unauthenticated(_)),
            "an unsigned delivery is refused: {err:?}"
        );
    })
    .await;
    report
}

/// Runs [`provider_behaviours`] and fails with every behaviour that failed, by name.
pub async fn provider(p: &dyn Provider, setup: &ProviderSetup) {
    let report = provider_behaviours(p, setup).await;
    let failures = report.failures();
    assert!(
        failures.is_empty(),
        "{} failed:\n{}",
        p.key(),
        failures.join("\n")
    );
}

async fn create(
    p: &dyn Provider,
    setup: &ProviderSetup,
    marker: &str,
    parent: Option<&RemoteRecord>,
) -> RemoteRecord {
    let (conn, object) = (&setup.connection, &setup.object);
    let hierarchy = p.capabilities(object).hierarchy;
    let new = NewRemote {
        kind: hierarchy.then_some(if parent.is_some() {
            ItemKind::Story
        } else {
            ItemKind::Epic
        }),
        parent: parent.map(|r| r.id.clone()),
        fields: setup.fields.clone(),
        marker: ItemId::new(marker),
        related: Vec::new(),
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
    if let Some(parent) = parent {
        assert_eq!(
            got.record.parent.as_ref(),
            Some(&parent.id),
            "the child keeps its parent"
        );
    }
    record
}

async fn markers(p: &dyn Provider, setup: &ProviderSetup, record: &RemoteRecord) {
    let (conn, object) = (&setup.connection, &setup.object);
    let found = p
        .find_by_marker(conn, object, &ItemId::new("conformance-marker-1"))
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

fn edit_of(setup: &ProviderSetup, record: &RemoteRecord) -> RemoteUpdate {
    let (field, value) = &setup.edit;
    RemoteUpdate {
        changes: vec![FieldChange::new(
            field.as_str(),
            record.record.fields.get(field).clone(),
            value.clone(),
        )],
        parent: None,
        related: None,
    }
}

async fn update(p: &dyn Provider, setup: &ProviderSetup, record: &RemoteRecord) {
    (setup.tick)();
    let (conn, object) = (&setup.connection, &setup.object);
    let (field, value) = &setup.edit;
    let current = p.get(conn, object, &record.id).await.expect("get");
    let expected = p
        .capabilities(object)
        .conditional_update
        .then(|| current.record.version.clone())
        .flatten();
    let updated = p
        .update(
            conn,
            object,
            &record.id,
            &edit_of(setup, &current),
            expected.as_ref(),
        )
        .await
        .expect("update");
    assert_eq!(
        updated.record.fields.get(field),
        value,
        "update sets {field}"
    );
    assert_ne!(
        updated.record.version, current.record.version,
        "update changes the version"
    );
    assert!(updated.record.updated_at >= current.record.updated_at);
}

async fn conditional_update(p: &dyn Provider, setup: &ProviderSetup, record: &RemoteRecord) {
    let (conn, object) = (&setup.connection, &setup.object);
    let before = p.get(conn, object, &record.id).await.expect("get");
    (setup.tick)();
    let mut edit = edit_of(setup, &before);
    if let Some(change) = edit.changes.first_mut() {
        change.new = devflow_sync_core::model::FieldValue::text("conditional");
    }
    p.update(
        conn,
        object,
        &record.id,
        &edit,
        before.record.version.as_ref(),
    )
    .await
    .expect("update with the current version");
    let err = p
        .update(
            conn,
            object,
            &record.id,
            &edit,
            before.record.version.as_ref(),
        )
        .await
        .expect_err("update with a stale version");
    assert!(matches!(err, Error::Precondition(_)), "{err:?}");
}

async fn list(p: &dyn Provider, setup: &ProviderSetup, created: &[RemoteRecord]) {
    let (conn, object) = (&setup.connection, &setup.object);
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
        for r in created {
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
}

async fn delta(p: &dyn Provider, setup: &ProviderSetup, created: &[RemoteRecord]) {
    let (conn, object) = (&setup.connection, &setup.object);
    let Some(newest) = created.iter().map(|r| r.record.updated_at).max() else {
        return;
    };
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

async fn stale_page_token(p: &dyn Provider, setup: &ProviderSetup) {
    let err = p
        .list_changed(
            &setup.connection,
            &setup.object,
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

async fn delete(p: &dyn Provider, setup: &ProviderSetup, created: &[RemoteRecord]) {
    let (conn, object) = (&setup.connection, &setup.object);
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
