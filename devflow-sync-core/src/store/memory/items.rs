use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;

use super::lock;
use crate::clock::{Clock, SystemClock};
use crate::error::{Error, Result};
use crate::model::{ItemId, Record, Version};
use crate::store::{ItemUpdate, WorkItem, WorkItemStore};

/// [`WorkItemStore`] in memory. Versions count up from `1`; ids of new items are
/// `item-1`, `item-2`, ...
#[derive(Debug)]
pub struct MemoryWorkItems {
    clock: Arc<dyn Clock>,
    state: Mutex<(u64, BTreeMap<ItemId, WorkItem>)>,
}

impl MemoryWorkItems {
    /// An empty store on the system clock.
    pub fn new() -> Self {
        Self::with_clock(Arc::new(SystemClock))
    }

    /// An empty store on `clock`.
    pub fn with_clock(clock: Arc<dyn Clock>) -> Self {
        Self {
            clock,
            state: Mutex::new((0, BTreeMap::new())),
        }
    }

    /// Every item, ordered by id.
    pub fn all(&self) -> Vec<WorkItem> {
        lock(&self.state).1.values().cloned().collect()
    }

    /// The number of items.
    pub fn len(&self) -> usize {
        lock(&self.state).1.len()
    }

    /// Whether the store is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Default for MemoryWorkItems {
    fn default() -> Self {
        Self::new()
    }
}

fn next_version(v: Option<&Version>) -> Version {
    let n: u64 = v.and_then(|v| v.as_str().parse().ok()).unwrap_or(0);
    Version::new((n + 1).to_string())
}

#[async_trait]
impl WorkItemStore for MemoryWorkItems {
    async fn get(&self, id: &ItemId) -> Result<Option<WorkItem>> {
        Ok(lock(&self.state).1.get(id).cloned())
    }

    async fn create(&self, id: Option<ItemId>, mut record: Record) -> Result<WorkItem> {
        let now = self.clock.now();
        let mut state = lock(&self.state);
        let id = match id {
            Some(id) => id,
            None => loop {
                state.0 += 1;
                let candidate = ItemId::new(format!("item-{}", state.0));
                if !state.1.contains_key(&candidate) {
                    break candidate;
                }
            },
        };
        if state.1.contains_key(&id) {
            return Err(Error::already_exists(format!("work item {id}")));
        }
        record.version = Some(Version::new("1"));
        record.updated_at = now;
        let item = WorkItem {
            id: id.clone(),
            record,
            active: true,
        };
        state.1.insert(id, item.clone());
        Ok(item)
    }

    async fn update(
        &self,
        id: &ItemId,
        update: &ItemUpdate,
        expected: Option<&Version>,
    ) -> Result<WorkItem> {
        let now = self.clock.now();
        let mut state = lock(&self.state);
        let item = state
            .1
            .get_mut(id)
            .ok_or_else(|| Error::not_found(format!("work item {id}")))?;
        if let Some(expected) = expected {
            if item.record.version.as_ref() != Some(expected) {
                return Err(Error::precondition(format!(
                    "work item {id} is at version {}, not {expected}",
                    item.record.version.as_ref().map_or("none", Version::as_str)
                )));
            }
        }
        if update.is_empty() {
            return Ok(item.clone());
        }
        item.record.fields.apply(&update.changes);
        if let Some(parent) = &update.parent {
            item.record.parent = parent.clone();
        }
        if let Some(active) = update.active {
            item.active = active;
        }
        item.record.version = Some(next_version(item.record.version.as_ref()));
        item.record.updated_at = now;
        Ok(item.clone())
    }

    async fn delete(&self, id: &ItemId) -> Result<()> {
        lock(&self.state).1.remove(id);
        Ok(())
    }

    async fn children(&self, id: &ItemId) -> Result<Vec<WorkItem>> {
        Ok(lock(&self.state)
            .1
            .values()
            .filter(|i| i.record.parent.as_ref() == Some(id))
            .cloned()
            .collect())
    }
}
