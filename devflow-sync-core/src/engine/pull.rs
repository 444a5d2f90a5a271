//! Pull: page through a provider's change feed from the saved cursor.

use std::collections::HashSet;

use chrono::{DateTime, Utc};

use super::ctx::{Ctx, Target};
use super::progress::Progress;
use super::report::Outcome;
use super::sync::sync_remote;
use crate::error::{Error, Result};
use crate::hierarchy::{BatchItem, order_parents_first};
use crate::model::{ExternalId, ItemKind};
use crate::provider::{ChangeQuery, Page, RemoteRecord};
use crate::store::{CursorPass, SyncCursor};

/// How much one pull may do before it stops (its cursor saved, to go on next time).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PullBudget {
    /// The most pages to fetch.
    pub max_pages: usize,
    /// The most records to handle (checked between pages).
    pub max_records: usize,
}

impl PullBudget {
    /// No limit: page to the end of the feed.
    pub const UNLIMITED: PullBudget = PullBudget {
        max_pages: usize::MAX,
        max_records: usize::MAX,
    };

    /// At most `pages` pages.
    pub fn pages(pages: usize) -> Self {
        Self {
            max_pages: pages,
            max_records: usize::MAX,
        }
    }
}

impl Default for PullBudget {
    fn default() -> Self {
        Self::UNLIMITED
    }
}

/// A page's records with each parent before its children, so a child created together
/// with its parent finds the parent imported.
fn parents_first(records: Vec<RemoteRecord>) -> Vec<RemoteRecord> {
    let batch: Vec<BatchItem<ExternalId>> = records
        .iter()
        .map(|r| BatchItem {
            id: r.id.clone(),
            kind: r.record.kind.unwrap_or(ItemKind::Task),
            parent: r.record.parent.clone(),
            previous_kind: None,
            created_outside_host: false,
        })
        .collect();
    match order_parents_first(&batch) {
        Ok(order) if order.len() == records.len() => {
            let mut slots: Vec<Option<RemoteRecord>> = records.into_iter().map(Some).collect();
            order.into_iter().filter_map(|i| slots[i].take()).collect()
        }
        _ => records,
    }
}

pub(crate) async fn pull(ctx: &mut Ctx<'_>, t: &Target, budget: PullBudget) -> Result<()> {
    let mut cursor = ctx
        .e
        .mappings
        .cursor(&t.connection, &t.object)
        .await?
        .unwrap_or_default();
    let paged = pages(ctx, t, budget, &mut cursor).await;
    // Pages held to be written together are written with the cursor after the last of
    // them, however the listing ended (a failed fetch included: what was applied is
    // kept).
    if ctx.holds_page() {
        let written = ctx.flush_page(t, Some(&cursor)).await;
        paged.and(written)
    } else {
        paged
    }
}

/// Pages through the feed from `cursor`, applying each page and moving `cursor` past
/// it.
async fn pages(
    ctx: &mut Ctx<'_>,
    t: &Target,
    budget: PullBudget,
    cursor: &mut SyncCursor,
) -> Result<()> {
    let lookback = ctx.e.config.lookback;
    let from_high_water =
        |c: &SyncCursor| c.high_water.map(|hw| crate::clock::before(hw, lookback));
    let (mut since, mut token) = match &cursor.pass {
        Some(pass) => (pass.since, Some(pass.page_token.clone())),
        None => (from_high_water(cursor), None),
    };
    let (mut pages, mut records) = (0usize, 0usize);
    // The next page, fetched while the current one is applied.
    let mut prefetched: Option<Result<Page>> = None;
    while pages < budget.max_pages && records < budget.max_records {
        let query = ChangeQuery {
            since,
            page_token: token.clone(),
            limit: ctx.e.config.page_size,
            filter: t.filter.clone(),
        };
        let fetched = match prefetched.take() {
            Some(result) => result,
            None => {
                t.provider
                    .list_changed(&t.connection, &t.object, &query)
                    .await
            }
        };
        let page = match fetched {
            Ok(page) => page,
            // A saved page token that no longer fits the configuration (a repository
            // removed since): dropped, and the listing starts again from the saved
            // high-water mark. Only a saved token is dropped, once.
            Err(Error::StalePageToken(why)) if token.is_some() && cursor.pass.is_some() => {
                tracing::warn!(
                    connection = %t.connection,
                    object = %t.object,
                    reason = %why,
                    "saved page token discarded; listing again from the high-water mark"
                );
                ctx.report.warn(format!(
                    "saved page token discarded ({why}); listing again from the high-water mark"
                ));
                cursor.pass = None;
                // Pages held go first, with the cursor before this change.
                ctx.settle_page(t).await?;
                ctx.put_cursor(t, cursor).await?;
                since = from_high_water(cursor);
                token = None;
                continue;
            }
            Err(e) => return Err(e),
        };
        pages += 1;
        records += page.records.len();
        let next_token = page.next_page_token.clone();
        let next_query = next_token
            .clone()
            .filter(|_| pages < budget.max_pages && records < budget.max_records)
            .map(|page_token| ChangeQuery {
                since,
                page_token: Some(page_token),
                limit: ctx.e.config.page_size,
                filter: t.filter.clone(),
            });
        let fetch_next = async {
            match &next_query {
                Some(q) => Some(t.provider.list_changed(&t.connection, &t.object, q).await),
                None => None,
            }
        };
        // The fetch is polled first, so its request is on its way before the page is
        // applied (an apply against in-memory stores may never yield).
        let (next, applied) =
            futures_util::future::join(fetch_next, apply_page(ctx, t, cursor, since, page)).await;
        if !applied? {
            break;
        }
        ctx.e.tell(&Progress {
            operation: "pull",
            connection: t.connection.clone(),
            object: t.object.clone(),
            pages,
            done: records,
            total: None,
            finished: next_token.is_none(),
        });
        prefetched = next;
        match next_token {
            Some(next) => token = Some(next),
            None => break,
        }
    }
    Ok(())
}

