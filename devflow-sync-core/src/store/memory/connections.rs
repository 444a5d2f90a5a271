//! [`ConnectionStore`] in memory.

use std::collections::BTreeMap;
use std::sync::Mutex;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::lock;
use crate::error::Result;
use crate::model::ConnectionId;
use crate::store::{ConnectionRecord, ConnectionStore, WebhookRegistrationRecord};

/// Connections and webhook registrations in memory, by id.
#[derive(Debug, Default)]
pub struct MemoryConnections {
    rows: Mutex<BTreeMap<ConnectionId, ConnectionRecord>>,
    registrations: Mutex<BTreeMap<(ConnectionId, String), WebhookRegistrationRecord>>,
}

impl MemoryConnections {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }
}

#[async_trait]
impl ConnectionStore for MemoryConnections {
    async fn put_connection(&self, record: &ConnectionRecord) -> Result<()> {
        lock(&self.rows).insert(record.id.clone(), record.clone());
        Ok(())
    }

    async fn connection(&self, id: &ConnectionId) -> Result<Option<ConnectionRecord>> {
        Ok(lock(&self.rows).get(id).cloned())
    }

    async fn connections(&self) -> Result<Vec<ConnectionRecord>> {
        Ok(lock(&self.rows).values().cloned().collect())
    }

    async fn remove_connection(&self, id: &ConnectionId) -> Result<bool> {
        lock(&self.registrations).retain(|(connection, _), _| connection != id);
        Ok(lock(&self.rows).remove(id).is_some())
    }

    async fn put_registration(&self, record: &WebhookRegistrationRecord) -> Result<()> {
        let key = (record.connection.clone(), record.remote_id.clone());
        lock(&self.registrations).insert(key, record.clone());
        Ok(())
    }

    async fn registrations(
        &self,
        connection: Option<&ConnectionId>,
    ) -> Result<Vec<WebhookRegistrationRecord>> {
        Ok(lock(&self.registrations)
            .values()
            .filter(|r| connection.is_none_or(|c| &r.connection == c))
            .cloned()
            .collect())
    }

    async fn registrations_due(
        &self,
        now: DateTime<Utc>,
    ) -> Result<Vec<WebhookRegistrationRecord>> {
        let mut due: Vec<WebhookRegistrationRecord> = lock(&self.registrations)
            .values()
            .filter(|r| r.is_due(now))
            .cloned()
            .collect();
        due.sort_by_key(|r| r.refresh_due);
        Ok(due)
    }

    async fn remove_registration(
        &self,
        connection: &ConnectionId,
        remote_id: &str,
    ) -> Result<bool> {
        let key = (connection.clone(), remote_id.to_owned());
        Ok(lock(&self.registrations).remove(&key).is_some())
    }
}
