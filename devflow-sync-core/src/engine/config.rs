//! The engine's settings and its builder.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{Inner, SyncEngine};
use crate::clock::{Clock, SystemClock};
use crate::error::{Error, Result};
use crate::hierarchy::HierarchyRules;
use crate::mapping::ObjectMapping;
use crate::merge::{ConflictPolicy, Manual};
use crate::model::{ConnectionId, ObjectType, ProviderKey};
use crate::provider::{Provider, RecordFilter};
use crate::store::memory::{
    MemoryJournal, MemoryLeases, MemoryMappings, MemoryPageStore, MemoryTokens, MemoryWorkItems,
};
use crate::store::{LeaseManager, MappingStore, PageStore, SyncJournal, TokenStore, WorkItemStore};

/// What a pull does with a record created in a provider that no host item is linked to.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ImportMode {
    /// Record an `external_creation` (or `hierarchy_violation`) conflict with its
    /// suggested action instead of importing: the host creates items.
    #[default]
    Strict,
    /// Create the host item when its place in the hierarchy is valid.
    Import,
}

/// What happens to the host item when its provider record is deleted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeletionPolicy {
    /// Mark the host item inactive and keep the link.
    #[default]
    MarkInactiveKeepLink,
    /// Delete the host item and the link.
    Propagate,
    /// Leave the host item as it is.
    Ignore,
}

impl From<crate::rules::RuleDeletionPolicy> for DeletionPolicy {
    fn from(policy: crate::rules::RuleDeletionPolicy) -> Self {
        use crate::rules::RuleDeletionPolicy as R;
        match policy {
            R::MarkInactiveKeepLink | R::SoftDelete => DeletionPolicy::MarkInactiveKeepLink,
            R::Ignore => DeletionPolicy::Ignore,
            R::Propagate => DeletionPolicy::Propagate,
        }
    }
}

/// How a binding maps and selects records.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BindingOptions {
    /// Host fields <-> provider fields. Without one, fields pass through by name.
    pub mapping: Option<ObjectMapping>,
    /// Run a stale mapping with its valid entries (the run is marked partial) instead
    /// of refusing to run.
    pub allow_partial_mapping: bool,
    /// Which records sync.
    pub filter: RecordFilter,
    /// Which item kinds the binding carries (Confluence: PRD, Epic, Story; GitHub:
    /// Story, Task, Subtask), `None` for all. An item of another kind is skipped; an
    /// item whose parent's kind is not carried is the root of its tree here, and its
    /// parent link is not synced through this binding.
    pub kinds: Option<crate::hierarchy::KindSet>,
    /// Which host object the binding carries (`work_item`, `time_record`), `None` for
    /// every one. A time-record binding set so never pushes a work item, and an issue
    /// binding set to `work_item` never makes an issue of a time record.
    pub host_object: Option<ObjectType>,
    /// What a pull through this binding does with records made in the provider,
    /// instead of the engine's [`EngineConfig::import_mode`] (BQE's projects imported
    /// while Jira's orphans stay conflicts, on one engine).
    pub import_mode: Option<ImportMode>,
}

impl BindingOptions {
    /// Options from an integration rule and its mapping.
    pub fn from_rule(rule: &crate::rules::IntegrationRule, mapping: Option<ObjectMapping>) -> Self {
        Self {
            mapping,
            allow_partial_mapping: rule.allow_partial_mapping,
            filter: rule.filters.clone(),
            kinds: None,
            host_object: None,
            import_mode: None,
        }
    }

    /// Importing (or not) records made in the provider, whatever the engine's mode.
    #[must_use]
    pub fn importing(mut self, mode: ImportMode) -> Self {
        self.import_mode = Some(mode);
        self
    }

    /// Carrying only host items of `object`.
    ///
    /// ```
    /// use devflow_sync_core::engine::BindingOptions;
    /// let worklogs = BindingOptions::default().for_host_object("time_record");
    /// assert_eq!(worklogs.host_object.unwrap().as_str(), "time_record");
    /// ```
    #[must_use]
    pub fn for_host_object(mut self, object: impl Into<ObjectType>) -> Self {
        self.host_object = Some(object.into());
        self
    }

    /// With the item kinds it carries.
    ///
    /// ```
    /// use devflow_sync_core::engine::BindingOptions;
    /// use devflow_sync_core::model::ItemKind;
    /// let confluence = BindingOptions::default().carrying([ItemKind::Prd, ItemKind::Epic, ItemKind::Story]);
    /// assert!(confluence.kinds.unwrap().contains(ItemKind::Epic));
    /// assert!(!confluence.kinds.unwrap().contains(ItemKind::Task));
    /// ```
    #[must_use]
    pub fn carrying(mut self, kinds: impl IntoIterator<Item = crate::model::ItemKind>) -> Self {
        self.kinds = Some(kinds.into_iter().collect());
        self
    }
}

