//! Webhook registrations a connection made at a provider, kept so a scheduler can
//! refresh the ones that expire (Jira's dynamic webhooks live 30 days) and a disconnect
//! knows what to remove.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::model::{ConnectionId, ProviderKey};

/// One webhook registered at a provider for a connection. It holds no secret: the
/// signing secret of a delivery lives with the connection's credentials.
///
/// ```
/// use chrono::{Duration, TimeZone, Utc};
/// use devflow_sync_core::store::WebhookRegistrationRecord;
/// let expires = Utc.with_ymd_and_hms(2026, 12, 31, 0, 0, 0).unwrap();
/// let record = WebhookRegistrationRecord::new("jira-acme", "jira", "10042", "https://host.example/hooks/jira")
///     .with_events(["jira:issue_created", "jira:issue_updated"])
///     .expiring(expires, Duration::days(7));
/// assert_eq!(record.refresh_due, Some(expires - Duration::days(7)));
/// assert!(record.is_due(expires - Duration::days(6)));
/// assert!(!record.is_due(expires - Duration::days(8)));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WebhookRegistrationRecord {
    /// The connection that registered it.
    pub connection: ConnectionId,
    /// Its provider.
    pub provider: ProviderKey,
    /// The provider's id of the registration (Jira's webhook id, GitHub's hook id).
    pub remote_id: String,
    /// Where deliveries go.
    pub url: String,
    /// The events it delivers.
    #[serde(default)]
    pub events: Vec<String>,
    /// The provider's filter of the registration (Jira's JQL), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<String>,
    /// When the provider stops delivering unless it is refreshed; `None` for no expiry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<DateTime<Utc>>,
    /// When the host's scheduler should refresh it; `None` for never.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_due: Option<DateTime<Utc>>,
    /// When it was first registered.
    pub created_at: DateTime<Utc>,
    /// When it was last registered or refreshed.
    pub updated_at: DateTime<Utc>,
}

impl WebhookRegistrationRecord {
    /// A registration without events, filter or expiry, made now.
    pub fn new(
        connection: impl Into<ConnectionId>,
        provider: impl Into<ProviderKey>,
        remote_id: impl Into<String>,
        url: impl Into<String>,
    ) -> Self {
        let now = Utc::now();
        Self {
            connection: connection.into(),
            provider: provider.into(),
            remote_id: remote_id.into(),
            url: url.into(),
            events: Vec::new(),
            filter: None,
            expires_at: None,
            refresh_due: None,
            created_at: now,
            updated_at: now,
        }
    }

    /// With these events.
    #[must_use]
    pub fn with_events<S: Into<String>>(mut self, events: impl IntoIterator<Item = S>) -> Self {
        self.events = events.into_iter().map(Into::into).collect();
        self
    }

    /// With the provider's filter.
    #[must_use]
    pub fn with_filter(mut self, filter: impl Into<String>) -> Self {
        self.filter = Some(filter.into());
        self
    }

    /// Expiring at `expires_at`, due for a refresh `margin` before.
    #[must_use]
    pub fn expiring(mut self, expires_at: DateTime<Utc>, margin: chrono::Duration) -> Self {
        self.expires_at = Some(expires_at);
        self.refresh_due = Some(expires_at.checked_sub_signed(margin).unwrap_or(expires_at));
        self
    }

    /// Whether it is due for a refresh at `now`.
    pub fn is_due(&self, now: DateTime<Utc>) -> bool {
        self.refresh_due.is_some_and(|due| due <= now)
    }
}
