//! [`ConnectionStore`]: connections with their bindings, and webhook registrations, one
//! JSON document a row.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use devflow_sync_core::Result;
use devflow_sync_core::model::ConnectionId;
use devflow_sync_core::store::{ConnectionRecord, ConnectionStore, WebhookRegistrationRecord};

use crate::PgStore;
use crate::codec::{Db, from_json, json, time};

#[async_trait]
impl ConnectionStore for PgStore {
    async fn put_connection(&self, record: &ConnectionRecord) -> Result<()> {
        sqlx::query(
            "INSERT INTO connections (tenant, id, provider, doc, updated_at)
             VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (tenant, id) DO UPDATE SET provider = excluded.provider,
               doc = excluded.doc, updated_at = excluded.updated_at",
        )
        .bind(&*self.tenant)
        .bind(record.id.as_str())
        .bind(record.provider.as_str())
        .bind(json(record)?)
        .bind(time(record.updated_at))
        .execute(&self.pool)
        .await
        .db()?;
        Ok(())
    }

    async fn connection(&self, id: &ConnectionId) -> Result<Option<ConnectionRecord>> {
        let doc: Option<String> =
            sqlx::query_scalar("SELECT doc FROM connections WHERE tenant = $1 AND id = $2")
                .bind(&*self.tenant)
                .bind(id.as_str())
                .fetch_optional(&self.pool)
                .await
                .db()?;
        doc.map(|d| from_json(&d, "connections.doc")).transpose()
    }

    async fn connections(&self) -> Result<Vec<ConnectionRecord>> {
        let docs: Vec<String> =
            sqlx::query_scalar("SELECT doc FROM connections WHERE tenant = $1 ORDER BY id")
                .bind(&*self.tenant)
                .fetch_all(&self.pool)
                .await
                .db()?;
        docs.iter()
            .map(|d| from_json(d, "connections.doc"))
            .collect()
    }

    async fn remove_connection(&self, id: &ConnectionId) -> Result<bool> {
        let mut tx = self.pool.begin().await.db()?;
        sqlx::query("DELETE FROM webhook_registrations WHERE tenant = $1 AND connection = $2")
            .bind(&*self.tenant)
            .bind(id.as_str())
            .execute(&mut *tx)
            .await
            .db()?;
        let done = sqlx::query("DELETE FROM connections WHERE tenant = $1 AND id = $2")
            .bind(&*self.tenant)
            .bind(id.as_str())
            .execute(&mut *tx)
            .await
            .db()?;
        tx.commit().await.db()?;
        Ok(done.rows_affected() > 0)
    }

    async fn put_registration(&self, record: &WebhookRegistrationRecord) -> Result<()> {
        sqlx::query(
            "INSERT INTO webhook_registrations (tenant, connection, remote_id, refresh_due, doc)
             VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (tenant, connection, remote_id) DO UPDATE SET
               refresh_due = excluded.refresh_due, doc = excluded.doc",
        )
        .bind(&*self.tenant)
        .bind(record.connection.as_str())
        .bind(&record.remote_id)
        .bind(record.refresh_due.map(time))
        .bind(json(record)?)
        .execute(&self.pool)
        .await
        .db()?;
        Ok(())
    }

    async fn registrations(
        &self,
        connection: Option<&ConnectionId>,
    ) -> Result<Vec<WebhookRegistrationRecord>> {
        let docs: Vec<String> = sqlx::query_scalar(
            "SELECT doc FROM webhook_registrations
             WHERE tenant = $1 AND ($2::text IS NULL OR connection = $2)
             ORDER BY connection, remote_id",
        )
        .bind(&*self.tenant)
        .bind(connection.map(ConnectionId::as_str))
        .fetch_all(&self.pool)
        .await
        .db()?;
        docs.iter()
            .map(|d| from_json(d, "webhook_registrations.doc"))
            .collect()
    }

    async fn registrations_due(
        &self,
        now: DateTime<Utc>,
    ) -> Result<Vec<WebhookRegistrationRecord>> {
        let docs: Vec<String> = sqlx::query_scalar(
            "SELECT doc FROM webhook_registrations
             WHERE tenant = $1 AND refresh_due IS NOT NULL AND refresh_due <= $2
             ORDER BY refresh_due",
        )
        .bind(&*self.tenant)
        .bind(time(now))
        .fetch_all(&self.pool)
        .await
        .db()?;
        docs.iter()
            .map(|d| from_json(d, "webhook_registrations.doc"))
            .collect()
    }

    async fn remove_registration(
        &self,
        connection: &ConnectionId,
        remote_id: &str,
    ) -> Result<bool> {
        let done = sqlx::query(
            "DELETE FROM webhook_registrations
             WHERE tenant = $1 AND connection = $2 AND remote_id = $3",
        )
        .bind(&*self.tenant)
        .bind(connection.as_str())
        .bind(remote_id)
        .execute(&self.pool)
        .await
        .db()?;
        Ok(done.rows_affected() > 0)
    }
}
