//! Many items pushed at once with bounded concurrency ([`SyncEngine::push_many`]): one
//! failing item never stops the rest, progress is told as items finish, and the
//! summary lists each failure so the host can retry just those.

use std::sync::Arc;

use futures_util::StreamExt;
use serde::{Deserialize, Serialize};

use super::{Outcome, Progress, ProgressObserver, SyncEngine};
use crate::model::{ConnectionId, ExternalId, ItemId, ObjectType};

/// One item to push, and where.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct BulkItem {
    /// The connection to push to.
    pub connection: ConnectionId,
    /// The provider object.
    pub object: ObjectType,
    /// The host item.
    pub item: ItemId,
}

impl BulkItem {
    /// An item pushed to `object` of `connection`.
    pub fn new(
        connection: impl Into<ConnectionId>,
        object: impl Into<ObjectType>,
        item: impl Into<ItemId>,
    ) -> Self {
        Self {
            connection: connection.into(),
            object: object.into(),
            item: item.into(),
        }
    }
}

/// How a bulk push runs.
#[derive(Clone, Debug)]
pub struct BulkOptions {
    /// Items pushed at the same time (default 8; at least 1). The provider's request
    /// budget still holds each request to its rate limit.
    pub concurrency: usize,
    /// Told after each item.
    pub progress: Option<Arc<dyn ProgressObserver>>,
}

impl Default for BulkOptions {
    fn default() -> Self {
        Self {
            concurrency: 8,
            progress: None,
        }
    }
}

impl BulkOptions {
    /// With `n` items at a time.
    #[must_use]
    pub fn concurrency(mut self, n: usize) -> Self {
        self.concurrency = n.max(1);
        self
    }

    /// With an observer told after each item.
    #[must_use]
    pub fn progress(mut self, observer: Arc<dyn ProgressObserver>) -> Self {
        self.progress = Some(observer);
        self
    }
}

/// Why one item of a bulk push failed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BulkError {
    /// The host item.
    pub record_id: ItemId,
    /// What went wrong, as the error says it.
    pub error: String,
    /// Whether trying again later may succeed (a timeout, a rate limit).
    pub retriable: bool,
}

/// One item's result.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BulkResult {
    /// The host item.
    pub record_id: ItemId,
    /// The connection.
    pub connection: ConnectionId,
    /// The provider record, when linked.
    pub external: Option<ExternalId>,
    /// Whether it was pushed (created, updated or already the same).
    pub ok: bool,
}

/// What a bulk push did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BulkSummary {
    /// Items asked for.
    pub total: usize,
    /// Items pushed (created, updated or unchanged).
    pub succeeded: usize,
    /// Items that failed, each in `errors`.
    pub failed: usize,
    /// The failures, in the order the items were given.
    pub errors: Vec<BulkError>,
    /// Every item's result, in the order given.
    pub results: Vec<BulkResult>,
}

impl BulkSummary {
    /// Adds an item refused before any call (the host's own checks).
    pub fn refuse(&mut self, item: BulkItem, error: &crate::Error) {
        self.total += 1;
        self.failed += 1;
        self.errors.push(BulkError {
            record_id: item.item.clone(),
            error: error.to_string(),
            retriable: error.is_retryable(),
        });
        self.results.push(BulkResult {
            record_id: item.item,
            connection: item.connection,
            external: None,
            ok: false,
        });
    }

    /// The items that failed, to push again.
    pub fn failed_items(&self) -> Vec<ItemId> {
        self.errors.iter().map(|e| e.record_id.clone()).collect()
    }

    /// Adds another summary's items after these.
    pub fn extend(&mut self, other: BulkSummary) {
        self.total += other.total;
        self.succeeded += other.succeeded;
        self.failed += other.failed;
        self.errors.extend(other.errors);
        self.results.extend(other.results);
    }
}

