use devflow_sync_core::hierarchy::KindSet;
use devflow_sync_core::model::{ConnectionId, ItemKind};
use devflow_sync_core::provider::RecordFilter;
use devflow_sync_core::store::{
    BindingRecord, ConnectionRecord, ConnectionStore, WebhookRegistrationRecord,
};

/// Connections round-trip with their settings and bindings (kinds, filters); a put
/// replaces; removing says whether there was one; the list is by id.
pub async fn connection_store(store: &dyn ConnectionStore) {
    let (a, b) = (
        ConnectionId::new("conformance-conn-a"),
        ConnectionId::new("conformance-conn-b"),
    );
    let _ = store.remove_connection(&a).await;
    let _ = store.remove_connection(&b).await;
    let kinds: KindSet = [ItemKind::Prd, ItemKind::Epic, ItemKind::Story]
        .into_iter()
        .collect();
    let mut binding = BindingRecord::new("page").carrying(kinds.iter());
    binding.filter = RecordFilter {
        labels: vec!["sync".into()],
        ..RecordFilter::default()
    };
    let mut first = ConnectionRecord::new(b.clone(), "confluence")
        .with_settings(
            serde_json::json!({"baseUrl": "https://acme.atlassian.net/wiki", "space": "DEV"}),
        )
        .with_binding(binding);
    first.created_at = super::t0();
    first.updated_at = super::t0();
    store.put_connection(&first).await.expect("put");
    assert_eq!(
        store.connection(&b).await.expect("get"),
        Some(first.clone()),
        "round-trip"
    );
    let second = ConnectionRecord {
        created_at: super::t0(),
        updated_at: super::t0(),
        ..ConnectionRecord::new(a.clone(), "jira").with_binding(BindingRecord::new("issue"))
    };
    store.put_connection(&second).await.expect("put");
    let mut changed = first.clone();
    changed.bindings[0].kinds = Some([ItemKind::Prd].into_iter().collect());
    store.put_connection(&changed).await.expect("replace");
    let ours: Vec<ConnectionRecord> = store
        .connections()
        .await
        .expect("list")
        .into_iter()
        .filter(|c| c.id == a || c.id == b)
        .collect();
    assert_eq!(ours, vec![second, changed], "by id, the replacement kept");
    assert!(store.remove_connection(&a).await.expect("remove"));
    assert!(
        !store.remove_connection(&a).await.expect("remove again"),
        "already gone"
    );
    assert!(store.connection(&a).await.expect("get").is_none());
    assert!(store.remove_connection(&b).await.expect("remove"));
}

/// Webhook registrations round-trip; a put replaces by (connection, remote id); the due
/// list holds only those due, soonest first; removing one says whether there was one;
/// removing the connection removes its registrations and no one else's.
pub async fn webhook_registrations(store: &dyn ConnectionStore) {
    let (a, b) = (
        ConnectionId::new("conformance-hooks-a"),
        ConnectionId::new("conformance-hooks-b"),
    );
    let _ = store.remove_connection(&a).await;
    let _ = store.remove_connection(&b).await;
    store
        .put_connection(&ConnectionRecord::new(a.clone(), "jira"))
        .await
        .expect("put connection");
    let t0 = super::t0();
    let day = chrono::Duration::days(1);
    let hook = |connection: &ConnectionId, id: &str, expires_in_days: i32| {
        let mut r = WebhookRegistrationRecord::new(
            connection.clone(),
            "jira",
            id,
            "https://host.example/hooks",
        )
        .with_events(["jira:issue_created", "jira:issue_updated"])
        .with_filter("project = \"KAN\"")
        .expiring(t0 + day * expires_in_days, day * 7);
        r.created_at = t0;
        r.updated_at = t0;
        r
    };
    let late = hook(&a, "2", 30);
    let soon = hook(&a, "10", 9);
    let other = hook(&b, "1", 8);
    let never = WebhookRegistrationRecord {
        created_at: t0,
        updated_at: t0,
        ..WebhookRegistrationRecord::new(b.clone(), "github", "77", "https://host.example/gh")
    };
    for r in [&late, &soon, &other, &never] {
        store.put_registration(r).await.expect("put registration");
    }
    assert_eq!(
        store.registrations(Some(&a)).await.expect("list"),
        vec![soon.clone(), late.clone()],
        "by remote id as text, one connection's only"
    );
    let due: Vec<String> = store
        .registrations_due(t0 + day * 3)
        .await
        .expect("due")
        .into_iter()
        .filter(|r| r.connection == a || r.connection == b)
        .map(|r| r.remote_id)
        .collect();
    assert_eq!(due, vec!["1", "10"], "due ones, soonest first");
    let mut refreshed = soon.clone().expiring(t0 + day * 40, day * 7);
    refreshed.updated_at = t0 + day;
    store.put_registration(&refreshed).await.expect("refresh");
    let due: Vec<String> = store
        .registrations_due(t0 + day * 3)
        .await
        .expect("due")
        .into_iter()
        .filter(|r| r.connection == a || r.connection == b)
        .map(|r| r.remote_id)
        .collect();
    assert_eq!(due, vec!["1"], "a refreshed registration is no longer due");
    assert_eq!(
        store.registrations(Some(&a)).await.expect("list")[0],
        refreshed,
        "replaced"
    );
    assert!(store.remove_registration(&b, "77").await.expect("remove"));
    assert!(!store.remove_registration(&b, "77").await.expect("again"));
    assert!(
        store
            .remove_connection(&a)
            .await
            .expect("remove connection")
    );
    assert!(
        store
            .registrations(Some(&a))
            .await
            .expect("list")
            .is_empty(),
        "a removed connection's registrations go with it"
    );
    assert_eq!(
        store.registrations(Some(&b)).await.expect("list"),
        vec![other],
        "another connection's stay"
    );
    let _ = store.remove_connection(&b).await;
}
