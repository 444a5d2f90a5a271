//! The MCP tools through an MCP client of the same SDK over an in-process transport:
//! listed with their input and output schemas, and each called against the
//! simulators, its effect checked there.

use std::sync::Arc;

use devflow_store_sqlite::SqliteStore;
use host_service::AppState;
use host_service::demo::{self, PROJECT, REPO};
use host_service::mcp::DevflowMcp;
use rmcp::ServiceExt;
use rmcp::model::{CallToolRequestParams, CallToolResult};
use secrecy::SecretString;
use serde_json::{Value, json};

async fn call(
    client: &rmcp::service::RunningService<rmcp::RoleClient, ()>,
    name: &str,
    args: Value,
) -> CallToolResult {
    let params = CallToolRequestParams::new(name.to_owned())
        .with_arguments(args.as_object().cloned().unwrap_or_default());
    client.call_tool(params).await.unwrap()
}

fn output(result: &CallToolResult) -> Value {
    assert_ne!(result.is_error, Some(true), "{result:?}");
    result.structured_content.clone().unwrap_or(Value::Null)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_tool_is_listed_with_schemas_and_works_against_the_simulators() {
    let store = Arc::new(SqliteStore::in_memory().await.unwrap());
    let (engine, sims, handles) = demo::start(store).await.unwrap();
    demo::seed(&engine, &sims).await.unwrap();
    let state = Arc::new(AppState::new(
        engine,
        SecretString::from("unused".to_owned()),
        handles,
    ));
    let (server_io, client_io) = tokio::io::duplex(1 << 16);
    let server = tokio::spawn(async move {
        let running = DevflowMcp::new(state).serve(server_io).await.unwrap();
        let _ = running.waiting().await;
    });
    let client = ().serve(client_io).await.unwrap();

    let tools = client.list_all_tools().await.unwrap();
    let mut names: Vec<&str> = tools.iter().map(|t| t.name.as_ref()).collect();
    names.sort_unstable();
    assert_eq!(
        names,
        [
            "create_prd_with_integrations",
            "get_sync_status",
            "link_jira_issue",
            "list_conflicts",
            "resolve_sync_conflict",
            "search_jira_issues",
            "sync_entity",
        ]
    );
    for tool in &tools {
        assert!(
            tool.input_schema.get("properties").is_some()
                || tool.input_schema.get("type").is_some(),
            "{}",
            tool.name
        );
        assert!(
            tool.output_schema.is_some(),
            "{} has an output schema",
            tool.name
        );
        assert!(tool.description.as_ref().is_some_and(|d| !d.is_empty()));
    }

    // Search, status, sync.
    let found = output(&call(&client, "search_jira_issues", json!({"query": "checkout"})).await);
    assert!(
        found["issues"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["summary"] == "One-page checkout"),
        "{found}"
    );
    let synced = output(
        &call(
            &client,
            "sync_entity",
            json!({"entity_id": "item-1", "force": true}),
        )
        .await,
    );
    assert_eq!(synced["platforms"].as_array().unwrap().len(), 3, "{synced}");
    let status = output(&call(&client, "get_sync_status", json!({"entity_id": "item-1"})).await);
    let linked: Vec<&Value> = status["platforms"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["external_ref"].is_string())
        .collect();
    assert_eq!(linked.len(), 3, "{status}");
    assert!(linked.iter().all(|p| p["last_synced"].is_string()));
    let unknown = call(
        &client,
        "get_sync_status",
        json!({"entity_id": "no-such-item"}),
    )
    .await;
    assert_eq!(unknown.is_error, Some(true), "{unknown:?}");
    assert!(
        format!("{unknown:?}").contains("no-such-item"),
        "{unknown:?}"
    );

    // A PRD everywhere at once.
    let made = output(
        &call(
            &client,
            "create_prd_with_integrations",
            json!({"title": "Loyalty points", "description": "Earn on every order.",
                   "confluence_space_key": demo::SPACE, "jira_project_key": PROJECT, "github_repo": REPO}),
        )
        .await,
    );
    let epic_key = made["jira_epic_key"].as_str().unwrap();
    let epic = sims.jira.issue(epic_key).unwrap();
    assert_eq!(epic["fields"]["summary"], "Loyalty points");
    assert_eq!(epic["fields"]["issuetype"]["name"], "Epic");
    let page = sims
        .confluence
        .page(made["confluence_page_id"].as_str().unwrap())
        .unwrap();
    assert_eq!(
        page["title"], "Loyalty points",
        "the page exists in Confluence"
    );
    let github_ref = made["github_ref"].as_str().unwrap();
    let in_github = sims
        .github
        .milestones(REPO)
        .iter()
        .any(|m| m["title"] == "Loyalty points")
        || sims
            .github
            .issues(REPO)
            .iter()
            .any(|i| i["title"] == "Loyalty points");
    assert!(in_github, "the PRD exists in GitHub ({github_ref})");
    let refused = call(
        &client,
        "create_prd_with_integrations",
        json!({"title": "X", "confluence_space_key": "NOPE", "jira_project_key": PROJECT}),
    )
    .await;
    assert_eq!(refused.is_error, Some(true));

    // An issue made in Jira, imported under the epic; a wrong-level parent refused with
    // the suggested action.
    let key = sims
        .jira
        .create_issue(
            PROJECT,
            &json!({"summary": "Made in Jira", "issuetype": {"name": "Story"}}),
        )
        .unwrap();
    let wrong = call(
        &client,
        "link_jira_issue",
        json!({"jira_key": key, "parent_id": "item-1"}),
    )
    .await;
    assert_eq!(wrong.is_error, Some(true), "a story under a PRD: {wrong:?}");
    let said = serde_json::to_string(&wrong.content).unwrap();
    assert!(said.contains("suggested action"), "{said}");
    let linked = output(
        &call(
            &client,
            "link_jira_issue",
            json!({"jira_key": key, "parent_id": "item-2"}),
        )
        .await,
    );
    assert!(linked["entity_id"].is_string(), "{linked}");
    assert!(sims.jira.issue(&key).unwrap()["fields"]["parent"]["key"].is_string());

    // Conflicts: the demo's orphan, settled.
    let listed = output(&call(&client, "list_conflicts", json!({"platform": "jira"})).await);
    let conflicts = listed["conflicts"].as_array().unwrap();
    assert_eq!(conflicts.len(), 1, "{listed}");
    let id = conflicts[0]["id"].as_str().unwrap();
    let resolved = output(
        &call(
            &client,
            "resolve_sync_conflict",
            json!({"conflict_id": id, "action": "keep_external"}),
        )
        .await,
    );
    assert_eq!(resolved["conflict_id"], id);
    let listed = output(&call(&client, "list_conflicts", json!({})).await);
    assert!(
        listed["conflicts"].as_array().unwrap().is_empty(),
        "{listed}"
    );

    client.cancel().await.unwrap();
    server.abort();
}
