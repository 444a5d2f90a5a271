//! The [`Provider`] trait: one external system, seen through a small set of primitives.

use std::fmt;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::model::{
    ConnectionId, ExternalId, ExternalRef, FieldChange, Fields, ItemId, ItemKind, ObjectType,
    ProviderKey, Record, Version,
};

/// What a provider can do with one object type. The engine and the conformance suite
/// choose what to call from it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Capabilities {
    /// Records can be listed.
    pub list: bool,
    /// Listing can be limited to records changed since a time.
    pub delta: bool,
    /// Records can be created.
    pub create: bool,
    /// Records can be updated.
    pub update: bool,
    /// Updates can be made conditional on the record's version.
    pub conditional_update: bool,
    /// Records can be deleted.
    pub delete: bool,
    /// The provider sends webhooks for this object.
    pub webhook: bool,
    /// A marker (the host's item id) can be written into a record and found again.
    pub markers: bool,
    /// Records have parents.
    pub hierarchy: bool,
}

impl Capabilities {
    /// Everything.
    pub const ALL: Capabilities = Capabilities {
        list: true,
        delta: true,
        create: true,
        update: true,
        conditional_update: true,
        delete: true,
        webhook: true,
        markers: true,
        hierarchy: true,
    };

    /// Listing and reading only.
    pub const READ_ONLY: Capabilities = Capabilities {
        list: true,
        delta: true,
        create: false,
        update: false,
        conditional_update: false,
        delete: false,
        webhook: false,
        markers: false,
        hierarchy: false,
    };
}

/// Which records a sync covers. The engine applies it to every record it reads, and
/// passes it to [`Provider::list_changed`] so providers can push what they support
/// into their own query.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RecordFilter {
    /// Records must carry all of these labels (field `labels`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub labels: Vec<String>,
    /// Records must be assigned to one of these (field `assignees` or `assignee`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub assignees: Vec<String>,
    /// Records must be in one of these milestones (field `milestone`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub milestones: Vec<String>,
    /// A JQL fragment; only a Jira provider can apply it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jql: Option<String>,
    /// Only records without a parent (BQE parent projects).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub parent_only: bool,
}

impl RecordFilter {
    /// Whether the filter lets everything through.
    pub fn is_empty(&self) -> bool {
        self == &RecordFilter::default()
    }

    /// Whether a provider record (in the provider's own field names) passes. Deleted
    /// records always pass, so deletions of synced records are seen.
    ///
    /// ```
    /// use devflow_sync_core::model::{FieldValue, Record};
    /// use devflow_sync_core::provider::{RecordFilter, RemoteRecord};
    /// let filter = RecordFilter { labels: vec!["sync".into()], ..Default::default() };
    /// let record = |labels: &[&str]| RemoteRecord {
    ///     id: "1".into(), url: None, marker: None, deleted: false,
    ///     record: Record::new("issue", chrono::Utc::now()).with_field("labels", FieldValue::set(labels.iter().copied())),
    /// };
    /// assert!(filter.matches(&record(&["sync", "bug"])));
    /// assert!(!filter.matches(&record(&["bug"])));
    /// ```
    pub fn matches(&self, remote: &RemoteRecord) -> bool {
        if remote.deleted {
            return true;
        }
        let fields = &remote.record.fields;
        let texts = |name: &str| -> Vec<String> {
            match fields.get(name) {
                crate::model::FieldValue::Set(s) => s.iter().cloned().collect(),
                crate::model::FieldValue::User(u) => vec![u.id.clone()],
                crate::model::FieldValue::Number(n) => vec![n.to_string()],
                crate::model::FieldValue::Null => Vec::new(),
                other => other
                    .as_str()
                    .map(|s| vec![s.to_owned()])
                    .unwrap_or_default(),
            }
        };
        if !self.labels.is_empty() {
            let labels = texts("labels");
            if !self.labels.iter().all(|l| labels.contains(l)) {
                return false;
            }
        }
        if !self.assignees.is_empty() {
            let mut people = texts("assignees");
            people.extend(texts("assignee"));
            if !people.iter().any(|p| self.assignees.contains(p)) {
                return false;
            }
        }
        if !self.milestones.is_empty()
            && !texts("milestone")
                .iter()
                .any(|m| self.milestones.contains(m))
        {
            return false;
        }
        !(self.parent_only && remote.record.parent.is_some())
    }
}

/// One request for a page of changed records.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ChangeQuery {
    /// Only records changed at or after this time (`None`: all).
    pub since: Option<DateTime<Utc>>,
    /// Where the previous page ended, as the provider returned it.
    pub page_token: Option<String>,
    /// The most records to return.
    pub limit: usize,
    /// Which records the sync covers; push into the query what the provider can.
    pub filter: RecordFilter,
}

