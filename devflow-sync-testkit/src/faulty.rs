//! [`FaultyProvider`]: any [`Provider`] made to misbehave on purpose at the call level:
//! scripted failures per operation, a random failure rate from a seed, latency, and
//! writes that succeed and then report a timeout (the case that creates duplicates in
//! naive sync code).

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use devflow_sync_core::model::{
    ConnectionId, ExternalId, ItemId, ObjectType, ProviderKey, Version,
};
use devflow_sync_core::provider::{
    Capabilities, ChangeQuery, Headers, NewRemote, Page, Provider, RemoteRecord, RemoteUpdate,
    WebhookDelivery,
};
use devflow_sync_core::{Error, Result};

use crate::memory_provider::{FaultKind, Op};
use crate::rng::SimRng;

/// The call-level fault knobs. All off by default.
#[derive(Clone, Debug, Default)]
pub struct CallFaults {
    /// Probability that a call fails transiently; for writes, half of these fail after
    /// the write was done.
    pub error_rate: f64,
    /// Delay before every call.
    pub latency: Duration,
}

#[derive(Debug)]
pub(crate) struct State {
    pub(crate) faults: CallFaults,
    pub(crate) scripted: VecDeque<(Op, FaultKind)>,
    pub(crate) rng: SimRng,
    calls: u64,
    by_op: HashMap<Op, u64>,
    /// What happens to webhook deliveries on their way (see
    /// [`MemoryProvider::take_webhooks`](crate::memory_provider::MemoryProvider)).
    pub(crate) deliveries: crate::memory_provider::Faults,
}

/// Wraps any provider (a [`MemoryProvider`](crate::memory_provider::MemoryProvider),
/// a real provider against a simulator) and injects failures before or after its calls.
/// Webhook parsing passes straight through.
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// use std::sync::Arc;
/// use devflow_sync_core::clock::ManualClock;
/// use devflow_sync_core::provider::{ChangeQuery, Provider};
/// use devflow_sync_testkit::faulty::FaultyProvider;
/// use devflow_sync_testkit::memory_provider::{FaultKind, Op};
/// use devflow_sync_core::memory_provider::MemoryProvider as Backend;
/// let inner = Arc::new(Backend::new("memory", Arc::new(ManualClock::starting_at_epoch_secs(0))));
/// let faulty = FaultyProvider::wrap(inner, 7);
/// faulty.fail_next(Op::List, FaultKind::RateLimited);
/// let (c, o) = ("c".into(), "issue".into());
/// assert!(faulty.list_changed(&c, &o, &ChangeQuery::default()).await.is_err());
/// assert!(faulty.list_changed(&c, &o, &ChangeQuery::default()).await.is_ok());
/// assert_eq!(faulty.call_count(), 2);
/// # });
/// ```
#[derive(Debug)]
pub struct FaultyProvider<P: ?Sized> {
    pub(crate) inner: Arc<P>,
    state: Mutex<State>,
}

impl<P: Provider + ?Sized> FaultyProvider<P> {
    /// `inner` with no fault yet; `seed` makes random faults reproducible.
    pub fn wrap(inner: Arc<P>, seed: u64) -> Self {
        Self {
            inner,
            state: Mutex::new(State {
                faults: CallFaults::default(),
                scripted: VecDeque::new(),
                rng: SimRng::new(seed),
                calls: 0,
                by_op: HashMap::new(),
                deliveries: crate::memory_provider::Faults::default(),
            }),
        }
    }

    pub(crate) fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Replaces the knobs.
    pub fn set_call_faults(&self, faults: CallFaults) {
        self.lock().faults = faults;
    }

    /// Starts the random faults over from `seed`.
    pub fn reseed(&self, seed: u64) {
        self.lock().rng = SimRng::new(seed);
    }

    /// Turns every fault off, scripted ones included.
    pub fn clear(&self) {
        let mut state = self.lock();
        state.faults = CallFaults::default();
        state.scripted.clear();
    }

    /// How many calls of `op` came through (failed ones included).
    pub fn calls_of(&self, op: Op) -> u64 {
        self.lock().by_op.get(&op).copied().unwrap_or(0)
    }

    /// The next call of `op` fails with `kind`.
    pub fn fail_next(&self, op: Op, kind: FaultKind) {
        self.lock().scripted.push_back((op, kind));
    }

