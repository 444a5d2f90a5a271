//! The sync engine: push host items out, pull provider changes in, merge three ways,
//! enforce the hierarchy, record conflicts — without loops, lost edits or duplicates.
//!
//! Build one with [`SyncEngine::builder`]; every store defaults to its in-memory
//! implementation. Each operation is a *run*: it gets a run id, is recorded in the
//! journal with its start, end and status, and returns a [`SyncReport`].
//!
//! - [`SyncEngine::push`] / [`SyncEngine::push_tree`]: hierarchy check, parents first,
//!   idempotent creates (the intent is recorded before the call and a marker written
//!   into the record, so a retry finds it instead of creating a duplicate), conditional
//!   updates that re-read and merge on a version mismatch.
//! - [`SyncEngine::pull`]: pages through the provider's change feed from the saved
//!   cursor; the cursor advances only after a page is applied; a lookback window and
//!   the ids at the boundary mean nothing is missed or applied twice.
//! - [`SyncEngine::accept_webhook`] / [`SyncEngine::process_inbox`]: verify, dedupe and
//!   store fast; apply later in order per entity, skipping what is older than the base.
//! - [`SyncEngine::resolve_conflict`], [`SyncEngine::plan`] (a dry run),
//!   [`SyncEngine::status`], [`SyncEngine::disconnect`].
//!
//! After the engine writes to a side, the base equals what it wrote, so the webhook
//! that comes back diffs to nothing: no sync loops.

mod bulk;
mod config;
mod connections;
mod ctx;
mod delete;
mod events;
mod fanout;
mod guard;
mod inspect;
mod link;
mod progress;
mod propagate;
mod pull;
mod report;
mod resolve;
mod sweep;
mod sync;
mod tree;
mod webhook;

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tracing::Instrument;

pub use bulk::{BulkError, BulkItem, BulkOptions, BulkResult, BulkSummary};
pub use config::{
    Binding, BindingOptions, DeletionPolicy, EngineConfig, ImportMode, SyncEngineBuilder,
};
pub use connections::ProviderFactory;
use ctx::{Ctx, Target};
pub use fanout::{PlatformResult, PlatformStatus};
pub use inspect::{DisconnectReport, ItemStatus, PlanRequest};
pub use link::LinkSummary;
pub use progress::{Progress, ProgressObserver};
pub use pull::PullBudget;
pub use report::{EntityOutcome, Outcome, Plan, PlannedWrite, SyncReport};
pub use resolve::Resolution;
pub use webhook::Accepted;

use crate::clock::Clock;
use crate::error::{Error, Result};
use crate::hierarchy::HierarchyRules;
use crate::merge::ConflictPolicy;
use crate::model::{ConnectionId, ExternalRef, ItemId, ObjectType, ProviderKey};
use crate::provider::{Headers, Provider};
use crate::store::{
    ConflictRecord, ConflictStatus, ConnectionHealth, ConnectionStatus, LeaseManager, MappingStore,
    PageStore, RunRecord, RunStatus, SyncJournal, TokenStore, Trigger, WorkItemStore,
};

pub(crate) struct Inner {
    /// Providers by key: every connection of the provider uses it unless it has its own.
    providers: RwLock<HashMap<ProviderKey, Arc<dyn Provider>>>,
    /// A connection's own provider (a site, a repository set, its own credentials).
    connection_providers: RwLock<HashMap<ConnectionId, Arc<dyn Provider>>>,
    bindings: RwLock<Vec<Binding>>,
    items: Arc<dyn WorkItemStore>,
    mappings: Arc<dyn MappingStore>,
    journal: Arc<dyn SyncJournal>,
    tokens: Arc<dyn TokenStore>,
    leases: Arc<dyn LeaseManager>,
    connections: Arc<dyn crate::store::ConnectionStore>,
    page_store: Option<Arc<dyn PageStore>>,
    /// The durable event log, and the live channel its events also go to.
    events: Arc<dyn crate::store::EventLog>,
    live: tokio::sync::broadcast::Sender<crate::store::EngineEvent>,
    rules: HierarchyRules,
    policy: Arc<dyn ConflictPolicy>,
    clock: Arc<dyn Clock>,
    config: EngineConfig,
    progress: Option<Arc<dyn ProgressObserver>>,
    /// Deliveries parsed on arrival, waiting to be applied.
    parsed: webhook::ParsedDeliveries,
    /// Items whose cross-references are being written, one announcer at a time.
    announcing: sync::announce::ItemLocks,
    runs: AtomicU64,
}