/// Applies one page and saves the cursor after it; `false` when a record must be
/// tried again (the cursor stays before the page, so the next pull applies it again;
/// what was applied already diffs to nothing).
async fn apply_page(
    ctx: &mut Ctx<'_>,
    t: &Target,
    cursor: &mut SyncCursor,
    since: Option<DateTime<Utc>>,
    page: Page,
) -> Result<bool> {
    ctx.begin_page(t, &page.records).await?;
    let seen: Vec<(ExternalId, DateTime<Utc>)> = page
        .records
        .iter()
        .map(|r| (r.id.clone(), r.record.updated_at))
        .collect();
    let boundary: HashSet<ExternalId> = cursor.boundary_ids.iter().cloned().collect();
    // Records left without a link (a conflict, an exclusion, a skip): only these
    // need remembering at the boundary; linked ones are recognised by version.
    let mut unlinked: HashSet<ExternalId> = HashSet::new();
    let mut retry_later = false;
    for remote in parents_first(page.records) {
        if !t.filter.matches(&remote) {
            ctx.report.record(
                None,
                Some(&remote.id),
                Outcome::Skipped,
                Some("outside the binding's filter".into()),
            );
            continue;
        }
        let remote = ctx.host_view(t, remote);
        if is_boundary_repeat(ctx, t, cursor, &boundary, &remote).await? {
            ctx.report
                .record(None, Some(&remote.id), Outcome::Unchanged, None);
            unlinked.insert(remote.id.clone());
            continue;
        }
        let external = remote.id.clone();
        let result = sync_remote(ctx, t, remote).await;
        if ctx.report.outcomes.last().is_some_and(|o| {
            o.external.as_ref() == Some(&external)
                && matches!(
                    o.outcome,
                    Outcome::Conflict | Outcome::Excluded | Outcome::Skipped
                )
                && o.item.is_none()
        }) {
            unlinked.insert(external.clone());
        }
        if let Err(e) = result {
            tracing::warn!(external = %external, error = %e, "record not applied; it stays pending");
            retry_later |= e.is_retryable() || matches!(e, Error::Precondition(_));
            ctx.report
                .record(None, Some(&external), Outcome::Failed, Some(e.to_string()));
        }
    }
    if retry_later {
        ctx.flush_page(t, None).await?;
        return Ok(false);
    }
    ctx.forget_raw();
    let next = advance(cursor, &seen, &unlinked);
    *cursor = SyncCursor {
        pass: page
            .next_page_token
            .map(|page_token| CursorPass { since, page_token }),
        ..next
    };
    // The page's imports and the cursor after it, together when the store can; a
    // page joins the ones held before it until enough are held (see
    // `EngineConfig::write_group`), and the last is written when the listing ends.
    if !ctx.holds_page() || ctx.page_due(ctx.e.config.write_group) {
        ctx.flush_page(t, Some(cursor)).await?;
    }
    Ok(true)
}

/// The high-water mark and boundary ids after a page: the latest change time, and the
/// records changed exactly then that were left without a link.
fn advance(
    cursor: &SyncCursor,
    seen: &[(ExternalId, DateTime<Utc>)],
    unlinked: &HashSet<ExternalId>,
) -> SyncCursor {
    let mut high_water: Option<DateTime<Utc>> = cursor.high_water;
    let mut boundary: Vec<ExternalId> = cursor.boundary_ids.clone();
    let mut known: HashSet<ExternalId> = boundary.iter().cloned().collect();
    for (id, at) in seen {
        if high_water.is_none_or(|hw| *at > hw) {
            high_water = Some(*at);
            boundary.clear();
            known.clear();
        }
        if high_water == Some(*at) && unlinked.contains(id) && known.insert(id.clone()) {
            boundary.push(id.clone());
        }
    }
    SyncCursor {
        high_water,
        boundary_ids: boundary,
        pass: None,
    }
}

/// A record listed again at the boundary of the last pass that has no link: it was
/// already judged (a conflict, an exclusion), so it is not judged again. Linked records
/// are always looked at; their version says whether anything changed.
async fn is_boundary_repeat(
    ctx: &Ctx<'_>,
    t: &Target,
    cursor: &SyncCursor,
    boundary: &HashSet<ExternalId>,
    remote: &RemoteRecord,
) -> Result<bool> {
    if cursor.high_water != Some(remote.record.updated_at) || !boundary.contains(&remote.id) {
        return Ok(false);
    }
    Ok(ctx.link_by_external(t, &remote.id).await?.is_none())
}
