//! [`MemoryProvider`]: an in-memory remote system for tests, with its own ids and
//! versions, parent links, a change feed with cursors, webhooks it emits, and fault
//! knobs.

pub(crate) mod faults;

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::sync::{Arc, Mutex, MutexGuard};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use devflow_sync_core::auth::WebhookSecret;
use devflow_sync_core::clock::Clock;
use devflow_sync_core::model::{
    ConnectionId, ExternalId, Fields, ItemId, ItemKind, ObjectType, ProviderKey, Record, Version,
};
use devflow_sync_core::provider::{
    Capabilities, ChangeQuery, Headers, NewRemote, Page, Provider, RemoteRecord, RemoteUpdate,
    WebhookAction, WebhookDelivery, WebhookEvent,
};
use devflow_sync_core::webhook::{SignatureScheme, WebhookVerifier, sign_hmac_sha256};
use devflow_sync_core::{Error, Result};
pub use faults::{FaultKind, Faults, Op};
use serde::{Deserialize, Serialize};

use crate::rng::SimRng;

/// The header carrying a delivery's signature: `sha256=<hex HMAC-SHA256(secret, body)>`.
pub const SIGNATURE_HEADER: &str = "x-memory-signature";
/// The header carrying a delivery's id.
pub const DELIVERY_HEADER: &str = "x-memory-delivery";

/// One webhook delivery waiting to be taken by a test: the same type every simulator
/// queues.
pub use crate::outgoing::OutgoingWebhook;

/// How many calls of each kind the provider served (faults included).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CallCounts {
    /// `list_changed` calls.
    pub list: usize,
    /// `get` calls.
    pub get: usize,
    /// `create` calls.
    pub create: usize,
    /// `update` calls.
    pub update: usize,
    /// `delete` calls.
    pub delete: usize,
    /// `find_by_marker` calls.
    pub find_by_marker: usize,
}

#[derive(Serialize, Deserialize)]
struct Body {
    delivery_id: String,
    events: Vec<WebhookEvent>,
}

#[derive(Debug)]
struct Stored {
    record: RemoteRecord,
    /// When the change becomes visible in the feed (for a lagging feed).
    visible_at: DateTime<Utc>,
}

/// A position in the change feed: object, change time, then id (shorter ids first, so
/// numeric ids sort as numbers).
type FeedKey = (ObjectType, i64, usize, String);

fn feed_key(record: &RemoteRecord) -> FeedKey {
    (
        record.record.object.clone(),
        record
            .record
            .updated_at
            .timestamp_nanos_opt()
            .unwrap_or(i64::MAX),
        record.id.as_str().len(),
        record.id.as_str().to_owned(),
    )
}

#[derive(Debug)]
struct State {
    next_id: u64,
    next_delivery: u64,
    records: BTreeMap<(ObjectType, ExternalId), Stored>,
    /// The change feed, ordered by change time.
    feed: BTreeSet<FeedKey>,
    outbox: Vec<OutgoingWebhook>,
    faults: Faults,
    rng: SimRng,
    calls: CallCounts,
    revoked: HashSet<ConnectionId>,
    concurrent_edits: Vec<(ObjectType, ExternalId, Fields)>,
}

/// An in-memory remote system. Ids count up from `1`; versions count up per record;
/// every change stamps the record with the clock's time, enters the change feed and
/// emits a webhook. Every object type supports every capability.
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// use std::sync::Arc;
/// use devflow_sync_core::clock::ManualClock;
/// use devflow_sync_core::model::{ConnectionId, Fields, ItemKind, ObjectType};
/// use devflow_sync_core::provider::{ChangeQuery, Provider};
/// use devflow_sync_testkit::memory_provider::MemoryProvider;
///
/// let clock = Arc::new(ManualClock::starting_at_epoch_secs(1_780_000_000));
/// let remote = MemoryProvider::new("memory", clock);
/// let issue = ObjectType::new("issue");
/// remote.remote_create(&issue, Some(ItemKind::Epic), None, Fields::new().with("title", "Payments"));
/// let page = remote
///     .list_changed(&ConnectionId::new("c"), &issue, &ChangeQuery { limit: 10, ..Default::default() })
///     .await
///     .unwrap();
/// assert_eq!(page.records.len(), 1);
/// assert_eq!(remote.take_webhooks().len(), 1);
/// # });
/// ```
#[derive(Debug)]
pub struct MemoryProvider {
    key: ProviderKey,
    clock: Arc<dyn Clock>,
    secret: String,
    state: Mutex<State>,
}

