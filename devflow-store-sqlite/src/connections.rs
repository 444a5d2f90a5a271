//! [`ConnectionStore`]: connections and their bindings, one JSON document a row.

use async_trait::async_trait;
use devflow_sync_core::Result;
use devflow_sync_core::model::ConnectionId;
use devflow_sync_core::store::{ConnectionRecord, ConnectionStore};

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
        let done = sqlx::query("DELETE FROM connections WHERE id = ?")
            .bind(id.as_str())
            .execute(&self.pool)
            .await
            .db()?;
        Ok(done.rows_affected() > 0)
    }
}