    /// How many calls came through, of every kind.
    pub fn call_count(&self) -> u64 {
        self.lock().calls
    }

    /// The wrapped provider.
    pub fn inner(&self) -> &Arc<P> {
        &self.inner
    }

    /// Before a call: the failure to answer with, or whether a write must be done and
    /// then reported as timed out.
    async fn enter(&self, op: Op) -> Result<bool> {
        let latency = {
            let mut state = self.lock();
            state.calls += 1;
            *state.by_op.entry(op).or_default() += 1;
            state.faults.latency
        };
        if !latency.is_zero() {
            tokio::time::sleep(latency).await;
        }
        let mut state = self.lock();
        let state = &mut *state;
        crate::memory_provider::faults::decide(
            op,
            &mut state.scripted,
            state.faults.error_rate,
            &mut state.rng,
        )
    }
}

/// A write done, then reported as a timeout.
fn after<T>(timed_out: bool, op: Op, result: Result<T>) -> Result<T> {
    match (timed_out, result) {
        (true, Ok(_)) => Err(Error::transient(format!(
            "injected timeout after {op:?} was done"
        ))),
        (_, other) => other,
    }
}

#[async_trait]
impl<P: Provider + ?Sized> Provider for FaultyProvider<P> {
    fn key(&self) -> ProviderKey {
        self.inner.key()
    }

    fn capabilities(&self, object: &ObjectType) -> Capabilities {
        self.inner.capabilities(object)
    }

    async fn list_changed(
        &self,
        connection: &ConnectionId,
        object: &ObjectType,
        query: &ChangeQuery,
    ) -> Result<Page> {
        let late = self.enter(Op::List).await?;
        after(
            late,
            Op::List,
            self.inner.list_changed(connection, object, query).await,
        )
    }

    async fn get(
        &self,
        connection: &ConnectionId,
        object: &ObjectType,
        id: &ExternalId,
    ) -> Result<RemoteRecord> {
        let late = self.enter(Op::Get).await?;
        after(late, Op::Get, self.inner.get(connection, object, id).await)
    }

    async fn create(
        &self,
        connection: &ConnectionId,
        object: &ObjectType,
        new: &NewRemote,
    ) -> Result<RemoteRecord> {
        let late = self.enter(Op::Create).await?;
        after(
            late,
            Op::Create,
            self.inner.create(connection, object, new).await,
        )
    }

    async fn update(
        &self,
        connection: &ConnectionId,
        object: &ObjectType,
        id: &ExternalId,
        update: &RemoteUpdate,
        expected: Option<&Version>,
    ) -> Result<RemoteRecord> {
        let late = self.enter(Op::Update).await?;
        let result = self
            .inner
            .update(connection, object, id, update, expected)
            .await;
        after(late, Op::Update, result)
    }

    async fn delete(
        &self,
        connection: &ConnectionId,
        object: &ObjectType,
        id: &ExternalId,
    ) -> Result<()> {
        let late = self.enter(Op::Delete).await?;
        after(
            late,
            Op::Delete,
            self.inner.delete(connection, object, id).await,
        )
    }

    async fn find_by_marker(
        &self,
        connection: &ConnectionId,
        object: &ObjectType,
        marker: &ItemId,
    ) -> Result<Option<RemoteRecord>> {
        let late = self.enter(Op::FindByMarker).await?;
        let result = self.inner.find_by_marker(connection, object, marker).await;
        after(late, Op::FindByMarker, result)
    }

    fn parse_webhook(
        &self,
        connection: &ConnectionId,
        headers: &Headers,
        body: &[u8],
    ) -> Result<WebhookDelivery> {
        self.inner.parse_webhook(connection, headers, body)
    }

    fn parse_verified_webhook(
        &self,
        connection: &ConnectionId,
        headers: &Headers,
        body: &[u8],
    ) -> Result<WebhookDelivery> {
        self.inner.parse_verified_webhook(connection, headers, body)
    }

    fn webhook_headers(&self) -> Vec<String> {
        self.inner.webhook_headers()
    }

    async fn revoke(&self, connection: &ConnectionId) -> Result<()> {
        self.inner.revoke(connection).await
    }
}
