//! Sync history queries over the run log: by host item, connection, object, status and
//! time ([`RunLog::query_logs`](super::RunLog::query_logs)).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{LogStatus, SyncLogEntry};
use crate::model::{ConnectionId, ItemId, ObjectType};

/// Which log lines to return; every filter left `None` matches all. Newest first.
///
/// ```
/// use devflow_sync_core::model::ItemId;
/// use devflow_sync_core::store::{LogQuery, LogStatus};
/// let query = LogQuery::default().item(ItemId::new("rec-1")).status(LogStatus::Failed).limit(10);
/// assert_eq!(query.limit, 10);
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LogQuery {
    /// Lines about this host item.
    pub item: Option<ItemId>,
    /// Lines of this connection.
    pub connection: Option<ConnectionId>,
    /// Lines of this provider object.
    pub object: Option<ObjectType>,
    /// Lines that ended so.
    pub status: Option<LogStatus>,
    /// Lines logged at or after this time.
    pub from: Option<DateTime<Utc>>,
    /// Lines logged before this time.
    pub until: Option<DateTime<Utc>>,
    /// At most this many lines (default 100, at most 10,000).
    pub limit: usize,
}

/// The most lines one query returns.
pub const MAX_LOG_LINES: usize = 10_000;

impl Default for LogQuery {
    fn default() -> Self {
        Self {
            item: None,
            connection: None,
            object: None,
            status: None,
            from: None,
            until: None,
            limit: 100,
        }
    }
}

impl LogQuery {
    /// Only lines about `item`.
    #[must_use]
    pub fn item(mut self, item: ItemId) -> Self {
        self.item = Some(item);
        self
    }

    /// Only lines of `connection`.
    #[must_use]
    pub fn connection(mut self, connection: ConnectionId) -> Self {
        self.connection = Some(connection);
        self
    }

    /// Only lines of `object`.
    #[must_use]
    pub fn object(mut self, object: ObjectType) -> Self {
        self.object = Some(object);
        self
    }

    /// Only lines that ended with `status`.
    #[must_use]
    pub fn status(mut self, status: LogStatus) -> Self {
        self.status = Some(status);
        self
    }

    /// Only lines logged in `[from, until)`.
    #[must_use]
    pub fn between(mut self, from: DateTime<Utc>, until: DateTime<Utc>) -> Self {
        self.from = Some(from);
        self.until = Some(until);
        self
    }

    /// At most `n` lines (clamped to 1..=[`MAX_LOG_LINES`]).
    #[must_use]
    pub fn limit(mut self, n: usize) -> Self {
        self.limit = n;
        self
    }

    /// The limit a store applies.
    pub fn clamped_limit(&self) -> usize {
        self.limit.clamp(1, MAX_LOG_LINES)
    }

    /// Whether `entry` matches every filter.
    pub fn matches(&self, entry: &SyncLogEntry) -> bool {
        self.item
            .as_ref()
            .is_none_or(|i| entry.item.as_ref() == Some(i))
            && self
                .connection
                .as_ref()
                .is_none_or(|c| entry.connection == *c)
            && self.object.as_ref().is_none_or(|o| entry.object == *o)
            && self.status.is_none_or(|s| entry.status == s)
            && self.from.is_none_or(|f| entry.at >= f)
            && self.until.is_none_or(|u| entry.at < u)
    }
}
