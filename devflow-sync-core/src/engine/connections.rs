//! Connections and bindings on a running engine: added, changed and removed as data,
//! kept in the [`ConnectionStore`](crate::store::ConnectionStore) so a restarted
//! process resumes them ([`SyncEngine::resume`]).

use std::sync::Arc;

use super::{Binding, BindingOptions, DisconnectReport, SyncEngine, write};
use crate::error::{Error, Result};
use crate::model::ConnectionId;
use crate::provider::Provider;
use crate::store::{BindingRecord, ConnectionRecord};

/// Builds a stored connection's provider again (from its non-secret settings; its
/// tokens are in the token store). The host implements it once for the providers it
/// uses.
pub trait ProviderFactory: Send + Sync {
    /// The provider for `record`; [`Error::InvalidConfig`] when its settings do not do.
    fn build(&self, record: &ConnectionRecord) -> Result<Arc<dyn Provider>>;
}

fn binding_of(connection: &ConnectionRecord, b: &BindingRecord) -> Binding {
    Binding {
        connection: connection.id.clone(),
        provider: connection.provider.clone(),
        object: b.object.clone(),
        options: BindingOptions {
            mapping: b.mapping.clone(),
            allow_partial_mapping: b.allow_partial_mapping,
            filter: b.filter.clone(),
            kinds: b.kinds,
            host_object: b.host_object.clone(),
            import_mode: b.import_mode,
        },
    }
}

impl SyncEngine {
    /// Registers a connection on the running engine: its own provider and its
    /// bindings, replacing any earlier ones of the same id. Not stored.
    fn register(&self, record: &ConnectionRecord, provider: Arc<dyn Provider>) {
        let e = &*self.inner;
        write(&e.connection_providers).insert(record.id.clone(), provider);
        let mut bindings = write(&e.bindings);
        bindings.retain(|b| b.connection != record.id);
        bindings.extend(record.bindings.iter().map(|b| binding_of(record, b)));
    }

    /// Adds (or replaces) a connection on the running engine with its provider and
    /// bindings, and stores it, so [`SyncEngine::resume`] brings it back after a
    /// restart. [`Error::InvalidConfig`] when the provider is another provider's.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// use std::sync::Arc;
    /// use devflow_sync_core::engine::SyncEngine;
    /// use devflow_sync_core::memory_provider::MemoryProvider;
    /// use devflow_sync_core::store::{BindingRecord, ConnectionRecord};
    /// let engine = SyncEngine::builder().build().unwrap();
    /// let record = ConnectionRecord::new("gh-acme", "memory").with_binding(BindingRecord::new("issue"));
    /// let provider = MemoryProvider::new("memory", Arc::new(devflow_sync_core::clock::SystemClock));
    /// engine.add_connection(record, Arc::new(provider)).await.unwrap();
    /// assert_eq!(engine.bindings().len(), 1);
    /// engine.remove_connection(&"gh-acme".into(), true).await.unwrap();
    /// assert!(engine.bindings().is_empty());
    /// # });
    /// ```
    pub async fn add_connection(
        &self,
        mut record: ConnectionRecord,
        provider: Arc<dyn Provider>,
    ) -> Result<()> {
        if provider.key() != record.provider {
            return Err(Error::InvalidConfig {
                pointer: format!("/connections/{}/provider", record.id),
                message: format!(
                    "connection {} is of provider {}, but was given a {} provider",
                    record.id,
                    record.provider,
                    provider.key()
                ),
            });
        }
        let e = &*self.inner;
        if let Some(old) = e.connections.connection(&record.id).await? {
            record.created_at = old.created_at;
        }
        record.updated_at = e.clock.now();
        e.connections.put_connection(&record).await?;
        self.register(&record, provider);
        Ok(())
    }

    /// Replaces a stored connection's bindings (what it syncs and how) on the running
    /// engine. [`Error::NotFound`] for an unknown connection.
    pub async fn update_bindings(
        &self,
        connection: &ConnectionId,
        bindings: Vec<BindingRecord>,
    ) -> Result<()> {
        let e = &*self.inner;
        let mut record = e
            .connections
            .connection(connection)
            .await?
            .ok_or_else(|| Error::not_found(format!("connection {connection}")))?;
        record.bindings = bindings;
        record.updated_at = e.clock.now();
        e.connections.put_connection(&record).await?;
        let mut all = write(&e.bindings);
        all.retain(|b| &b.connection != connection);
        all.extend(record.bindings.iter().map(|b| binding_of(&record, b)));
        Ok(())
    }

    /// Removes a connection: its bindings stop (a sync named for it fails as not
    /// found), it is disconnected ([`SyncEngine::disconnect`]: grant revoked where the
    /// provider can, tokens deleted, and with `purge` its links, cursors and journal
    /// rows deleted), and its stored record goes.
    pub async fn remove_connection(
        &self,
        connection: &ConnectionId,
        purge: bool,
    ) -> Result<DisconnectReport> {
        let report = self.disconnect(connection, purge).await?;
        let e = &*self.inner;
        write(&e.bindings).retain(|b| &b.connection != connection);
        write(&e.connection_providers).remove(connection);
        e.connections.remove_connection(connection).await?;
        Ok(report)
    }

    /// The stored connections.
    pub async fn connections(&self) -> Result<Vec<ConnectionRecord>> {
        self.inner.connections.connections().await
    }

    /// Brings back every stored connection after a restart: each provider built again
    /// by `factory`, each binding registered. Returns how many came back; one that the
    /// factory cannot build is left out and named in the error list returned beside.
    pub async fn resume(
        &self,
        factory: &dyn ProviderFactory,
    ) -> Result<(usize, Vec<(ConnectionId, Error)>)> {
        let mut resumed = 0;
        let mut failed = Vec::new();
        for record in self.inner.connections.connections().await? {
            match factory.build(&record) {
                Ok(provider) if provider.key() == record.provider => {
                    self.register(&record, provider);
                    resumed += 1;
                }
                Ok(provider) => failed.push((
                    record.id.clone(),
                    Error::InvalidConfig {
                        pointer: format!("/connections/{}/provider", record.id),
                        message: format!("the factory built a {} provider", provider.key()),
                    },
                )),
                Err(e) => failed.push((record.id.clone(), e)),
            }
        }
        Ok((resumed, failed))
    }
}
