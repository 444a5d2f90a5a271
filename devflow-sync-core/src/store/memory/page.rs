use std::sync::Arc;

use async_trait::async_trait;

use crate::error::{Error, Result};
use crate::model::ItemId;
use crate::store::{MappingStore, PageStore, PageWrites, RunLog, WorkItemStore};

use super::{MemoryMappings, MemoryWorkItems};

/// [`PageStore`] over the in-memory stores: ids from the items' counter, a page's writes
/// applied in order after its links are checked (so a page with a taken link writes
/// nothing). The engine uses it when every store is the in-memory default, so the
/// in-memory configuration takes the same path as a database.
#[derive(Debug, Clone)]
pub struct MemoryPageStore {
    items: Arc<MemoryWorkItems>,
    mappings: Arc<MemoryMappings>,
    log: Arc<dyn RunLog>,
}

impl MemoryPageStore {
    /// A page store writing to these stores.
    pub fn new(
        items: Arc<MemoryWorkItems>,
        mappings: Arc<MemoryMappings>,
        log: Arc<dyn RunLog>,
    ) -> Self {
        Self {
            items,
            mappings,
            log,
        }
    }
}

#[async_trait]
impl PageStore for MemoryPageStore {
    async fn reserve_item_ids(&self, n: usize) -> Result<Vec<ItemId>> {
        Ok(self.items.reserve_ids(n))
    }

    async fn apply_page(&self, page: &PageWrites) -> Result<()> {
        for link in &page.links {
            let (conn, object) = (&link.remote.connection, &link.remote.object);
            if self
                .mappings
                .link_by_external(conn, object, &link.remote.id)
                .await?
                .is_some()
                || self
                    .mappings
                    .link_by_item(conn, object, &link.item)
                    .await?
                    .is_some()
            {
                return Err(Error::already_exists(format!(
                    "record {} is already linked in {conn}/{object}",
                    link.remote.id
                )));
            }
        }
        for item in &page.items {
            if self.items.get(&item.id).await?.is_some() {
                return Err(Error::already_exists(format!("work item {}", item.id)));
            }
        }
        for item in &page.items {
            self.items.put(item.clone());
        }
        for link in &page.links {
            self.mappings.insert_link(link).await?;
        }
        self.log.append_logs(&page.logs).await?;
        if let (Some(cursor), Some(conn), Some(object)) =
            (&page.cursor, &page.connection, &page.object)
        {
            self.mappings.put_cursor(conn, object, cursor).await?;
        }
        Ok(())
    }
}
