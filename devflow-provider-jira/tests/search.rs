//! Issue search for linking time records, against the Jira simulator: exact keys, the
//! issue picker for text, and the open issues assigned to the account.

use devflow_sync_core::model::ConnectionId;
use devflow_sync_testkit::jira_sim::{ACCOUNT_ID, JiraSimulator};
use serde_json::json;

mod support;
use support::{EMAIL, PROJECT, TOKEN, provider};

async fn seeded() -> (JiraSimulator, Vec<String>) {
    let sim = JiraSimulator::start().await.unwrap();
    sim.add_project(PROJECT, "DevFlow", false);
    sim.add_api_token(EMAIL, TOKEN, true, None);
    let mut keys = Vec::new();
    for (summary, mine) in [
        ("Checkout page redesign", true),
        ("Checkout payment retries", false),
        ("Login audit", true),
    ] {
        let mut fields = json!({"summary": summary, "issuetype": {"name": "Task"}});
        if mine {
            fields["assignee"] = json!({"accountId": ACCOUNT_ID});
        }
        keys.push(sim.create_issue(PROJECT, &fields).unwrap());
    }
    (sim, keys)
}

#[tokio::test]
async fn a_key_is_looked_up_exactly_and_carries_every_hit_field() {
    let (sim, keys) = seeded().await;
    let p = provider(&sim);
    let conn = ConnectionId::new("jira");
    let hits = p
        .search_issues(&conn, &keys[0].to_lowercase())
        .await
        .unwrap();
    assert_eq!(hits.len(), 1, "{hits:?}");
    let hit = &hits[0];
    assert_eq!(hit.key, keys[0]);
    assert_eq!(hit.summary, "Checkout page redesign");
    assert_eq!(hit.status.as_deref(), Some("To Do"));
    assert_eq!(hit.status_category.as_deref(), Some("new"));
    assert_eq!(
        hit.assignee.as_ref().map(|a| a.id.as_str()),
        Some(ACCOUNT_ID)
    );
    assert_eq!(hit.project.as_deref(), Some(PROJECT));
    assert_eq!(hit.issue_type.as_deref(), Some("Task"));
    // A key that does not exist finds nothing, without an error.
    assert!(p.search_issues(&conn, "KAN-999").await.unwrap().is_empty());
}

#[tokio::test]
async fn text_goes_through_the_picker_and_blank_text_finds_nothing() {
    let (sim, keys) = seeded().await;
    let p = provider(&sim);
    let conn = ConnectionId::new("jira");
    let hits = p.search_issues(&conn, "checkout").await.unwrap();
    let found: Vec<&str> = hits.iter().map(|h| h.key.as_str()).collect();
    assert_eq!(found, [keys[0].as_str(), keys[1].as_str()]);
    assert!(hits.iter().all(|h| h.status_category.is_some()));
    assert!(p.search_issues(&conn, "   ").await.unwrap().is_empty());
    assert!(
        p.search_issues(&conn, "nothing like it")
            .await
            .unwrap()
            .is_empty()
    );
    let long = "x".repeat(300);
    assert!(matches!(
        p.search_issues(&conn, &long).await,
        Err(devflow_sync_core::Error::InvalidInput { .. })
    ));
}

#[tokio::test]
async fn assigned_to_me_lists_the_accounts_open_issues() {
    let (sim, keys) = seeded().await;
    sim.set_status(&keys[2], "Done").unwrap();
    let p = provider(&sim);
    let hits = p.assigned_to_me(&ConnectionId::new("jira")).await.unwrap();
    let found: Vec<&str> = hits.iter().map(|h| h.key.as_str()).collect();
    assert_eq!(found, [keys[0].as_str()], "open and mine only");
}
