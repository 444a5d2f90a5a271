//! Linking host items to records that already exist, in a batch a person confirmed (an
//! initial matching): checked as a whole, written together, then merged.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

use super::{Outcome, SyncEngine, sync};
use crate::error::{Error, Result};
use crate::model::{ConnectionId, ExternalId, ItemId, ObjectType};
use crate::store::{Link, PageWrites, Trigger};

/// What confirming a batch of links did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkSummary {
    /// Pairs linked now.
    pub matched: usize,
    /// Of those, host items whose fields the first merge changed.
    pub changed: usize,
    /// Pairs that were linked so already.
    pub skipped: usize,
}

impl SyncEngine {
    /// Links each host item to its record in `connection`'s `object` binding (pairs a
    /// person confirmed). The batch is checked as a whole first: every item and record
    /// exists, and no item or record is linked elsewhere or named twice
    /// ([`Error::AlreadyExists`] names the first clash, and nothing is written). The
    /// links are written together (one transaction with a page store), then each pair
    /// is merged once under the binding's mapping. A pair linked so already is skipped.
    pub async fn link_records(
        &self,
        connection: &ConnectionId,
        object: &ObjectType,
        pairs: &[(ItemId, ExternalId)],
    ) -> Result<LinkSummary> {
        let e = &*self.inner;
        let t = e.target(connection, object)?;
        let mut summary = LinkSummary::default();
        let (mut items, mut records) = (HashSet::new(), HashSet::new());
        let mut todo = Vec::new();
        for (item, external) in pairs {
            if !items.insert(item.clone()) {
                return Err(Error::already_exists(format!(
                    "item {item} is named twice in the batch"
                )));
            }
            if !records.insert(external.clone()) {
                return Err(Error::already_exists(format!(
                    "record {external} is named twice in the batch"
                )));
            }
            let by_item = e.mappings.link_by_item(connection, object, item).await?;
            let by_record = e
                .mappings
                .link_by_external(connection, object, external)
                .await?;
            match (by_item, by_record) {
                (Some(a), Some(_)) if &a.remote.id == external => {
                    summary.skipped += 1;
                    continue;
                }
                (Some(a), _) => {
                    return Err(Error::already_exists(format!(
                        "item {item} is linked to {} already",
                        a.remote.id
                    )));
                }
                (None, Some(b)) => {
                    return Err(Error::already_exists(format!(
                        "record {external} is linked to item {} already",
                        b.item
                    )));
                }
                (None, None) => {}
            }
            let local = e
                .items
                .get(item)
                .await?
                .ok_or_else(|| Error::not_found(format!("work item {item}")))?;
            let remote = t.provider.get(&t.connection, &t.object, external).await?;
            todo.push((local, remote));
        }
        let (report, _) = self
            .run(
                "link_records",
                Some(connection),
                Trigger::User,
                false,
                |mut ctx| async move {
                    let t = &t;
                    let mut links = Vec::with_capacity(todo.len());
                    let mut views = Vec::with_capacity(todo.len());
                    for (local, remote) in todo {
                        let remote = ctx.host_view(t, remote);
                        let mut base =
                            sync::snapshot(&ctx, remote.record.fields.clone(), &local, &remote);
                        // The first merge weighs the host's values against the record's.
                        base.local_version = None;
                        let link = Link {
                            item: local.id.clone(),
                            remote: t.external_ref(&remote),
                            base,
                        };
                        links.push(link.clone());
                        views.push((link, local, remote));
                    }
                    let written = match &ctx.e.page_store {
                        Some(store) => {
                            let page = PageWrites {
                                connection: Some(t.connection.clone()),
                                object: Some(t.object.clone()),
                                links,
                                ..PageWrites::default()
                            };
                            store.apply_page(&page).await
                        }
                        None => {
                            let mut result = Ok(());
                            for link in &links {
                                result = ctx.e.mappings.insert_link(link).await;
                                if result.is_err() {
                                    break;
                                }
                            }
                            result
                        }
                    };
                    if let Err(err) = written {
                        return (ctx, Err(err));
                    }
                    for (link, local, remote) in views {
                        let (item, external) = (link.item.clone(), link.remote.id.clone());
                        let outcome = match sync::reconcile(&mut ctx, t, link, local, remote).await
                        {
                            Ok(o) => o,
                            Err(err) => return (ctx, Err(err)),
                        };
                        let outcome = if outcome == Outcome::Updated {
                            Outcome::Updated
                        } else {
                            Outcome::Linked
                        };
                        ctx.report
                            .record(Some(&item), Some(&external), outcome, None);
                    }
                    (ctx, Ok(()))
                },
            )
            .await?;
        summary.changed = report
            .outcomes
            .iter()
            .filter(|o| o.outcome == Outcome::Updated)
            .count();
        summary.matched = report.outcomes.len();
        Ok(summary)
    }
}
