//! The values the store traits keep.

use std::fmt;

use chrono::{DateTime, Utc};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use crate::model::{
    ConnectionId, ExternalId, ExternalRef, FieldChange, FieldValue, Fields, ItemId, ItemKind,
    ObjectType, ProviderKey, Record, Version,
};

/// What both sides last agreed on for one link: the base of the next three-way merge.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snapshot {
    /// The agreed fields.
    pub fields: Fields,
    /// The agreed parent, as a host id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<ItemId>,
    /// The agreed kind.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<ItemKind>,
    /// The host record's version when they agreed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub local_version: Option<Version>,
    /// The provider record's version when they agreed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remote_version: Option<Version>,
    /// When the provider record last changed, as of the agreement.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remote_updated_at: Option<DateTime<Utc>>,
    /// Whether the provider record is deleted.
    #[serde(default)]
    pub remote_deleted: bool,
    /// When the agreement was made.
    pub synced_at: DateTime<Utc>,
}

/// A host item linked to a provider record, with their base snapshot.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Link {
    /// The host item.
    pub item: ItemId,
    /// The provider record.
    pub remote: ExternalRef,
    /// What both last agreed on.
    pub base: Snapshot,
}

/// Where a pull stands in a provider's change feed.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncCursor {
    /// The latest change time fully applied.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub high_water: Option<DateTime<Utc>>,
    /// The records changed exactly at `high_water`, already applied.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub boundary_ids: Vec<ExternalId>,
    /// A pass in progress: the `since` it lists from and the next page's token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pass: Option<CursorPass>,
}

/// A listing pass in progress, so an interrupted pull resumes on the same page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CursorPass {
    /// The pass's lower bound.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<DateTime<Utc>>,
    /// The next page's token.
    pub page_token: String,
}

/// An entity kept out of sync in both directions.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "side", content = "id")]
pub enum Exclusion {
    /// A host item.
    Item(ItemId),
    /// A provider record.
    External(ExternalId),
}

/// An access token, a refresh token, and when the access token expires. Never shown by
/// `Debug`.
#[derive(Clone)]
pub struct Credentials {
    /// The access token.
    pub access_token: SecretString,
    /// The refresh token, when the grant has one.
    pub refresh_token: Option<SecretString>,
    /// When the access token expires.
    pub expires_at: Option<DateTime<Utc>>,
    /// The granted scopes.
    pub scopes: Vec<String>,
}

impl Credentials {
    /// Credentials with only an access token.
    pub fn bearer(access_token: impl Into<String>) -> Self {
        Self {
            access_token: SecretString::from(access_token.into()),
            refresh_token: None,
            expires_at: None,
            scopes: Vec::new(),
        }
    }

    /// Whether the access token is a key-ring ciphertext (as stored by an
    /// [`EncryptedTokenStore`](crate::auth::EncryptedTokenStore)).
    pub fn access_token_is_sealed(&self) -> bool {
        crate::auth::KeyRing::key_id_of(self.access_token.expose_secret()).is_some()
    }

    /// Whether two credentials hold the same secrets (compared by value, never shown).
    pub fn same_secrets(&self, other: &Credentials) -> bool {
        self.access_token.expose_secret() == other.access_token.expose_secret()
            && self.refresh_token.as_ref().map(ExposeSecret::expose_secret)
                == other
                    .refresh_token
                    .as_ref()
                    .map(ExposeSecret::expose_secret)
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("access_token", &"[redacted]")
            .field(
                "refresh_token",
                &self.refresh_token.as_ref().map(|_| "[redacted]"),
            )
            .field("expires_at", &self.expires_at)
            .field("scopes", &self.scopes)
            .finish()
    }
}

/// Credentials as stored, with the version a compare-and-swap checks.
#[derive(Clone, Debug)]
pub struct StoredToken {
    /// The connection.
    pub connection: ConnectionId,
    /// The provider.
    pub provider: ProviderKey,
    /// The credentials.
    pub credentials: Credentials,
    /// Bumped by every write.
    pub version: u64,
}

/// A host record with its id and whether it is active.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkItem {
    /// The host id.
    pub id: ItemId,
    /// Kind, parent, fields, update time, version.
    pub record: Record,
    /// False once the record is marked inactive (for example after a remote delete).
    pub active: bool,
}

/// Changes to a host record.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ItemUpdate {
    /// Field changes.
    pub changes: Vec<FieldChange>,
    /// A new parent (`Some(None)`: to the root), or `None` to leave it.
    pub parent: Option<Option<ItemId>>,
    /// A new active flag, or `None` to leave it.
    pub active: Option<bool>,
}

impl ItemUpdate {
    /// Whether the update changes nothing.
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty() && self.parent.is_none() && self.active.is_none()
    }
}

/// A lease on one (connection, object): only its holder syncs it until it expires.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lease {
    /// The connection.
    pub connection: ConnectionId,
    /// The object type.
    pub object: ObjectType,
    /// Who holds it.
    pub holder: String,
    /// A number that changes with every grant, so a lost lease cannot be renewed.
    pub token: u64,
    /// When it lapses.
    pub expires_at: DateTime<Utc>,
}

/// The direction of a sync step.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Host to provider.
    Push,
    /// Provider to host.
    Pull,
}

/// What started a sync step.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Trigger {
    /// A webhook delivery.
    Webhook,
    /// A scheduled poll.
    Poll,
    /// A person or the host's code.
    User,
}

/// How a sync step ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LogStatus {
    /// It did what it set out to do.
    Ok,
    /// It failed; the change stays pending.
    Failed,
    /// It was skipped (excluded, unchanged, stale).
    Skipped,
    /// It stopped at a conflict.
    Conflict,
}