/// One page of changed records, oldest change first.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Page {
    /// The records, deleted ones included as tombstones.
    pub records: Vec<RemoteRecord>,
    /// The token for the next page; `None` when this was the last.
    pub next_page_token: Option<String>,
}

/// A record as a provider holds it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RemoteRecord {
    /// The provider's id.
    pub id: ExternalId,
    /// A link for a person.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Kind, parent (a provider id), fields, update time and version.
    pub record: Record<ExternalId>,
    /// The host item id the engine wrote into the record when it created it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub marker: Option<ItemId>,
    /// Whether the record was deleted (a tombstone from a change feed or a webhook).
    #[serde(default)]
    pub deleted: bool,
}

/// A record to create in a provider.
#[derive(Clone, Debug, PartialEq)]
pub struct NewRemote {
    /// Its level in the hierarchy.
    pub kind: Option<ItemKind>,
    /// Its parent, as a provider id.
    pub parent: Option<ExternalId>,
    /// Its fields.
    pub fields: Fields,
    /// The host item id, written into the record so a retried create finds it.
    pub marker: ItemId,
    /// The item's records in the other systems it syncs with: cross-references each
    /// provider keeps its own way (a Jira property, a section of a GitHub body), or
    /// ignores.
    pub related: Vec<ExternalRef>,
}

/// Changes to a provider's record.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RemoteUpdate {
    /// Field changes.
    pub changes: Vec<FieldChange>,
    /// A new parent (`Some(None)`: move to the root), or `None` to leave it.
    pub parent: Option<Option<ExternalId>>,
    /// The item's records in the other systems, when they changed (a new system got
    /// the item); `None` leaves the cross-references as they are.
    pub related: Option<Vec<ExternalRef>>,
}

impl RemoteUpdate {
    /// Whether the update changes nothing.
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty() && self.parent.is_none() && self.related.is_none()
    }
}

/// HTTP headers of a webhook delivery; names compare case-insensitively. Its `Debug`
/// hides the values of credential headers (signatures, tokens, cookies).
///
/// ```
/// use devflow_sync_core::provider::Headers;
/// let h = Headers::new().with("X-GitHub-Event", "issues").with("X-Hook-Token", "s3cret");
/// let shown = format!("{h:?}");
/// assert!(shown.contains("issues") && !shown.contains("s3cret"));
/// assert_eq!(h.only(&["x-github-event", "X-Hook-Token"]).iter().count(), 1);
/// ```
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Headers(Vec<(String, String)>);

impl fmt::Debug for Headers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.0.iter().map(|(n, v)| {
                let shown = if crate::http::is_secret_header(n) {
                    "[redacted]"
                } else {
                    v.as_str()
                };
                (n.as_str(), shown)
            }))
            .finish()
    }
}

impl Headers {
    /// No headers.
    pub fn new() -> Self {
        Self(Vec::new())
    }

    /// Adds a header.
    #[must_use]
    pub fn with(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.0.push((name.into(), value.into()));
        self
    }

    /// The first value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// All headers in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(n, v)| (n.as_str(), v.as_str()))
    }

    /// The headers named in `names` (case-insensitively), without any that carries a
    /// credential: what may be stored with a delivery.
    #[must_use]
    pub fn only<S: AsRef<str>>(&self, names: &[S]) -> Headers {
        Headers(
            self.0
                .iter()
                .filter(|(n, _)| {
                    names.iter().any(|k| k.as_ref().eq_ignore_ascii_case(n))
                        && !crate::http::is_secret_header(n)
                })
                .cloned()
                .collect(),
        )
    }
}

impl<N: Into<String>, V: Into<String>> FromIterator<(N, V)> for Headers {
    fn from_iter<T: IntoIterator<Item = (N, V)>>(iter: T) -> Self {
        Self(
            iter.into_iter()
                .map(|(n, v)| (n.into(), v.into()))
                .collect(),
        )
    }
}

/// What a webhook event says happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WebhookAction {
    /// The record was created or changed.
    Upsert,
    /// The record was deleted.
    Deleted,
}

/// One event of a webhook delivery.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WebhookEvent {
    /// The object type.
    pub object: ObjectType,
    /// The record's provider id.
    pub id: ExternalId,
    /// What happened.
    pub action: WebhookAction,
    /// When it happened at the provider.
    pub occurred_at: DateTime<Utc>,
    /// The record, when the payload carries all of it; `None` when it is partial and
    /// the engine must fetch the record.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record: Option<RemoteRecord>,
}

/// A verified webhook delivery.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WebhookDelivery {
    /// The provider's delivery id, for deduplication (never empty).
    pub delivery_id: String,
    /// The events it carries, about what the connection syncs.
    pub events: Vec<WebhookEvent>,
    /// Events about records outside the connection's configuration (another
    /// repository, project or space): dropped, only counted.
    #[serde(default)]
    pub out_of_scope: usize,
}