fn lock(m: &Mutex<State>) -> MutexGuard<'_, State> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn token_of(record: &RemoteRecord) -> String {
    format!(
        "{}:{}",
        record
            .record
            .updated_at
            .timestamp_nanos_opt()
            .unwrap_or(i64::MAX),
        record.id
    )
}

fn id_order(id: &ExternalId) -> (usize, &str) {
    (id.as_str().len(), id.as_str())
}

impl MemoryProvider {
    /// A provider registered under `key`, stamping changes with `clock`'s time, whose
    /// webhooks are signed (HMAC-SHA256) with the secret `memory-secret`.
    pub fn new(key: impl Into<ProviderKey>, clock: Arc<dyn Clock>) -> Self {
        Self {
            key: key.into(),
            clock,
            secret: "memory-secret".into(),
            state: Mutex::new(State {
                next_id: 0,
                next_delivery: 0,
                records: BTreeMap::new(),
                feed: BTreeSet::new(),
                outbox: Vec::new(),
                faults: Faults::default(),
                rng: SimRng::new(0x5eed),
                calls: CallCounts::default(),
                revoked: HashSet::new(),
                concurrent_edits: Vec::new(),
            }),
        }
    }

    /// Sets the secret webhooks are signed with and verified against.
    #[must_use]
    pub fn with_webhook_secret(mut self, secret: impl Into<String>) -> Self {
        self.secret = secret.into();
        self
    }

    fn verifier(&self) -> WebhookVerifier {
        WebhookVerifier::new(SignatureScheme::HmacSha256 {
            header: SIGNATURE_HEADER.into(),
            prefix: "sha256=".into(),
        })
        .secret(WebhookSecret::new(self.secret.as_str()))
        .delivery_id_header(DELIVERY_HEADER)
    }

    /// Replaces the fault knobs; `seed` makes random faults reproducible.
    pub fn set_faults(&self, faults: Faults, seed: u64) {
        let mut state = lock(&self.state);
        state.faults = faults;
        state.rng = SimRng::new(seed);
    }

    /// Makes the next call of `op` fail with `kind`.
    pub fn fail_next(&self, op: Op, kind: FaultKind) {
        lock(&self.state).faults.scripted.push_back((op, kind));
    }

    /// Turns every fault off.
    pub fn clear_faults(&self) {
        lock(&self.state).faults = Faults::default();
    }

    /// How many calls were served.
    pub fn calls(&self) -> CallCounts {
        lock(&self.state).calls
    }

    /// Takes the webhooks emitted since the last call, after the webhook faults.
    pub fn take_webhooks(&self) -> Vec<OutgoingWebhook> {
        let mut state = lock(&self.state);
        let emitted = std::mem::take(&mut state.outbox);
        let faults = state.faults.clone();
        let mut out = Vec::with_capacity(emitted.len());
        for hook in emitted {
            if state.rng.chance(faults.drop_webhooks) {
                continue;
            }
            if state.rng.chance(faults.duplicate_webhooks) {
                out.push(hook.clone());
            }
            out.push(hook);
        }
        if faults.reorder_webhooks {
            for i in (1..out.len()).rev() {
                let j = state.rng.below(i + 1);
                out.swap(i, j);
            }
        }
        out
    }

    /// The record, deleted ones included.
    pub fn record(&self, object: &ObjectType, id: &ExternalId) -> Option<RemoteRecord> {
        lock(&self.state)
            .records
            .get(&(object.clone(), id.clone()))
            .map(|s| s.record.clone())
    }

    /// Every record of `object` that is not deleted, by id.
    pub fn records(&self, object: &ObjectType) -> Vec<RemoteRecord> {
        let mut out: Vec<RemoteRecord> = lock(&self.state)
            .records
            .iter()
            .filter(|((o, _), s)| o == object && !s.record.deleted)
            .map(|(_, s)| s.record.clone())
            .collect();
        out.sort_by(|a, b| id_order(&a.id).cmp(&id_order(&b.id)));
        out
    }

    /// A person creates a record in the provider.
    pub fn remote_create(
        &self,
        object: &ObjectType,
        kind: Option<ItemKind>,
        parent: Option<ExternalId>,
        fields: Fields,
    ) -> RemoteRecord {
        let mut state = lock(&self.state);
        self.insert(&mut state, object, kind, parent, fields, None)
    }

