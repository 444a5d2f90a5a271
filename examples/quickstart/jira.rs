//! The quickstart's Jira steps: the same tree pushed to an in-process Jira simulator
//! through the Jira provider, beside GitHub, by the same engine.

use std::sync::Arc;

use devflow_provider_jira::{Diagnosis, JiraAuth, JiraConfig, JiraProvider};
use devflow_sync::auth::{AccessToken, WebhookSecret};
use devflow_sync::engine::SyncEngine;
use devflow_sync::http::HttpClient;
use devflow_sync::model::{ConnectionId, ExternalId, FieldChange, FieldValue, ItemId, ObjectType};
use devflow_sync::store::ItemUpdate;
use devflow_sync_testkit::jira_sim::{JiraSimulator, WEBHOOK_SECRET};

use crate::Steps;

/// The Jira project the quickstart syncs.
pub(crate) const PROJECT: &str = "CHK";
const EMAIL: &str = "quickstart@acme.test";
const TOKEN: &str = "ATATT-quickstart";

fn transient(e: impl std::fmt::Display) -> devflow_sync::Error {
    devflow_sync::Error::transient(e.to_string())
}

/// The simulator (with the site saved beside a kept database, if any), the provider
/// and the connection.
pub(crate) async fn start(
    db_path: &std::path::Path,
    keep: bool,
) -> devflow_sync::Result<(
    JiraSimulator,
    Arc<JiraProvider>,
    ConnectionId,
    std::path::PathBuf,
)> {
    let sim = JiraSimulator::start().await.map_err(transient)?;
    let file = std::path::PathBuf::from(format!("{}.jira.json", db_path.display()));
    let again = keep && sim.load(&file).map_err(transient)?;
    if !again {
        sim.add_project(PROJECT, "Checkout", false);
    }
    sim.add_api_token(EMAIL, TOKEN, false, None);
    let mut config = JiraConfig::new(
        sim.url(),
        PROJECT,
        JiraAuth::api_token(EMAIL, AccessToken::new(TOKEN)),
    );
    config.webhook_secrets = vec![WebhookSecret::new(WEBHOOK_SECRET)];
    let provider = Arc::new(JiraProvider::new(config, HttpClient::builder().build()?)?);
    Ok((sim, provider, ConnectionId::new("jira-acme"), file))
}

/// Steps 13-15.
pub(crate) async fn steps(
    steps: &mut Steps,
    engine: &SyncEngine,
    sim: &JiraSimulator,
    provider: &JiraProvider,
    conn: &ConnectionId,
    tree: [&ItemId; 5],
) -> devflow_sync::Result<()> {
    println!("\nThe same engine and Jira (an in-process simulator on 127.0.0.1):");
    let items = engine.work_items().clone();
    let mappings = engine.mappings().clone();
    let object = ObjectType::new("issue");

    // 13. Connect with an API token: the diagnosis says whether it works.
    let check = provider.test_connection(conn).await;
    steps.check(
        "connected to Jira with an API token; test_connection reads the account and the project's issue types",
        check.diagnosis == Diagnosis::Ok
            && check.project.as_ref().is_some_and(|p| p.issue_types.iter().any(|t| t.hierarchy_level == -1)),
    );

    // 14. The tree goes to Jira too: epics for the PRD and the epic, the story under its
    // epic through Jira's own parent, the sub-task under its task, DevFlow's property on each.
    let report = engine.push_tree(conn, &object, tree[0]).await?;
    let mut ids: Vec<ExternalId> = Vec::new();
    for item in tree {
        let link = mappings.link_by_item(conn, &object, item).await?;
        ids.push(
            link.map(|l| l.remote.id)
                .unwrap_or_else(|| ExternalId::new("")),
        );
    }
    let issue = |i: usize| sim.issue(ids[i].as_str()).unwrap_or_default();
    let keys: Vec<String> = (0..5)
        .map(|i| issue(i)["key"].as_str().unwrap_or("?").to_owned())
        .collect();
    println!(
        "    PRD {}, epic {}, story {}, task {}, subtask {} in {PROJECT}",
        keys[0], keys[1], keys[2], keys[3], keys[4]
    );
    let types: Vec<String> = (0..5)
        .map(|i| {
            issue(i)["fields"]["issuetype"]["name"]
                .as_str()
                .unwrap_or("?")
                .to_owned()
        })
        .collect();
    println!("    issue types: {}", types.join(", "));
    steps.check(
        "the tree is five Jira issues (Epic, Epic, Story, Task, Sub-task), the story under its epic, each with its host id in the devflow property",
        types == ["Epic", "Epic", "Story", "Task", "Sub-task"]
            && issue(2)["fields"]["parent"]["id"] == ids[1].as_str()
            && issue(4)["fields"]["parent"]["id"] == ids[3].as_str()
            && (0..5).all(|i| sim.property(ids[i].as_str(), "devflow").is_some_and(|p| p["id"] == tree[i].as_str()))
            && sim.issues(PROJECT).len() == 5
            && report.errors == 0,
    );

    // 15. A status change in the host moves the Jira issue through its workflow.
    let current = items
        .get(tree[2])
        .await?
        .map(|i| i.record.fields.get("status").clone())
        .unwrap_or_default();
    let next = if current.as_str() == Some("in_progress") {
        "todo"
    } else {
        "in_progress"
    };
    let update = ItemUpdate {
        changes: vec![FieldChange::new(
            "status",
            current,
            FieldValue::enumeration(next),
        )],
        ..ItemUpdate::default()
    };
    items.update(tree[2], &update, None).await?;
    engine.push(conn, &object, tree[2]).await?;
    let status = issue(2)["fields"]["status"]["name"]
        .as_str()
        .unwrap_or("?")
        .to_owned();
    println!("    story {} is now {status:?} in Jira", keys[2]);
    steps.check(
        "a status change in the host moves the Jira issue through a transition of its workflow",
        status
            == if next == "todo" {
                "To Do"
            } else {
                "In Progress"
            },
    );
    Ok(())
}
