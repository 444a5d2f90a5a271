//! An item opened in one system reaches the others that carry its kind: imported into
//! the host, then created there by propagation, parents first, once.

use std::sync::Arc;

use devflow_sync_core::clock::ManualClock;
use devflow_sync_core::engine::{EngineConfig, ImportMode, PullBudget, SyncEngine};
use devflow_sync_core::memory_provider::MemoryProvider;
use devflow_sync_core::model::{ConnectionId, Fields, ItemKind, ObjectType};

fn object() -> ObjectType {
    ObjectType::new("issue")
}

fn engine(propagate_creates: bool) -> (SyncEngine, Arc<MemoryProvider>, Arc<MemoryProvider>) {
    let clock = Arc::new(ManualClock::starting_at_epoch_secs(1_780_000_000));
    let jira = Arc::new(MemoryProvider::new("jira", clock.clone()));
    let github = Arc::new(MemoryProvider::new("github", clock.clone()));
    let engine = SyncEngine::builder()
        .provider(jira.clone())
        .provider(github.clone())
        .bind("jira-1", "jira", "issue")
        .bind("gh-1", "github", "issue")
        .clock(clock)
        .import_mode(ImportMode::Import)
        .config(EngineConfig {
            propagate_creates,
            import_mode: ImportMode::Import,
            ..EngineConfig::default()
        })
        .build()
        .unwrap();
    (engine, jira, github)
}

async fn pull(engine: &SyncEngine, connection: &str) {
    engine
        .pull(
            &ConnectionId::new(connection),
            &object(),
            PullBudget::UNLIMITED,
        )
        .await
        .unwrap();
}

#[tokio::test]
async fn an_epic_and_story_opened_in_jira_become_github_issues_once() {
    let (engine, jira, github) = engine(true);
    let epic = jira.remote_create(
        &object(),
        Some(ItemKind::Epic),
        None,
        Fields::new().with("title", "Checkout"),
    );
    jira.remote_create(
        &object(),
        Some(ItemKind::Story),
        Some(epic.id.clone()),
        Fields::new().with("title", "Pay by card"),
    );
    pull(&engine, "jira-1").await;

    let issues = github.records(&object());
    assert_eq!(issues.len(), 2, "{issues:#?}");
    let gh_epic = issues
        .iter()
        .find(|r| r.record.fields.get("title").as_str() == Some("Checkout"))
        .unwrap();
    let gh_story = issues
        .iter()
        .find(|r| r.record.fields.get("title").as_str() == Some("Pay by card"))
        .unwrap();
    assert_eq!(
        gh_story.record.parent.as_ref(),
        Some(&gh_epic.id),
        "parents first"
    );
    assert_eq!(gh_story.record.kind, Some(ItemKind::Story));
    // Each carries the host item as its marker, and is linked.
    for issue in &issues {
        let marker = issue.marker.clone().expect("marker");
        let links = engine.mappings().links_of_item(&marker).await.unwrap();
        assert_eq!(links.len(), 2, "linked in both systems: {links:#?}");
    }

    // Quiet: pulling both again creates nothing anywhere.
    pull(&engine, "gh-1").await;
    pull(&engine, "jira-1").await;
    assert_eq!(github.records(&object()).len(), 2);
    assert_eq!(jira.records(&object()).len(), 2);
    assert_eq!(
        engine
            .work_items()
            .changed_after(0, 100)
            .await
            .unwrap()
            .len(),
        2,
        "two host items"
    );
}

#[tokio::test]
async fn with_propagate_creates_off_it_stays_where_it_was_opened() {
    let (engine, jira, github) = engine(false);
    jira.remote_create(
        &object(),
        Some(ItemKind::Epic),
        None,
        Fields::new().with("title", "Checkout"),
    );
    pull(&engine, "jira-1").await;
    assert!(github.records(&object()).is_empty());
}
