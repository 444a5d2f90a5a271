//! [`ConnectionStore`] in memory.

use std::collections::BTreeMap;
use std::sync::Mutex;

use async_trait::async_trait;

use super::lock;
use crate::error::Result;
use crate::model::ConnectionId;
use crate::store::{ConnectionRecord, ConnectionStore};

/// Connections in memory, by id.
#[derive(Debug, Default)]
pub struct MemoryConnections {
    rows: Mutex<BTreeMap<ConnectionId, ConnectionRecord>>,
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
        Ok(lock(&self.rows).remove(id).is_some())
    }
}
