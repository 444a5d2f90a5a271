//! One item, every system: push an item (or a tree) to every binding that carries its
//! kind, concurrently, with one result per platform — the shape a host's sync-status
//! endpoint returns.

use chrono::{DateTime, Utc};
use futures_util::future::join_all;
use serde::{Deserialize, Serialize};

use super::{Binding, Outcome, SyncEngine, SyncReport, sync};
use crate::error::{Error, Result};
use crate::model::{ConnectionId, ExternalRef, ItemId, ItemKind, ObjectType, ProviderKey};
use crate::store::Trigger;

/// How one platform's sync of an item went.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PlatformStatus {
    /// The platform's record matches the host item.
    Synced,
    /// Not synced there now (excluded, or a tombstone).
    Skipped,
    /// Stopped at a conflict a person resolves.
    Conflict,
    /// Deleted there, or the host item marked inactive after a delete there.
    Deleted,
    /// Failed; the change stays pending and is retried.
    Failed,
}

/// One platform's result of [`SyncEngine::sync_item`] or
/// [`SyncEngine::push_tree_everywhere`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PlatformResult {
    /// The connection.
    pub connection: ConnectionId,
    /// Its provider.
    pub provider: ProviderKey,
    /// The provider object.
    pub object: ObjectType,
    /// The item's record there, once linked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external: Option<ExternalRef>,
    /// How it went.
    pub status: PlatformStatus,
    /// Why, for conflicts and failures.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// When it finished.
    pub at: DateTime<Utc>,
    /// The run's report (for a tree: every item's outcome).
    pub report: SyncReport,
}

impl PlatformResult {
    /// The record's URL there, for a person.
    pub fn url(&self) -> Option<&str> {
        self.external.as_ref().and_then(|e| e.url.as_deref())
    }
}

fn status_of(outcome: &Outcome) -> PlatformStatus {
    match outcome {
        Outcome::Created
        | Outcome::Imported
        | Outcome::Linked
        | Outcome::Updated
        | Outcome::Unchanged => PlatformStatus::Synced,
        Outcome::Conflict => PlatformStatus::Conflict,
        Outcome::Failed => PlatformStatus::Failed,
        Outcome::MarkedInactive | Outcome::Deleted => PlatformStatus::Deleted,
        Outcome::Excluded | Outcome::Skipped => PlatformStatus::Skipped,
    }
}

impl SyncEngine {
    /// The bindings that carry `kind` (all when `platforms` is `None`, else the named
    /// connections').
    fn fan_targets(
        &self,
        kind: Option<ItemKind>,
        object: Option<&ObjectType>,
        platforms: Option<&[ConnectionId]>,
    ) -> Vec<Binding> {
        self.inner
            .bindings()
            .into_iter()
            .filter(|b| platforms.is_none_or(|p| p.contains(&b.connection)))
            .filter(|b| match (&b.options.host_object, object) {
                (Some(carried), Some(object)) => carried == object,
                _ => true,
            })
            .filter(|b| match (b.options.kinds, kind) {
                (Some(kinds), Some(kind)) => kinds.contains(kind),
                _ => true,
            })
            .collect()
    }

    pub(super) async fn platform_result(
        &self,
        binding: &Binding,
        item: &ItemId,
        result: Result<SyncReport>,
    ) -> PlatformResult {
        let external = self
            .inner
            .mappings
            .link_by_item(&binding.connection, &binding.object, item)
            .await
            .ok()
            .flatten()
            .map(|l| l.remote);
        let (status, detail, report) = match result {
            Ok(report) => {
                let last = report.outcomes_of_item(item).last().cloned();
                match last {
                    Some(o) => (status_of(&o.outcome), o.detail.clone(), report),
                    None => (PlatformStatus::Skipped, None, report),
                }
            }
            Err(e) => (
                PlatformStatus::Failed,
                Some(e.to_string()),
                SyncReport::default(),
            ),
        };
        PlatformResult {
            connection: binding.connection.clone(),
            provider: binding.provider.clone(),
            object: binding.object.clone(),
            external,
            status,
            detail,
            at: self.inner.clock.now(),
            report,
        }
    }

    /// Pushes one host item to every binding that carries its kind (or to the
    /// connections named), concurrently, parents first in each. With `force`, an item
    /// the host did not change is still read back from each platform and merged (a
    /// manual "sync now"). One result per platform.
    pub async fn sync_item(
        &self,
        item: &ItemId,
        platforms: Option<&[ConnectionId]>,
        force: bool,
    ) -> Result<Vec<PlatformResult>> {
        let local = self
            .inner
            .items
            .get(item)
            .await?
            .ok_or_else(|| Error::not_found(format!("work item {item}")))?;
        let targets = self.fan_targets(local.record.kind, Some(&local.record.object), platforms);
        let runs = targets.iter().map(|b| async move {
            let result = self.sync_one(b, item, force).await;
            self.platform_result(b, item, result).await
        });
        Ok(join_all(runs).await)
    }

    async fn sync_one(&self, b: &Binding, item: &ItemId, force: bool) -> Result<SyncReport> {
        let t = self.inner.target(&b.connection, &b.object)?;
        let partial = self.inner.mapping_check(&b.connection, &b.object)?;
        self.run(
            "sync_item",
            Some(&b.connection),
            Trigger::User,
            false,
            |mut ctx| async move {
                ctx.partial = partial;
                let before = ctx.report.outcomes.len();
                let mut result = sync::push_one(&mut ctx, &t, item, 0).await.map(|_| ());
                let unchanged = ctx.report.outcomes.get(before..).is_some_and(|new| {
                    new.iter()
                        .any(|o| o.item.as_ref() == Some(item) && o.outcome == Outcome::Unchanged)
                });
                if result.is_ok() && force && unchanged {
                    result = sync::refresh_one(&mut ctx, &t, item).await;
                }
                (ctx, result)
            },
        )
        .await
        .map(|(report, _)| report)
    }

    /// Pushes a tree to every binding (or the connections named), concurrently, each
    /// taking the levels it carries; one result per platform, for the root.
    pub async fn push_tree_everywhere(
        &self,
        root: &ItemId,
        platforms: Option<&[ConnectionId]>,
    ) -> Result<Vec<PlatformResult>> {
        let object = self.inner.items.get(root).await?.map(|i| i.record.object);
        let targets = self.fan_targets(None, object.as_ref(), platforms);
        let runs = targets.iter().map(|b| async move {
            let result = self.push_tree(&b.connection, &b.object, root).await;
            self.platform_result(b, root, result).await
        });
        Ok(join_all(runs).await)
    }
}
