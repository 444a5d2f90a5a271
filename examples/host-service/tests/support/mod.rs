//! The host service on loopback over the demo's simulators, for the API test files.

#![allow(dead_code)]

use std::sync::Arc;
use std::time::Duration;

use devflow_store_sqlite::SqliteStore;
use host_service::demo::{self, Simulators};
use host_service::scheduler::Intervals;
use host_service::{AppState, Running, serve};
use reqwest::StatusCode;
use secrecy::SecretString;
use serde_json::Value;

pub(crate) const ADMIN: &str = "test-admin-token-0123456789";

pub(crate) struct Service {
    pub(crate) state: Arc<AppState>,
    pub(crate) running: Running,
    pub(crate) sims: Simulators,
    pub(crate) http: reqwest::Client,
}

impl Service {
    /// Pulls Jira issues the way the scheduler does.
    pub(crate) async fn running_pull(&self) {
        self.state
            .engine
            .pull(
                &devflow_sync_core::model::ConnectionId::new("jira-acme"),
                &devflow_sync_core::model::ObjectType::new("issue"),
                devflow_sync_core::engine::PullBudget::UNLIMITED,
            )
            .await
            .unwrap();
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.running.addr)
    }

    pub(crate) async fn get(&self, path: &str) -> (StatusCode, Value) {
        let r = self
            .http
            .get(self.url(path))
            .bearer_auth(ADMIN)
            .send()
            .await
            .unwrap();
        let status = r.status();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    pub(crate) async fn post(&self, path: &str, body: &Value) -> (StatusCode, Value) {
        let r = self
            .http
            .post(self.url(path))
            .bearer_auth(ADMIN)
            .json(body)
            .send()
            .await
            .unwrap();
        let status = r.status();
        (status, r.json().await.unwrap_or(Value::Null))
    }
}

pub(crate) async fn service() -> Service {
    service_with(Intervals {
        pull: Duration::from_secs(3600),
        inbox: Duration::from_millis(50),
    })
    .await
}

pub(crate) async fn service_with(intervals: Intervals) -> Service {
    let store = Arc::new(SqliteStore::in_memory().await.unwrap());
    let (engine, sims, jira) = demo::start(store.clone()).await.unwrap();
    demo::seed(&engine, &sims).await.unwrap();
    let state = Arc::new(
        AppState::new(engine, SecretString::from(ADMIN.to_owned()), jira)
            .with_oauth(demo::oauth_apps(&sims).unwrap())
            .with_maintenance(
                store.clone(),
                devflow_sync_core::store::Retention::default(),
            )
            .persist_reads(store.pool().clone())
            .await
            .unwrap(),
    );
    let running = serve(state.clone(), "127.0.0.1:0".parse().unwrap(), intervals)
        .await
        .unwrap();
    Service {
        state,
        running,
        sims,
        http: reqwest::Client::new(),
    }
}
