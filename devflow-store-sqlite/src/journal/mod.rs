//! The journal: the run log and connection health here; conflicts and the webhook
//! inbox in their own modules.

mod conflicts;
mod inbox;

use async_trait::async_trait;
use devflow_sync_core::Result;
use devflow_sync_core::model::ConnectionId;
use devflow_sync_core::store::{
    ConnectionHealth, HealthStore, LogQuery, RunLog, RunRecord, SyncJournal, SyncLogEntry,
};

use crate::SqliteStore;
use crate::codec::{Db, count, from_json, json, time};

#[async_trait]
impl RunLog for SqliteStore {
    async fn append_log(&self, entry: &SyncLogEntry) -> Result<()> {
        sqlx::query(
            "INSERT INTO sync_log (run_id, connection, at, item, data) VALUES (?, ?, ?, ?, ?)",
        )
        .bind(&entry.run_id)
        .bind(entry.connection.as_str())
        .bind(time(entry.at))
        .bind(entry.item.as_ref().map(|i| i.as_str()))
        .bind(json(entry)?)
        .execute(&self.pool)
        .await
        .db()?;
        Ok(())
    }

    async fn append_logs(&self, entries: &[SyncLogEntry]) -> Result<()> {
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await.db()?;
        for entry in entries {
            sqlx::query(
                "INSERT INTO sync_log (run_id, connection, at, item, data) VALUES (?, ?, ?, ?, ?)",
            )
            .bind(&entry.run_id)
            .bind(entry.connection.as_str())
            .bind(time(entry.at))
            .bind(entry.item.as_ref().map(|i| i.as_str()))
            .bind(json(entry)?)
            .execute(&mut *tx)
            .await
            .db()?;
        }
        tx.commit().await.db()
    }

    async fn logs_of_run(&self, run_id: &str) -> Result<Vec<SyncLogEntry>> {
        let rows: Vec<(String,)> =
            sqlx::query_as("SELECT data FROM sync_log WHERE run_id = ? ORDER BY seq")
                .bind(run_id)
                .fetch_all(&self.pool)
                .await
                .db()?;
        rows.iter()
            .map(|(data,)| from_json(data, "sync_log"))
            .collect()
    }

    async fn query_logs(&self, query: &LogQuery) -> Result<Vec<SyncLogEntry>> {
        let status = query
            .status
            .map(|s| serde_json::to_value(s).unwrap_or_default())
            .and_then(|v| v.as_str().map(str::to_owned));
        let rows: Vec<(String,)> = sqlx::query_as(
            "SELECT data FROM sync_log
             WHERE (?1 IS NULL OR item = ?1)
               AND (?2 IS NULL OR connection = ?2)
               AND (?3 IS NULL OR json_extract(data, '$.object') = ?3)
               AND (?4 IS NULL OR json_extract(data, '$.status') = ?4)
               AND (?5 IS NULL OR at >= ?5)
               AND (?6 IS NULL OR at < ?6)
             ORDER BY seq DESC LIMIT ?7",
        )
        .bind(query.item.as_ref().map(|i| i.as_str()))
        .bind(query.connection.as_ref().map(|c| c.as_str()))
        .bind(query.object.as_ref().map(|o| o.as_str()))
        .bind(status)
        .bind(query.from.map(time))
        .bind(query.until.map(time))
        .bind(i64::try_from(query.clamped_limit()).unwrap_or(i64::MAX))
        .fetch_all(&self.pool)
        .await
        .db()?;
        rows.iter()
            .map(|(data,)| from_json(data, "sync_log"))
            .collect()
    }

    async fn put_run(&self, run: &RunRecord) -> Result<()> {
        sqlx::query(
            "INSERT INTO runs (id, connection, started_at, data) VALUES (?, ?, ?, ?)
             ON CONFLICT (id) DO UPDATE
               SET connection = excluded.connection, started_at = excluded.started_at,
                   data = excluded.data",
        )
        .bind(&run.id)
        .bind(run.connection.as_ref().map(ConnectionId::as_str))
        .bind(time(run.started_at))
        .bind(json(run)?)
        .execute(&self.pool)
        .await
        .db()?;
        Ok(())
    }

    async fn run(&self, id: &str) -> Result<Option<RunRecord>> {
        let row: Option<(String,)> = sqlx::query_as("SELECT data FROM runs WHERE id = ?")
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .db()?;
        row.map(|(data,)| from_json(&data, "runs")).transpose()
    }
}

#[async_trait]
impl HealthStore for SqliteStore {
    async fn health(&self, connection: &ConnectionId) -> Result<Option<ConnectionHealth>> {
        let row: Option<(String,)> = sqlx::query_as("SELECT data FROM health WHERE connection = ?")
            .bind(connection.as_str())
            .fetch_optional(&self.pool)
            .await
            .db()?;
        row.map(|(data,)| from_json(&data, "health")).transpose()
    }

    async fn put_health(&self, health: &ConnectionHealth) -> Result<()> {
        sqlx::query(
            "INSERT INTO health (connection, data) VALUES (?, ?)
             ON CONFLICT (connection) DO UPDATE SET data = excluded.data",
        )
        .bind(health.connection.as_str())
        .bind(json(health)?)
        .execute(&self.pool)
        .await
        .db()?;
        Ok(())
    }
}

#[async_trait]
impl SyncJournal for SqliteStore {
    async fn purge_connection(&self, connection: &ConnectionId) -> Result<usize> {
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await.db()?;
        let mut removed = 0;
        for sql in [
            "DELETE FROM sync_log WHERE connection = ?",
            "DELETE FROM conflicts WHERE connection = ?",
            "DELETE FROM inbox WHERE connection = ?",
            "DELETE FROM health WHERE connection = ?",
            "DELETE FROM runs WHERE connection = ?",
        ] {
            removed += sqlx::query(sql)
                .bind(connection.as_str())
                .execute(&mut *tx)
                .await
                .db()?
                .rows_affected();
        }
        tx.commit().await.db()?;
        Ok(count(removed))
    }
}