impl SyncEngine {
    /// Pushes many items, `options.concurrency` at a time; each is [`SyncEngine::push`]
    /// on its own (its own run in the journal), so one failure never stops the rest.
    /// An item stopped at a conflict counts as failed with the conflict's reason.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// use std::sync::Arc;
    /// use devflow_sync_core::clock::SystemClock;
    /// use devflow_sync_core::engine::{BulkItem, BulkOptions, SyncEngine};
    /// use devflow_sync_core::memory_provider::MemoryProvider;
    /// use devflow_sync_core::model::{ItemId, Record};
    /// let engine = SyncEngine::builder()
    ///     .provider(Arc::new(MemoryProvider::new("demo", Arc::new(SystemClock))))
    ///     .bind("c1", "demo", "issue")
    ///     .build()
    ///     .unwrap();
    /// let mut items = Vec::new();
    /// for n in 0..3 {
    ///     let record = Record::new("issue", chrono::Utc::now()).with_field("title", format!("n{n}"));
    ///     let item = engine.work_items().create(None, record).await.unwrap();
    ///     items.push(BulkItem::new("c1", "issue", item.id));
    /// }
    /// items.push(BulkItem::new("c1", "issue", ItemId::new("missing")));
    /// let summary = engine.push_many(items, &BulkOptions::default()).await;
    /// assert_eq!((summary.total, summary.succeeded, summary.failed), (4, 3, 1));
    /// assert_eq!(summary.errors[0].record_id.as_str(), "missing");
    /// # });
    /// ```
    pub async fn push_many(&self, items: Vec<BulkItem>, options: &BulkOptions) -> BulkSummary {
        let total = items.len();
        let mut summary = BulkSummary {
            total,
            ..BulkSummary::default()
        };
        let concurrency = options.concurrency.max(1);
        let mut done = 0usize;
        let mut results: Vec<(usize, BulkResult, Option<BulkError>)> = Vec::with_capacity(total);
        let mut stream = futures_util::stream::iter(items.into_iter().enumerate())
            .map(|(n, item)| async move {
                let pushed = self.push(&item.connection, &item.object, &item.item).await;
                (n, item, pushed)
            })
            .buffer_unordered(concurrency);
        while let Some((n, item, pushed)) = stream.next().await {
            let (ok, external, error) = match pushed {
                Ok(report) => {
                    let outcome = report
                        .outcomes
                        .iter()
                        .rev()
                        .find(|o| o.item.as_ref() == Some(&item.item));
                    let external = outcome.and_then(|o| o.external.clone());
                    match outcome.map(|o| (o.outcome.clone(), o.detail.clone())) {
                        Some((Outcome::Failed | Outcome::Conflict, detail)) => {
                            let why =
                                detail.unwrap_or_else(|| "the push did not go through".into());
                            (false, external, Some((why, true)))
                        }
                        _ if report.errors > 0 || report.conflicts > 0 => {
                            (false, external, Some((report.summary(), true)))
                        }
                        _ => (true, external, None),
                    }
                }
                Err(e) => (false, None, Some((e.to_string(), e.is_retryable()))),
            };
            done += 1;
            if let Some(observer) = &options.progress {
                observer.progress(&Progress {
                    operation: "push_many",
                    connection: item.connection.clone(),
                    object: item.object.clone(),
                    pages: 0,
                    done,
                    total: Some(total),
                    finished: done == total,
                });
            }
            let error = error.map(|(error, retriable)| BulkError {
                record_id: item.item.clone(),
                error,
                retriable,
            });
            let result = BulkResult {
                record_id: item.item,
                connection: item.connection,
                external,
                ok,
            };
            results.push((n, result, error));
        }
        results.sort_by_key(|(n, _, _)| *n);
        for (_, result, error) in results {
            if result.ok {
                summary.succeeded += 1;
            } else {
                summary.failed += 1;
            }
            summary.errors.extend(error);
            summary.results.push(result);
        }
        let kind = crate::store::EventKind::BulkFinished {
            operation: "push_many".into(),
            total: summary.total,
            succeeded: summary.succeeded,
            failed: summary.failed,
        };
        self.inner.emit(None, kind).await;
        summary
    }
}
