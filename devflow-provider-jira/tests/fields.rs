//! DevFlow's custom fields: created once with their contexts, found by name after, used
//! for marker lookups and kept current; without admin rights, the sync goes on without.

use devflow_provider_jira::fields::{LAST_SYNC, SYNC_STATUS, definitions};
use devflow_provider_jira::{JiraAuth, JiraConfig, JiraProvider};
use devflow_sync_core::auth::AccessToken;
use devflow_sync_core::http::HttpClient;
use devflow_sync_core::model::{ConnectionId, Fields, ItemId, ItemKind, ObjectType};
use devflow_sync_core::provider::{NewRemote, Provider};
use devflow_sync_testkit::jira_sim::JiraSimulator;

fn provider(sim: &JiraSimulator, token: &str) -> JiraProvider {
    JiraProvider::new(
        JiraConfig::new(
            sim.url(),
            "KAN",
            JiraAuth::api_token("dev@acme.test", AccessToken::new(token)),
        ),
        HttpClient::builder().build().unwrap(),
    )
    .unwrap()
}

#[tokio::test]
async fn the_fields_are_created_once_and_used_from_then_on() {
    let sim = JiraSimulator::start().await.unwrap();
    sim.add_project("KAN", "DevFlow", false);
    sim.add_api_token("dev@acme.test", "admin", true, None);
    let conn = ConnectionId::new("c");
    let p = provider(&sim, "admin");
    let setup = p.setup_custom_fields(&conn, &[]).await.unwrap();
    assert_eq!(setup.created.len(), definitions().len(), "{setup:?}");
    assert!(setup.existing.is_empty() && setup.refused.is_none());
    let again = provider(&sim, "admin")
        .setup_custom_fields(&conn, &[])
        .await
        .unwrap();
    assert!(again.created.is_empty(), "idempotent: {again:?}");
    assert_eq!(again.existing, setup.created);
    let fields = sim.custom_fields();
    assert!(fields.iter().any(|f| {
        f["name"] == "DevFlow Story ID"
            && f["schema"]["custom"]
                .as_str()
                .unwrap()
                .ends_with(":textfield")
    }));
    assert!(fields.iter().any(|f| f["name"] == "GitHub Issue Number"
        && f["schema"]["custom"].as_str().unwrap().ends_with(":float")));

    // An issue made now carries its DevFlow ID, Sync Status and Last Sync.
    let issue = ObjectType::new("issue");
    let made = p
        .create(
            &conn,
            &issue,
            &NewRemote {
                kind: Some(ItemKind::Story),
                parent: None,
                fields: Fields::new().with("summary", "S"),
                marker: ItemId::new("item-42"),
                related: Vec::new(),
            },
        )
        .await
        .unwrap();
    let raw = sim.issue(made.id.as_str()).unwrap();
    let id_of = |name: &str| setup.created[name].clone();
    assert_eq!(raw["fields"][id_of("DevFlow Story ID")], "item-42");
    assert_eq!(raw["fields"][id_of(SYNC_STATUS)]["value"], "synced");
    assert!(raw["fields"][id_of(LAST_SYNC)].is_string());
    // The marker is found through the field, not by scanning.
    let found = p
        .find_by_marker(&conn, &issue, &ItemId::new("item-42"))
        .await
        .unwrap();
    assert_eq!(found.map(|r| r.id), Some(made.id));
    assert!(
        p.find_by_marker(&conn, &issue, &ItemId::new("item-4"))
            .await
            .unwrap()
            .is_none(),
        "a prefix is not the marker"
    );
}

#[tokio::test]
async fn without_admin_rights_the_setup_says_so_and_sync_goes_on() {
    let sim = JiraSimulator::start().await.unwrap();
    sim.add_project("KAN", "DevFlow", true);
    sim.add_api_token("dev@acme.test", "user", false, None);
    let conn = ConnectionId::new("c");
    let p = provider(&sim, "user");
    let setup = p.setup_custom_fields(&conn, &[]).await.unwrap();
    assert!(setup.created.is_empty());
    assert!(
        setup
            .refused
            .as_deref()
            .is_some_and(|r| r.contains("admin")),
        "{setup:?}"
    );
    let issue = ObjectType::new("issue");
    let made = p
        .create(
            &conn,
            &issue,
            &NewRemote {
                kind: Some(ItemKind::Epic),
                parent: None,
                fields: Fields::new().with("summary", "E"),
                marker: ItemId::new("epic-7"),
                related: Vec::new(),
            },
        )
        .await
        .unwrap();
    assert_eq!(
        sim.property(made.id.as_str(), "devflow").unwrap()["id"],
        "epic-7"
    );
    let found = p
        .find_by_marker(&conn, &issue, &ItemId::new("epic-7"))
        .await
        .unwrap();
    assert_eq!(
        found.map(|r| r.id),
        Some(made.id),
        "found among recent issues by its property"
    );
}