    /// A person edits fields of a record in the provider.
    pub fn remote_edit(
        &self,
        object: &ObjectType,
        id: &ExternalId,
        fields: Fields,
    ) -> Result<RemoteRecord> {
        let mut state = lock(&self.state);
        self.change(&mut state, object, id, |r| {
            r.record.fields.extend(fields);
        })
    }

    /// A person moves a record under another parent (or to the root).
    pub fn remote_set_parent(
        &self,
        object: &ObjectType,
        id: &ExternalId,
        parent: Option<ExternalId>,
    ) -> Result<RemoteRecord> {
        let mut state = lock(&self.state);
        self.change(&mut state, object, id, |r| r.record.parent = parent)
    }

    /// A person deletes a record in the provider.
    pub fn remote_delete(&self, object: &ObjectType, id: &ExternalId) -> Result<RemoteRecord> {
        let mut state = lock(&self.state);
        self.change(&mut state, object, id, |r| r.deleted = true)
    }

    /// Someone else edits the record just before the next `update` of it arrives, so
    /// that update finds another version than it expects.
    pub fn edit_before_next_update(&self, object: &ObjectType, id: &ExternalId, fields: Fields) {
        lock(&self.state)
            .concurrent_edits
            .push((object.clone(), id.clone(), fields));
    }

    fn insert(
        &self,
        state: &mut State,
        object: &ObjectType,
        kind: Option<ItemKind>,
        parent: Option<ExternalId>,
        fields: Fields,
        marker: Option<ItemId>,
    ) -> RemoteRecord {
        state.next_id += 1;
        let id = ExternalId::new(state.next_id.to_string());
        let now = self.clock.now();
        let record = RemoteRecord {
            id: id.clone(),
            url: Some(format!("memory://{}/{object}/{id}", self.key)),
            record: Record {
                object: object.clone(),
                kind,
                parent,
                fields,
                updated_at: now,
                version: Some(Version::new("1")),
            },
            marker,
            deleted: false,
        };
        let visible_at = now + lag(&state.faults);
        state.feed.insert(feed_key(&record));
        state.records.insert(
            (object.clone(), id),
            Stored {
                record: record.clone(),
                visible_at,
            },
        );
        self.emit(state, &record, WebhookAction::Upsert);
        record
    }

    fn change(
        &self,
        state: &mut State,
        object: &ObjectType,
        id: &ExternalId,
        edit: impl FnOnce(&mut RemoteRecord),
    ) -> Result<RemoteRecord> {
        let now = self.clock.now();
        let lag = lag(&state.faults);
        let stored = state
            .records
            .get_mut(&(object.clone(), id.clone()))
            .filter(|s| !s.record.deleted)
            .ok_or_else(|| Error::not_found(format!("{object} {id}")))?;
        let old_key = feed_key(&stored.record);
        edit(&mut stored.record);
        let n: u64 = stored
            .record
            .record
            .version
            .as_ref()
            .and_then(|v| v.as_str().parse().ok())
            .unwrap_or(0);
        stored.record.record.version = Some(Version::new((n + 1).to_string()));
        // Keep change times strictly increasing per record, like a real store's.
        stored.record.record.updated_at =
            now.max(stored.record.record.updated_at + chrono::Duration::microseconds(1));
        stored.visible_at = now + lag;
        let record = stored.record.clone();
        state.feed.remove(&old_key);
        state.feed.insert(feed_key(&record));
        let action = if record.deleted {
            WebhookAction::Deleted
        } else {
            WebhookAction::Upsert
        };
        self.emit(state, &record, action);
        Ok(record)
    }

    fn emit(&self, state: &mut State, record: &RemoteRecord, action: WebhookAction) {
        state.next_delivery += 1;
        let delivery_id = format!("delivery-{}", state.next_delivery);
        let event = WebhookEvent {
            object: record.record.object.clone(),
            id: record.id.clone(),
            action,
            occurred_at: record.record.updated_at,
            record: (!state.faults.partial_webhooks && action == WebhookAction::Upsert)
                .then(|| record.clone()),
        };
        let body = serde_json::to_vec(&Body {
            delivery_id: delivery_id.clone(),
            events: vec![event],
        })
        .unwrap_or_default();
        state.outbox.push(OutgoingWebhook {
            headers: Headers::new()
                .with(
                    SIGNATURE_HEADER,
                    sign_hmac_sha256(&WebhookSecret::new(self.secret.as_str()), &body),
                )
                .with(DELIVERY_HEADER, delivery_id)
                .with("content-type", "application/json"),
            body,
        });
    }

