//! `--real`: connections and OAuth apps from the environment's settings (here a lookup
//! pointing at the simulators), refused with a clear error when none is configured.

use std::collections::HashMap;
use std::sync::Arc;

use devflow_store_sqlite::SqliteStore;
use devflow_sync_testkit::bqe_sim::BqeSimulator;
use devflow_sync_testkit::confluence_sim::ConfluenceSimulator;
use devflow_sync_testkit::github_sim::GitHubSimulator;
use devflow_sync_testkit::jira_sim::JiraSimulator;
use host_service::state::Handle;

fn ring() -> devflow_sync_core::auth::KeyRing {
    host_service::resume::process_key_ring().unwrap()
}

#[tokio::test]
async fn providers_come_from_the_environments_settings() {
    let store = Arc::new(SqliteStore::in_memory().await.unwrap());
    let err = host_service::real::start(store.clone(), ring(), |_| None)
        .await
        .unwrap_err();
    for named in [
        "DEVFLOW_SYNC_JIRA_BASE_URL",
        "DEVFLOW_SYNC_CONFLUENCE_BASE_URL",
        "DEVFLOW_SYNC_BQE_ACCESS_TOKEN",
    ] {
        assert!(err.to_string().contains(named), "{err}");
    }
    let jira = JiraSimulator::start().await.unwrap();
    jira.add_project("ENV", "From the environment", false);
    jira.add_api_token("env@acme.test", "env-token", false, None);
    let wiki = ConfluenceSimulator::start().await.unwrap();
    wiki.add_space("ENV", "From the environment");
    wiki.add_api_token("env@acme.test", "wiki-token");
    let github = GitHubSimulator::start().await.unwrap();
    github.add_repo("acme/env");
    github.accept_token("ghp_env");
    let bqe = BqeSimulator::start().await.unwrap();
    bqe.accept_token("bqe-env-token", &["read:core"]);
    bqe.add_project("P-1", "From the environment", None, None);
    let vars = HashMap::from([
        ("DEVFLOW_SYNC_JIRA_BASE_URL", jira.url()),
        ("DEVFLOW_SYNC_JIRA_PROJECT", "ENV".to_owned()),
        ("DEVFLOW_SYNC_JIRA_EMAIL", "env@acme.test".to_owned()),
        ("DEVFLOW_SYNC_JIRA_API_TOKEN", "env-token".to_owned()),
        ("DEVFLOW_SYNC_CONFLUENCE_BASE_URL", wiki.url()),
        ("DEVFLOW_SYNC_CONFLUENCE_SPACE", "ENV".to_owned()),
        ("DEVFLOW_SYNC_CONFLUENCE_EMAIL", "env@acme.test".to_owned()),
        ("DEVFLOW_SYNC_CONFLUENCE_API_TOKEN", "wiki-token".to_owned()),
        ("DEVFLOW_SYNC_GITHUB_BASE_URL", github.url()),
        ("DEVFLOW_SYNC_GITHUB_REPOSITORIES", "acme/env".to_owned()),
        ("DEVFLOW_SYNC_GITHUB_TOKEN", "ghp_env".to_owned()),
        ("DEVFLOW_SYNC_BQE_API_BASE", bqe.api_url()),
        ("DEVFLOW_SYNC_BQE_ACCESS_TOKEN", "bqe-env-token".to_owned()),
        ("DEVFLOW_SYNC_BQE_CLIENT_ID", "bqe-app".to_owned()),
        ("DEVFLOW_SYNC_BQE_ENVIRONMENT", "sandbox".to_owned()),
        ("DEVFLOW_SYNC_PUBLIC_URL", "https://host.example".to_owned()),
    ]);
    let (engine, handles, apps) =
        host_service::real::start(store, ring(), |k| vars.get(k).cloned())
            .await
            .unwrap();
    assert_eq!(handles.len(), 4);
    let mut ids: Vec<String> = engine
        .connections()
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.id.to_string())
        .collect();
    ids.sort();
    assert_eq!(ids, ["bqe", "confluence", "github", "jira"]);
    let stored = serde_json::to_string(&engine.connections().await.unwrap()).unwrap();
    for secret in ["env-token", "wiki-token", "ghp_env", "bqe-env-token"] {
        assert!(
            !stored.contains(secret),
            "{secret} is not kept with the connection"
        );
    }
    // Each connection reaches its simulator with the settings it was given.
    let id = |s: &str| devflow_sync_core::model::ConnectionId::new(s);
    for (connection, handle) in &handles {
        match handle {
            Handle::Jira(p) => assert_eq!(
                p.test_connection(connection).await.diagnosis,
                devflow_provider_jira::Diagnosis::Ok
            ),
            Handle::Confluence(p) => {
                p.list_spaces(connection).await.unwrap();
            }
            Handle::GitHub(p) => {
                p.list_repositories(connection).await.unwrap();
            }
            Handle::Bqe(p) => {
                p.company(connection).await.unwrap();
            }
        }
    }
    assert!(handles.contains_key(&id("bqe")));
    // The BQE app: the sandbox identity server, the callback on the public URL, PKCE
    // since no secret was given.
    let (started, _state) = apps.begin("bqe", &id("bqe-oauth")).unwrap();
    assert!(
        started.starts_with("https://sandbox-api-identity.bqecore.com/idp/connect/authorize?"),
        "{started}"
    );
    assert!(started.contains("code_challenge="), "{started}");
    assert!(
        started.contains(
            "redirect_uri=https%3A%2F%2Fhost.example%2Fapi%2Fintegrations%2Fbqe%2Fcallback"
        ),
        "{started}"
    );
}
