//! [`MemoryProvider`]: the core's in-memory backend
//! ([`devflow_sync_core::memory_provider::MemoryProvider`]) with fault knobs, for
//! engine tests and host test suites: call failures through a [`FaultyProvider`], and
//! webhook deliveries dropped, repeated or shuffled on the way to the test.

pub(crate) mod faults;

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use devflow_sync_core::Result;
use devflow_sync_core::clock::Clock;
use devflow_sync_core::memory_provider::MemoryProvider as Backend;
pub use devflow_sync_core::memory_provider::{
    CallCounts, DELIVERY_HEADER, OutgoingWebhook, SIGNATURE_HEADER,
};
use devflow_sync_core::model::{
    ConnectionId, ExternalId, Fields, ItemId, ItemKind, ObjectType, ProviderKey, Version,
};
use devflow_sync_core::provider::{
    Capabilities, ChangeQuery, Headers, NewRemote, Page, Provider, RemoteRecord, RemoteUpdate,
    WebhookDelivery,
};
pub use faults::{FaultKind, Faults, Op};

use crate::faulty::{CallFaults, FaultyProvider};
use crate::rng::SimRng;

/// An in-memory remote system with fault knobs: the core's backend behind a
/// [`FaultyProvider`]. Ids count up from `1`; versions count up per record; every
/// change stamps the record with the clock's time, enters the change feed and emits a
/// webhook.
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// use std::sync::Arc;
/// use devflow_sync_core::clock::ManualClock;
/// use devflow_sync_core::model::{ConnectionId, Fields, ItemKind, ObjectType};
/// use devflow_sync_core::provider::{ChangeQuery, Provider};
/// use devflow_sync_testkit::memory_provider::{FaultKind, MemoryProvider, Op};
///
/// let clock = Arc::new(ManualClock::starting_at_epoch_secs(1_780_000_000));
/// let remote = MemoryProvider::new("memory", clock);
/// let issue = ObjectType::new("issue");
/// remote.remote_create(&issue, Some(ItemKind::Epic), None, Fields::new().with("title", "Payments"));
/// remote.fail_next(Op::List, FaultKind::Transient);
/// let query = ChangeQuery { limit: 10, ..Default::default() };
/// assert!(remote.list_changed(&ConnectionId::new("c"), &issue, &query).await.is_err());
/// let page = remote.list_changed(&ConnectionId::new("c"), &issue, &query).await.unwrap();
/// assert_eq!(page.records.len(), 1);
/// assert_eq!(remote.take_webhooks().len(), 1);
/// # });
/// ```
#[derive(Debug)]
pub struct MemoryProvider {
    backend: Arc<Backend>,
    faulty: FaultyProvider<Backend>,
    webhooks: Mutex<(Faults, SimRng)>,
}

impl MemoryProvider {
    /// A provider registered under `key`, stamping changes with `clock`'s time, whose
    /// webhooks are signed (HMAC-SHA256) with the secret `memory-secret`.
    pub fn new(key: impl Into<ProviderKey>, clock: Arc<dyn Clock>) -> Self {
        Self::around(Backend::new(key, clock))
    }

    fn around(backend: Backend) -> Self {
        let backend = Arc::new(backend);
        Self {
            faulty: FaultyProvider::new(backend.clone(), 0x5eed),
            backend,
            webhooks: Mutex::new((Faults::default(), SimRng::new(0x5eed))),
        }
    }

    /// Sets the secret webhooks are signed with and verified against.
    #[must_use]
    pub fn with_webhook_secret(self, secret: impl Into<String>) -> Self {
        let backend = Arc::try_unwrap(self.backend)
            .map(|b| b.with_webhook_secret(secret))
            .unwrap_or_else(|_| unreachable!("the backend is shared only with its wrapper"));
        Self::around(backend)
    }

    /// The backend, without faults.
    pub fn backend(&self) -> &Arc<Backend> {
        &self.backend
    }

    /// Replaces the fault knobs; `seed` makes random faults reproducible.
    pub fn set_faults(&self, faults: Faults, seed: u64) {
        self.faulty.clear();
        self.faulty.reseed(seed);
        self.faulty.set_faults(CallFaults {
            error_rate: faults.error_rate,
            latency: faults.latency,
        });
        for (op, kind) in &faults.scripted {
            self.faulty.fail_next(*op, *kind);
        }
        self.backend.set_feed_lag(faults.feed_lag);
        self.backend.set_partial_webhooks(faults.partial_webhooks);
        *self.webhooks.lock().unwrap_or_else(|e| e.into_inner()) =
            (faults, SimRng::new(seed ^ 0x9e37_79b9));
    }

    /// Makes the next call of `op` fail with `kind`.
    pub fn fail_next(&self, op: Op, kind: FaultKind) {
        self.faulty.fail_next(op, kind);
    }

    /// Turns every fault off.
    pub fn clear_faults(&self) {
        self.set_faults(Faults::default(), 0x5eed);
    }

    /// How many calls were served (failed ones included).
    pub fn calls(&self) -> CallCounts {
        let n = |op| usize::try_from(self.faulty.calls_of(op)).unwrap_or(usize::MAX);
        CallCounts {
            list: n(Op::List),
            get: n(Op::Get),
            create: n(Op::Create),
            update: n(Op::Update),
            delete: n(Op::Delete),
            find_by_marker: n(Op::FindByMarker),
        }
    }

