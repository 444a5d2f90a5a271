//! Propagation: an edit that came from one system and was applied to the host goes on
//! to the item's other bindings. Right after a pull or a batch of webhooks for the
//! items that run changed, and from the host's change feed
//! ([`WorkItemStore::changed_after`](crate::store::WorkItemStore::changed_after)) by
//! [`SyncEngine::propagate`], which picks up where it stopped, so a crash between
//! applying and propagating loses nothing. A binding whose link already holds the
//! item's version is clean and not written (no loops: the echo of a push diffs to
//! nothing, and a clean binding is never pushed). An item held by some system but not
//! yet by another that carries its kind is created there (a story opened in Jira
//! becomes a GitHub issue), parents first.

use std::collections::BTreeSet;

use super::{Outcome, SyncEngine, SyncReport, sync};
use crate::error::{Error, Result};
use crate::model::{ConnectionId, ItemId, ObjectType};
use crate::store::{CursorPass, SyncCursor, Trigger, WorkItem};

/// Where the change feed was read up to, kept as a cursor of this pseudo-binding.
fn cursor_key() -> (ConnectionId, ObjectType) {
    (
        ConnectionId::new("@propagation"),
        ObjectType::new("work_item"),
    )
}

impl SyncEngine {
    /// Pushes `items` to every binding that carries them and is behind the item's
    /// version (or, with [`EngineConfig::propagate_creates`](super::EngineConfig),
    /// does not hold an item other systems hold), except `origin`'s. One run, recorded
    /// as `propagate`.
    pub(crate) async fn propagate_items(
        &self,
        items: &[WorkItem],
        origin: Option<&ConnectionId>,
    ) -> Result<SyncReport> {
        let bindings = self.inner.bindings();
        if bindings.len() < 2 || items.is_empty() {
            return Ok(SyncReport::default());
        }
        let e = &*self.inner;
        self.run("propagate", None, Trigger::User, false, |mut ctx| async move {
            for item in items {
                for b in &bindings {
                    if Some(&b.connection) == origin {
                        continue;
                    }
                    let Ok(t) = e.target(&b.connection, &b.object) else {
                        continue;
                    };
                    if !t.carries_record(&item.record) {
                        continue;
                    }
                    match ctx.link_by_item(&t, &item.id).await {
                        Ok(Some(link)) if link.base.local_version == item.record.version => {
                            continue;
                        }
                        Ok(Some(_)) => {}
                        // Not there yet: created when the item is held elsewhere.
                        Ok(None) if e.config.propagate_creates && item.active => {
                            match e.mappings.links_of_item(&item.id).await {
                                Ok(links) if !links.is_empty() => {}
                                Ok(_) => continue,
                                Err(err) => return (ctx, Err(err)),
                            }
                        }
                        Ok(None) => continue,
                        Err(err) => return (ctx, Err(err)),
                    }
                    if let Err(err) = sync::push_one(&mut ctx, &t, &item.id, 0).await {
                        tracing::warn!(item = %item.id, connection = %b.connection, error = %err, "propagation failed; it stays pending");
                        ctx.report.record(Some(&item.id), None, Outcome::Failed, Some(err.to_string()));
                    }
                }
            }
            (ctx, Ok(()))
        })
        .await
        .map(|(report, _)| report)
    }

    /// The items a run changed in the host, as they are now.
    pub(crate) async fn changed_by(&self, report: &SyncReport) -> Result<Vec<WorkItem>> {
        // With one binding there is nowhere to carry a change: no reads at all.
        if self.inner.bindings().len() < 2 {
            return Ok(Vec::new());
        }
        let ids: BTreeSet<&ItemId> = report
            .outcomes
            .iter()
            .filter(|o| {
                matches!(
                    o.outcome,
                    Outcome::Updated | Outcome::Conflict | Outcome::Imported
                )
            })
            .filter_map(|o| o.item.as_ref())
            .collect();
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(item) = self.inner.items.get(id).await? {
                out.push(item);
            }
        }
        Ok(out)
    }

    /// Carries host changes on to every binding that is behind, from the host's change
    /// feed, up to `limit` changed items from where the last call stopped (the place is
    /// stored, so after a restart or a crash it resumes). Hosts call it from their
    /// scheduler; pulls and webhook batches propagate what they change at once anyway.
    /// A store without a change feed makes it a no-op.
    pub async fn propagate(&self, limit: usize) -> Result<SyncReport> {
        let e = &*self.inner;
        let (conn, object) = cursor_key();
        let cursor = e.mappings.cursor(&conn, &object).await?.unwrap_or_default();
        let after: u64 = cursor
            .pass
            .as_ref()
            .and_then(|p| p.page_token.parse().ok())
            .unwrap_or(0);
        let changed = match e.items.changed_after(after, limit.max(1)).await {
            Ok(changed) => changed,
            Err(Error::NotSupported(_)) => return Ok(SyncReport::default()),
            Err(err) => return Err(err),
        };
        let Some(last) = changed.last().map(|(seq, _)| *seq) else {
            return Ok(SyncReport::default());
        };
        let items: Vec<WorkItem> = changed.into_iter().map(|(_, item)| item).collect();
        let report = self.propagate_items(&items, None).await?;
        let next = SyncCursor {
            pass: Some(CursorPass {
                since: None,
                page_token: last.to_string(),
            }),
            ..SyncCursor::default()
        };
        e.mappings.put_cursor(&conn, &object, &next).await?;
        Ok(report)
    }
}
