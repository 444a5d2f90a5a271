//! Time records in bulk: [`sync_many`] books many host time records as worklogs, each
//! on the Jira connection its record names, checked before any call, pushed with
//! bounded concurrency, and summed up as `{total, succeeded, failed, errors}`;
//! [`history`] reads a record's sync history from the journal.
//!
//! A host time record is a host item of object [`TIME_RECORD`] with the fields of
//! [`crate::mapping::worklog_mapping`] (`issue_key`, `started`, `utc_offset`,
//! `duration_seconds`, `comment`) and `connection`, the Jira connection it books to
//! (several per person are fine); the connection's binding is to the `worklog`
//! object with that mapping.

use devflow_sync_core::engine::{BulkItem, BulkOptions, BulkSummary, SyncEngine};
use devflow_sync_core::model::{ConnectionId, ItemId, ObjectType};
use devflow_sync_core::store::{Direction, LogQuery, LogStatus, SyncLogEntry, Trigger};
use devflow_sync_core::{Error, Result};

use crate::worklog::{OBJECT, checked_issue_key, checked_seconds};

/// The host object of time records.
pub const TIME_RECORD: &str = "time_record";

/// The host field naming the Jira connection a record books to.
pub const CONNECTION_FIELD: &str = "connection";

/// How [`sync_many`] runs.
#[derive(Clone, Debug, Default)]
pub struct TimecardOptions {
    /// The connection of records that name none.
    pub default_connection: Option<ConnectionId>,
    /// Concurrency and progress of the pushes.
    pub bulk: BulkOptions,
}

impl TimecardOptions {
    /// Records without a `connection` field book to `connection`.
    #[must_use]
    pub fn default_connection(mut self, connection: impl Into<ConnectionId>) -> Self {
        self.default_connection = Some(connection.into());
        self
    }

    /// With these bulk options (concurrency, progress).
    #[must_use]
    pub fn bulk(mut self, bulk: BulkOptions) -> Self {
        self.bulk = bulk;
        self
    }
}

/// Checks one record: it exists, names a connection, an issue key of the right shape
/// and a duration Jira can hold. Errors name the record.
async fn checked(
    engine: &SyncEngine,
    record: &ItemId,
    options: &TimecardOptions,
) -> Result<BulkItem> {
    let item = engine
        .work_items()
        .get(record)
        .await?
        .ok_or_else(|| Error::not_found(format!("time record {record}")))?;
    let fields = &item.record.fields;
    let name = record.as_str();
    let connection = match fields.get(CONNECTION_FIELD).as_str() {
        Some(c) if !c.trim().is_empty() => ConnectionId::new(c.trim()),
        _ => options
            .default_connection
            .clone()
            .ok_or_else(|| Error::InvalidInput {
                pointer: Some(format!("/fields/{CONNECTION_FIELD}")),
                message: format!("time record {name} names no Jira connection"),
            })?,
    };
    checked_issue_key(fields, "issue_key", name)?;
    checked_seconds(fields, "duration_seconds", name)?;
    Ok(BulkItem {
        connection,
        object: ObjectType::new(OBJECT),
        item: record.clone(),
    })
}

/// Books `records` as worklogs: every record is checked first (a bad one is reported
/// and costs no request), the rest pushed through the engine with bounded
/// concurrency; one failure never stops the others. The summary lists the records
/// in the order given; [`BulkSummary::failed_items`] are the ones to retry.
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// use devflow_provider_jira::timecard::{TIME_RECORD, TimecardOptions, sync_many};
/// use devflow_sync_core::engine::SyncEngine;
/// use devflow_sync_core::model::{FieldValue, Record};
/// let engine = SyncEngine::builder().build().unwrap();
/// let running = Record::new(TIME_RECORD, chrono::Utc::now())
///     .with_field("issue_key", "PROJ-1")
///     .with_field("connection", "jira-work");
/// let item = engine.work_items().create(None, running).await.unwrap();
/// let summary = sync_many(&engine, &[item.id], &TimecardOptions::default()).await;
/// assert_eq!((summary.total, summary.failed), (1, 1));
/// assert!(summary.errors[0].error.contains("still running"));
/// # });
/// ```
pub async fn sync_many(
    engine: &SyncEngine,
    records: &[ItemId],
    options: &TimecardOptions,
) -> BulkSummary {
    let mut refused = BulkSummary::default();
    let mut pushing = Vec::with_capacity(records.len());
    for record in records {
        match checked(engine, record, options).await {
            Ok(item) => pushing.push(item),
            Err(e) => {
                let connection = connection_named(engine, record, options).await;
                log_refusal(engine, &connection, record, &e).await;
                refused.refuse(BulkItem::new(connection, OBJECT, record.clone()), &e);
            }
        }
    }
    let pushed = engine.push_many(pushing, &options.bulk).await;
    in_given_order(records, refused, pushed)
}

/// The connection a record names (or the default), for a refusal's log line.
async fn connection_named(
    engine: &SyncEngine,
    record: &ItemId,
    options: &TimecardOptions,
) -> ConnectionId {
    let named = match engine.work_items().get(record).await {
        Ok(Some(item)) => item
            .record
            .fields
            .get(CONNECTION_FIELD)
            .as_str()
            .map(|c| ConnectionId::new(c.trim())),
        _ => None,
    };
    named
        .or_else(|| options.default_connection.clone())
        .unwrap_or_else(|| ConnectionId::new(""))
}

/// A record refused before any call goes into its history like a failed push. The
/// refusal is already in the summary, so a journal that cannot take it loses nothing.
async fn log_refusal(engine: &SyncEngine, connection: &ConnectionId, record: &ItemId, e: &Error) {
    let entry = SyncLogEntry {
        run_id: format!("timecard-check-{record}"),
        connection: connection.clone(),
        provider: crate::provider_key(),
        object: ObjectType::new(OBJECT),
        item: Some(record.clone()),
        external: None,
        operation: "check".into(),
        direction: Direction::Push,
        changes: Vec::new(),
        status: LogStatus::Failed,
        error: Some(e.to_string()),
        duration_ms: 0,
        trigger: Trigger::User,
        request_id: None,
        at: chrono::Utc::now(),
    };
    if let Err(e) = engine.journal().append_log(&entry).await {
        tracing::warn!(error = %e, "a refused time record could not be logged");
    }
}

/// Both parts' results and errors in the order of `records`.
fn in_given_order(records: &[ItemId], refused: BulkSummary, pushed: BulkSummary) -> BulkSummary {
    let position: std::collections::HashMap<&ItemId, usize> =
        records.iter().enumerate().map(|(n, r)| (r, n)).collect();
    let at = |id: &ItemId| position.get(id).copied().unwrap_or(usize::MAX);
    let mut all = refused;
    all.extend(pushed);
    all.results.sort_by_key(|r| at(&r.record_id));
    all.errors.sort_by_key(|e| at(&e.record_id));
    all
}

/// A record's sync history, newest first: each line's status, worklog id
/// (`external`), error and time.
pub async fn history(
    engine: &SyncEngine,
    record: &ItemId,
    limit: usize,
) -> Result<Vec<SyncLogEntry>> {
    engine
        .journal()
        .query_logs(
            &LogQuery::default()
                .item(record.clone())
                .object(ObjectType::new(OBJECT))
                .limit(limit),
        )
        .await
}
