//! [`PageStore`]: a store that takes a pull page's writes at once.

use async_trait::async_trait;

use crate::error::Result;
use crate::model::{ConnectionId, ItemId, ObjectType};
use crate::store::{Link, SyncCursor, SyncLogEntry, WorkItem};

/// A pull page's writes, applied together by [`PageStore::apply_page`].
#[derive(Clone, Debug, Default, PartialEq)]
#[non_exhaustive]
pub struct PageWrites {
    /// The connection of the page.
    pub connection: Option<ConnectionId>,
    /// The object of the page.
    pub object: Option<ObjectType>,
    /// Host items created for the page's records, with ids from
    /// [`PageStore::reserve_item_ids`], versions `1`.
    pub items: Vec<WorkItem>,
    /// New links (each to an item of `items`).
    pub links: Vec<Link>,
    /// Log lines of the page.
    pub logs: Vec<SyncLogEntry>,
    /// The cursor after the page, when the page is complete.
    pub cursor: Option<SyncCursor>,
}

impl PageWrites {
    /// Whether there is nothing to write.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
            && self.links.is_empty()
            && self.logs.is_empty()
            && self.cursor.is_none()
    }
}

/// A store holding the host's items, the links, the log and the cursors in one
/// database, which can apply a pull page's imports in one transaction: the items created,
/// their links, the page's log lines and the cursor after it — all or nothing. The
/// engine uses it when given one ([`SyncEngineBuilder::page_store`](crate::engine::SyncEngineBuilder::page_store)):
/// a page then costs a few statements instead of several per record, and a crash can
/// never leave an imported item without its link or a cursor past what was applied.
#[async_trait]
pub trait PageStore: Send + Sync + std::fmt::Debug {
    /// `n` new item ids, never handed out again (by this or any other process).
    async fn reserve_item_ids(&self, n: usize) -> Result<Vec<ItemId>>;

    /// Applies a page's writes in one transaction.
    /// [`Error::AlreadyExists`](crate::Error::AlreadyExists), with nothing applied, when
    /// an item id or a link is taken.
    async fn apply_page(&self, page: &PageWrites) -> Result<()>;
}
