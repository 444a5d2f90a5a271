//! Where the engine keeps its state: the store traits and their in-memory
//! implementations.
//!
//! Every trait is async, object-safe and `Send + Sync`, so hosts hold stores as
//! `Arc<dyn Trait>`. Writes that can race carry a version (compare-and-swap) and fail
//! with [`Error::Precondition`](crate::Error::Precondition) when another writer won;
//! uniqueness violations fail with [`Error::AlreadyExists`](crate::Error::AlreadyExists);
//! missing rows with [`Error::NotFound`](crate::Error::NotFound) — the error kinds a
//! database gives, so the engine treats every backend alike.

mod connections;
mod events;
mod log_query;
mod maintenance;
pub mod memory;
mod page;
mod registrations;
mod sides;
mod types;

use std::fmt;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::error::Result;
use crate::model::{ConnectionId, ExternalId, ItemId, ObjectType, ProviderKey, Record, Version};
pub use connections::{BindingRecord, ConnectionRecord, ConnectionStore};
pub use events::{EngineEvent, EventKind, EventLog};
pub use log_query::{LogQuery, MAX_LOG_LINES};
pub use maintenance::{Maintenance, Pruned, RestoreReport, Retention, finish_restore, must_resync};
pub use page::{PageStore, PageWrites};
pub use registrations::WebhookRegistrationRecord;
pub use sides::{ConflictSide, HOST_SIDE, recommend_newest, upsert_side};
pub use types::{
    ConflictRecord, ConflictStatus, ConflictType, ConnectionHealth, ConnectionStatus, Credentials,
    CursorPass, Direction, Exclusion, InboxEntry, InboxStatus, ItemUpdate, Lease, Link, LogStatus,
    RunRecord, RunStatus, Snapshot, StoredToken, SyncCursor, SyncLogEntry, Trigger, WorkItem,
};

/// Credentials per connection, written with compare-and-swap so two workers refreshing
/// at once cannot lose a rotated refresh token.
#[async_trait]
pub trait TokenStore: Send + Sync + fmt::Debug {
    /// The stored credentials of `connection`.
    async fn get(&self, connection: &ConnectionId) -> Result<Option<StoredToken>>;

    /// Writes credentials if the stored version is `expected` (`None`: nothing stored
    /// yet). Returns the new version. [`Error::Precondition`](crate::Error::Precondition)
    /// when another write came first.
    async fn put(
        &self,
        connection: &ConnectionId,
        provider: &ProviderKey,
        credentials: &crate::store::Credentials,
        expected: Option<u64>,
    ) -> Result<u64>;

    /// Deletes the credentials; deleting nothing succeeds.
    async fn delete(&self, connection: &ConnectionId) -> Result<()>;
}

/// A shared store is a store.
#[async_trait]
impl<T: TokenStore + ?Sized> TokenStore for std::sync::Arc<T> {
    async fn get(&self, connection: &ConnectionId) -> Result<Option<StoredToken>> {
        (**self).get(connection).await
    }

    async fn put(
        &self,
        connection: &ConnectionId,
        provider: &ProviderKey,
        credentials: &crate::store::Credentials,
        expected: Option<u64>,
    ) -> Result<u64> {
        (**self)
            .put(connection, provider, credentials, expected)
            .await
    }

    async fn delete(&self, connection: &ConnectionId) -> Result<()> {
        (**self).delete(connection).await
    }
}

/// Links between host items and provider records (unique both ways per connection and
/// object), their base snapshots, the pull cursors, the exclusions and the intents of
/// creates in flight.
#[async_trait]
pub trait MappingStore: Send + Sync + fmt::Debug {
    /// Stores a new link. [`Error::AlreadyExists`](crate::Error::AlreadyExists) when the
    /// item or the record is already linked in that connection and object.
    async fn insert_link(&self, link: &Link) -> Result<()>;

    /// The link of a host item.
    async fn link_by_item(
        &self,
        connection: &ConnectionId,
        object: &ObjectType,
        item: &ItemId,
    ) -> Result<Option<Link>>;

    /// The link of a provider record.
    async fn link_by_external(
        &self,
        connection: &ConnectionId,
        object: &ObjectType,
        id: &ExternalId,
    ) -> Result<Option<Link>>;

    /// The links of several provider records at once (those that have one, in any
    /// order): what a pull reads before applying a page. The default asks one by one.
    async fn links_by_externals(
        &self,
        connection: &ConnectionId,
        object: &ObjectType,
        ids: &[ExternalId],
    ) -> Result<Vec<Link>> {
        let mut out = Vec::new();
        for id in ids {
            out.extend(self.link_by_external(connection, object, id).await?);
        }
        Ok(out)
    }

    /// The host item linked to a provider record: [`MappingStore::link_by_external`]
    /// without the base, for lookups that need only the id (parents).
    async fn item_of_external(
        &self,
        connection: &ConnectionId,
        object: &ObjectType,
        id: &ExternalId,
    ) -> Result<Option<ItemId>>;