/// One line of the sync log.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SyncLogEntry {
    /// The run it belongs to.
    pub run_id: String,
    /// The connection.
    pub connection: ConnectionId,
    /// The provider.
    pub provider: ProviderKey,
    /// The object type.
    pub object: ObjectType,
    /// The host item, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item: Option<ItemId>,
    /// The provider record, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external: Option<ExternalId>,
    /// What was done: `create`, `update`, `import`, `link`, `delete`, `mark_inactive`, ...
    pub operation: String,
    /// Which way.
    pub direction: Direction,
    /// The field changes written.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub changes: Vec<FieldChange>,
    /// How it ended.
    pub status: LogStatus,
    /// The error, when it failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// How long it took, in milliseconds.
    pub duration_ms: u64,
    /// What started it.
    pub trigger: Trigger,
    /// The request id sent to the provider, when there was one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// When it was logged.
    pub at: DateTime<Utc>,
}

/// The state of a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    /// Still going.
    Running,
    /// Finished without errors.
    Succeeded,
    /// Finished with some errors; what failed stays pending.
    Partial,
    /// Stopped by an error.
    Failed,
}

/// One engine operation, as a host shows "the sync I started".
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunRecord {
    /// The run id.
    pub id: String,
    /// The operation: `push`, `pull`, `process_inbox`, `resolve_conflict`, ...
    pub operation: String,
    /// The connection, when the run has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connection: Option<ConnectionId>,
    /// When it started.
    pub started_at: DateTime<Utc>,
    /// When it ended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<DateTime<Utc>>,
    /// Its state.
    pub status: RunStatus,
    /// A one-line summary (counts, or the error).
    #[serde(default)]
    pub summary: String,
}

/// The kind of a recorded conflict.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConflictType {
    /// Both sides changed a field differently.
    Field,
    /// A record was created in the provider and strict mode does not import it.
    ExternalCreation,
    /// A record's place in the hierarchy breaks the rules.
    HierarchyViolation,
}

/// The state of a recorded conflict.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConflictStatus {
    /// Waiting for a person.
    Pending,
    /// Settled.
    Resolved,
    /// Dismissed.
    Ignored,
}

/// A conflict waiting for (or settled by) a person.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ConflictRecord {
    /// The conflict id.
    pub id: String,
    /// The connection.
    pub connection: ConnectionId,
    /// The provider.
    pub provider: ProviderKey,
    /// The provider object type.
    pub object: ObjectType,
    /// The host item, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item: Option<ItemId>,
    /// The provider record, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external: Option<ExternalId>,
    /// What kind of conflict.
    pub conflict_type: ConflictType,
    /// The field, for a field conflict.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// The agreed value before, for a field conflict.
    #[serde(default)]
    pub base: FieldValue,
    /// The host's side: a field value, or the host record as JSON.
    #[serde(default)]
    pub local: FieldValue,
    /// The provider's side: a field value, or the provider record as JSON.
    #[serde(default)]
    pub remote: FieldValue,
    /// What is wrong, for a person.
    pub message: String,
    /// What a person can do.
    pub suggested_action: String,
    /// For a field that differs in more than two places: every side's value and time
    /// (the host's and each system's), the most recent recommended. Resolving the
    /// conflict writes the chosen value to all of them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sides: Vec<super::ConflictSide>,
    /// Its state.
    pub status: ConflictStatus,
    /// How it was settled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolution: Option<String>,
    /// When it was first recorded.
    pub created_at: DateTime<Utc>,
    /// When it was last recorded or settled.
    pub updated_at: DateTime<Utc>,
}

/// The state of a webhook delivery in the inbox.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InboxStatus {
    /// Waiting to be processed (again).
    Pending,
    /// Applied.
    Processed,
    /// Given up after too many attempts (dead letter).
    Failed,
}

/// A webhook delivery kept until it is applied.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InboxEntry {
    /// The inbox id.
    pub id: String,
    /// The provider.
    pub provider: ProviderKey,
    /// The connection.
    pub connection: ConnectionId,
    /// The provider's delivery id; unique per provider and connection.
    pub delivery_id: String,
    /// The raw headers.
    pub headers: crate::provider::Headers,
    /// The raw body.
    pub body: Vec<u8>,
    /// When it arrived.
    pub received_at: DateTime<Utc>,
    /// Its state.
    pub status: InboxStatus,
    /// How many times processing was tried.
    pub attempts: u32,
    /// The last processing error.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    /// Not before this time.
    pub next_attempt_at: DateTime<Utc>,
    /// The worker holding it, while a claim holds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claimed_by: Option<String>,
    /// Until when that claim holds; after it, another worker may claim the entry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claimed_until: Option<DateTime<Utc>>,
    /// The record the delivery is about (`object/id` of its first event), so a store
    /// shared by several workers keeps each record's deliveries in order: it does not
    /// hand out a delivery while an older one of the same record is held or waiting.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entity: Option<String>,
}

/// The state of a connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConnectionStatus {
    /// Syncing normally.
    Active,
    /// The last sync failed.
    Error,
    /// A person must authorize again.
    NeedsReauth,
    /// Turned off.
    Disabled,
}

/// How a connection is doing.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectionHealth {
    /// The connection.
    pub connection: ConnectionId,
    /// Its state.
    pub status: ConnectionStatus,
    /// The last successful sync.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_sync_at: Option<DateTime<Utc>>,
    /// The last error.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    /// Errors since the last success.
    pub error_count: u32,
}

impl ConnectionHealth {
    /// A healthy connection that has not synced yet.
    pub fn new(connection: ConnectionId) -> Self {
        Self {
            connection,
            status: ConnectionStatus::Active,
            last_sync_at: None,
            last_error: None,
            error_count: 0,
        }
    }
}
