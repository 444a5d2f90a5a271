use devflow_sync_core::hierarchy::KindSet;
use devflow_sync_core::model::{ConnectionId, ItemKind};
use devflow_sync_core::provider::RecordFilter;
use devflow_sync_core::store::{BindingRecord, ConnectionRecord, ConnectionStore};

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
