//! [`Maintenance`] on SQLite: retention by age, and the restore guard (a table of the
//! scopes that must resync, checked where a pull reads its cursor, where a push records
//! a create intent, and in the page transaction).

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use devflow_sync_core::Result;
use devflow_sync_core::model::{ConnectionId, ObjectType};
use devflow_sync_core::store::{
    Maintenance, Pruned, RestoreReport, Retention, finish_restore, must_resync,
};

use crate::SqliteStore;
use crate::codec::{Db, count, time};

#[async_trait]
impl Maintenance for SqliteStore {
    /// Deletes history older than `retention` allows, as of `now`, in one transaction.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// use devflow_store_sqlite::{Retention, SqliteStore};
    /// use devflow_sync_core::store::Maintenance as _;
    /// let store = SqliteStore::in_memory().await.unwrap();
    /// let pruned = store.prune(chrono::Utc::now(), &Retention::default()).await.unwrap();
    /// assert_eq!(pruned.log_lines + pruned.conflicts + pruned.deliveries, 0);
    /// # });
    /// ```
    async fn prune(&self, now: DateTime<Utc>, retention: &Retention) -> Result<Pruned> {
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

    async fn mark_restored(
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
        finish_restore(
            self,
            backup_taken_at,
            connections
                .into_iter()
                .map(|(c,)| ConnectionId::new(c))
                .collect(),
            scopes
                .into_iter()
                .map(|(c, o)| (ConnectionId::new(c), ObjectType::new(o)))
                .collect(),
        )
        .await
    }

    /// The scopes that must resync before they resume.
    async fn resync_required(&self) -> Result<Vec<(ConnectionId, ObjectType)>> {
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
    async fn clear_resync(&self, connection: &ConnectionId, object: &ObjectType) -> Result<()> {
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
}

impl SqliteStore {
    /// Fails when a scope must resync first (see [`Maintenance::mark_restored`]).
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
