//! [`ConnectionStore`]: connections with their bindings, and webhook registrations, one
//! JSON document a row.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use devflow_sync_core::Result;
use devflow_sync_core::model::ConnectionId;
use devflow_sync_core::store::{ConnectionRecord, ConnectionStore, WebhookRegistrationRecord};

use crate::SqliteStore;
use crate::codec::{Db, from_json, json, time};

#[async_trait]
impl ConnectionStore for SqliteStore {
    async fn put_connection(&self, record: &ConnectionRecord) -> Result<()> {
        sqlx::query(
            "INSERT INTO connections (id, provider, doc, updated_at) VALUES (?, ?, ?, ?)
             ON CONFLICT (id) DO UPDATE SET provider = excluded.provider, doc = excluded.doc,
               updated_at = excluded.updated_at",
        )
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
        let doc: Option<String> = sqlx::query_scalar("SELECT doc FROM connections WHERE id = ?")
            .bind(id.as_str())
            .fetch_optional(&self.pool)
            .await
            .db()?;
        doc.map(|d| from_json(&d, "connections.doc")).transpose()
    }

    async fn connections(&self) -> Result<Vec<ConnectionRecord>> {
        let docs: Vec<String> = sqlx::query_scalar("SELECT doc FROM connections ORDER BY id")
            .fetch_all(&self.pool)
            .await
            .db()?;
        docs.iter()
            .map(|d| from_json(d, "connections.doc"))
            .collect()
    }

    async fn remove_connection(&self, id: &ConnectionId) -> Result<bool> {
        let mut tx = self.pool.begin().await.db()?;
        sqlx::query("DELETE FROM webhook_registrations WHERE connection = ?")
            .bind(id.as_str())
            .execute(&mut *tx)
            .await
            .db()?;
        let done = sqlx::query("DELETE FROM connections WHERE id = ?")
            .bind(id.as_str())
            .execute(&mut *tx)
            .await
            .db()?;
        tx.commit().await.db()?;
        Ok(done.rows_affected() > 0)
    }

    async fn put_registration(&self, record: &WebhookRegistrationRecord) -> Result<()> {
        sqlx::query(
            "INSERT INTO webhook_registrations (connection, remote_id, refresh_due, doc)
             VALUES (?, ?, ?, ?)
             ON CONFLICT (connection, remote_id) DO UPDATE SET
               refresh_due = excluded.refresh_due, doc = excluded.doc",
        )
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
            "SELECT doc FROM webhook_registrations WHERE ?1 IS NULL OR connection = ?1
             ORDER BY connection, remote_id",
        )
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
             WHERE refresh_due IS NOT NULL AND refresh_due <= ? ORDER BY refresh_due",
        )
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
        let done =
            sqlx::query("DELETE FROM webhook_registrations WHERE connection = ? AND remote_id = ?")
                .bind(connection.as_str())
                .bind(remote_id)
                .execute(&self.pool)
                .await
                .db()?;
        Ok(done.rows_affected() > 0)
    }
}