    /// Takes the webhooks emitted since the last call, after the webhook faults
    /// (dropped, repeated, shuffled).
    pub fn take_webhooks(&self) -> Vec<OutgoingWebhook> {
        let emitted = self.backend.take_webhooks();
        let mut guard = self.webhooks.lock().unwrap_or_else(|e| e.into_inner());
        let (faults, rng) = &mut *guard;
        let mut out = Vec::with_capacity(emitted.len());
        for hook in emitted {
            if rng.chance(faults.drop_webhooks) {
                continue;
            }
            if rng.chance(faults.duplicate_webhooks) {
                out.push(hook.clone());
            }
            out.push(hook);
        }
        if faults.reorder_webhooks {
            for i in (1..out.len()).rev() {
                let j = rng.below(i + 1);
                out.swap(i, j);
            }
        }
        out
    }

    /// The record, deleted ones included.
    pub fn record(&self, object: &ObjectType, id: &ExternalId) -> Option<RemoteRecord> {
        self.backend.record(object, id)
    }

    /// Every record of `object` that is not deleted, by id.
    pub fn records(&self, object: &ObjectType) -> Vec<RemoteRecord> {
        self.backend.records(object)
    }

    /// A person creates a record in the provider.
    pub fn remote_create(
        &self,
        object: &ObjectType,
        kind: Option<ItemKind>,
        parent: Option<ExternalId>,
        fields: Fields,
    ) -> RemoteRecord {
        self.backend.remote_create(object, kind, parent, fields)
    }

    /// A person edits fields of a record in the provider.
    pub fn remote_edit(
        &self,
        object: &ObjectType,
        id: &ExternalId,
        fields: Fields,
    ) -> Result<RemoteRecord> {
        self.backend.remote_edit(object, id, fields)
    }

    /// A person moves a record under another parent (or to the root).
    pub fn remote_set_parent(
        &self,
        object: &ObjectType,
        id: &ExternalId,
        parent: Option<ExternalId>,
    ) -> Result<RemoteRecord> {
        self.backend.remote_set_parent(object, id, parent)
    }

    /// A person deletes a record in the provider.
    pub fn remote_delete(&self, object: &ObjectType, id: &ExternalId) -> Result<RemoteRecord> {
        self.backend.remote_delete(object, id)
    }

    /// Someone else edits the record just before the next `update` of it arrives, so
    /// that update finds another version than it expects.
    pub fn edit_before_next_update(&self, object: &ObjectType, id: &ExternalId, fields: Fields) {
        self.backend.edit_before_next_update(object, id, fields);
    }
}

#[async_trait]
impl Provider for MemoryProvider {
    fn key(&self) -> ProviderKey {
        self.faulty.key()
    }

    fn capabilities(&self, object: &ObjectType) -> Capabilities {
        self.faulty.capabilities(object)
    }

    async fn list_changed(
        &self,
        connection: &ConnectionId,
        object: &ObjectType,
        query: &ChangeQuery,
    ) -> Result<Page> {
        self.faulty.list_changed(connection, object, query).await
    }

    async fn get(
        &self,
        connection: &ConnectionId,
        object: &ObjectType,
        id: &ExternalId,
    ) -> Result<RemoteRecord> {
        self.faulty.get(connection, object, id).await
    }

    async fn create(
        &self,
        connection: &ConnectionId,
        object: &ObjectType,
        new: &NewRemote,
    ) -> Result<RemoteRecord> {
        self.faulty.create(connection, object, new).await
    }

    async fn update(
        &self,
        connection: &ConnectionId,
        object: &ObjectType,
        id: &ExternalId,
        update: &RemoteUpdate,
        expected: Option<&Version>,
    ) -> Result<RemoteRecord> {
        self.faulty
            .update(connection, object, id, update, expected)
            .await
    }

    async fn delete(
        &self,
        connection: &ConnectionId,
        object: &ObjectType,
        id: &ExternalId,
    ) -> Result<()> {
        self.faulty.delete(connection, object, id).await
    }

    async fn find_by_marker(
        &self,
        connection: &ConnectionId,
        object: &ObjectType,
        marker: &ItemId,
    ) -> Result<Option<RemoteRecord>> {
        self.faulty.find_by_marker(connection, object, marker).await
    }

    fn parse_webhook(
        &self,
        connection: &ConnectionId,
        headers: &Headers,
        body: &[u8],
    ) -> Result<WebhookDelivery> {
        self.faulty.parse_webhook(connection, headers, body)
    }

    fn parse_verified_webhook(
        &self,
        connection: &ConnectionId,
        headers: &Headers,
        body: &[u8],
    ) -> Result<WebhookDelivery> {
        self.faulty
            .parse_verified_webhook(connection, headers, body)
    }

    fn webhook_headers(&self) -> Vec<String> {
        self.faulty.webhook_headers()
    }

    async fn revoke(&self, connection: &ConnectionId) -> Result<()> {
        self.faulty.revoke(connection).await
    }
}
