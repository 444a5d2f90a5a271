//! The Confluence provider and the engine end to end against the in-process simulator.

use devflow_sync_core::engine::PullBudget;
use devflow_sync_core::model::{
    ConnectionId, FieldChange, FieldValue, Fields, ItemKind, ObjectType, Version,
};
use devflow_sync_core::provider::{Provider, RemoteUpdate};
use devflow_sync_core::store::{ConflictStatus, ConflictStore, ItemUpdate, WorkItemStore};
use support::{SPACE, item, page_of, setup};

mod support;

fn body_of(page: &serde_json::Value) -> String {
    page["body"]["storage"]["value"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn set_description(s: &support::Setup, id: &devflow_sync_core::model::ItemId, text: &str) {
    let current = s.items.get(id).await.unwrap().unwrap();
    let old = current.record.fields.get("description").clone();
    s.items
        .update(
            id,
            &ItemUpdate {
                changes: vec![FieldChange::new("description", old, text)],
                ..ItemUpdate::default()
            },
            None,
        )
        .await
        .unwrap();
}

#[tokio::test]
async fn prd_epic_and_story_pages_hang_in_the_tree_with_the_devflow_property() {
    let s = setup().await;
    let prd = item(
        &s,
        ItemKind::Prd,
        None,
        "Checkout",
        "Why we build **checkout**.",
    )
    .await;
    let epic = item(
        &s,
        ItemKind::Epic,
        Some(&prd),
        "Saved cards",
        "- keep cards\n- reuse them",
    )
    .await;
    let story = item(
        &s,
        ItemKind::Story,
        Some(&epic),
        "Pay with a saved card",
        "",
    )
    .await;
    let task = item(&s, ItemKind::Task, Some(&story), "Card vault API", "").await;
    let report = s.engine.push_tree(&s.conn, &s.object, &prd).await.unwrap();
    assert_eq!(
        report.created, 3,
        "PRD, Epic and Story are pages: {report:?}"
    );
    let (prd_page, epic_page, story_page) = (
        page_of(&s, &prd).await,
        page_of(&s, &epic).await,
        page_of(&s, &story).await,
    );
    let page = |id: &devflow_sync_core::model::ExternalId| s.sim.page(id.as_str()).unwrap();
    let homepage = s.sim.homepage(SPACE).unwrap();
    assert_eq!(
        page(&prd_page)["parentId"],
        homepage.as_str(),
        "PRDs under the homepage"
    );
    assert_eq!(page(&epic_page)["parentId"], prd_page.as_str());
    assert_eq!(page(&story_page)["parentId"], epic_page.as_str());
    assert!(s.mappings_of(&task).await.is_none(), "a task is not a page");
    let property =
        |id: &devflow_sync_core::model::ExternalId| s.sim.property(id.as_str(), "devflow").unwrap();
    assert_eq!(property(&prd_page)["type"], "prd");
    assert_eq!(property(&epic_page)["type"], "epic");
    assert_eq!(property(&story_page)["id"], story.as_str());
    let prd_body = body_of(&page(&prd_page));
    assert!(prd_body.contains("<strong>checkout</strong>"), "{prd_body}");
    assert!(
        prd_body.contains("devflow-start") && prd_body.contains("<h2>Decisions</h2>"),
        "the PRD template"
    );
    // Pulled back, the tree is the same tree: nothing new, no conflict.
    let pulled = s
        .engine
        .pull(&s.conn, &s.object, PullBudget::UNLIMITED)
        .await
        .unwrap();
    assert_eq!(
        (pulled.created, pulled.updated, pulled.conflicts),
        (0, 0, 0),
        "{pulled:?}"
    );
}

impl support::Setup {
    async fn mappings_of(
        &self,
        item: &devflow_sync_core::model::ItemId,
    ) -> Option<devflow_sync_core::store::Link> {
        use devflow_sync_core::store::MappingStore;
        self.mappings
            .link_by_item(&self.conn, &self.object, item)
            .await
            .unwrap()
    }
}

#[tokio::test]
async fn what_people_write_outside_the_section_survives_and_edits_inside_come_back() {
    let s = setup().await;
    let prd = item(&s, ItemKind::Prd, None, "Checkout", "First draft.").await;
    s.engine.push_tree(&s.conn, &s.object, &prd).await.unwrap();
    let id = page_of(&s, &prd).await;
    // A person adds a paragraph above the section and a decision below it.
    let body = body_of(&s.sim.page(id.as_str()).unwrap());
    let edited = format!(
        "<p>Written by a person.</p>{}",
        body.replace(
            "<h2>Decisions</h2><p />",
            "<h2>Decisions</h2><p>Ship in May.</p>"
        )
    );
    assert!(s.sim.edit_page(id.as_str(), None, Some(&edited)));
    let pulled = s
        .engine
        .pull(&s.conn, &s.object, PullBudget::UNLIMITED)
        .await
        .unwrap();
    assert_eq!(pulled.conflicts, 0, "{pulled:?}");
    let host = s.items.get(&prd).await.unwrap().unwrap();
    assert_eq!(
        host.record.fields.get("description").as_str(),
        Some("First draft."),
        "outside the section is not the host's"
    );

    // The host's text changes: the page gets it, and keeps the person's text.
    set_description(&s, &prd, "Second draft with a [link](https://example.com).").await;
    s.engine.push(&s.conn, &s.object, &prd).await.unwrap();
    let now = body_of(&s.sim.page(id.as_str()).unwrap());
    assert!(now.starts_with("<p>Written by a person.</p>"), "{now}");
    assert!(now.contains("<p>Ship in May.</p>"), "{now}");
    assert!(
        now.contains("<a href=\"https://example.com\">link</a>"),
        "{now}"
    );
    assert!(!now.contains("First draft"), "{now}");

    // A person edits inside the section: the host gets it.
    let inside = now.replace("Second draft", "Third draft");
    assert!(
        s.sim
            .edit_page(id.as_str(), Some("Checkout v2"), Some(&inside))
    );
    let pulled = s
        .engine
        .pull(&s.conn, &s.object, PullBudget::UNLIMITED)
        .await
        .unwrap();
    assert_eq!(pulled.updated, 1, "{pulled:?}");
    let host = s.items.get(&prd).await.unwrap().unwrap();
    assert_eq!(
        host.record.fields.get("description").as_str(),
        Some("Third draft with a [link](https://example.com).")
    );
    assert_eq!(
        host.record.fields.get("title").as_str(),
        Some("Checkout v2")
    );
}

#[tokio::test]
async fn concurrent_edits_meet_a_stale_version_and_are_merged_without_loss() {
    let s = setup().await;
    let prd = item(&s, ItemKind::Prd, None, "Checkout", "Draft.").await;
    s.engine.push_tree(&s.conn, &s.object, &prd).await.unwrap();
    let id = page_of(&s, &prd).await;
    // The provider refuses an update on a version that moved on.
    s.sim
        .edit_page(id.as_str(), Some("Checkout (renamed)"), None);
    let update = RemoteUpdate {
        changes: vec![FieldChange::new("title", "Checkout", "Not this")],
        ..RemoteUpdate::default()
    };
    let stale = s
        .provider
        .update(&s.conn, &s.object, &id, &update, Some(&Version::new("1")))
        .await
        .unwrap_err();
    assert!(
        matches!(stale, devflow_sync_core::Error::Precondition(_)),
        "{stale:?}"
    );
    // The engine meets it too (host edit, person's rename in between), re-reads,
    // merges: both changes end up on both sides.
    set_description(&s, &prd, "Host's new text.").await;
    let report = s.engine.push(&s.conn, &s.object, &prd).await.unwrap();
    assert_eq!(report.conflicts, 0, "{report:?}");
    let page = s.sim.page(id.as_str()).unwrap();
    assert_eq!(page["title"], "Checkout (renamed)");
    assert!(
        body_of(&page).contains("Host&#39;s new text.")
            || body_of(&page).contains("Host's new text."),
        "{}",
        body_of(&page)
    );
    let host = s.items.get(&prd).await.unwrap().unwrap();
    assert_eq!(
        host.record.fields.get("title").as_str(),
        Some("Checkout (renamed)")
    );
    assert_eq!(
        host.record.fields.get("description").as_str(),
        Some("Host's new text.")
    );
}

#[tokio::test]
async fn a_page_moved_under_the_wrong_parent_is_a_conflict_and_a_trashed_page_a_delete() {
    let s = setup().await;
    let prd = item(&s, ItemKind::Prd, None, "Checkout", "").await;
    let epic = item(&s, ItemKind::Epic, Some(&prd), "Saved cards", "").await;
    let story = item(&s, ItemKind::Story, Some(&epic), "Pay", "").await;
    s.engine.push_tree(&s.conn, &s.object, &prd).await.unwrap();
    let (prd_page, story_page) = (page_of(&s, &prd).await, page_of(&s, &story).await);
    // A story dragged right under the PRD page: Story needs an Epic.
    assert!(s.sim.move_page(story_page.as_str(), prd_page.as_str()));
    let pulled = s
        .engine
        .pull(&s.conn, &s.object, PullBudget::UNLIMITED)
        .await
        .unwrap();
    assert_eq!(pulled.conflicts, 1, "{pulled:?}");
    let conflicts = s
        .journal
        .conflicts(&s.conn, Some(ConflictStatus::Pending))
        .await
        .unwrap();
    assert!(conflicts[0].message.contains("Story"), "{conflicts:?}");
    let host = s.items.get(&story).await.unwrap().unwrap();
    assert_eq!(
        host.record.parent.as_ref(),
        Some(&epic),
        "the host keeps its parent"
    );

    // The epic's page goes to the trash: a delete, per the policy (inactive, linked).
    let epic_page = page_of(&s, &epic).await;
    assert!(s.sim.trash_page(epic_page.as_str()));
    let pulled = s
        .engine
        .pull(&s.conn, &s.object, PullBudget::UNLIMITED)
        .await
        .unwrap();
    assert!(pulled.deleted >= 1, "{pulled:?}");
    assert!(!s.items.get(&epic).await.unwrap().unwrap().active);
}

#[tokio::test]
async fn search_lag_is_covered_by_the_window() {
    use std::sync::Arc;
    use std::time::Duration;
    let clock = Arc::new(devflow_sync_core::clock::ManualClock::new(
        chrono::Utc::now(),
    ));
    let run = |overlap: Duration, lookback: Duration| {
        let clock = clock.clone();
        async move {
            let sim = devflow_sync_testkit::confluence_sim::ConfluenceSimulator::start_with_clock(
                clock.clone(),
            )
            .await
            .unwrap();
            sim.add_space(SPACE, "DevFlow - Acme");
            sim.add_api_token(support::EMAIL, support::TOKEN);
            let provider = Arc::new(support::provider_with(&sim, |c| c.overlap = overlap));
            let engine = devflow_sync_core::engine::SyncEngine::builder()
                .provider(provider.clone())
                .bind_with(
                    "wiki",
                    "confluence",
                    "page",
                    devflow_sync_core::engine::BindingOptions {
                        mapping: Some(
                            devflow_provider_confluence::mapping::default_mapping().unwrap(),
                        ),
                        ..Default::default()
                    },
                )
                .config(devflow_sync_core::engine::EngineConfig {
                    lookback,
                    ..Default::default()
                })
                .build()
                .unwrap();
            let conn = ConnectionId::new("wiki");
            let object = ObjectType::new("page");
            for title in ["B", "C", "D"] {
                let record = devflow_sync_core::model::Record::new("work_item", chrono::Utc::now())
                    .with_kind(ItemKind::Prd)
                    .with_field("title", title)
                    .with_field("description", "text");
                let id = engine.work_items().create(None, record).await.unwrap().id;
                engine.push(&conn, &object, &id).await.unwrap();
            }
            engine
                .pull(&conn, &object, PullBudget::UNLIMITED)
                .await
                .unwrap();
            let pages = sim.pages_in(SPACE);
            let id_of = |t: &str| {
                pages.iter().find(|p| p["title"] == t).unwrap()["id"]
                    .as_str()
                    .unwrap()
                    .to_owned()
            };
            let (b, c, d) = (id_of("B"), id_of("C"), id_of("D"));
            let edit = |id: &str, text: &str| {
                let body = body_of(&sim.page(id).unwrap()).replace("text", text);
                sim.edit_page(id, None, Some(&body));
            };
            // An hour on, C is edited and pulled: the cursor moves to it.
            clock.advance(Duration::from_secs(3600));
            edit(&c, "edited in C");
            engine
                .pull(&conn, &object, PullBudget::UNLIMITED)
                .await
                .unwrap();
            // B is edited, and search sees it only ten minutes later; D two minutes
            // after B, and at once.
            clock.advance(Duration::from_secs(60));
            sim.set_search_lag(Duration::from_secs(600));
            edit(&b, "edited in B");
            clock.advance(Duration::from_secs(120));
            sim.set_search_lag(Duration::ZERO);
            edit(&d, "edited in D");
            let first = engine
                .pull(&conn, &object, PullBudget::UNLIMITED)
                .await
                .unwrap();
            assert_eq!(first.updated, 1, "only D is searchable yet: {first:?}");
            clock.advance(Duration::from_secs(660));
            engine
                .pull(&conn, &object, PullBudget::UNLIMITED)
                .await
                .unwrap();
            let host: Vec<String> = futures_descriptions(&engine).await;
            host.iter().any(|d| d == "edited in B")
        }
    };
    assert!(
        run(Duration::from_secs(120), Duration::from_secs(300)).await,
        "the window reaches back to B"
    );
    assert!(
        !run(Duration::ZERO, Duration::ZERO).await,
        "without a window B is missed: the knob is real"
    );
}

async fn futures_descriptions(engine: &devflow_sync_core::engine::SyncEngine) -> Vec<String> {
    engine
        .work_items()
        .changed_after(0, 100)
        .await
        .unwrap()
        .into_iter()
        .filter_map(|(_, i)| {
            i.record
                .fields
                .get("description")
                .as_str()
                .map(str::to_owned)
        })
        .collect()
}

#[tokio::test]
async fn the_provider_passes_the_conformance_suite() {
    let s = setup().await;
    let setup = devflow_sync_testkit::conformance::ProviderSetup {
        connection: ConnectionId::new("wiki"),
        object: ObjectType::new("page"),
        fields: Fields::new()
            .with("title", "Conformance")
            .with("body", "Some *text*."),
        edit: ("title".into(), FieldValue::text("Edited")),
        tick: Box::new(|| std::thread::sleep(std::time::Duration::from_millis(2))),
    };
    devflow_sync_testkit::conformance::provider(s.provider.as_ref(), &setup).await;
}

#[tokio::test]
async fn spaces_are_listed_and_a_projects_space_is_made_once() {
    let s = setup().await;
    let spaces = s.provider.list_spaces(&s.conn).await.unwrap();
    assert_eq!(spaces.len(), 1);
    assert_eq!(
        (spaces[0].key.as_str(), spaces[0].name.as_str()),
        (SPACE, "DevFlow - Acme")
    );
    assert!(
        spaces[0]
            .url
            .as_deref()
            .unwrap()
            .ends_with("/wiki/spaces/DEV"),
        "{spaces:?}"
    );
    let made = s
        .provider
        .ensure_space(&s.conn, "PAY", "Payments")
        .await
        .unwrap();
    assert_eq!(made.name, "DevFlow - Payments");
    assert!(made.id.bytes().all(|b| b.is_ascii_digit()) && made.homepage.is_some());
    let again = s
        .provider
        .ensure_space(&s.conn, "PAY", "Payments")
        .await
        .unwrap();
    assert_eq!(again, made, "found, not made twice");
    assert_eq!(s.provider.list_spaces(&s.conn).await.unwrap().len(), 2);
    assert!(s.provider.ensure_space(&s.conn, "P-1", "x").await.is_err());
}

#[tokio::test]
async fn signed_webhooks_name_the_page_and_unsigned_ones_are_refused() {
    let s = setup().await;
    let prd = item(&s, ItemKind::Prd, None, "Checkout", "Draft.").await;
    s.engine.push_tree(&s.conn, &s.object, &prd).await.unwrap();
    let id = page_of(&s, &prd).await;
    s.sim.take_webhooks();
    let body =
        body_of(&s.sim.page(id.as_str()).unwrap()).replace("Draft.", "Edited in Confluence.");
    s.sim.edit_page(id.as_str(), None, Some(&body));
    let hooks = s.sim.take_webhooks();
    assert_eq!(hooks.len(), 1);
    let delivery = s
        .provider
        .parse_webhook(&s.conn, &hooks[0].headers, &hooks[0].body)
        .unwrap();
    assert_eq!(delivery.events[0].id, id);
    assert!(
        delivery.delivery_id.contains("-v2-"),
        "page id and version: {}",
        delivery.delivery_id
    );
    let err = s
        .provider
        .parse_webhook(
            &s.conn,
            &devflow_sync_core::provider::Headers::new(),
            &hooks[0].body,
        )
        .unwrap_err();
    assert!(
        matches!(err, devflow_sync_core::Error::Unauthenticated(_)),
        "{err:?}"
    );
    // Through the engine: accepted, processed, the edit in the host.
    let key = devflow_sync_core::model::ProviderKey::new("confluence");
    s.engine
        .accept_webhook(&key, &s.conn, &hooks[0].headers, &hooks[0].body)
        .await
        .unwrap();
    let report = s.engine.process_inbox(10).await.unwrap();
    assert_eq!(report.updated, 1, "{report:?}");
    let host = s.items.get(&prd).await.unwrap().unwrap();
    assert_eq!(
        host.record.fields.get("description").as_str(),
        Some("Edited in Confluence.")
    );
}
