//! [`Maintenance`] on Postgres: retention by age within the store's tenant, and the
//! restore guard (a table of the scopes that must resync, checked where a pull reads
//! its cursor, where a push records a create intent, and in the page transaction).

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use devflow_sync_core::Result;
use devflow_sync_core::model::{ConnectionId, ObjectType};
use devflow_sync_core::store::{
    Maintenance, Pruned, RestoreReport, Retention, finish_restore, must_resync,
};

use crate::PgStore;
use crate::codec::{Db, count, time};

#[async_trait]
impl Maintenance for PgStore {
    async fn prune(&self, now: DateTime<Utc>, retention: &Retention) -> Result<Pruned> {
        let cutoff =
            |keep: Option<Duration>| keep.map(|d| time(devflow_sync_core::clock::before(now, d)));
        let mut tx = self.pool.begin().await.db()?;
        let mut pruned = Pruned::default();
        let mut delete = async |sql: &'static str, before: &str| -> Result<usize> {
            let done = sqlx::query(sql)
                .bind(&*self.tenant)
                .bind(before)
                .execute(&mut *tx)
                .await
                .db()?;
            Ok(count(done.rows_affected()))
        };
        if let Some(before) = cutoff(retention.log) {
            pruned.log_lines = delete(
                "DELETE FROM sync_log WHERE tenant = $1 AND at < $2",
                &before,
            )
            .await?;
            pruned.runs = delete(
                "DELETE FROM runs WHERE tenant = $1 AND started_at < $2
                   AND (data::jsonb ->> 'status') IS DISTINCT FROM 'running'",
                &before,
            )
            .await?;
        }
        if let Some(before) = cutoff(retention.conflicts) {
            pruned.conflicts = delete(
                "DELETE FROM conflicts WHERE tenant = $1 AND status <> 'pending' AND updated_at < $2",
                &before,
            )
            .await?;
        }
        if let Some(before) = cutoff(retention.inbox) {
            pruned.deliveries = delete(
                "DELETE FROM inbox WHERE tenant = $1 AND status <> 'pending' AND received_at < $2",
                &before,
            )
            .await?;
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
        let mut tx = self.pool.begin().await.db()?;
        let scopes: Vec<(String, String)> = sqlx::query_as(
            "SELECT connection, object FROM cursors WHERE tenant = $1
             UNION SELECT connection, object FROM links WHERE tenant = $1
             ORDER BY 1, 2",
        )
        .bind(&*self.tenant)
        .fetch_all(&mut *tx)
        .await
        .db()?;
        let (connections, objects): (Vec<&str>, Vec<&str>) =
            scopes.iter().map(|(c, o)| (c.as_str(), o.as_str())).unzip();
        sqlx::query(
            "INSERT INTO resync_required (tenant, connection, object, since)
             SELECT $1, c, o, $4 FROM UNNEST($2::text[], $3::text[]) AS s(c, o)
             ON CONFLICT DO NOTHING",
        )
        .bind(&*self.tenant)
        .bind(&connections)
        .bind(&objects)
        .bind(time(backup_taken_at))
        .execute(&mut *tx)
        .await
        .db()?;
        let marked: Vec<(String,)> = sqlx::query_as(
            "SELECT connection FROM tokens WHERE tenant = $1
             UNION SELECT connection FROM health WHERE tenant = $1
             UNION SELECT connection FROM cursors WHERE tenant = $1
             UNION SELECT connection FROM links WHERE tenant = $1
             ORDER BY 1",
        )
        .bind(&*self.tenant)
        .fetch_all(&mut *tx)
        .await
        .db()?;
        tx.commit().await.db()?;
        finish_restore(
            self,
            backup_taken_at,
            marked
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

    async fn resync_required(&self) -> Result<Vec<(ConnectionId, ObjectType)>> {
        let rows: Vec<(String, String)> = sqlx::query_as(
            "SELECT connection, object FROM resync_required WHERE tenant = $1 ORDER BY 1, 2",
        )
        .bind(&*self.tenant)
        .fetch_all(&self.pool)
        .await
        .db()?;
        Ok(rows
            .into_iter()
            .map(|(c, o)| (ConnectionId::new(c), ObjectType::new(o)))
            .collect())
    }

    async fn clear_resync(&self, connection: &ConnectionId, object: &ObjectType) -> Result<()> {
        let mut tx = self.pool.begin().await.db()?;
        for sql in [
            "DELETE FROM resync_required WHERE tenant = $1 AND connection = $2 AND object = $3",
            "DELETE FROM cursors WHERE tenant = $1 AND connection = $2 AND object = $3",
        ] {
            sqlx::query(sql)
                .bind(&*self.tenant)
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

impl PgStore {
    /// Fails when a scope must resync first (see [`Maintenance::mark_restored`]).
    pub(crate) async fn check_resumable<'e, E>(
        &self,
        executor: E,
        connection: &ConnectionId,
        object: &ObjectType,
    ) -> Result<()>
    where
        E: sqlx::PgExecutor<'e>,
    {
        let since: Option<String> = sqlx::query_scalar(
            "SELECT since FROM resync_required WHERE tenant = $1 AND connection = $2 AND object = $3",
        )
        .bind(&*self.tenant)
        .bind(connection.as_str())
        .bind(object.as_str())
        .fetch_optional(executor)
        .await
        .db()?;
        match since {
            None => Ok(()),
            Some(since) => Err(must_resync(connection, object, &since)),
        }
    }
}
