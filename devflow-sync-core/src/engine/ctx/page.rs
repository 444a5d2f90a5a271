//! A pull page's imports kept together and written at once through the
//! [`PageStore`](crate::store::PageStore), when the engine has one: items created with
//! reserved ids, their links and the page's log lines stay in the run until the page
//! ends, and go to the store with the cursor in one transaction. The page's links are
//! read in one query before it is applied. Every read of the run sees what the page
//! holds, so the engine's steps work the same with or without it.

use std::collections::HashMap;

use crate::error::{Error, Result};
use crate::model::{ExternalId, ItemId};
use crate::provider::RemoteRecord;
use crate::store::{
    ConflictRecord, ConflictStatus, Exclusion, Link, PageWrites, SyncCursor, SyncLogEntry, WorkItem,
};

use super::{Ctx, Target};

/// What a page holds until it is written.
#[derive(Debug, Default)]
pub(crate) struct PageBuffer {
    /// Reserved ids not used yet.
    ids: Vec<ItemId>,
    /// Items created in the page, and their order.
    pub(super) items: HashMap<ItemId, WorkItem>,
    order: Vec<ItemId>,
    /// Links made in the page, by item, and the items by record.
    pub(super) links: HashMap<ItemId, Link>,
    pub(super) by_external: HashMap<ExternalId, ItemId>,
    /// What the store held for the page's records (and their parents) when the page
    /// began: `None` for no link.
    pub(super) known: HashMap<ExternalId, Option<Link>>,
    /// Whether each of the page's records (and their linked items) is excluded.
    pub(super) excluded: HashMap<Exclusion, bool>,
    /// Log lines of the page.
    pub(super) logs: Vec<SyncLogEntry>,
    /// The connection's pending conflicts, read once when first needed.
    pub(super) conflicts: Option<Vec<ConflictRecord>>,
    /// Records of the pages held (a pull writes several pages together).
    records: usize,
    /// When the first page held began.
    since: Option<std::time::Instant>,
}

/// The longest a pull holds pages before writing them.
const HOLD_AT_MOST: std::time::Duration = std::time::Duration::from_millis(500);