/// Which provider and object a connection syncs, and how.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Binding {
    /// The connection.
    pub connection: ConnectionId,
    /// The provider it belongs to.
    pub provider: ProviderKey,
    /// The provider object type synced with host items.
    pub object: ObjectType,
    /// Mapping and selection.
    pub options: BindingOptions,
}

/// The engine's settings, all with defaults.
#[derive(Clone, Debug)]
pub struct EngineConfig {
    /// What to do with records created in a provider (default: strict).
    pub import_mode: ImportMode,
    /// What to do when a provider record is deleted (default: mark inactive, keep link).
    pub deletion_policy: DeletionPolicy,
    /// How far before the high-water mark a pull lists again, so late-appearing
    /// changes are not missed (default: 5 minutes).
    pub lookback: Duration,
    /// Records asked for per page (default: 100).
    pub page_size: usize,
    /// Records of consecutive pages a pull writes together, when the engine has a
    /// page store (default: 500): the pages' imports, links, log lines and the cursor
    /// after the last of them go in one transaction once this many records are held,
    /// half a second after the first was, or when the listing ends or fails. Fewer,
    /// larger transactions make a bulk import faster; 1 writes every page on its own.
    /// A crash loses nothing either way: unwritten pages are listed again.
    pub write_group: usize,
    /// The host object type of items the engine creates (default: `work_item`).
    pub host_object: ObjectType,
    /// Attempts before a webhook delivery is given up as failed (default: 5).
    pub max_inbox_attempts: u32,
    /// The first retry delay of a failed webhook delivery; it doubles per attempt
    /// (default: 30 s).
    pub inbox_backoff: Duration,
    /// How long a worker holds the deliveries it claimed before another may take
    /// them over (default: 5 minutes); see [`WebhookInbox::claim_due`](crate::store::WebhookInbox::claim_due).
    pub inbox_visibility: Duration,
    /// The largest webhook body accepted (default: 1 MiB).
    pub max_webhook_bytes: usize,
    /// How long a delivery id is remembered to drop repeats (default: 7 days); see
    /// [`SyncEngine::prune_inbox`](super::SyncEngine::prune_inbox).
    pub delivery_ttl: Duration,
    /// How long a pull's lease lasts (default: 5 minutes).
    pub lease_ttl: Duration,
    /// Attempts to re-read and merge after a version mismatch (default: 3).
    pub max_merge_attempts: u32,
    /// Whether each system's record is told of the item's records in the others
    /// (default: on). Each new record costs one write to every other system already
    /// holding the item.
    pub cross_references: bool,
    /// Whether propagation creates an item in the systems that carry its kind and do
    /// not hold it yet, when it is held by at least one (default: on): a story opened
    /// in Jira becomes a GitHub issue too. Items held by no system (never pushed) are
    /// left to [`SyncEngine::sync_item`](super::SyncEngine::sync_item).
    pub propagate_creates: bool,
    /// Items of one tree level pushed at once after their parents (default: 10); the
    /// HTTP client's per-connection cap and the provider's budget still apply.
    pub push_concurrency: usize,
    /// This worker's name, in leases and run ids (default: `worker`).
    pub worker_id: String,
    /// The tenant the engine works for, carried by its events so a host routes them
    /// (default: none).
    pub tenant: Option<String>,
}

impl Default for EngineConfig {
    fn default() -> Self {
        Self {
            import_mode: ImportMode::Strict,
            deletion_policy: DeletionPolicy::MarkInactiveKeepLink,
            lookback: Duration::from_secs(300),
            page_size: 100,
            write_group: 500,
            push_concurrency: 10,
            cross_references: true,
            propagate_creates: true,
            host_object: ObjectType::new("work_item"),
            max_inbox_attempts: 5,
            inbox_backoff: Duration::from_secs(30),
            inbox_visibility: Duration::from_secs(300),
            max_webhook_bytes: 1 << 20,
            delivery_ttl: Duration::from_secs(7 * 24 * 3600),
            lease_ttl: Duration::from_secs(300),
            max_merge_attempts: 3,
            worker_id: "worker".to_owned(),
            tenant: None,
        }
    }
}

