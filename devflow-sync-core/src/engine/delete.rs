//! Deleting an item in the host, as an engine operation: the item stops syncing, and
//! each system holding it is told per the deletion policy.

use futures_util::future::join_all;

use super::fanout::PlatformResult;
use super::{Binding, DeletionPolicy, Outcome, SyncEngine, SyncReport};
use crate::error::{Error, Result};
use crate::model::{ConnectionId, ItemId};
use crate::store::{ItemUpdate, Trigger};

impl SyncEngine {
    /// The host deleted `item` (or is about to): it is marked inactive, so it is pushed
    /// nowhere again, and each system that holds it (or the connections named) is told
    /// per the engine's deletion policy: `Propagate` deletes the record there and
    /// forgets the link (a provider that cannot delete says so in the result, and the
    /// link stays); `MarkInactiveKeepLink` and `Ignore` leave the record. One result
    /// per platform holding it.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// use std::sync::Arc;
    /// use devflow_sync_core::clock::SystemClock;
    /// use devflow_sync_core::engine::{DeletionPolicy, PlatformStatus, SyncEngine};
    /// use devflow_sync_core::memory_provider::MemoryProvider;
    /// use devflow_sync_core::model::{ItemKind, ObjectType, Record};
    /// let remote = Arc::new(MemoryProvider::new("memory", Arc::new(SystemClock)));
    /// let engine = SyncEngine::builder().provider(remote.clone()).bind("c", "memory", "issue")
    ///     .deletion_policy(DeletionPolicy::Propagate).build().unwrap();
    /// let record = Record::new("work_item", chrono::Utc::now()).with_kind(ItemKind::Epic).with_field("title", "E");
    /// let item = engine.work_items().create(None, record).await.unwrap().id;
    /// engine.sync_item(&item, None, false).await.unwrap();
    /// let results = engine.delete_item(&item, None).await.unwrap();
    /// assert_eq!(results[0].status, PlatformStatus::Deleted);
    /// assert!(remote.records(&ObjectType::new("issue")).iter().all(|r| r.deleted));
    /// assert!(!engine.work_items().get(&item).await.unwrap().unwrap().active);
    /// # });
    /// ```
    pub async fn delete_item(
        &self,
        item: &ItemId,
        platforms: Option<&[ConnectionId]>,
    ) -> Result<Vec<PlatformResult>> {
        let e = &*self.inner;
        if let Some(local) = e.items.get(item).await? {
            if local.active {
                let update = ItemUpdate {
                    active: Some(false),
                    ..ItemUpdate::default()
                };
                e.items.update(item, &update, None).await?;
            }
        }
        let targets: Vec<Binding> = e
            .bindings()
            .into_iter()
            .filter(|b| platforms.is_none_or(|p| p.contains(&b.connection)))
            .collect();
        let runs = targets.iter().map(|b| async move {
            let linked = e
                .mappings
                .link_by_item(&b.connection, &b.object, item)
                .await;
            match linked {
                Ok(Some(_)) => {
                    let result = self.delete_in(b, item).await;
                    Some(self.platform_result(b, item, result).await)
                }
                Ok(None) => None,
                Err(err) => Some(self.platform_result(b, item, Err(err)).await),
            }
        });
        Ok(join_all(runs).await.into_iter().flatten().collect())
    }

    async fn delete_in(&self, b: &Binding, item: &ItemId) -> Result<SyncReport> {
        let e = &*self.inner;
        let t = e.target(&b.connection, &b.object)?;
        let policy = e.config.deletion_policy;
        self.run(
            "delete_item",
            Some(&b.connection),
            Trigger::User,
            false,
            |mut ctx| async move {
                let result = async {
                    let Some(link) = ctx.link_by_item(&t, item).await? else {
                        return Ok(());
                    };
                    let ext = link.remote.id.clone();
                    if policy != DeletionPolicy::Propagate {
                        let detail = "the record is kept there (deletion policy)".to_owned();
                        ctx.report
                            .record(Some(item), Some(&ext), Outcome::Skipped, Some(detail));
                        return Ok(());
                    }
                    match t.provider.delete(&t.connection, &t.object, &ext).await {
                        Ok(()) => {
                            ctx.delete_link(&t, item).await?;
                            let detail = "deleted there".to_owned();
                            ctx.report.record(
                                Some(item),
                                Some(&ext),
                                Outcome::Deleted,
                                Some(detail),
                            );
                        }
                        Err(Error::NotSupported(why)) => {
                            ctx.report
                                .record(Some(item), Some(&ext), Outcome::Skipped, Some(why));
                        }
                        Err(err) => return Err(err),
                    }
                    Ok(())
                }
                .await;
                (ctx, result)
            },
        )
        .await
        .map(|(report, _)| report)
    }
}
