//! Pushing a tree: parents first, level by level, each level's items at once.

use std::collections::HashMap;

use futures_util::StreamExt as _;

use super::ctx::Ctx;
use super::{Outcome, Progress, SyncEngine, SyncReport, sync};
use crate::error::{Error, Result};
use crate::hierarchy::{BatchItem, Placement};
use crate::model::{ConnectionId, ItemId, ObjectType};
use crate::store::Trigger;

impl SyncEngine {
    /// Pushes an item and everything below it, parents first. Items that break a
    /// hierarchy rule, and those below them, are reported as failed and not pushed.
    pub async fn push_tree(
        &self,
        connection: &ConnectionId,
        object: &ObjectType,
        root: &ItemId,
    ) -> Result<SyncReport> {
        let t = self.inner.target(connection, object)?;
        let e = &*self.inner;
        // Collect the tree.
        let mut batch: Vec<BatchItem<ItemId>> = Vec::new();
        let mut queue = vec![root.clone()];
        let mut outside = HashMap::new();
        let root_item = e
            .items
            .get(root)
            .await?
            .ok_or_else(|| Error::not_found(format!("work item {root}")))?;
        if let Some(parent) = &root_item.record.parent {
            if let Some(p) = e.items.get(parent).await? {
                if let Some(kind) = p.record.kind {
                    outside.insert(parent.clone(), Placement::new(kind, p.record.parent));
                }
            }
        }
        while let Some(id) = queue.pop() {
            let Some(item) = e.items.get(&id).await? else {
                continue;
            };
            if let Some(kind) = item.record.kind {
                let mut b = BatchItem::new(id.clone(), kind);
                b.parent = item.record.parent.clone();
                batch.push(b);
            }
            for child in e.items.children(&id).await? {
                queue.push(child.id);
            }
        }
        let plan = e.rules.plan_batch(&batch, &outside);
        let partial = e.mapping_check(connection, object)?;
        self.run("push_tree", Some(connection), Trigger::User, false, |mut ctx| async move {
            ctx.partial = partial;
            for (i, v) in &plan.violations {
                ctx.report
                    .record(Some(&batch[*i].id), None, Outcome::Failed, Some(v.to_string()));
            }
            for i in &plan.blocked {
                ctx.report.record(
                    Some(&batch[*i].id),
                    None,
                    Outcome::Failed,
                    Some("an item above it breaks a hierarchy rule".into()),
                );
            }
            // Level by level: an item's parent is pushed in an earlier wave; the items of
            // one wave go concurrently, each with its own context.
            let index: HashMap<&ItemId, usize> =
                batch.iter().enumerate().map(|(i, b)| (&b.id, i)).collect();
            let mut depth = vec![0usize; batch.len()];
            for i in &plan.order {
                let parent_depth = batch[*i]
                    .parent
                    .as_ref()
                    .and_then(|p| index.get(p))
                    .map(|p| depth[*p] + 1);
                depth[*i] = parent_depth.unwrap_or(0);
            }
            let levels = depth.iter().copied().max().map_or(0, |d| d + 1);
            let width = e.config.push_concurrency.max(1);
            let mut done = 0usize;
            for level in 0..levels {
                let wave: Vec<&ItemId> = plan
                    .order
                    .iter()
                    .filter(|i| depth[**i] == level)
                    .map(|i| &batch[*i].id)
                    .collect();
                let (run_id, trigger) = (ctx.run_id.clone(), ctx.trigger);
                let t = &t;
                let pushes = futures_util::stream::iter(wave)
                    .map(|id| {
                        let run_id = run_id.clone();
                        async move {
                            let mut sub = Ctx::new(e, run_id, trigger, false);
                            sub.partial = partial;
                            if let Err(err) = sync::push_one(&mut sub, t, id, 0).await {
                                tracing::warn!(item = %id, error = %err, "push failed; it stays pending");
                            }
                            sub.report
                        }
                    })
                    .buffer_unordered(width);
                let reports: Vec<SyncReport> = pushes.collect().await;
                for report in reports {
                    ctx.report.absorb(report);
                }
                done += plan.order.iter().filter(|i| depth[**i] == level).count();
                e.tell(&Progress {
                    operation: "push_tree",
                    connection: t.connection.clone(),
                    object: t.object.clone(),
                    pages: 0,
                    done,
                    total: Some(plan.order.len()),
                    finished: level + 1 == levels,
                });
            }
            (ctx, Ok(()))
        })
        .await
        .map(|(report, _)| report)
    }
}
