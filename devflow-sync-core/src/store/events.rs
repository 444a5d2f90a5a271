//! Engine events for hosts: the moments a person must hear of (a conflict recorded or
//! resolved, a sync that failed for good, a connection's health changing, a bulk run
//! finished), kept in a durable log ([`EventLog`]) so a host that was down catches up
//! from its cursor, and told live to subscribers
//! ([`SyncEngine::subscribe`](crate::engine::SyncEngine::subscribe)).
//!
//! Events carry ids, refs and messages, never a token or a secret.

use std::fmt;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{ConflictType, ConnectionStatus};
use crate::error::Result;
use crate::model::{ConnectionId, ExternalId, ItemId, ObjectType, ProviderKey};

/// One event. `id` is its place in the log: stable, counting up, the cursor a
/// subscriber resumes from; a duplicate delivery carries the same id.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EngineEvent {
    /// Its place in the log (0 until stored).
    pub id: u64,
    /// The engine's tenant ([`EngineConfig::tenant`](crate::engine::EngineConfig::tenant)).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant: Option<String>,
    /// The connection it concerns.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connection: Option<ConnectionId>,
    /// When it happened.
    pub at: DateTime<Utc>,
    /// What happened.
    pub kind: EventKind,
}

/// What happened.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum EventKind {
    /// A new conflict waits for a person (a field edited on both sides, a record made
    /// outside the host, a wrong place in the hierarchy).
    ConflictRecorded {
        /// The conflict's id, to link to.
        conflict_id: String,
        /// Its kind.
        conflict_type: ConflictType,
        /// The system it came from.
        platform: ProviderKey,
        /// The provider object.
        object: ObjectType,
        /// The host item, when there is one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        item: Option<ItemId>,
        /// The provider record, when there is one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        external: Option<ExternalId>,
        /// The field, for a field conflict.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        field: Option<String>,
        /// What is wrong.
        message: String,
        /// What a person can do.
        suggested_action: String,
    },
    /// A conflict was settled (by a person, or by itself when the sides came to agree).
    ConflictResolved {
        /// The conflict's id.
        conflict_id: String,
        /// How.
        resolution: String,
    },
    /// A change failed for good and was set aside (a webhook delivery dead-lettered).
    SyncFailed {
        /// The provider.
        platform: ProviderKey,
        /// The delivery's inbox id.
        inbox_id: String,
        /// The provider's delivery id.
        delivery_id: String,
        /// Why.
        reason: String,
    },
    /// A connection's health changed.
    HealthChanged {
        /// Before (none when first recorded).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        from: Option<ConnectionStatus>,
        /// Now.
        to: ConnectionStatus,
        /// The last error, when there is one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        message: Option<String>,
    },
    /// A bulk run finished.
    BulkFinished {
        /// `push_many`, ...
        operation: String,
        /// Items asked for.
        total: usize,
        /// Items done.
        succeeded: usize,
        /// Items failed.
        failed: usize,
    },
}

/// The durable event log: appended by the engine, read from a cursor by hosts.
#[async_trait]
pub trait EventLog: Send + Sync + fmt::Debug {
    /// Stores an event; returns its id (greater than every id before it).
    async fn append_event(&self, event: &EngineEvent) -> Result<u64>;

    /// Up to `limit` events with an id greater than `after`, oldest first.
    async fn events_after(&self, after: u64, limit: usize) -> Result<Vec<EngineEvent>>;
}