/// Builds a [`SyncEngine`]. Every store defaults to its in-memory implementation, the
/// clock to the system clock, the rules to [`HierarchyRules::devflow`] and the conflict
/// policy to [`Manual`] (nothing is overwritten without a person).
#[derive(Debug, Default)]
pub struct SyncEngineBuilder {
    providers: Vec<Arc<dyn Provider>>,
    bindings: Vec<Binding>,
    items: Option<Arc<dyn WorkItemStore>>,
    mappings: Option<Arc<dyn MappingStore>>,
    journal: Option<Arc<dyn SyncJournal>>,
    tokens: Option<Arc<dyn TokenStore>>,
    leases: Option<Arc<dyn LeaseManager>>,
    connections: Option<Arc<dyn crate::store::ConnectionStore>>,
    page_store: Option<Arc<dyn PageStore>>,
    events: Option<Arc<dyn crate::store::EventLog>>,
    rules: Option<HierarchyRules>,
    policy: Option<Arc<dyn ConflictPolicy>>,
    clock: Option<Arc<dyn Clock>>,
    config: EngineConfig,
    progress: Option<Arc<dyn super::ProgressObserver>>,
}

impl SyncEngineBuilder {
    /// Tells `observer` how long operations (pulls, tree pushes) get on.
    #[must_use]
    pub fn progress(mut self, observer: Arc<dyn super::ProgressObserver>) -> Self {
        self.progress = Some(observer);
        self
    }

    /// Adds a provider.
    #[must_use]
    pub fn provider(mut self, provider: Arc<dyn Provider>) -> Self {
        self.providers.push(provider);
        self
    }

    /// Syncs `connection` of `provider` for the provider object `object`.
    #[must_use]
    pub fn bind(
        self,
        connection: impl Into<ConnectionId>,
        provider: impl Into<ProviderKey>,
        object: impl Into<ObjectType>,
    ) -> Self {
        self.bind_with(connection, provider, object, BindingOptions::default())
    }

    /// Syncs `connection` of `provider` for `object` with a mapping and a filter. A
    /// later binding of the same connection and object replaces an earlier one.
    #[must_use]
    pub fn bind_with(
        mut self,
        connection: impl Into<ConnectionId>,
        provider: impl Into<ProviderKey>,
        object: impl Into<ObjectType>,
        options: BindingOptions,
    ) -> Self {
        let binding = Binding {
            connection: connection.into(),
            provider: provider.into(),
            object: object.into(),
            options,
        };
        // A later binding of the same connection and object replaces the earlier one.
        self.bindings
            .retain(|b| !(b.connection == binding.connection && b.object == binding.object));
        self.bindings.push(binding);
        self
    }

    /// The host's records.
    #[must_use]
    pub fn work_items(mut self, store: Arc<dyn WorkItemStore>) -> Self {
        self.items = Some(store);
        self
    }

    /// Links, bases, cursors, exclusions.
    #[must_use]
    pub fn mappings(mut self, store: Arc<dyn MappingStore>) -> Self {
        self.mappings = Some(store);
        self
    }

    /// Log, runs, conflicts, inbox, health.
    #[must_use]
    pub fn journal(mut self, journal: Arc<dyn SyncJournal>) -> Self {
        self.journal = Some(journal);
        self
    }

    /// Credentials.
    #[must_use]
    pub fn tokens(mut self, store: Arc<dyn TokenStore>) -> Self {
        self.tokens = Some(store);
        self
    }

    /// Leases.
    #[must_use]
    pub fn leases(mut self, leases: Arc<dyn LeaseManager>) -> Self {
        self.leases = Some(leases);
        self
    }

    /// A store that applies a pull page's imports in one transaction (see
    /// [`PageStore`]). It must be the same database as the work items, mappings and
    /// journal given here; [`SyncEngineBuilder::stores`] sets all of them at once.
    #[must_use]
    pub fn page_store(mut self, store: Arc<dyn PageStore>) -> Self {
        self.page_store = Some(store);
        self
    }

    /// Where connections added at run time are kept (default: in memory).
    #[must_use]
    pub fn connections(mut self, store: Arc<dyn crate::store::ConnectionStore>) -> Self {
        self.connections = Some(store);
        self
    }

    /// Where engine events are kept for hosts to read from a cursor (default: in
    /// memory).
    #[must_use]
    pub fn events(mut self, log: Arc<dyn crate::store::EventLog>) -> Self {
        self.events = Some(log);
        self
    }

    /// Every store from one database that implements them all (work items, mappings,
    /// journal, tokens, leases, connections, events, and the page store).
    #[must_use]
    pub fn stores<S>(self, store: Arc<S>) -> Self
    where
        S: WorkItemStore
            + MappingStore
            + SyncJournal
            + TokenStore
            + LeaseManager
            + PageStore
            + crate::store::ConnectionStore
            + crate::store::EventLog
            + 'static,
    {
        self.work_items(store.clone())
            .events(store.clone())
            .mappings(store.clone())
            .journal(store.clone())
            .tokens(store.clone())
            .leases(store.clone())
            .connections(store.clone())
            .page_store(store)
    }