    /// Replaces a link's base snapshot. [`Error::NotFound`](crate::Error::NotFound)
    /// without a link.
    async fn update_base(
        &self,
        connection: &ConnectionId,
        object: &ObjectType,
        item: &ItemId,
        base: &Snapshot,
    ) -> Result<()>;

    /// Removes a link; removing nothing succeeds.
    async fn delete_link(
        &self,
        connection: &ConnectionId,
        object: &ObjectType,
        item: &ItemId,
    ) -> Result<()>;

    /// Every link of a connection and object, ordered by item id.
    async fn links(&self, connection: &ConnectionId, object: &ObjectType) -> Result<Vec<Link>>;

    /// Every link of a host item, across connections and objects.
    async fn links_of_item(&self, item: &ItemId) -> Result<Vec<Link>>;

    /// The pull cursor.
    async fn cursor(
        &self,
        connection: &ConnectionId,
        object: &ObjectType,
    ) -> Result<Option<SyncCursor>>;

    /// Saves the pull cursor.
    async fn put_cursor(
        &self,
        connection: &ConnectionId,
        object: &ObjectType,
        cursor: &SyncCursor,
    ) -> Result<()>;

    /// Keeps an entity out of sync in both directions.
    async fn exclude(
        &self,
        connection: &ConnectionId,
        object: &ObjectType,
        exclusion: &Exclusion,
    ) -> Result<()>;

    /// Whether an entity is excluded.
    async fn is_excluded(
        &self,
        connection: &ConnectionId,
        object: &ObjectType,
        exclusion: &Exclusion,
    ) -> Result<bool>;

    /// Which of `exclusions` are excluded: what a pull reads before applying a page.
    /// The default asks one by one.
    async fn excluded_among(
        &self,
        connection: &ConnectionId,
        object: &ObjectType,
        exclusions: &[Exclusion],
    ) -> Result<Vec<Exclusion>> {
        let mut out = Vec::new();
        for e in exclusions {
            if self.is_excluded(connection, object, e).await? {
                out.push(e.clone());
            }
        }
        Ok(out)
    }

    /// Records that a create of `item` is about to be sent, before the call.
    async fn put_intent(
        &self,
        connection: &ConnectionId,
        object: &ObjectType,
        item: &ItemId,
        at: DateTime<Utc>,
    ) -> Result<()>;

    /// When a create of `item` was last attempted without being linked.
    async fn intent(
        &self,
        connection: &ConnectionId,
        object: &ObjectType,
        item: &ItemId,
    ) -> Result<Option<DateTime<Utc>>>;

    /// Forgets an intent once the create is linked.
    async fn clear_intent(
        &self,
        connection: &ConnectionId,
        object: &ObjectType,
        item: &ItemId,
    ) -> Result<()>;

    /// Deletes everything of a connection (links, bases, cursors, exclusions,
    /// intents); returns how many rows went.
    async fn purge_connection(&self, connection: &ConnectionId) -> Result<usize>;
}

/// The run log: runs and their log lines.
#[async_trait]
pub trait RunLog: Send + Sync + fmt::Debug {
    /// Appends a line to the sync log.
    async fn append_log(&self, entry: &SyncLogEntry) -> Result<()>;

    /// Appends several lines in order. The default appends one by one.
    async fn append_logs(&self, entries: &[SyncLogEntry]) -> Result<()> {
        for entry in entries {
            self.append_log(entry).await?;
        }
        Ok(())
    }

    /// The log lines of a run, in order.
    async fn logs_of_run(&self, run_id: &str) -> Result<Vec<SyncLogEntry>>;

    /// Stores a new run or replaces one with the same id.
    async fn put_run(&self, run: &RunRecord) -> Result<()>;

    /// A run by id.
    async fn run(&self, id: &str) -> Result<Option<RunRecord>>;

    /// Log lines matching `query`, newest first (sync history per item, per status,
    /// per time range). The default says the store cannot.
    async fn query_logs(&self, query: &LogQuery) -> Result<Vec<SyncLogEntry>> {
        let _ = query;
        Err(crate::Error::not_supported(
            "this run log cannot be queried",
        ))
    }
}

/// Conflicts a person settles.
#[async_trait]
pub trait ConflictStore: Send + Sync + fmt::Debug {
    /// Records a conflict. A pending conflict of the same connection, object, entity,
    /// type and field is updated in place rather than duplicated; returns the id kept.
    async fn record_conflict(&self, conflict: &ConflictRecord) -> Result<String>;

    /// A conflict by id.
    async fn conflict(&self, id: &str) -> Result<Option<ConflictRecord>>;

    /// The conflicts of a connection with the given status, oldest first.
    async fn conflicts(
        &self,
        connection: &ConnectionId,
        status: Option<ConflictStatus>,
    ) -> Result<Vec<ConflictRecord>>;

    /// The conflicts about one host item in every connection, with the given status,
    /// oldest first.
    async fn item_conflicts(
        &self,
        item: &ItemId,
        status: Option<ConflictStatus>,
    ) -> Result<Vec<ConflictRecord>>;