impl Ctx<'_> {
    /// Starts holding a page's imports, when the engine has a page store.
    pub(crate) async fn begin_page(&mut self, t: &Target, records: &[RemoteRecord]) -> Result<()> {
        let Some(store) = self.e.page_store.clone().filter(|_| !self.dry_run) else {
            return Ok(());
        };
        let mut ids: Vec<ExternalId> = records.iter().map(|r| r.id.clone()).collect();
        ids.extend(records.iter().filter_map(|r| r.record.parent.clone()));
        ids.sort();
        ids.dedup();
        let found = self
            .e
            .mappings
            .links_by_externals(&t.connection, &t.object, &ids)
            .await?;
        let mut known: HashMap<ExternalId, Option<Link>> =
            ids.into_iter().map(|id| (id, None)).collect();
        for link in found {
            known.insert(link.remote.id.clone(), Some(link));
        }
        let asked: Vec<Exclusion> = records
            .iter()
            .map(|r| Exclusion::External(r.id.clone()))
            .chain(
                known
                    .values()
                    .flatten()
                    .map(|l| Exclusion::Item(l.item.clone())),
            )
            .collect();
        let hits = self
            .e
            .mappings
            .excluded_among(&t.connection, &t.object, &asked)
            .await?;
        let mut excluded: HashMap<Exclusion, bool> =
            asked.into_iter().map(|e| (e, false)).collect();
        for hit in hits {
            excluded.insert(hit, true);
        }
        let mut reserved = store.reserve_item_ids(records.len()).await?;
        reserved.reverse();
        // Pages not written yet stay held, and this one joins them: what they hold is
        // read first (links by record, items), so the store's answers for this page
        // only fill what they do not know.
        let page = self.page.get_or_insert_with(|| PageBuffer {
            since: Some(std::time::Instant::now()),
            ..PageBuffer::default()
        });
        reserved.append(&mut page.ids);
        page.ids = reserved;
        for (id, link) in known {
            page.known.entry(id).or_insert(link);
        }
        for (exclusion, hit) in excluded {
            page.excluded.entry(exclusion).or_insert(hit);
        }
        page.records += records.len();
        Ok(())
    }

    /// Whether the pages held should be written now: `group` records or more held, or
    /// held for long enough.
    pub(crate) fn page_due(&self, group: usize) -> bool {
        self.page.as_ref().is_some_and(|p| {
            p.records >= group || p.since.is_some_and(|s| s.elapsed() >= HOLD_AT_MOST)
        })
    }

    /// Whether pages are held, not written yet.
    pub(crate) fn holds_page(&self) -> bool {
        self.page.is_some()
    }

    /// Holds one import outside a pull page (a webhook, a resolution), so its item and
    /// link are written together; `false` when a page is held already or the engine has
    /// no page store.
    pub(crate) async fn begin_single(&mut self) -> Result<bool> {
        let Some(store) = self.e.page_store.clone().filter(|_| !self.dry_run) else {
            return Ok(false);
        };
        if self.page.is_some() {
            return Ok(false);
        }
        self.page = Some(PageBuffer {
            ids: store.reserve_item_ids(1).await?,
            ..PageBuffer::default()
        });
        Ok(true)
    }

    /// Forgets what the page holds (a step failed before anything was written).
    pub(crate) fn drop_page(&mut self) {
        self.page = None;
    }

    /// Writes what the page holds, with `cursor` when the page is complete; without a
    /// page store, saves the cursor alone.
    pub(crate) async fn flush_page(
        &mut self,
        t: &Target,
        cursor: Option<&SyncCursor>,
    ) -> Result<()> {
        let (Some(page), Some(store)) = (self.page.take(), self.e.page_store.clone()) else {
            return match cursor {
                Some(cursor) => self.put_cursor(t, cursor).await,
                None => Ok(()),
            };
        };
        let mut links = page.links;
        let writes = PageWrites {
            connection: Some(t.connection.clone()),
            object: Some(t.object.clone()),
            links: page
                .order
                .iter()
                .filter_map(|id| links.remove(id))
                .collect(),
            items: {
                let mut items = page.items;
                page.order
                    .iter()
                    .filter_map(|id| items.remove(id))
                    .collect()
            },
            logs: page.logs,
            cursor: cursor.cloned(),
        };
        if writes.is_empty() {
            return Ok(());
        }
        store.apply_page(&writes).await
    }

    /// Writes what the page holds so far and goes on without holding more: before a
    /// step that changes an item or link the page holds.
    pub(crate) async fn settle_page(&mut self, t: &Target) -> Result<()> {
        if self.page.is_some() {
            self.flush_page(t, None).await?;
        }
        Ok(())
    }

    /// A new item id from the page's reservation, when the page holds imports.
    pub(super) fn reserved_id(&mut self) -> Option<ItemId> {
        self.page.as_mut().and_then(|p| p.ids.pop())
    }

    /// Keeps an item created in the page.
    pub(super) fn hold_item(&mut self, item: &WorkItem) {
        if let Some(page) = self.page.as_mut() {
            page.order.push(item.id.clone());
            page.items.insert(item.id.clone(), item.clone());
        }
    }

    /// Keeps a link to an item created in the page; `false` when the page does not hold
    /// the item (the link goes to the store). A record linked already is
    /// [`Error::AlreadyExists`], as the store would say.
    pub(super) fn hold_link(&mut self, link: &Link) -> Result<bool> {
        let Some(page) = self.page.as_mut() else {
            return Ok(false);
        };
        if !page.items.contains_key(&link.item) {
            return Ok(false);
        }
        let taken = page.by_external.contains_key(&link.remote.id)
            || page.known.get(&link.remote.id).is_some_and(Option::is_some);
        if taken || page.links.contains_key(&link.item) {
            return Err(Error::already_exists(format!(
                "record {} is already linked in {}/{}",
                link.remote.id, link.remote.connection, link.remote.object
            )));
        }
        page.by_external
            .insert(link.remote.id.clone(), link.item.clone());
        page.links.insert(link.item.clone(), link.clone());
        Ok(true)
    }

    /// Forgets an item (and its link) the page holds; `false` when it holds none.
    pub(super) fn drop_held_item(&mut self, id: &ItemId) -> bool {
        let Some(page) = self.page.as_mut() else {
            return false;
        };
        if page.items.remove(id).is_none() {
            return false;
        }
        page.order.retain(|i| i != id);
        if let Some(link) = page.links.remove(id) {
            page.by_external.remove(&link.remote.id);
        }
        true
    }

    /// Whether the page holds this item.
    pub(super) fn holds_item(&self, id: &ItemId) -> bool {
        self.page.as_ref().is_some_and(|p| p.items.contains_key(id))
    }

    /// The pending conflicts of the target's connection (read once per page).
    pub(crate) async fn pending_conflicts(&mut self, t: &Target) -> Result<Vec<ConflictRecord>> {
        if let Some(cached) = self.page.as_ref().and_then(|p| p.conflicts.clone()) {
            return Ok(cached);
        }
        let pending = self
            .e
            .journal
            .conflicts(&t.connection, Some(ConflictStatus::Pending))
            .await?;
        if let Some(page) = self.page.as_mut() {
            page.conflicts = Some(pending.clone());
        }
        Ok(pending)
    }

    /// Keeps the page's view of pending conflicts true after one is recorded (`Some`)
    /// or settled (`None`).
    pub(super) fn note_conflict(&mut self, id: &str, recorded: Option<&ConflictRecord>) {
        let Some(cached) = self.page.as_mut().and_then(|p| p.conflicts.as_mut()) else {
            return;
        };
        cached.retain(|c| c.id != id);
        if let Some(conflict) = recorded {
            cached.push(ConflictRecord {
                id: id.to_owned(),
                ..conflict.clone()
            });
        }
    }
}