    /// Counts the call, waits the latency, and fails it if a fault says so. Returns
    /// whether a write should commit and then fail.
    async fn enter(&self, op: Op, connection: &ConnectionId) -> Result<bool> {
        let latency = {
            let mut state = lock(&self.state);
            let calls = &mut state.calls;
            match op {
                Op::List => calls.list += 1,
                Op::Get => calls.get += 1,
                Op::Create => calls.create += 1,
                Op::Update => calls.update += 1,
                Op::Delete => calls.delete += 1,
                Op::FindByMarker => calls.find_by_marker += 1,
            }
            state.faults.latency
        };
        if !latency.is_zero() {
            tokio::time::sleep(latency).await;
        }
        let mut state = lock(&self.state);
        if state.revoked.contains(connection) {
            return Err(Error::Unauthenticated(format!(
                "connection {connection} was revoked"
            )));
        }
        let state = &mut *state;
        faults::decide(
            op,
            &mut state.faults.scripted,
            state.faults.error_rate,
            &mut state.rng,
        )
    }
}

fn lag(faults: &Faults) -> chrono::Duration {
    chrono::Duration::from_std(faults.feed_lag).unwrap_or(chrono::Duration::zero())
}

fn after_commit<T>(fail: bool, op: Op, value: T) -> Result<T> {
    if fail {
        Err(Error::transient(format!(
            "timed out after {op:?} was committed"
        )))
    } else {
        Ok(value)
    }
}

#[async_trait]
impl Provider for MemoryProvider {
    fn key(&self) -> ProviderKey {
        self.key.clone()
    }

    fn capabilities(&self, _object: &ObjectType) -> Capabilities {
        Capabilities::ALL
    }

    async fn list_changed(
        &self,
        connection: &ConnectionId,
        object: &ObjectType,
        query: &ChangeQuery,
    ) -> Result<Page> {
        self.enter(Op::List, connection).await?;
        let now = self.clock.now();
        let state = lock(&self.state);
        let after = match &query.page_token {
            Some(token) => {
                let (nanos, id) = token
                    .split_once(':')
                    .and_then(|(n, id)| Some((n.parse::<i64>().ok()?, id)))
                    .ok_or_else(|| {
                        Error::StalePageToken(format!("malformed page token {token:?}"))
                    })?;
                Some((nanos, ExternalId::new(id)))
            }
            None => None,
        };
        let since = query
            .since
            .map_or(i64::MIN, |t| t.timestamp_nanos_opt().unwrap_or(i64::MAX));
        let start: FeedKey = match &after {
            // Strictly after the last record of the previous page.
            Some((nanos, id)) => (
                object.clone(),
                *nanos,
                id.as_str().len(),
                format!("{}\u{0}", id.as_str()),
            ),
            None => (object.clone(), since, 0, String::new()),
        };
        let limit = query.limit.max(1);
        let mut records = Vec::with_capacity(limit);
        let mut more = false;
        for key in state.feed.range(start..) {
            if &key.0 != object {
                break;
            }
            let Some(stored) = state
                .records
                .get(&(object.clone(), ExternalId::new(key.3.as_str())))
            else {
                continue;
            };
            if stored.visible_at > now || key.1 < since {
                continue;
            }
            // Label filters are pushed into the query, as GitHub's `labels=` is.
            if !query.filter.labels.is_empty() && !stored.record.deleted {
                let labels = stored.record.record.fields.get("labels").as_set();
                if !query
                    .filter
                    .labels
                    .iter()
                    .all(|l| labels.is_some_and(|s| s.contains(l)))
                {
                    continue;
                }
            }
            if records.len() == limit {
                more = true;
                break;
            }
            records.push(stored.record.clone());
        }
        let next_page_token = if more {
            records.last().map(token_of)
        } else {
            None
        };
        Ok(Page {
            records,
            next_page_token,
        })
    }

    async fn get(
        &self,
        connection: &ConnectionId,
        object: &ObjectType,
        id: &ExternalId,
    ) -> Result<RemoteRecord> {
        self.enter(Op::Get, connection).await?;
        self.record(object, id)
            .filter(|r| !r.deleted)
            .ok_or_else(|| Error::not_found(format!("{object} {id}")))
    }

