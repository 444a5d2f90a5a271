//! Connections and their bindings as stored data, so a restarted process resumes them.

use std::fmt;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::hierarchy::KindSet;
use crate::mapping::ObjectMapping;
use crate::model::{ConnectionId, ObjectType, ProviderKey};
use crate::provider::RecordFilter;
use crate::store::WebhookRegistrationRecord;

/// One binding of a stored connection: a provider object, how it maps and selects, and
/// which item kinds it carries.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BindingRecord {
    /// The provider object synced with host items (`issue`, `page`, `project`).
    pub object: ObjectType,
    /// Host fields <-> provider fields.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mapping: Option<ObjectMapping>,
    /// Run a stale mapping with its valid entries.
    #[serde(default)]
    pub allow_partial_mapping: bool,
    /// Which records sync.
    #[serde(default)]
    pub filter: RecordFilter,
    /// The item kinds carried; `None` for all.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kinds: Option<KindSet>,
    /// The host object carried; `None` for every one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_object: Option<ObjectType>,
    /// What a pull does with records made in the provider; `None`: the engine's mode.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub import_mode: Option<crate::engine::ImportMode>,
}

impl BindingRecord {
    /// A binding of `object` with no mapping or filter, carrying every kind.
    pub fn new(object: impl Into<ObjectType>) -> Self {
        Self {
            object: object.into(),
            mapping: None,
            allow_partial_mapping: false,
            filter: RecordFilter::default(),
            kinds: None,
            host_object: None,
            import_mode: None,
        }
    }

    /// Carrying these kinds only.
    #[must_use]
    pub fn carrying(mut self, kinds: impl IntoIterator<Item = crate::model::ItemKind>) -> Self {
        self.kinds = Some(kinds.into_iter().collect());
        self
    }

    /// Carrying only host items of `object` (`time_record` for worklogs).
    #[must_use]
    pub fn for_host_object(mut self, object: impl Into<ObjectType>) -> Self {
        self.host_object = Some(object.into());
        self
    }

    /// Importing (or not) records made in the provider, whatever the engine's mode.
    #[must_use]
    pub fn importing(mut self, mode: crate::engine::ImportMode) -> Self {
        self.import_mode = Some(mode);
        self
    }

    /// With a mapping.
    #[must_use]
    pub fn with_mapping(mut self, mapping: ObjectMapping) -> Self {
        self.mapping = Some(mapping);
        self
    }
}

/// What is kept of a connection: enough for the host's
/// [`ProviderFactory`](crate::engine::ProviderFactory) to build its provider again
/// (non-secret settings only: tokens live in the [`TokenStore`](super::TokenStore)),
/// and its bindings.
///
/// ```
/// use devflow_sync_core::store::{BindingRecord, ConnectionRecord};
/// use devflow_sync_core::model::ItemKind;
/// let record = ConnectionRecord::new("jira-acme", "jira")
///     .with_settings(serde_json::json!({"baseUrl": "https://acme.atlassian.net", "project": "KAN"}))
///     .with_binding(BindingRecord::new("issue").carrying([ItemKind::Epic, ItemKind::Story]));
/// let json = serde_json::to_string(&record).unwrap();
/// assert_eq!(serde_json::from_str::<ConnectionRecord>(&json).unwrap(), record);
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConnectionRecord {
    /// The connection.
    pub id: ConnectionId,
    /// Its provider.
    pub provider: ProviderKey,
    /// The provider's non-secret settings (a site URL, a project key, repositories).
    #[serde(default)]
    pub settings: serde_json::Value,
    /// Its bindings.
    #[serde(default)]
    pub bindings: Vec<BindingRecord>,
    /// When it was added.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

impl ConnectionRecord {
    /// A connection of `provider` without settings or bindings, made now.
    pub fn new(id: impl Into<ConnectionId>, provider: impl Into<ProviderKey>) -> Self {
        let now = Utc::now();
        Self {
            id: id.into(),
            provider: provider.into(),
            settings: serde_json::Value::Null,
            bindings: Vec::new(),
            created_at: now,
            updated_at: now,
        }
    }

    /// With these settings.
    #[must_use]
    pub fn with_settings(mut self, settings: serde_json::Value) -> Self {
        self.settings = settings;
        self
    }

    /// With a binding added.
    #[must_use]
    pub fn with_binding(mut self, binding: BindingRecord) -> Self {
        self.bindings.push(binding);
        self
    }
}

/// Where connections, their bindings and their webhook registrations are kept.
#[async_trait]
pub trait ConnectionStore: Send + Sync + fmt::Debug {
    /// Adds or replaces a connection (by id).
    async fn put_connection(&self, record: &ConnectionRecord) -> Result<()>;

    /// One connection.
    async fn connection(&self, id: &ConnectionId) -> Result<Option<ConnectionRecord>>;

    /// Every connection, by id.
    async fn connections(&self) -> Result<Vec<ConnectionRecord>>;

    /// Removes a connection and its webhook registrations; `false` when there was no
    /// connection.
    async fn remove_connection(&self, id: &ConnectionId) -> Result<bool>;

    /// Adds or replaces a webhook registration (by connection and remote id).
    async fn put_registration(&self, record: &WebhookRegistrationRecord) -> Result<()>;

    /// The webhook registrations of `connection` (every connection's with `None`), by
    /// connection and remote id.
    async fn registrations(
        &self,
        connection: Option<&ConnectionId>,
    ) -> Result<Vec<WebhookRegistrationRecord>>;

    /// The registrations due for a refresh at `now`, soonest first.
    async fn registrations_due(&self, now: DateTime<Utc>)
    -> Result<Vec<WebhookRegistrationRecord>>;

    /// Forgets one registration; `false` when there was none.
    async fn remove_registration(&self, connection: &ConnectionId, remote_id: &str)
    -> Result<bool>;
}

#[async_trait]
impl<T: ConnectionStore + ?Sized> ConnectionStore for std::sync::Arc<T> {
    async fn put_connection(&self, record: &ConnectionRecord) -> Result<()> {
        (**self).put_connection(record).await
    }

    async fn connection(&self, id: &ConnectionId) -> Result<Option<ConnectionRecord>> {
        (**self).connection(id).await
    }

    async fn connections(&self) -> Result<Vec<ConnectionRecord>> {
        (**self).connections().await
    }

    async fn remove_connection(&self, id: &ConnectionId) -> Result<bool> {
        (**self).remove_connection(id).await
    }

    async fn put_registration(&self, record: &WebhookRegistrationRecord) -> Result<()> {
        (**self).put_registration(record).await
    }

    async fn registrations(
        &self,
        connection: Option<&ConnectionId>,
    ) -> Result<Vec<WebhookRegistrationRecord>> {
        (**self).registrations(connection).await
    }

    async fn registrations_due(
        &self,
        now: DateTime<Utc>,
    ) -> Result<Vec<WebhookRegistrationRecord>> {
        (**self).registrations_due(now).await
    }

    async fn remove_registration(
        &self,
        connection: &ConnectionId,
        remote_id: &str,
    ) -> Result<bool> {
        (**self).remove_registration(connection, remote_id).await
    }
}
