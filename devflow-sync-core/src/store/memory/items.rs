use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, OnceLock};

use async_trait::async_trait;

use super::lock;
use crate::clock::{Clock, SystemClock};
use crate::error::{Error, Result};
use crate::model::{ItemId, Record, Version};
use crate::store::{ItemUpdate, WorkItem, WorkItemStore};

/// The items and their change feed.
#[derive(Debug, Default)]
struct State {
    /// The last number used for an id.
    next_id: u64,
    /// The items (boxed, so the ordered index that holds many of them stays small).
    items: BTreeMap<ItemId, Box<WorkItem>>,
    /// The last change number handed out.
    seq: u64,
    /// Each item's last change, by change number.
    feed: BTreeMap<u64, ItemId>,
    seq_of: HashMap<ItemId, u64>,
}

impl State {
    /// Records a change of `id`: it moves to the end of the feed.
    fn touch(&mut self, id: &ItemId) {
        self.seq += 1;
        if let Some(old) = self.seq_of.insert(id.clone(), self.seq) {
            self.feed.remove(&old);
        }
        self.feed.insert(self.seq, id.clone());
    }
}

/// [`WorkItemStore`] in memory. Versions count up from `1`; ids of new items are
/// `item-1`, `item-2`, ...
#[derive(Debug)]
pub struct MemoryWorkItems {
    clock: Arc<dyn Clock>,
    state: Mutex<State>,
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
            state: Mutex::new(State::default()),
        }
    }

    /// Every item, ordered by id.
    pub fn all(&self) -> Vec<WorkItem> {
        lock(&self.state)
            .items
            .values()
            .map(|i| WorkItem::clone(i))
            .collect()
    }

    /// `n` new ids (`item-N`), never handed out again by this store.
    pub fn reserve_ids(&self, n: usize) -> Vec<ItemId> {
        let mut state = lock(&self.state);
        let mut out = Vec::with_capacity(n);
        while out.len() < n {
            state.next_id += 1;
            let candidate = ItemId::new(format!("item-{}", state.next_id));
            if !state.items.contains_key(&candidate) {
                out.push(candidate);
            }
        }
        out
    }

    /// Stores an item as given (a page store's write: id, version and times already set).
    pub(crate) fn put(&self, item: WorkItem) {
        let mut state = lock(&self.state);
        state.touch(&item.id);
        state.items.insert(item.id.clone(), Box::new(item));
    }

    /// The number of items.
    pub fn len(&self) -> usize {
        lock(&self.state).items.len()
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

/// Versions up to this one are shared by every item at them, rather than one string each.
const SHARED_VERSIONS: u64 = 64;

/// Version `n`.
fn version(n: u64) -> Version {
    static SHARED: OnceLock<Vec<Version>> = OnceLock::new();
    let shared = SHARED.get_or_init(|| {
        (1..=SHARED_VERSIONS)
            .map(|n| Version::new(n.to_string()))
            .collect()
    });
    usize::try_from(n)
        .ok()
        .and_then(|n| n.checked_sub(1))
        .and_then(|i| shared.get(i))
        .cloned()
        .unwrap_or_else(|| Version::new(n.to_string()))
}

fn next_version(v: Option<&Version>) -> Version {
    let n: u64 = v.and_then(|v| v.as_str().parse().ok()).unwrap_or(0);
    version(n.saturating_add(1))
}

#[async_trait]
impl WorkItemStore for MemoryWorkItems {
    async fn get(&self, id: &ItemId) -> Result<Option<WorkItem>> {
        Ok(lock(&self.state).items.get(id).map(|i| WorkItem::clone(i)))
    }

    async fn create(&self, id: Option<ItemId>, mut record: Record) -> Result<WorkItem> {
        let now = self.clock.now();
        let mut state = lock(&self.state);
        let id = match id {
            Some(id) => id,
            None => loop {
                state.next_id += 1;
                let candidate = ItemId::new(format!("item-{}", state.next_id));
                if !state.items.contains_key(&candidate) {
                    break candidate;
                }
            },
        };
        if state.items.contains_key(&id) {
            return Err(Error::already_exists(format!("work item {id}")));
        }
        record.version = Some(version(1));
        record.updated_at = now;
        let item = WorkItem {
            id: id.clone(),
            record,
            active: true,
        };
        state.touch(&id);
        state.items.insert(id, Box::new(item.clone()));
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
            .items
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
            return Ok(WorkItem::clone(item));
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
        let out = WorkItem::clone(item);
        state.touch(id);
        Ok(out)
    }

    async fn delete(&self, id: &ItemId) -> Result<()> {
        let mut state = lock(&self.state);
        state.items.remove(id);
        if let Some(seq) = state.seq_of.remove(id) {
            state.feed.remove(&seq);
        }
        Ok(())
    }

    async fn changed_after(&self, after: u64, limit: usize) -> Result<Vec<(u64, WorkItem)>> {
        let state = lock(&self.state);
        Ok(state
            .feed
            .range(after.saturating_add(1)..)
            .take(limit)
            .filter_map(|(seq, id)| state.items.get(id).map(|i| (*seq, WorkItem::clone(i))))
            .collect())
    }

    async fn children(&self, id: &ItemId) -> Result<Vec<WorkItem>> {
        Ok(lock(&self.state)
            .items
            .values()
            .filter(|i| i.record.parent.as_ref() == Some(id))
            .map(|i| WorkItem::clone(i))
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_count_up_past_the_shared_ones() {
        assert_eq!(version(1).as_str(), "1");
        assert_eq!(next_version(None).as_str(), "1");
        assert_eq!(next_version(Some(&version(63))).as_str(), "64");
        assert_eq!(next_version(Some(&version(64))).as_str(), "65");
        assert_eq!(next_version(Some(&Version::new("999"))).as_str(), "1000");
        assert_eq!(version(u64::MAX).as_str(), u64::MAX.to_string());
        assert_eq!(version(0).as_str(), "0");
    }
}