    async fn create(
        &self,
        connection: &ConnectionId,
        object: &ObjectType,
        new: &NewRemote,
    ) -> Result<RemoteRecord> {
        let fail_after = self.enter(Op::Create, connection).await?;
        let mut state = lock(&self.state);
        if let Some(parent) = &new.parent {
            if !state
                .records
                .contains_key(&(object.clone(), parent.clone()))
            {
                return Err(Error::invalid_input(
                    "parent",
                    format!("parent {object} {parent} does not exist"),
                ));
            }
        }
        let record = self.insert(
            &mut state,
            object,
            new.kind,
            new.parent.clone(),
            new.fields.clone(),
            Some(new.marker.clone()),
        );
        after_commit(fail_after, Op::Create, record)
    }

    async fn update(
        &self,
        connection: &ConnectionId,
        object: &ObjectType,
        id: &ExternalId,
        update: &RemoteUpdate,
        expected: Option<&Version>,
    ) -> Result<RemoteRecord> {
        let fail_after = self.enter(Op::Update, connection).await?;
        let mut state = lock(&self.state);
        if let Some(pos) = state
            .concurrent_edits
            .iter()
            .position(|(o, i, _)| o == object && i == id)
        {
            let (_, _, fields) = state.concurrent_edits.remove(pos);
            self.change(&mut state, object, id, |r| r.record.fields.extend(fields))?;
        }
        let current = state
            .records
            .get(&(object.clone(), id.clone()))
            .filter(|s| !s.record.deleted)
            .map(|s| s.record.record.version.clone())
            .ok_or_else(|| Error::not_found(format!("{object} {id}")))?;
        if let Some(expected) = expected {
            if current.as_ref() != Some(expected) {
                return Err(Error::precondition(format!(
                    "{object} {id} is at version {}, not {expected}",
                    current.as_ref().map_or("none", Version::as_str)
                )));
            }
        }
        if let Some(Some(parent)) = &update.parent {
            if !state
                .records
                .contains_key(&(object.clone(), parent.clone()))
            {
                return Err(Error::invalid_input(
                    "parent",
                    format!("parent {object} {parent} does not exist"),
                ));
            }
        }
        let record = self.change(&mut state, object, id, |r| {
            r.record.fields.apply(&update.changes);
            if let Some(parent) = &update.parent {
                r.record.parent = parent.clone();
            }
        })?;
        after_commit(fail_after, Op::Update, record)
    }

    async fn delete(
        &self,
        connection: &ConnectionId,
        object: &ObjectType,
        id: &ExternalId,
    ) -> Result<()> {
        let fail_after = self.enter(Op::Delete, connection).await?;
        let mut state = lock(&self.state);
        let exists = state
            .records
            .get(&(object.clone(), id.clone()))
            .is_some_and(|s| !s.record.deleted);
        if exists {
            self.change(&mut state, object, id, |r| r.deleted = true)?;
        }
        after_commit(fail_after, Op::Delete, ())
    }

    async fn find_by_marker(
        &self,
        connection: &ConnectionId,
        object: &ObjectType,
        marker: &ItemId,
    ) -> Result<Option<RemoteRecord>> {
        self.enter(Op::FindByMarker, connection).await?;
        Ok(lock(&self.state)
            .records
            .iter()
            .filter(|((o, _), s)| o == object && !s.record.deleted)
            .map(|(_, s)| &s.record)
            .find(|r| r.marker.as_ref() == Some(marker))
            .cloned())
    }

    fn parse_webhook(
        &self,
        connection: &ConnectionId,
        headers: &Headers,
        body: &[u8],
    ) -> Result<WebhookDelivery> {
        self.verifier().verify(headers, body)?;
        self.parse_verified_webhook(connection, headers, body)
    }

    fn parse_verified_webhook(
        &self,
        _connection: &ConnectionId,
        _headers: &Headers,
        body: &[u8],
    ) -> Result<WebhookDelivery> {
        let parsed: Body = serde_json::from_slice(body).map_err(|e| Error::InvalidInput {
            pointer: Some(format!("body (line {}, column {})", e.line(), e.column())),
            message: format!("webhook body is not a delivery: {e}"),
        })?;
        if parsed.delivery_id.trim().is_empty() {
            return Err(Error::invalid_input(
                "/delivery_id",
                "a delivery without a delivery id",
            ));
        }
        Ok(WebhookDelivery::new(parsed.delivery_id, parsed.events))
    }

    fn webhook_headers(&self) -> Vec<String> {
        Vec::new()
    }

    async fn revoke(&self, connection: &ConnectionId) -> Result<()> {
        lock(&self.state).revoked.insert(connection.clone());
        Ok(())
    }
}
