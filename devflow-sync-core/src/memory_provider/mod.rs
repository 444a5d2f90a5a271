//! [`MemoryProvider`]: an in-memory remote system, a real backend for every trait
//! method: its own ids and versions, parent links, a change feed with cursors, signed
//! webhooks it emits, configurable capabilities, and two behaviours real systems have
//! (a change feed that lags, webhooks that leave the record out). No faults: the
//! testkit wraps it to fail on purpose.

mod provider_impl;

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard};

use chrono::{DateTime, Utc};
use std::time::Duration;

use crate::auth::WebhookSecret;
use crate::clock::Clock;
use crate::error::{Error, Result};
use crate::model::{
    ConnectionId, ExternalId, Fields, ItemId, ItemKind, ObjectType, ProviderKey, Record, Version,
};
use crate::provider::{Capabilities, Headers, RemoteRecord, WebhookAction, WebhookEvent};
use crate::webhook::{SignatureScheme, WebhookVerifier, sign_hmac_sha256};
use serde::{Deserialize, Serialize};

/// The header carrying a delivery's signature: `sha256=<hex HMAC-SHA256(secret, body)>`.
pub const SIGNATURE_HEADER: &str = "x-memory-signature";
/// The header carrying a delivery's id.
pub const DELIVERY_HEADER: &str = "x-memory-delivery";

/// One webhook delivery waiting to be taken: what a provider would POST to the host's
/// webhook URL.
#[derive(Clone, Debug)]
pub struct OutgoingWebhook {
    /// The headers to hand to the engine.
    pub headers: Headers,
    /// The raw body.
    pub body: Vec<u8>,
}

/// A provider call, as counted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Call {
    /// `list_changed`.
    List,
    /// `get`.
    Get,
    /// `create`.
    Create,
    /// `update`.
    Update,
    /// `delete`.
    Delete,
    /// `find_by_marker`.
    FindByMarker,
}

/// How many calls of each kind the provider served.
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
    feed_lag: Duration,
    partial_webhooks: bool,
    capabilities: Capabilities,
    calls: CallCounts,
    revoked: HashSet<ConnectionId>,
    concurrent_edits: Vec<(ObjectType, ExternalId, Fields)>,
    /// Each record's cross-references to the other systems, as last written.
    related: HashMap<(ObjectType, ExternalId), Vec<crate::model::ExternalRef>>,
}

/// An in-memory remote system. Ids count up from `1`; versions count up per record;
/// every change stamps the record with the clock's time, enters the change feed and
/// emits a webhook. Every object type has the same capabilities: all of them unless
/// [`MemoryProvider::with_capabilities`] says otherwise.
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// use std::sync::Arc;
/// use devflow_sync_core::clock::ManualClock;
/// use devflow_sync_core::model::{ConnectionId, Fields, ItemKind, ObjectType};
/// use devflow_sync_core::provider::{ChangeQuery, Provider};
/// use devflow_sync_core::memory_provider::MemoryProvider;
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
                feed_lag: Duration::ZERO,
                partial_webhooks: false,
                capabilities: Capabilities::ALL,
                calls: CallCounts::default(),
                revoked: HashSet::new(),
                concurrent_edits: Vec::new(),
                related: HashMap::new(),
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

    /// Offers only these capabilities, for every object (a read-only system, one
    /// without webhooks).
    #[must_use]
    pub fn with_capabilities(self, capabilities: Capabilities) -> Self {
        lock(&self.state).capabilities = capabilities;
        self
    }

    /// Makes changes show in the change feed only `lag` after they happen, as search
    /// indexes of real systems do (Jira's, for one).
    pub fn set_feed_lag(&self, lag: Duration) {
        lock(&self.state).feed_lag = lag;
    }

    /// Makes webhook payloads leave the record out, so the receiver must fetch it, as
    /// some providers' webhooks do.
    pub fn set_partial_webhooks(&self, partial: bool) {
        lock(&self.state).partial_webhooks = partial;
    }

    /// How many calls were served.
    pub fn calls(&self) -> CallCounts {
        lock(&self.state).calls
    }

    /// Takes the webhooks emitted since the last call, in order.
    pub fn take_webhooks(&self) -> Vec<OutgoingWebhook> {
        std::mem::take(&mut lock(&self.state).outbox)
    }

    /// The record, deleted ones included.
    pub fn record(&self, object: &ObjectType, id: &ExternalId) -> Option<RemoteRecord> {
        lock(&self.state)
            .records
            .get(&(object.clone(), id.clone()))
            .map(|s| s.record.clone())
    }

    /// The cross-references last written to a record (its item's records in the other
    /// systems); kept beside the record, as a property is, so writing them changes
    /// neither its fields nor its version.
    pub fn related(&self, object: &ObjectType, id: &ExternalId) -> Vec<crate::model::ExternalRef> {
        lock(&self.state)
            .related
            .get(&(object.clone(), id.clone()))
            .cloned()
            .unwrap_or_default()
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
        let visible_at = crate::clock::after(now, state.feed_lag);
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
        let lag = state.feed_lag;
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
        stored.visible_at = crate::clock::after(now, lag);
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
            record: (!state.partial_webhooks && action == WebhookAction::Upsert)
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

    /// Counts the call and refuses a revoked connection.
    fn enter(&self, call: Call, connection: &ConnectionId) -> Result<()> {
        let mut state = lock(&self.state);
        let calls = &mut state.calls;
        match call {
            Call::List => calls.list += 1,
            Call::Get => calls.get += 1,
            Call::Create => calls.create += 1,
            Call::Update => calls.update += 1,
            Call::Delete => calls.delete += 1,
            Call::FindByMarker => calls.find_by_marker += 1,
        }
        if state.revoked.contains(connection) {
            return Err(Error::Unauthenticated(format!(
                "connection {connection} was revoked"
            )));
        }
        Ok(())
    }
}
