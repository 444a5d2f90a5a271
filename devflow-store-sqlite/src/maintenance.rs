//! Keeping the database small and honest: retention by age ([`Retention`]), and the
//! restore guard ([`SqliteStore::mark_restored`]): after a restore from an old backup
//! every connection needs authorizing again and every scope a full resync, and syncs
//! refuse to resume until the host clears it.

use std::time::Duration;

use chrono::{DateTime, Utc};
use devflow_sync_core::model::{ConnectionId, ObjectType};
use devflow_sync_core::store::{ConnectionHealth, ConnectionStatus, HealthStore};
use devflow_sync_core::{Error, Result};

use crate::SqliteStore;
use crate::codec::{Db, count, time};

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

/// What [`SqliteStore::mark_restored`] did.
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

impl SqliteStore {
    /// Deletes history older than `retention` allows, as of `now`, in one transaction.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// use devflow_store_sqlite::{Retention, SqliteStore};
    /// let store = SqliteStore::in_memory().await.unwrap();
    /// let pruned = store.prune(chrono::Utc::now(), &Retention::default()).await.unwrap();
    /// assert_eq!(pruned.log_lines + pruned.conflicts + pruned.deliveries, 0);
    /// # });
    /// ```
    pub async fn prune(&self, now: DateTime<Utc>, retention: &Retention) -> Result<Pruned> {
        let cutoff =
            |keep: Option<Duration>| keep.map(|d| time(devflow_sync_core::clock::before(now, d)));
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await.db()?;
        let mut pruned = Pruned::default();
        if let Some(before) = cutoff(retention.log) {
            pruned.log_lines = count(
                sqlx::query("DELETE FROM sync_log WHERE at < ?")
                    .bind(&before)
                    .execute(&mut *tx)
                    .await
                    .db()?
                    .rows_affected(),
            );
            pruned.runs = count(
                sqlx::query(
                    "DELETE FROM runs WHERE started_at < ?
                       AND json_extract(data, '$.status') != 'running'",
                )
                .bind(&before)
                .execute(&mut *tx)
                .await
                .db()?
                .rows_affected(),
            );
        }
        if let Some(before) = cutoff(retention.conflicts) {
            pruned.conflicts = count(
                sqlx::query("DELETE FROM conflicts WHERE status != 'pending' AND updated_at < ?")
                    .bind(&before)
                    .execute(&mut *tx)
                    .await
                    .db()?
                    .rows_affected(),
            );
        }
        if let Some(before) = cutoff(retention.inbox) {
            pruned.deliveries = count(
                sqlx::query("DELETE FROM inbox WHERE status != 'pending' AND received_at < ?")
                    .bind(&before)
                    .execute(&mut *tx)
                    .await
                    .db()?
                    .rows_affected(),
            );
        }
        tx.commit().await.db()?;
        Ok(pruned)
    }

    /// The host says this database was restored from a backup taken at `backup_taken_at`.
    /// When that is more than `threshold` before `now`, the remote systems have moved on
    /// since: every connection is marked [`ConnectionStatus::NeedsReauth`] (tokens may
    /// have rotated) and every (connection, object) with a cursor or a link must resync:
    /// until [`SqliteStore::clear_resync`], reading its cursor (every pull) and
    /// recording a create intent (every push of a new item) fail with
    /// [`Error::Precondition`] naming the scope and the restore, instead of resuming from
    /// a stale cursor or creating what may already exist.
    pub async fn mark_restored(
        &self,
        backup_taken_at: DateTime<Utc>,
        threshold: Duration,
        now: DateTime<Utc>,
    ) -> Result<RestoreReport> {
        if backup_taken_at >= devflow_sync_core::clock::before(now, threshold) {
            return Ok(RestoreReport::default());
        }
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await.db()?;
        let scopes: Vec<(String, String)> = sqlx::query_as(
            "SELECT connection, object FROM cursors
             UNION SELECT DISTINCT connection, object FROM links
             ORDER BY 1, 2",
        )
        .fetch_all(&mut *tx)
        .await
        .db()?;
        for (connection, object) in &scopes {
            sqlx::query(
                "INSERT INTO resync_required (connection, object, since) VALUES (?, ?, ?)
                 ON CONFLICT DO NOTHING",
            )
            .bind(connection)
            .bind(object)
            .bind(time(backup_taken_at))
            .execute(&mut *tx)
            .await
            .db()?;
        }
        let connections: Vec<(String,)> = sqlx::query_as(
            "SELECT connection FROM tokens UNION SELECT connection FROM health
             UNION SELECT connection FROM cursors UNION SELECT connection FROM links
             ORDER BY 1",
        )
        .fetch_all(&mut *tx)
        .await
        .db()?;
        tx.commit().await.db()?;
        let mut report = RestoreReport {
            stale: true,
            connections: Vec::with_capacity(connections.len()),
            scopes: scopes
                .into_iter()
                .map(|(c, o)| (ConnectionId::new(c), ObjectType::new(o)))
                .collect(),
        };
        for (connection,) in connections {
            let connection = ConnectionId::new(connection);
            let mut health = self
                .health(&connection)
                .await?
                .unwrap_or_else(|| ConnectionHealth::new(connection.clone()));
            health.status = ConnectionStatus::NeedsReauth;
            health.last_error = Some(format!(
                "restored from a backup taken at {backup_taken_at}: authorize again"
            ));
            self.put_health(&health).await?;
            report.connections.push(connection);
        }
        Ok(report)
    }

    /// The scopes that must resync before they resume.
    pub async fn resync_required(&self) -> Result<Vec<(ConnectionId, ObjectType)>> {
        let rows: Vec<(String, String)> =
            sqlx::query_as("SELECT connection, object FROM resync_required ORDER BY 1, 2")
                .fetch_all(&self.pool)
                .await
                .db()?;
        Ok(rows
            .into_iter()
            .map(|(c, o)| (ConnectionId::new(c), ObjectType::new(o)))
            .collect())
    }

    /// The host has resynced a scope (or accepts resuming it): its cursor is forgotten,
    /// so the next pull lists everything again, and syncs resume.
    pub async fn clear_resync(&self, connection: &ConnectionId, object: &ObjectType) -> Result<()> {
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await.db()?;
        for sql in [
            "DELETE FROM resync_required WHERE connection = ? AND object = ?",
            "DELETE FROM cursors WHERE connection = ? AND object = ?",
        ] {
            sqlx::query(sql)
                .bind(connection.as_str())
                .bind(object.as_str())
                .execute(&mut *tx)
                .await
                .db()?;
        }
        tx.commit().await.db()?;
        Ok(())
    }

    /// Fails when a scope must resync first (see [`SqliteStore::mark_restored`]).
    pub(crate) async fn check_resumable(
        &self,
        connection: &ConnectionId,
        object: &ObjectType,
    ) -> Result<()> {
        let since: Option<String> = sqlx::query_scalar(
            "SELECT since FROM resync_required WHERE connection = ? AND object = ?",
        )
        .bind(connection.as_str())
        .bind(object.as_str())
        .fetch_optional(&self.pool)
        .await
        .db()?;
        match since {
            None => Ok(()),
            Some(since) => Err(must_resync(connection, object, &since)),
        }
    }
}

/// The error of a scope that must resync first.
pub(crate) fn must_resync(connection: &ConnectionId, object: &ObjectType, since: &str) -> Error {
    Error::precondition(format!(
        "{connection}/{object} must resync: the store was restored from a backup taken at \
         {since}; resync it and call clear_resync"
    ))
}
