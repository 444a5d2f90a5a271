//! A ready engine on in-memory parts, for tests of the engine and of hosts.

use std::sync::Arc;
use std::time::Duration;

use devflow_sync_core::Result;
use devflow_sync_core::clock::ManualClock;
use devflow_sync_core::engine::{ImportMode, SyncEngine, SyncEngineBuilder};
use devflow_sync_core::hierarchy::HierarchyRules;
use devflow_sync_core::merge::ConflictPolicy;
use devflow_sync_core::model::{
    ConnectionId, ExternalId, FieldValue, ItemId, ItemKind, ObjectType, Record,
};
use devflow_sync_core::store::WorkItemStore;
use devflow_sync_core::store::memory::{
    MemoryJournal, MemoryMappings, MemoryPageStore, MemoryWorkItems,
};

use crate::memory_provider::MemoryProvider;

/// The provider key of the harness's [`MemoryProvider`].
pub const PROVIDER: &str = "memory";

/// A [`SyncEngine`] bound to one [`MemoryProvider`] connection (`conn-1`, object
/// `issue`), on in-memory stores and a manual clock, with handles to all of them.
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// use devflow_sync_core::merge::Manual;
/// use devflow_sync_core::model::ItemKind;
/// use devflow_sync_testkit::harness::Harness;
///
/// let h = Harness::new(Manual);
/// let epic = h.create_item(ItemKind::Epic, None, "Payments").await.unwrap();
/// let report = h.engine.push(&h.connection, &h.object, &epic).await.unwrap();
/// assert_eq!(report.created, 1);
/// assert_eq!(h.remote.records(&h.object).len(), 1);
/// # });
/// ```
#[derive(Debug)]
pub struct Harness {
    /// The clock everything runs on.
    pub clock: Arc<ManualClock>,
    /// The remote system.
    pub remote: Arc<MemoryProvider>,
    /// The host's records.
    pub items: Arc<MemoryWorkItems>,
    /// Links, bases, cursors.
    pub mappings: Arc<MemoryMappings>,
    /// Log, conflicts, inbox.
    pub journal: Arc<MemoryJournal>,
    /// The engine.
    pub engine: SyncEngine,
    /// The bound connection.
    pub connection: ConnectionId,
    /// The bound provider object.
    pub object: ObjectType,
}

impl Harness {
    /// A harness with the DevFlow rules, strict import and `policy`.
    pub fn new(policy: impl ConflictPolicy + 'static) -> Self {
        Self::with(policy, |b| b)
    }

    /// A harness whose builder `customize` adjusts (import mode, rules, config...).
    pub fn with(
        policy: impl ConflictPolicy + 'static,
        customize: impl FnOnce(SyncEngineBuilder) -> SyncEngineBuilder,
    ) -> Self {
        let clock = Arc::new(ManualClock::starting_at_epoch_secs(1_780_000_000));
        let remote = Arc::new(MemoryProvider::new(PROVIDER, clock.clone()));
        let items = Arc::new(MemoryWorkItems::with_clock(clock.clone()));
        let mappings = Arc::new(MemoryMappings::new());
        let journal = Arc::new(MemoryJournal::new());
        let builder = SyncEngine::builder()
            .provider(remote.clone())
            .bind("conn-1", PROVIDER, "issue")
            .work_items(items.clone())
            .mappings(mappings.clone())
            .journal(journal.clone())
            // A pull page's writes together, as with a database.
            .page_store(Arc::new(MemoryPageStore::new(
                items.clone(),
                mappings.clone(),
                journal.clone(),
            )))
            .clock(clock.clone())
            .rules(HierarchyRules::devflow())
            .policy(Arc::new(policy));
        let engine = customize(builder)
            .build()
            .unwrap_or_else(|e| panic!("harness engine: {e}"));
        Self {
            clock,
            remote,
            items,
            mappings,
            journal,
            engine,
            connection: ConnectionId::new("conn-1"),
            object: ObjectType::new("issue"),
        }
    }

    /// A harness that imports valid provider-created records.
    pub fn importing(policy: impl ConflictPolicy + 'static) -> Self {
        Self::with(policy, |b| b.import_mode(ImportMode::Import))
    }

    /// Creates a host item with a title.
    pub async fn create_item(
        &self,
        kind: ItemKind,
        parent: Option<&ItemId>,
        title: &str,
    ) -> Result<ItemId> {
        let mut record = Record::new("work_item", self.clock_now())
            .with_kind(kind)
            .with_field("title", FieldValue::text(title));
        record.parent = parent.cloned();
        Ok(self.items.create(None, record).await?.id)
    }

    /// The provider id linked to a host item.
    ///
    /// # Panics
    /// When the item is not linked: for tests that just pushed it.
    pub async fn external_id(&self, item: &ItemId) -> ExternalId {
        use devflow_sync_core::store::MappingStore;
        self.mappings
            .link_by_item(&self.connection, &self.object, item)
            .await
            .ok()
            .flatten()
            .map(|l| l.remote.id)
            .unwrap_or_else(|| panic!("item {item} is not linked"))
    }

    /// Pulls everything from the bound connection.
    pub async fn pull(&self) -> Result<devflow_sync_core::engine::SyncReport> {
        self.engine
            .pull(
                &self.connection,
                &self.object,
                devflow_sync_core::engine::PullBudget::UNLIMITED,
            )
            .await
    }

    /// Moves the clock forward.
    pub fn tick(&self, by: Duration) {
        self.clock.advance(by);
    }

    fn clock_now(&self) -> chrono::DateTime<chrono::Utc> {
        use devflow_sync_core::clock::Clock;
        self.clock.now()
    }

    /// Hands every webhook the remote emitted to the engine, then processes the inbox.
    pub async fn deliver_webhooks(&self) -> Result<usize> {
        let hooks = self.remote.take_webhooks();
        let n = hooks.len();
        for hook in hooks {
            self.engine
                .accept_webhook(
                    &PROVIDER.into(),
                    &self.connection,
                    &hook.headers,
                    &hook.body,
                )
                .await?;
        }
        self.engine.process_inbox(usize::MAX).await?;
        Ok(n)
    }
}
