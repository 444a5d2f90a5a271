//! What the simulator test files share.

#![allow(dead_code)]

use std::sync::Arc;

use devflow_provider_confluence::{ConfluenceAuth, ConfluenceConfig, ConfluenceProvider};
use devflow_sync_core::auth::AccessToken;
use devflow_sync_core::engine::{BindingOptions, SyncEngine};
use devflow_sync_core::http::HttpClient;
use devflow_sync_core::model::{ConnectionId, ExternalId, ItemId, ItemKind, ObjectType, Record};
use devflow_sync_core::store::memory::{MemoryJournal, MemoryMappings, MemoryWorkItems};
use devflow_sync_core::store::{MappingStore, WorkItemStore};
use devflow_sync_testkit::confluence_sim::{ConfluenceSimulator, WEBHOOK_SECRET};

/// The space the simulator tests use.
pub(crate) const SPACE: &str = "DEV";
pub(crate) const EMAIL: &str = "dev@acme.test";
pub(crate) const TOKEN: &str = "ATATT3xFfGF0-simulated-api-token";

pub(crate) struct Setup {
    pub(crate) sim: ConfluenceSimulator,
    pub(crate) provider: Arc<ConfluenceProvider>,
    pub(crate) engine: SyncEngine,
    pub(crate) items: Arc<MemoryWorkItems>,
    pub(crate) mappings: Arc<MemoryMappings>,
    pub(crate) journal: Arc<MemoryJournal>,
    pub(crate) conn: ConnectionId,
    pub(crate) object: ObjectType,
}

/// A provider for the simulator's space with an API token.
pub(crate) fn provider_with(
    sim: &ConfluenceSimulator,
    tune: impl FnOnce(&mut ConfluenceConfig),
) -> ConfluenceProvider {
    let mut config = ConfluenceConfig::new(
        sim.url(),
        SPACE,
        ConfluenceAuth::api_token(EMAIL, AccessToken::new(TOKEN)),
    );
    config.webhook_secrets = vec![devflow_sync_core::auth::WebhookSecret::new(WEBHOOK_SECRET)];
    tune(&mut config);
    ConfluenceProvider::new(config, HttpClient::builder().build().unwrap()).unwrap()
}

/// A simulator with one space, and an engine syncing PRD, Epic and Story pages with
/// the default mapping.
pub(crate) async fn setup_with(tune: impl FnOnce(&mut ConfluenceConfig)) -> Setup {
    let sim = ConfluenceSimulator::start().await.unwrap();
    sim.add_space(SPACE, "DevFlow - Acme");
    sim.add_api_token(EMAIL, TOKEN);
    let provider = Arc::new(provider_with(&sim, tune));
    let items = Arc::new(MemoryWorkItems::new());
    let mappings = Arc::new(MemoryMappings::new());
    let journal = Arc::new(MemoryJournal::new());
    let options = BindingOptions {
        mapping: Some(devflow_provider_confluence::mapping::default_mapping().unwrap()),
        kinds: Some(devflow_provider_confluence::mapping::default_kinds()),
        ..BindingOptions::default()
    };
    let engine = SyncEngine::builder()
        .provider(provider.clone())
        .bind_with("wiki", "confluence", "page", options)
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
        conn: ConnectionId::new("wiki"),
        object: ObjectType::new("page"),
    }
}

pub(crate) async fn setup() -> Setup {
    setup_with(|_| {}).await
}

pub(crate) async fn item(
    s: &Setup,
    kind: ItemKind,
    parent: Option<&ItemId>,
    title: &str,
    description: &str,
) -> ItemId {
    let mut record = Record::new("work_item", chrono::Utc::now())
        .with_kind(kind)
        .with_field("title", title)
        .with_field("description", description);
    record.parent = parent.cloned();
    s.items.create(None, record).await.unwrap().id
}

/// The page an item is linked to.
pub(crate) async fn page_of(s: &Setup, item: &ItemId) -> ExternalId {
    s.mappings
        .link_by_item(&s.conn, &s.object, item)
        .await
        .unwrap()
        .unwrap()
        .remote
        .id
}