fn read<T>(lock: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    lock.read().unwrap_or_else(|e| e.into_inner())
}

fn write<T>(lock: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    lock.write().unwrap_or_else(|e| e.into_inner())
}

impl Inner {
    /// Tells the observer, if any.
    pub(crate) fn tell(&self, progress: &Progress) {
        if let Some(o) = &self.progress {
            o.progress(progress);
        }
    }

    /// The bindings as they are now.
    pub(crate) fn bindings(&self) -> Vec<Binding> {
        read(&self.bindings).clone()
    }

    fn binding(&self, connection: &ConnectionId, object: &ObjectType) -> Option<Binding> {
        read(&self.bindings)
            .iter()
            .find(|b| &b.connection == connection && &b.object == object)
            .cloned()
    }

    /// The provider a connection uses: its own, else its provider key's.
    pub(crate) fn provider_for(
        &self,
        connection: &ConnectionId,
        key: &ProviderKey,
    ) -> Option<Arc<dyn Provider>> {
        read(&self.connection_providers)
            .get(connection)
            .cloned()
            .or_else(|| read(&self.providers).get(key).cloned())
    }

    fn target(&self, connection: &ConnectionId, object: &ObjectType) -> Result<Target> {
        let binding = self.binding(connection, object).ok_or_else(|| {
            Error::not_found(format!("binding of connection {connection} for {object}"))
        })?;
        let provider = self
            .provider_for(connection, &binding.provider)
            .ok_or_else(|| Error::not_found(format!("provider {}", binding.provider)))?;
        Ok(Target {
            connection: connection.clone(),
            object: object.clone(),
            key: binding.provider.clone(),
            caps: provider.capabilities(object),
            provider,
            mapping: binding.options.mapping.clone().map(Arc::new),
            filter: binding.options.filter.clone(),
            kinds: binding.options.kinds,
            host_object: binding.options.host_object.clone(),
            import_mode: binding.options.import_mode,
        })
    }

    /// Whether a run may use the binding's mapping: an error for a stale one unless
    /// the binding allows the valid subset (then `true`: the run is partial).
    fn mapping_check(&self, connection: &ConnectionId, object: &ObjectType) -> Result<bool> {
        let binding = self.binding(connection, object);
        match binding.as_ref().and_then(|b| {
            b.options
                .mapping
                .as_ref()
                .map(|m| (m, b.options.allow_partial_mapping))
        }) {
            Some((mapping, allow)) => Ok(matches!(
                mapping.usable(allow)?,
                crate::mapping::MappingUse::Partial { .. }
            )),
            None => Ok(false),
        }
    }
}

/// The sync engine. Cheap to clone; clones share everything.
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// use devflow_sync_core::engine::SyncEngine;
/// use devflow_sync_core::model::ItemId;
///
/// // No providers yet: every store is in memory.
/// let engine = SyncEngine::builder().build().unwrap();
/// assert!(engine.status(&ItemId::new("item-1")).await.unwrap().is_empty());
/// # });
/// ```
#[derive(Clone)]
pub struct SyncEngine {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for SyncEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SyncEngine")
            .field(
                "providers",
                &read(&self.inner.providers)
                    .keys()
                    .cloned()
                    .collect::<Vec<_>>(),
            )
            .field("bindings", &self.inner.bindings())
            .field("config", &self.inner.config)
            .finish_non_exhaustive()
    }
}

impl SyncEngine {
    /// A builder with in-memory stores, the system clock, the DevFlow rules and the
    /// manual conflict policy.
    pub fn builder() -> SyncEngineBuilder {
        SyncEngineBuilder::default()
    }

    /// The engine's settings.
    pub fn config(&self) -> &EngineConfig {
        &self.inner.config
    }

    /// The bindings (connection -> provider and object) as they are now.
    pub fn bindings(&self) -> Vec<Binding> {
        self.inner.bindings()
    }

    /// The host's records.
    pub fn work_items(&self) -> &Arc<dyn WorkItemStore> {
        &self.inner.items
    }

    /// The link store.
    pub fn mappings(&self) -> &Arc<dyn MappingStore> {
        &self.inner.mappings
    }

    /// The journal.
    pub fn journal(&self) -> &Arc<dyn SyncJournal> {
        &self.inner.journal
    }

    /// The token store.
    pub fn tokens(&self) -> &Arc<dyn TokenStore> {
        &self.inner.tokens
    }