impl WebhookDelivery {
    /// A delivery of `events`, none out of scope.
    pub fn new(delivery_id: impl Into<String>, events: Vec<WebhookEvent>) -> Self {
        Self {
            delivery_id: delivery_id.into(),
            events,
            out_of_scope: 0,
        }
    }
}

/// One external system. The required surface is small; helpers live on [`ProviderExt`].
///
/// Every call names the connection (the account) it acts for, so one provider value
/// serves many connections.
#[async_trait]
pub trait Provider: Send + Sync + fmt::Debug {
    /// The provider's key (`jira`, `github`, ...).
    fn key(&self) -> ProviderKey;

    /// What the provider can do with `object`.
    fn capabilities(&self, object: &ObjectType) -> Capabilities;

    /// One page of records changed since `query.since`, oldest change first. A page
    /// token it cannot use (malformed, of another version, naming what the
    /// configuration no longer holds, or another origin) is
    /// [`Error::StalePageToken`], never a panic: the engine drops it and lists again
    /// from its high-water mark.
    async fn list_changed(
        &self,
        connection: &ConnectionId,
        object: &ObjectType,
        query: &ChangeQuery,
    ) -> Result<Page>;

    /// One record; [`Error::NotFound`] when it does not exist.
    async fn get(
        &self,
        connection: &ConnectionId,
        object: &ObjectType,
        id: &ExternalId,
    ) -> Result<RemoteRecord>;

    /// Creates a record carrying `new.marker`.
    async fn create(
        &self,
        connection: &ConnectionId,
        object: &ObjectType,
        new: &NewRemote,
    ) -> Result<RemoteRecord>;

    /// Updates a record; with `expected`, fails with [`Error::Precondition`] when the
    /// record's version is another.
    async fn update(
        &self,
        connection: &ConnectionId,
        object: &ObjectType,
        id: &ExternalId,
        update: &RemoteUpdate,
        expected: Option<&Version>,
    ) -> Result<RemoteRecord>;

    /// Deletes a record; deleting a deleted record succeeds.
    async fn delete(
        &self,
        connection: &ConnectionId,
        object: &ObjectType,
        id: &ExternalId,
    ) -> Result<()>;

    /// The record carrying `marker`, if one exists: how a create retried after a
    /// timeout finds what the first attempt made.
    async fn find_by_marker(
        &self,
        connection: &ConnectionId,
        object: &ObjectType,
        marker: &ItemId,
    ) -> Result<Option<RemoteRecord>>;

    /// Verifies and parses a webhook delivery from its raw headers and body;
    /// [`Error::Unauthenticated`] when the signature does not verify.
    fn parse_webhook(
        &self,
        connection: &ConnectionId,
        headers: &Headers,
        body: &[u8],
    ) -> Result<WebhookDelivery>;

    /// Parses a delivery that [`Provider::parse_webhook`] verified when it arrived,
    /// from the headers [`Provider::webhook_headers`] kept with it (the signature is
    /// not kept, so it is not checked again). The engine calls it only on deliveries
    /// it verified and stored itself.
    fn parse_verified_webhook(
        &self,
        connection: &ConnectionId,
        headers: &Headers,
        body: &[u8],
    ) -> Result<WebhookDelivery>;

    /// The headers a delivery is stored with, for
    /// [`Provider::parse_verified_webhook`]: what parsing reads (the event name, the
    /// delivery id). A header carrying a credential is never stored, listed or not.
    fn webhook_headers(&self) -> Vec<String>;

    /// Revokes the connection's grant where the provider can;
    /// [`Error::NotSupported`] where it cannot.
    async fn revoke(&self, connection: &ConnectionId) -> Result<()>;
}

/// Conveniences over any [`Provider`].
#[async_trait]
pub trait ProviderExt: Provider {
    /// [`Provider::get`], with `None` for a record that does not exist.
    async fn get_opt(
        &self,
        connection: &ConnectionId,
        object: &ObjectType,
        id: &ExternalId,
    ) -> Result<Option<RemoteRecord>> {
        match self.get(connection, object, id).await {
            Ok(record) => Ok(Some(record)),
            Err(Error::NotFound(_)) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Every record changed since `since`, following pages to the end.
    async fn list_all(
        &self,
        connection: &ConnectionId,
        object: &ObjectType,
        since: Option<DateTime<Utc>>,
        page_size: usize,
    ) -> Result<Vec<RemoteRecord>> {
        let mut out = Vec::new();
        let mut query = ChangeQuery {
            since,
            page_token: None,
            limit: page_size.max(1),
            filter: RecordFilter::default(),
        };
        loop {
            let page = self.list_changed(connection, object, &query).await?;
            out.extend(page.records);
            match page.next_page_token {
                Some(token) => query.page_token = Some(token),
                None => return Ok(out),
            }
        }
    }
}

impl<P: Provider + ?Sized> ProviderExt for P {}
