//! The page tree follows the host: a reparented epic's page moves, PRDs can hang at the
//! space's root level or under a chosen page, and a trashed page is purged only when
//! asked.

use devflow_provider_confluence::PageRoot;
use devflow_sync_core::model::{FieldChange, Fields, ItemId, ItemKind};
use devflow_sync_core::provider::{NewRemote, Provider};
use devflow_sync_core::store::{ItemUpdate, WorkItemStore};
use support::{SPACE, item, page_of, setup, setup_with};

mod support;

#[tokio::test]
async fn a_reparented_epic_moves_its_page() {
    let s = setup().await;
    let first = item(&s, ItemKind::Prd, None, "Checkout", "").await;
    let second = item(&s, ItemKind::Prd, None, "Payments", "").await;
    let epic = item(&s, ItemKind::Epic, Some(&first), "Saved cards", "").await;
    s.engine
        .push_tree(&s.conn, &s.object, &first)
        .await
        .unwrap();
    s.engine
        .push_tree(&s.conn, &s.object, &second)
        .await
        .unwrap();
    let update = ItemUpdate {
        parent: Some(Some(second.clone())),
        ..ItemUpdate::default()
    };
    s.items.update(&epic, &update, None).await.unwrap();
    s.engine.push(&s.conn, &s.object, &epic).await.unwrap();
    let page = s.sim.page(page_of(&s, &epic).await.as_str()).unwrap();
    assert_eq!(page["parentId"], page_of(&s, &second).await.as_str());
    // And a title change with it keeps the place.
    let current = s.items.get(&epic).await.unwrap().unwrap();
    let rename = ItemUpdate {
        changes: vec![FieldChange::new(
            "title",
            current.record.fields.get("title").clone(),
            "Stored cards",
        )],
        ..ItemUpdate::default()
    };
    s.items.update(&epic, &rename, None).await.unwrap();
    s.engine.push(&s.conn, &s.object, &epic).await.unwrap();
    let page = s.sim.page(page_of(&s, &epic).await.as_str()).unwrap();
    assert_eq!(
        (page["title"].as_str(), page["version"]["number"].as_u64()),
        (Some("Stored cards"), Some(3))
    );
}

#[tokio::test]
async fn prds_hang_at_the_root_level_or_under_a_chosen_page() {
    let s = setup_with(|c| c.root = PageRoot::RootLevel).await;
    let prd = item(&s, ItemKind::Prd, None, "Checkout", "").await;
    s.engine.push_tree(&s.conn, &s.object, &prd).await.unwrap();
    let page = s.sim.page(page_of(&s, &prd).await.as_str()).unwrap();
    assert!(page["parentId"].is_null(), "{page}");

    // Under a chosen page: a "Product docs" page people made.
    let s = setup().await;
    let docs = s
        .provider
        .create(
            &s.conn,
            &s.object,
            &NewRemote {
                kind: None,
                parent: None,
                fields: Fields::new().with("title", "Product docs"),
                marker: ItemId::new("docs"),
                related: Vec::new(),
            },
        )
        .await
        .unwrap();
    assert_eq!(
        s.sim.page(docs.id.as_str()).unwrap()["parentId"],
        s.sim.homepage(SPACE).unwrap().as_str()
    );
    let under_docs =
        support::provider_with(&s.sim, |c| c.root = PageRoot::Page(docs.id.to_string()));
    let prd = under_docs
        .create(
            &s.conn,
            &s.object,
            &NewRemote {
                kind: Some(ItemKind::Prd),
                parent: None,
                fields: Fields::new().with("title", "Checkout"),
                marker: ItemId::new("prd-1"),
                related: Vec::new(),
            },
        )
        .await
        .unwrap();
    assert_eq!(
        s.sim.page(prd.id.as_str()).unwrap()["parentId"],
        docs.id.as_str()
    );
    assert!(
        prd.record.parent.is_none(),
        "the root is no parent to the engine"
    );
}

#[tokio::test]
async fn a_trashed_page_is_purged_only_when_asked() {
    let s = setup().await;
    let prd = item(&s, ItemKind::Prd, None, "Checkout", "").await;
    s.engine.push_tree(&s.conn, &s.object, &prd).await.unwrap();
    let id = page_of(&s, &prd).await;
    assert!(
        s.provider.purge_page(&s.conn, &id).await.is_err(),
        "not in the trash"
    );
    s.sim.trash_page(id.as_str());
    assert_eq!(s.sim.page(id.as_str()).unwrap()["status"], "trashed");
    s.provider.purge_page(&s.conn, &id).await.unwrap();
    assert!(s.sim.page(id.as_str()).is_none());
}
