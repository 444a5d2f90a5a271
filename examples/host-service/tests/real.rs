//! `--real`: connections from the environment's settings (here a lookup pointing at the
//! simulators), refused with a clear error when none is configured.

use std::collections::HashMap;
use std::sync::Arc;

use devflow_store_sqlite::SqliteStore;
use devflow_sync_testkit::jira_sim::JiraSimulator;

#[tokio::test]
async fn providers_come_from_the_environments_settings() {
    let store = Arc::new(SqliteStore::in_memory().await.unwrap());
    let err = host_service::real::start(store.clone(), |_| None)
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("DEVFLOW_SYNC_JIRA_BASE_URL"),
        "{err}"
    );
    let sim = JiraSimulator::start().await.unwrap();
    sim.add_project("ENV", "From the environment", false);
    sim.add_api_token("env@acme.test", "env-token", false, None);
    let vars = HashMap::from([
        ("DEVFLOW_SYNC_JIRA_BASE_URL", sim.url()),
        ("DEVFLOW_SYNC_JIRA_PROJECT", "ENV".to_owned()),
        ("DEVFLOW_SYNC_JIRA_EMAIL", "env@acme.test".to_owned()),
        ("DEVFLOW_SYNC_JIRA_API_TOKEN", "env-token".to_owned()),
    ]);
    let (engine, handles) = host_service::real::start(store, |k| vars.get(k).cloned())
        .await
        .unwrap();
    assert_eq!(handles.len(), 1);
    let connections = engine.connections().await.unwrap();
    assert_eq!(connections.len(), 1);
    assert_eq!(connections[0].id.as_str(), "jira");
    let stored = serde_json::to_string(&connections).unwrap();
    assert!(
        !stored.contains("env-token"),
        "the token is not kept with the connection"
    );
}
