//! The journal: the run log and connection health here; conflicts and the webhook
//! inbox in their own modules.

mod conflicts;
mod inbox;

use async_trait::async_trait;
use devflow_sync_core::Result;
use devflow_sync_core::model::{ConnectionId, ItemId};
use devflow_sync_core::store::{
    ConnectionHealth, HealthStore, LogQuery, RunLog, RunRecord, SyncJournal, SyncLogEntry,
};

use crate::PgStore;
use crate::codec::{Db, count, from_json, json, name, time};

#[async_trait]
impl RunLog for PgStore {
    async fn append_log(&self, entry: &SyncLogEntry) -> Result<()> {
        self.append_logs(std::slice::from_ref(entry)).await
    }

    async fn append_logs(&self, entries: &[SyncLogEntry]) -> Result<()> {
        if entries.is_empty() {
            return Ok(());
        }
        let mut runs = Vec::with_capacity(entries.len());
        let mut connections = Vec::with_capacity(entries.len());
        let mut ats = Vec::with_capacity(entries.len());
        let mut items = Vec::with_capacity(entries.len());
        let mut docs = Vec::with_capacity(entries.len());
        for entry in entries {
            runs.push(entry.run_id.as_str());
            connections.push(entry.connection.as_str());
            ats.push(time(entry.at));
            items.push(entry.item.as_ref().map(ItemId::as_str));
            docs.push(json(entry)?);
        }
        // One statement: the lines go in together and in order (`seq` counts up).
        sqlx::query(
            "INSERT INTO sync_log (tenant, run_id, connection, at, item, data)
             SELECT $1, * FROM UNNEST($2::text[], $3::text[], $4::text[], $5::text[], $6::text[])",
        )
        .bind(&*self.tenant)
        .bind(&runs)
        .bind(&connections)
        .bind(&ats)
        .bind(&items)
        .bind(&docs)
        .execute(&self.pool)
        .await
        .db()?;
        Ok(())
    }

    async fn logs_of_run(&self, run_id: &str) -> Result<Vec<SyncLogEntry>> {
        let rows: Vec<(String,)> = sqlx::query_as(
            "SELECT data FROM sync_log WHERE tenant = $1 AND run_id = $2 ORDER BY seq",
        )
        .bind(&*self.tenant)
        .bind(run_id)
        .fetch_all(&self.pool)
        .await
        .db()?;
        rows.iter()
            .map(|(data,)| from_json(data, "sync_log"))
            .collect()
    }

    async fn query_logs(&self, query: &LogQuery) -> Result<Vec<SyncLogEntry>> {
        let status = query.status.map(|s| name(&s)).transpose()?;
        let rows: Vec<(String,)> = sqlx::query_as(
            "SELECT data FROM sync_log
             WHERE tenant = $1
               AND ($2::text IS NULL OR item = $2)
               AND ($3::text IS NULL OR connection = $3)
               AND ($4::text IS NULL OR (data::jsonb ->> 'object') = $4)
               AND ($5::text IS NULL OR (data::jsonb ->> 'status') = $5)
               AND ($6::text IS NULL OR at >= $6)
               AND ($7::text IS NULL OR at < $7)
             ORDER BY seq DESC LIMIT $8",
        )
        .bind(&*self.tenant)
        .bind(query.item.as_ref().map(ItemId::as_str))
        .bind(query.connection.as_ref().map(ConnectionId::as_str))
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
            "INSERT INTO runs (tenant, id, connection, started_at, data) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (tenant, id) DO UPDATE
               SET connection = excluded.connection, started_at = excluded.started_at,
                   data = excluded.data",
        )
        .bind(&*self.tenant)
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
        let row: Option<(String,)> =
            sqlx::query_as("SELECT data FROM runs WHERE tenant = $1 AND id = $2")
                .bind(&*self.tenant)
                .bind(id)
                .fetch_optional(&self.pool)
                .await
                .db()?;
        row.map(|(data,)| from_json(&data, "runs")).transpose()
    }
}

#[async_trait]
impl HealthStore for PgStore {
    async fn health(&self, connection: &ConnectionId) -> Result<Option<ConnectionHealth>> {
        let row: Option<(String,)> =
            sqlx::query_as("SELECT data FROM health WHERE tenant = $1 AND connection = $2")
                .bind(&*self.tenant)
                .bind(connection.as_str())
                .fetch_optional(&self.pool)
                .await
                .db()?;
        row.map(|(data,)| from_json(&data, "health")).transpose()
    }

    async fn put_health(&self, health: &ConnectionHealth) -> Result<()> {
        sqlx::query(
            "INSERT INTO health (tenant, connection, data) VALUES ($1, $2, $3)
             ON CONFLICT (tenant, connection) DO UPDATE SET data = excluded.data",
        )
        .bind(&*self.tenant)
        .bind(health.connection.as_str())
        .bind(json(health)?)
        .execute(&self.pool)
        .await
        .db()?;
        Ok(())
    }
}

#[async_trait]
impl SyncJournal for PgStore {
    async fn purge_connection(&self, connection: &ConnectionId) -> Result<usize> {
        let mut tx = self.pool.begin().await.db()?;
        let mut removed = 0;
        for sql in [
            "DELETE FROM sync_log WHERE tenant = $1 AND connection = $2",
            "DELETE FROM conflicts WHERE tenant = $1 AND connection = $2",
            "DELETE FROM inbox WHERE tenant = $1 AND connection = $2",
            "DELETE FROM health WHERE tenant = $1 AND connection = $2",
            "DELETE FROM runs WHERE tenant = $1 AND connection = $2",
        ] {
            removed += sqlx::query(sql)
                .bind(&*self.tenant)
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
