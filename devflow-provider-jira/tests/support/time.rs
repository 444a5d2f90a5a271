//! Time records as worklogs: the simulator, an engine with one worklog binding, and the
//! helpers the worklog test files share.

use std::sync::Arc;
use std::time::Duration;

use chrono::{TimeZone, Utc};
use devflow_provider_jira::mapping::worklog_mapping;
use devflow_provider_jira::timecard::TIME_RECORD;
use devflow_provider_jira::{JiraAuth, JiraConfig, JiraProvider};
use devflow_sync_core::auth::{AccessToken, WebhookSecret};
use devflow_sync_core::engine::{BindingOptions, DeletionPolicy, SyncEngine};
use devflow_sync_core::http::{HttpClient, HttpConfig, RateLimitConfig};
use devflow_sync_core::model::{ConnectionId, FieldChange, FieldValue, ItemId, ObjectType, Record};
use devflow_sync_core::provider::Provider;
use devflow_sync_core::store::memory::{MemoryMappings, MemoryWorkItems};
use devflow_sync_core::store::{ItemUpdate, MappingStore, WorkItemStore};
use devflow_sync_testkit::jira_sim::{JiraSimulator, WEBHOOK_SECRET};

use super::{EMAIL, PROJECT, TOKEN};

pub(crate) struct Time {
    pub(crate) sim: JiraSimulator,
    pub(crate) engine: SyncEngine,
    pub(crate) items: Arc<MemoryWorkItems>,
    pub(crate) mappings: Arc<MemoryMappings>,
    pub(crate) issues: Vec<String>,
}

pub(crate) fn worklog_binding() -> BindingOptions {
    BindingOptions {
        mapping: Some(worklog_mapping().unwrap()),
        ..BindingOptions::default()
    }
}

pub(crate) async fn time_setup_with(
    wrap: impl FnOnce(Arc<JiraProvider>) -> Arc<dyn Provider>,
) -> Time {
    let sim = JiraSimulator::start().await.unwrap();
    sim.add_project(PROJECT, "DevFlow", false);
    sim.add_api_token(EMAIL, TOKEN, true, None);
    sim.set_worklog_quiet_period(Duration::ZERO);
    let mut issues = Vec::new();
    for summary in ["Checkout page", "Payment retries", "Login audit"] {
        issues.push(
            sim.create_issue(
                PROJECT,
                &serde_json::json!({"summary": summary, "issuetype": {"name": "Task"}}),
            )
            .unwrap(),
        );
    }
    let items = Arc::new(MemoryWorkItems::new());
    let mappings = Arc::new(MemoryMappings::new());
    let engine = SyncEngine::builder()
        .provider(wrap(Arc::new(provider(&sim))))
        .bind_with("jira", "jira", "worklog", worklog_binding())
        .work_items(items.clone())
        .mappings(mappings.clone())
        .deletion_policy(DeletionPolicy::Propagate)
        .build()
        .unwrap();
    Time {
        sim,
        engine,
        items,
        mappings,
        issues,
    }
}

pub(crate) async fn time_setup() -> Time {
    time_setup_with(|p| p).await
}

pub(crate) fn started() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 1, 7, 30, 0).unwrap()
}

pub(crate) async fn record(t: &Time, key: &str, seconds: Option<i64>, comment: &str) -> ItemId {
    let mut r = Record::new(TIME_RECORD, Utc::now())
        .with_field("issue_key", key)
        .with_field("started", FieldValue::DateTime(started()))
        .with_field("utc_offset", "+02:00")
        .with_field("comment", FieldValue::long_text(comment))
        .with_field("connection", "jira");
    if let Some(s) = seconds {
        r = r.with_field("duration_seconds", FieldValue::int(s));
    }
    t.items.create(None, r).await.unwrap().id
}

/// A provider for the simulator whose request budget is above the catalog's, so the
/// tests are not held to 600 requests a minute.
pub(crate) fn provider(sim: &JiraSimulator) -> JiraProvider {
    let mut config = JiraConfig::new(
        sim.url(),
        PROJECT,
        JiraAuth::api_token(EMAIL, AccessToken::new(TOKEN)),
    );
    config.overlap = Duration::from_secs(1);
    config.webhook_secrets = vec![WebhookSecret::new(WEBHOOK_SECRET)];
    let http = HttpConfig {
        default_rate_limit: RateLimitConfig {
            requests_per_minute: 1_000_000,
            burst: 10_000,
            max_concurrent_per_connection: 16,
            writes_per_minute: None,
            writes_per_hour: None,
        },
        ..HttpConfig::default()
    };
    JiraProvider::new(config, HttpClient::builder().config(http).build().unwrap()).unwrap()
}

/// The host changes one field of a record.
pub(crate) async fn set(t: &Time, item: &ItemId, field: &str, value: FieldValue) {
    let old = t.items.get(item).await.unwrap().unwrap();
    let change = FieldChange::new(field, old.record.fields.get(field).clone(), value);
    let update = ItemUpdate {
        changes: vec![change],
        parent: None,
        active: None,
    };
    t.items.update(item, &update, None).await.unwrap();
}

pub(crate) fn conn() -> ConnectionId {
    ConnectionId::new("jira")
}

pub(crate) fn worklog() -> ObjectType {
    ObjectType::new("worklog")
}

pub(crate) async fn worklog_of(t: &Time, item: &ItemId) -> String {
    t.mappings
        .link_by_item(&conn(), &worklog(), item)
        .await
        .unwrap()
        .expect("linked")
        .remote
        .id
        .as_str()
        .to_owned()
}