    /// The hierarchy rules.
    #[must_use]
    pub fn rules(mut self, rules: HierarchyRules) -> Self {
        self.rules = Some(rules);
        self
    }

    /// The conflict policy.
    #[must_use]
    pub fn policy(mut self, policy: Arc<dyn ConflictPolicy>) -> Self {
        self.policy = Some(policy);
        self
    }

    /// The clock.
    #[must_use]
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = Some(clock);
        self
    }

    /// All settings at once.
    #[must_use]
    pub fn config(mut self, config: EngineConfig) -> Self {
        self.config = config;
        self
    }

    /// What to do with records created in a provider.
    #[must_use]
    pub fn import_mode(mut self, mode: ImportMode) -> Self {
        self.config.import_mode = mode;
        self
    }

    /// What to do when a provider record is deleted.
    #[must_use]
    pub fn deletion_policy(mut self, policy: DeletionPolicy) -> Self {
        self.config.deletion_policy = policy;
        self
    }

    /// The engine, or [`Error::InvalidConfig`] naming the setting that is wrong.
    pub fn build(self) -> Result<SyncEngine> {
        let mut providers = HashMap::new();
        for (i, p) in self.providers.into_iter().enumerate() {
            let key = p.key();
            if providers.insert(key.clone(), p).is_some() {
                return Err(Error::InvalidConfig {
                    pointer: format!("/providers/{i}"),
                    message: format!("provider {key} is added twice"),
                });
            }
        }
        for (i, b) in self.bindings.iter().enumerate() {
            if !providers.contains_key(&b.provider) {
                return Err(Error::InvalidConfig {
                    pointer: format!("/bindings/{i}/provider"),
                    message: format!(
                        "connection {} names provider {}, which was not added",
                        b.connection, b.provider
                    ),
                });
            }
        }
        if self.config.page_size == 0 {
            return Err(Error::InvalidConfig {
                pointer: "/page_size".into(),
                message: "page size must be at least 1".into(),
            });
        }
        let clock = self.clock.unwrap_or_else(|| Arc::new(SystemClock));
        // With every store in memory by default, the page store over them too, so the
        // in-memory engine takes the same path as one on a database.
        let all_default = self.items.is_none() && self.mappings.is_none() && self.journal.is_none();
        let (items, mappings, journal, page_store) = if all_default && self.page_store.is_none() {
            let items = Arc::new(MemoryWorkItems::with_clock(clock.clone()));
            let mappings = Arc::new(MemoryMappings::new());
            let journal = Arc::new(MemoryJournal::new());
            let page: Arc<dyn PageStore> = Arc::new(MemoryPageStore::new(
                items.clone(),
                mappings.clone(),
                journal.clone(),
            ));
            (
                items as Arc<dyn WorkItemStore>,
                mappings as Arc<dyn MappingStore>,
                journal as Arc<dyn SyncJournal>,
                Some(page),
            )
        } else {
            (
                self.items
                    .unwrap_or_else(|| Arc::new(MemoryWorkItems::with_clock(clock.clone()))),
                self.mappings
                    .unwrap_or_else(|| Arc::new(MemoryMappings::new())),
                self.journal
                    .unwrap_or_else(|| Arc::new(MemoryJournal::new())),
                self.page_store,
            )
        };
        Ok(SyncEngine {
            inner: Arc::new(Inner {
                providers: std::sync::RwLock::new(providers),
                connection_providers: std::sync::RwLock::new(HashMap::new()),
                bindings: std::sync::RwLock::new(self.bindings),
                items,
                mappings,
                journal,
                tokens: self.tokens.unwrap_or_else(|| Arc::new(MemoryTokens::new())),
                connections: self
                    .connections
                    .unwrap_or_else(|| Arc::new(crate::store::memory::MemoryConnections::new())),
                leases: self
                    .leases
                    .unwrap_or_else(|| Arc::new(MemoryLeases::with_clock(clock.clone()))),
                page_store,
                events: self
                    .events
                    .unwrap_or_else(|| Arc::new(crate::store::memory::MemoryEvents::new())),
                live: tokio::sync::broadcast::channel(1024).0,
                rules: self.rules.unwrap_or_default(),
                policy: self.policy.unwrap_or_else(|| Arc::new(Manual)),
                clock,
                config: self.config,
                progress: self.progress,
                parsed: super::webhook::ParsedDeliveries::default(),
                announcing: super::sync::announce::ItemLocks::default(),
                runs: AtomicU64::new(0),
            }),
        })
    }
}
