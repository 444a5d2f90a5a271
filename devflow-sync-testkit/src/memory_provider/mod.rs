//! [`MemoryProvider`]: the core's in-memory backend
//! ([`devflow_sync_core::memory_provider::MemoryProvider`]) behind a [`FaultyProvider`],
//! for engine tests and host test suites: call failures, and webhook deliveries
//! dropped, repeated or shuffled on the way to the test.

pub(crate) mod faults;

use std::sync::Arc;

use devflow_sync_core::Result;
use devflow_sync_core::clock::Clock;
use devflow_sync_core::memory_provider::MemoryProvider as Backend;
pub use devflow_sync_core::memory_provider::{
    CallCounts, DELIVERY_HEADER, OutgoingWebhook, SIGNATURE_HEADER,
};
use devflow_sync_core::model::{ExternalId, Fields, ItemKind, ObjectType, ProviderKey};
use devflow_sync_core::provider::RemoteRecord;
pub use faults::{FaultKind, Faults, Op};

use crate::faulty::{CallFaults, FaultyProvider};
use crate::rng::SimRng;

/// An in-memory remote system with fault knobs: the core's backend behind a
/// [`FaultyProvider`] (whose call faults, `fail_next` and `calls_of`, it has too). Ids count up from `1`; versions count up per record; every
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
pub type MemoryProvider = FaultyProvider<Backend>;

impl FaultyProvider<Backend> {
    /// A provider registered under `key`, stamping changes with `clock`'s time, whose
    /// webhooks are signed (HMAC-SHA256) with the secret `memory-secret`.
    pub fn new(key: impl Into<ProviderKey>, clock: Arc<dyn Clock>) -> Self {
        Self::wrap(Arc::new(Backend::new(key, clock)), 0x5eed)
    }

    /// Sets the secret webhooks are signed with and verified against.
    #[must_use]
    pub fn with_webhook_secret(self, secret: impl Into<String>) -> Self {
        let seed = 0x5eed;
        match Arc::try_unwrap(self.inner) {
            Ok(backend) => Self::wrap(Arc::new(backend.with_webhook_secret(secret)), seed),
            Err(_) => unreachable!("a new provider's backend is not shared yet"),
        }
    }

    /// The backend, without faults.
    pub fn backend(&self) -> &Arc<Backend> {
        &self.inner
    }

    /// Replaces the fault knobs; `seed` makes random faults reproducible.
    pub fn set_faults(&self, faults: Faults, seed: u64) {
        self.inner.set_feed_lag(faults.feed_lag);
        self.inner.set_partial_webhooks(faults.partial_webhooks);
        let mut state = self.lock();
        state.faults = CallFaults {
            error_rate: faults.error_rate,
            latency: faults.latency,
        };
        state.scripted = faults.scripted.clone();
        state.rng = SimRng::new(seed);
        state.deliveries = faults;
    }

    /// Turns every fault off.
    pub fn clear_faults(&self) {
        self.set_faults(Faults::default(), 0x5eed);
    }

    /// How many calls were served (failed ones included).
    pub fn calls(&self) -> CallCounts {
        let n = |op| usize::try_from(self.calls_of(op)).unwrap_or(usize::MAX);
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
        let emitted = self.inner.take_webhooks();
        let mut guard = self.lock();
        let state = &mut *guard;
        let (faults, rng) = (&state.deliveries, &mut state.rng);
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
        self.inner.record(object, id)
    }

    /// Every record of `object` that is not deleted, by id.
    pub fn records(&self, object: &ObjectType) -> Vec<RemoteRecord> {
        self.inner.records(object)
    }

    /// A person creates a record in the provider.
    pub fn remote_create(
        &self,
        object: &ObjectType,
        kind: Option<ItemKind>,
        parent: Option<ExternalId>,
        fields: Fields,
    ) -> RemoteRecord {
        self.inner.remote_create(object, kind, parent, fields)
    }

    /// A person edits fields of a record in the provider.
    pub fn remote_edit(
        &self,
        object: &ObjectType,
        id: &ExternalId,
        fields: Fields,
    ) -> Result<RemoteRecord> {
        self.inner.remote_edit(object, id, fields)
    }

    /// A person moves a record under another parent (or to the root).
    pub fn remote_set_parent(
        &self,
        object: &ObjectType,
        id: &ExternalId,
        parent: Option<ExternalId>,
    ) -> Result<RemoteRecord> {
        self.inner.remote_set_parent(object, id, parent)
    }

    /// A person deletes a record in the provider.
    pub fn remote_delete(&self, object: &ObjectType, id: &ExternalId) -> Result<RemoteRecord> {
        self.inner.remote_delete(object, id)
    }

    /// Someone else edits the record just before the next `update` of it arrives, so
    /// that update finds another version than it expects.
    pub fn edit_before_next_update(&self, object: &ObjectType, id: &ExternalId, fields: Fields) {
        self.inner.edit_before_next_update(object, id, fields);
    }
}
