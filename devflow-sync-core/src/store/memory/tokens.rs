use std::collections::HashMap;
use std::sync::Mutex;

use async_trait::async_trait;

use super::lock;
use crate::error::{Error, Result};
use crate::model::{ConnectionId, ProviderKey};
use crate::store::{Credentials, StoredToken, TokenStore};

/// [`TokenStore`] in memory.
#[derive(Debug, Default)]
pub struct MemoryTokens {
    tokens: Mutex<HashMap<ConnectionId, StoredToken>>,
}

impl MemoryTokens {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }
}

#[async_trait]
impl TokenStore for MemoryTokens {
    async fn get(&self, connection: &ConnectionId) -> Result<Option<StoredToken>> {
        Ok(lock(&self.tokens).get(connection).cloned())
    }

    async fn put(
        &self,
        connection: &ConnectionId,
        provider: &ProviderKey,
        credentials: &Credentials,
        expected: Option<u64>,
    ) -> Result<u64> {
        let mut tokens = lock(&self.tokens);
        let current = tokens.get(connection).map(|t| t.version);
        if current != expected {
            return Err(match (current, expected) {
                (Some(_), None) => {
                    Error::already_exists(format!("credentials of connection {connection}"))
                }
                _ => Error::precondition(format!(
                    "credentials of connection {connection} are at version {current:?}, not {expected:?}"
                )),
            });
        }
        let version = current.unwrap_or(0) + 1;
        tokens.insert(
            connection.clone(),
            StoredToken {
                connection: connection.clone(),
                provider: provider.clone(),
                credentials: credentials.clone(),
                version,
            },
        );
        Ok(version)
    }

    async fn delete(&self, connection: &ConnectionId) -> Result<()> {
        lock(&self.tokens).remove(connection);
        Ok(())
    }
}
