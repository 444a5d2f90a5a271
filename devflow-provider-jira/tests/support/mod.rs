//! What the simulator test files share.

#![allow(dead_code)]

pub(crate) mod time;

use std::sync::Arc;

use devflow_provider_jira::{JiraAuth, JiraConfig, JiraProvider};
use devflow_sync_core::auth::{AccessToken, WebhookSecret};
use devflow_sync_core::engine::{BindingOptions, SyncEngine};
use devflow_sync_core::http::HttpClient;
use devflow_sync_core::model::{ConnectionId, ExternalId, ItemId, ItemKind, ObjectType, Record};
use devflow_sync_core::store::memory::{MemoryJournal, MemoryMappings, MemoryWorkItems};
use devflow_sync_core::store::{MappingStore, WorkItemStore};
use devflow_sync_testkit::jira_sim::{JiraSimulator, WEBHOOK_SECRET};

/// The project the simulator tests use.
pub(crate) const PROJECT: &str = "KAN";
pub(crate) const EMAIL: &str = "dev@acme.test";
pub(crate) const TOKEN: &str = "ATATT3xFfGF0-simulated-api-token";

pub(crate) struct Setup {
    pub(crate) sim: JiraSimulator,
    pub(crate) provider: Arc<JiraProvider>,
    pub(crate) engine: SyncEngine,
    pub(crate) items: Arc<MemoryWorkItems>,
    pub(crate) mappings: Arc<MemoryMappings>,
    pub(crate) journal: Arc<MemoryJournal>,
    pub(crate) conn: ConnectionId,
    pub(crate) object: ObjectType,
}

/// A provider for the simulator's project with an admin's API token.
pub(crate) fn provider(sim: &JiraSimulator) -> JiraProvider {
    let mut config = JiraConfig::new(
        sim.url(),
        PROJECT,
        JiraAuth::api_token(EMAIL, AccessToken::new(TOKEN)),
    );
    config.webhook_secrets = vec![WebhookSecret::new(WEBHOOK_SECRET)];
    JiraProvider::new(config, HttpClient::builder().build().unwrap()).unwrap()
}

/// A simulator with one project (company-managed unless `team_managed`), and an engine
/// syncing it with the default mapping.
pub(crate) async fn setup_with(team_managed: bool) -> Setup {
    let sim = JiraSimulator::start().await.unwrap();
    sim.add_project(PROJECT, "DevFlow", team_managed);
    sim.add_api_token(EMAIL, TOKEN, true, None);
    let provider = Arc::new(provider(&sim));
    let items = Arc::new(MemoryWorkItems::new());
    let mappings = Arc::new(MemoryMappings::new());
    let journal = Arc::new(MemoryJournal::new());
    let options = BindingOptions {
        mapping: Some(devflow_provider_jira::mapping::default_mapping().unwrap()),
        ..BindingOptions::default()
    };
    let engine = SyncEngine::builder()
        .provider(provider.clone())
        .bind_with("jira", "jira", "issue", options)
        .work_items(items.clone())
        .mappings(mappings.clone())
        .journal(journal.clone())
        .build()
        .unwrap();
    Setup {
        sim,
        provider,
        engine,
        items,
        mappings,
        journal,
        conn: ConnectionId::new("jira"),
        object: ObjectType::new("issue"),
    }
}

pub(crate) async fn setup() -> Setup {
    setup_with(false).await
}

pub(crate) async fn item(
    s: &Setup,
    kind: ItemKind,
    parent: Option<&ItemId>,
    title: &str,
) -> ItemId {
    let mut record = Record::new("work_item", chrono::Utc::now())
        .with_kind(kind)
        .with_field("title", title);
    record.parent = parent.cloned();
    s.items.create(None, record).await.unwrap().id
}

/// The Jira issue id an item is linked to.
pub(crate) async fn remote_of(s: &Setup, item: &ItemId) -> ExternalId {
    s.mappings
        .link_by_item(&s.conn, &s.object, item)
        .await
        .unwrap()
        .unwrap()
        .remote
        .id
}