    /// Settles a pending conflict. [`Error::NotFound`](crate::Error::NotFound) for an
    /// unknown id, [`Error::Precondition`](crate::Error::Precondition) when it is not
    /// pending.
    async fn settle_conflict(
        &self,
        id: &str,
        status: ConflictStatus,
        resolution: &str,
        at: DateTime<Utc>,
    ) -> Result<()>;
}

/// The webhook inbox: deliveries stored fast, claimed by one worker at a time, applied
/// later.
#[async_trait]
pub trait WebhookInbox: Send + Sync + fmt::Debug {
    /// Stores a webhook delivery under a new id (the entry's own `id` is ignored) and
    /// returns that id. [`Error::AlreadyExists`](crate::Error::AlreadyExists) when the
    /// same provider and connection already delivered that delivery id.
    async fn insert_inbox(&self, entry: &InboxEntry) -> Result<String>;

    /// Up to `limit` pending deliveries due at `now`, oldest first, claimed or not: a
    /// look, which claims nothing.
    async fn due_inbox(&self, now: DateTime<Utc>, limit: usize) -> Result<Vec<InboxEntry>>;

    /// Claims up to `limit` pending deliveries due at `now` that no other worker holds
    /// (or whose claim lapsed), oldest first, for `worker` until `now + visibility`,
    /// in one step: two workers never get the same delivery while a claim holds.
    /// [`WebhookInbox::update_inbox`] gives the claim back.
    async fn claim_due(
        &self,
        now: DateTime<Utc>,
        limit: usize,
        worker: &str,
        visibility: Duration,
    ) -> Result<Vec<InboxEntry>>;

    /// Replaces an inbox entry (its status, attempts, error, next attempt) and releases
    /// its claim.
    async fn update_inbox(&self, entry: &InboxEntry) -> Result<()>;

    /// Forgets processed and failed deliveries received before `received_before`, and
    /// with them their delivery ids: the deduplication window is the time kept.
    /// Pending deliveries are kept. Returns how many went.
    async fn prune_inbox(&self, received_before: DateTime<Utc>) -> Result<usize>;

    /// An inbox entry by id.
    async fn inbox_entry(&self, id: &str) -> Result<Option<InboxEntry>>;
}

/// How each connection is doing.
#[async_trait]
pub trait HealthStore: Send + Sync + fmt::Debug {
    /// A connection's health.
    async fn health(&self, connection: &ConnectionId) -> Result<Option<ConnectionHealth>>;

    /// Stores a connection's health.
    async fn put_health(&self, health: &ConnectionHealth) -> Result<()>;
}

/// The journal: the run log, conflicts, the webhook inbox and connection health, each
/// its own trait so a store can keep them apart; the engine takes one value that has
/// all four.
#[async_trait]
pub trait SyncJournal: RunLog + ConflictStore + WebhookInbox + HealthStore {
    /// Deletes every journal row of a connection; returns how many went.
    async fn purge_connection(&self, connection: &ConnectionId) -> Result<usize>;
}

/// The host's own records.
#[async_trait]
pub trait WorkItemStore: Send + Sync + fmt::Debug {
    /// A record by id.
    async fn get(&self, id: &ItemId) -> Result<Option<WorkItem>>;

    /// Creates a record, with the given id or a new one.
    /// [`Error::AlreadyExists`](crate::Error::AlreadyExists) for a taken id.
    async fn create(&self, id: Option<ItemId>, record: Record) -> Result<WorkItem>;

    /// Changes a record if its version is `expected` (or whatever it is, for `None`).
    async fn update(
        &self,
        id: &ItemId,
        update: &ItemUpdate,
        expected: Option<&Version>,
    ) -> Result<WorkItem>;

    /// Deletes a record; deleting nothing succeeds.
    async fn delete(&self, id: &ItemId) -> Result<()>;

    /// The records whose parent is `id`, ordered by id.
    async fn children(&self, id: &ItemId) -> Result<Vec<WorkItem>>;

    /// The host's change feed: items whose last change came after change number
    /// `after`, oldest change first, at most `limit`, each with its change number (an
    /// item changed twice appears once, at its last change). What the engine reads to
    /// carry an edit that came from one system on to the others, after a crash too.
    /// [`Error::NotSupported`](crate::Error::NotSupported) for a store without one.
    async fn changed_after(&self, after: u64, limit: usize) -> Result<Vec<(u64, WorkItem)>> {
        let _ = (after, limit);
        Err(crate::Error::not_supported("a change feed of work items"))
    }
}

/// One worker per (connection, object) at a time.
#[async_trait]
pub trait LeaseManager: Send + Sync + fmt::Debug {
    /// Takes the lease for `ttl` if it is free or lapsed; `None` when someone else holds
    /// it.
    async fn acquire(
        &self,
        connection: &ConnectionId,
        object: &ObjectType,
        holder: &str,
        ttl: Duration,
    ) -> Result<Option<Lease>>;

    /// Extends a lease still held. [`Error::Precondition`](crate::Error::Precondition)
    /// when it lapsed and was taken.
    async fn renew(&self, lease: &Lease, ttl: Duration) -> Result<Lease>;

    /// Gives a lease back; releasing a lease no longer held succeeds.
    async fn release(&self, lease: &Lease) -> Result<()>;
}
