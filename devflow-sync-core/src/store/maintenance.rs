//! Keeping a durable store small and honest: retention by age ([`Retention`]), and the
//! restore guard ([`Maintenance::mark_restored`]): after a restore from an old backup
//! every connection needs authorizing again and every scope a full resync, and syncs
//! refuse to resume until the host clears it. The SQLite and Postgres stores implement
//! [`Maintenance`]; the memory stores have nothing to restore.

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::error::{Error, Result};
use crate::model::{ConnectionId, ObjectType};
use crate::store::{ConnectionHealth, ConnectionStatus, HealthStore};

/// How long each kind of history is kept. `None` keeps it forever.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Retention {
    /// Sync log lines and finished runs.
    pub log: Option<Duration>,
    /// Resolved and ignored conflicts (pending ones are always kept).
    pub conflicts: Option<Duration>,
    /// Processed and dead-lettered webhook deliveries, with their delivery ids (pending
    /// ones are always kept). This is also the window in which a repeated delivery is
    /// recognised.
    pub inbox: Option<Duration>,
}

impl Default for Retention {
    /// 30 days of log, 90 days of settled conflicts, 7 days of deliveries.
    fn default() -> Self {
        Self {
            log: Some(Duration::from_secs(30 * 86_400)),
            conflicts: Some(Duration::from_secs(90 * 86_400)),
            inbox: Some(Duration::from_secs(7 * 86_400)),
        }
    }
}

/// What a pruning removed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Pruned {
    /// Log lines.
    pub log_lines: usize,
    /// Finished runs.
    pub runs: usize,
    /// Settled conflicts.
    pub conflicts: usize,
    /// Finished deliveries.
    pub deliveries: usize,
}

/// What [`Maintenance::mark_restored`] did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct RestoreReport {
    /// Whether the backup was older than the threshold (otherwise nothing was marked).
    pub stale: bool,
    /// The connections now marked `needs_reauth`.
    pub connections: Vec<ConnectionId>,
    /// The (connection, object) scopes that must resync before they resume.
    pub scopes: Vec<(ConnectionId, ObjectType)>,
}

/// Retention and the restore guard of a durable store.
#[async_trait]
pub trait Maintenance: Send + Sync {
    /// Deletes history older than `retention` allows, as of `now`, in one transaction.
    async fn prune(&self, now: DateTime<Utc>, retention: &Retention) -> Result<Pruned>;

    /// The host says the store was restored from a backup taken at `backup_taken_at`.
    /// When that is more than `threshold` before `now`, the remote systems have moved on
    /// since: every connection is marked
    /// [`ConnectionStatus::NeedsReauth`](crate::store::ConnectionStatus::NeedsReauth)
    /// (tokens may have rotated) and every (connection, object) with a cursor or a link
    /// must resync: until [`Maintenance::clear_resync`], reading its cursor (every pull)
    /// and recording a create intent (every push of a new item) fail with
    /// [`Error::Precondition`] naming the scope and the restore, instead of resuming from
    /// a stale cursor or creating what may already exist.
    async fn mark_restored(
        &self,
        backup_taken_at: DateTime<Utc>,
        threshold: Duration,
        now: DateTime<Utc>,
    ) -> Result<RestoreReport>;

    /// The scopes that must resync before they resume.
    async fn resync_required(&self) -> Result<Vec<(ConnectionId, ObjectType)>>;

    /// The host has resynced a scope (or accepts resuming it): its cursor is forgotten,
    /// so the next pull lists everything again, and syncs resume.
    async fn clear_resync(&self, connection: &ConnectionId, object: &ObjectType) -> Result<()>;
}

/// The error of a scope that must resync first (`since`: when the backup was taken).
pub fn must_resync(connection: &ConnectionId, object: &ObjectType, since: &str) -> Error {
    Error::precondition(format!(
        "{connection}/{object} must resync: the store was restored from a backup taken at \
         {since}; resync it and call clear_resync"
    ))
}

/// The second half of [`Maintenance::mark_restored`], once a store has recorded the
/// `scopes` that must resync: marks each of `connections` `needs_reauth` (saying why)
/// in `health`, and reports both.
pub async fn finish_restore(
    health: &dyn HealthStore,
    backup_taken_at: DateTime<Utc>,
    connections: Vec<ConnectionId>,
    scopes: Vec<(ConnectionId, ObjectType)>,
) -> Result<RestoreReport> {
    for connection in &connections {
        let mut h = health
            .health(connection)
            .await?
            .unwrap_or_else(|| ConnectionHealth::new(connection.clone()));
        h.status = ConnectionStatus::NeedsReauth;
        h.last_error = Some(format!(
            "restored from a backup taken at {backup_taken_at}: authorize again"
        ));
        health.put_health(&h).await?;
    }
    Ok(RestoreReport {
        stale: true,
        connections,
        scopes,
    })
}