    fn next_run_id(&self) -> String {
        let n = self.inner.runs.fetch_add(1, Ordering::Relaxed) + 1;
        format!(
            "{}-{}-{n}",
            self.inner.config.worker_id,
            self.inner.clock.now().timestamp_millis()
        )
    }

    /// Runs `body` as one recorded run: the run row, health, tracing span.
    async fn run<'s, F, Fut>(
        &'s self,
        operation: &'static str,
        connection: Option<&ConnectionId>,
        trigger: Trigger,
        dry_run: bool,
        body: F,
    ) -> Result<(SyncReport, Ctx<'s>)>
    where
        F: FnOnce(Ctx<'s>) -> Fut,
        Fut: Future<Output = (Ctx<'s>, Result<()>)>,
    {
        let e = &*self.inner;
        let run_id = self.next_run_id();
        let span = tracing::info_span!(
            "devflow_sync",
            operation,
            run_id = %run_id,
            connection = connection.map(ConnectionId::as_str).unwrap_or(""),
            provider = tracing::field::Empty,
            object = tracing::field::Empty,
        );
        let mut run = RunRecord {
            id: run_id.clone(),
            operation: operation.to_owned(),
            connection: connection.cloned(),
            started_at: e.clock.now(),
            finished_at: None,
            status: RunStatus::Running,
            summary: String::new(),
        };
        if !dry_run {
            e.journal.put_run(&run).await?;
        }
        let ctx = Ctx::new(e, run_id, trigger, dry_run);
        let (ctx, result) = body(ctx).instrument(span).await;
        if dry_run {
            return result.map(|()| (ctx.report.clone(), ctx));
        }
        run.finished_at = Some(e.clock.now());
        run.status = match (&result, ctx.report.errors) {
            (Err(_), _) => RunStatus::Failed,
            (Ok(()), 0) if !ctx.partial => RunStatus::Succeeded,
            (Ok(()), _) => RunStatus::Partial,
        };
        run.summary = match &result {
            Ok(()) if ctx.partial => format!(
                "{} (partial: a stale mapping ran with its valid fields)",
                ctx.report.summary()
            ),
            Ok(()) => ctx.report.summary(),
            Err(err) => err.to_string(),
        };
        e.journal.put_run(&run).await?;
        if let Some(connection) = connection {
            self.record_health(connection, &result, &ctx.report).await?;
        }
        result.map(|()| (ctx.report.clone(), ctx))
    }

    async fn record_health(
        &self,
        connection: &ConnectionId,
        result: &Result<()>,
        report: &SyncReport,
    ) -> Result<()> {
        let e = &*self.inner;
        let stored = e.journal.health(connection).await?;
        let before = stored.as_ref().map(|h| h.status);
        let mut health = stored.unwrap_or_else(|| ConnectionHealth::new(connection.clone()));
        if health.status == ConnectionStatus::Disabled {
            return Ok(());
        }
        let failure = match result {
            Err(err) => Some((
                err.to_string(),
                matches!(err, Error::Unauthenticated(_) | Error::NeedsReauth { .. }),
            )),
            Ok(()) if report.errors > 0 => report
                .outcomes
                .iter()
                .rev()
                .find(|o| o.outcome == Outcome::Failed)
                .map(|o| (o.detail.clone().unwrap_or_default(), false)),
            Ok(()) => None,
        };
        match failure {
            None => {
                health.status = ConnectionStatus::Active;
                health.last_sync_at = Some(e.clock.now());
                health.error_count = 0;
            }
            Some((message, reauth)) => {
                health.status = if reauth {
                    ConnectionStatus::NeedsReauth
                } else {
                    ConnectionStatus::Error
                };
                health.last_error = Some(message);
                health.error_count += 1;
            }
        }
        e.journal.put_health(&health).await?;
        // A first success is no news; any other change of state is.
        let changed = match before {
            Some(before) => before != health.status,
            None => health.status != ConnectionStatus::Active,
        };
        if changed {
            let kind = crate::store::EventKind::HealthChanged {
                from: before,
                to: health.status,
                message: (health.status != ConnectionStatus::Active)
                    .then(|| health.last_error.clone())
                    .flatten(),
            };
            e.emit(Some(connection), kind).await;
        }
        Ok(())
    }

    /// Pushes one host item to a connection: checks its place in the hierarchy, pushes
    /// any parent not linked yet, then creates or updates its record.
    pub async fn push(
        &self,
        connection: &ConnectionId,
        object: &ObjectType,
        item: &ItemId,
    ) -> Result<SyncReport> {
        self.push_with(connection, object, item, Trigger::User, false)
            .await
            .map(|(report, _)| report)
    }

    async fn push_with(
        &self,
        connection: &ConnectionId,
        object: &ObjectType,
        item: &ItemId,
        trigger: Trigger,
        dry_run: bool,
    ) -> Result<(SyncReport, Ctx<'_>)> {
        let t = self.inner.target(connection, object)?;
        let partial = self.inner.mapping_check(connection, object)?;
        self.run(
            "push",
            Some(connection),
            trigger,
            dry_run,
            |mut ctx| async move {
                ctx.partial = partial;
                let result = sync::push_one(&mut ctx, &t, item, 0).await.map(|_| ());
                (ctx, result)
            },
        )
        .await
    }

    /// Pulls changes from a connection's change feed, from the saved cursor, within the
    /// budget. One worker per connection and object: [`Error::Precondition`] when
    /// another holds the lease.
    pub async fn pull(
        &self,
        connection: &ConnectionId,
        object: &ObjectType,
        budget: PullBudget,
    ) -> Result<SyncReport> {
        let e = &*self.inner;
        let t = e.target(connection, object)?;
        let t_key = t.provider.key();
        let partial = e.mapping_check(connection, object)?;
        let lease = e
            .leases
            .acquire(connection, object, &e.config.worker_id, e.config.lease_ttl)
            .await?
            .ok_or_else(|| {
                Error::precondition(format!("another worker is syncing {connection}/{object}"))
            })?;
        // The lease is given back on every way out: an error, and a panic anywhere
        // below (a provider's bug), which becomes an error here.
        let run = self.run(
            "pull",
            Some(connection),
            Trigger::Poll,
            false,
            |mut ctx| async move {
                ctx.partial = partial;
                let result = pull::pull(&mut ctx, &t, budget).await;
                (ctx, result)
            },
        );
        let what = format!("the pull of {connection}/{object}");
        let result = guard::panics_as_errors(run, t_key.as_str(), &what).await;
        let released = e.leases.release(&lease).await;
        let report = result.map(|(report, _)| report)?;
        released?;
        // What came in goes on to the item's other systems.
        let changed = self.changed_by(&report).await?;
        self.propagate_items(&changed, Some(connection)).await?;
        Ok(report)
    }

    /// Verifies a webhook delivery with its provider, drops a delivery id seen before,
    /// and stores it in the inbox; returns at once. Call [`SyncEngine::process_inbox`]
    /// to apply it.
    pub async fn accept_webhook(
        &self,
        provider: &ProviderKey,
        connection: &ConnectionId,
        headers: &Headers,
        body: &[u8],
    ) -> Result<Accepted> {
        webhook::accept(&self.inner, provider, connection, headers, body).await
    }

    /// Applies up to `limit` due inbox deliveries, in order per entity. A failed
    /// delivery is retried with a growing delay and, after the configured number of
    /// attempts, marked failed (dead letter).
    pub async fn process_inbox(&self, limit: usize) -> Result<SyncReport> {
        let report = self
            .run(
                "process_inbox",
                None,
                Trigger::Webhook,
                false,
                |mut ctx| async move {
                    let result = webhook::process(&mut ctx, limit).await;
                    (ctx, result)
                },
            )
            .await
            .map(|(report, _)| report)?;
        // What came in goes on to the item's other systems (the origin's link holds
        // the new version already, so it is not written back).
        let changed = self.changed_by(&report).await?;
        self.propagate_items(&changed, None).await?;
        Ok(report)
    }

    /// Forgets applied and dead-lettered deliveries older than the delivery TTL; their
    /// ids stop being recognised as repeats. Returns how many went. Hosts call it from
    /// their scheduler.
    pub async fn prune_inbox(&self) -> Result<usize> {
        let e = &*self.inner;
        let cutoff = crate::clock::before(e.clock.now(), e.config.delivery_ttl);
        e.journal.prune_inbox(cutoff).await
    }

    /// Settles a pending conflict and syncs its entity again.
    pub async fn resolve_conflict(&self, id: &str, resolution: Resolution) -> Result<SyncReport> {
        let connection = self.inner.journal.conflict(id).await?.map(|c| c.connection);
        self.run(
            "resolve_conflict",
            connection.as_ref(),
            Trigger::User,
            false,
            |mut ctx| async move {
                let result = resolve::resolve(&mut ctx, id, resolution).await;
                (ctx, result)
            },
        )
        .await
        .map(|(report, _)| report)
    }
}
