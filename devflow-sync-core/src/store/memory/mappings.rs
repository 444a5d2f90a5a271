use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Mutex;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::lock;
use crate::error::{Error, Result};
use crate::model::{ConnectionId, ExternalId, ItemId, ObjectType};
use crate::store::{Exclusion, Link, MappingStore, Snapshot, SyncCursor};

type Scope = (ConnectionId, ObjectType);

#[derive(Debug, Default)]
struct State {
    /// Links by scope, then item.
    links: HashMap<Scope, BTreeMap<ItemId, Link>>,
    /// The unique index the other way.
    by_external: HashMap<Scope, HashMap<ExternalId, ItemId>>,
    cursors: HashMap<Scope, SyncCursor>,
    exclusions: HashMap<Scope, HashSet<Exclusion>>,
    intents: HashMap<Scope, HashMap<ItemId, DateTime<Utc>>>,
}

/// [`MappingStore`] in memory.
#[derive(Debug, Default)]
pub struct MemoryMappings {
    state: Mutex<State>,
}

impl MemoryMappings {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }
}

fn scope(connection: &ConnectionId, object: &ObjectType) -> Scope {
    (connection.clone(), object.clone())
}

#[async_trait]
impl MappingStore for MemoryMappings {
    async fn insert_link(&self, link: &Link) -> Result<()> {
        let key = scope(&link.remote.connection, &link.remote.object);
        let mut state = lock(&self.state);
        if state
            .links
            .get(&key)
            .is_some_and(|l| l.contains_key(&link.item))
        {
            return Err(Error::already_exists(format!(
                "item {} is already linked in {}/{}",
                link.item, key.0, key.1
            )));
        }
        if let Some(other) = state
            .by_external
            .get(&key)
            .and_then(|m| m.get(&link.remote.id))
        {
            return Err(Error::already_exists(format!(
                "record {} is already linked to item {other} in {}/{}",
                link.remote.id, key.0, key.1
            )));
        }
        state
            .by_external
            .entry(key.clone())
            .or_default()
            .insert(link.remote.id.clone(), link.item.clone());
        state
            .links
            .entry(key)
            .or_default()
            .insert(link.item.clone(), link.clone());
        Ok(())
    }

    async fn link_by_item(
        &self,
        connection: &ConnectionId,
        object: &ObjectType,
        item: &ItemId,
    ) -> Result<Option<Link>> {
        let state = lock(&self.state);
        Ok(state
            .links
            .get(&scope(connection, object))
            .and_then(|l| l.get(item))
            .cloned())
    }

    async fn link_by_external(
        &self,
        connection: &ConnectionId,
        object: &ObjectType,
        id: &ExternalId,
    ) -> Result<Option<Link>> {
        let key = scope(connection, object);
        let state = lock(&self.state);
        Ok(state
            .by_external
            .get(&key)
            .and_then(|m| m.get(id))
            .and_then(|item| state.links.get(&key).and_then(|l| l.get(item)))
            .cloned())
    }

    async fn update_base(
        &self,
        connection: &ConnectionId,
        object: &ObjectType,
        item: &ItemId,
        base: &Snapshot,
    ) -> Result<()> {
        let mut state = lock(&self.state);
        let link = state
            .links
            .get_mut(&scope(connection, object))
            .and_then(|l| l.get_mut(item))
            .ok_or_else(|| {
                Error::not_found(format!("link of item {item} in {connection}/{object}"))
            })?;
        link.base = base.clone();
        Ok(())
    }

    async fn delete_link(
        &self,
        connection: &ConnectionId,
        object: &ObjectType,
        item: &ItemId,
    ) -> Result<()> {
        let key = scope(connection, object);
        let mut state = lock(&self.state);
        if let Some(link) = state.links.get_mut(&key).and_then(|l| l.remove(item)) {
            if let Some(m) = state.by_external.get_mut(&key) {
                m.remove(&link.remote.id);
            }
        }
        Ok(())
    }

    async fn links(&self, connection: &ConnectionId, object: &ObjectType) -> Result<Vec<Link>> {
        let state = lock(&self.state);
        Ok(state
            .links
            .get(&scope(connection, object))
            .map(|l| l.values().cloned().collect())
            .unwrap_or_default())
    }

    async fn links_of_item(&self, item: &ItemId) -> Result<Vec<Link>> {
        let state = lock(&self.state);
        let mut out: Vec<Link> = state
            .links
            .values()
            .filter_map(|l| l.get(item).cloned())
            .collect();
        out.sort_by(|a, b| {
            (&a.remote.connection, &a.remote.object).cmp(&(&b.remote.connection, &b.remote.object))
        });
        Ok(out)
    }

    async fn cursor(
        &self,
        connection: &ConnectionId,
        object: &ObjectType,
    ) -> Result<Option<SyncCursor>> {
        Ok(lock(&self.state)
            .cursors
            .get(&scope(connection, object))
            .cloned())
    }

    async fn put_cursor(
        &self,
        connection: &ConnectionId,
        object: &ObjectType,
        cursor: &SyncCursor,
    ) -> Result<()> {
        lock(&self.state)
            .cursors
            .insert(scope(connection, object), cursor.clone());
        Ok(())
    }

    async fn exclude(
        &self,
        connection: &ConnectionId,
        object: &ObjectType,
        exclusion: &Exclusion,
    ) -> Result<()> {
        lock(&self.state)
            .exclusions
            .entry(scope(connection, object))
            .or_default()
            .insert(exclusion.clone());
        Ok(())
    }

    async fn is_excluded(
        &self,
        connection: &ConnectionId,
        object: &ObjectType,
        exclusion: &Exclusion,
    ) -> Result<bool> {
        Ok(lock(&self.state)
            .exclusions
            .get(&scope(connection, object))
            .is_some_and(|e| e.contains(exclusion)))
    }

    async fn put_intent(
        &self,
        connection: &ConnectionId,
        object: &ObjectType,
        item: &ItemId,
        at: DateTime<Utc>,
    ) -> Result<()> {
        lock(&self.state)
            .intents
            .entry(scope(connection, object))
            .or_default()
            .insert(item.clone(), at);
        Ok(())
    }

    async fn intent(
        &self,
        connection: &ConnectionId,
        object: &ObjectType,
        item: &ItemId,
    ) -> Result<Option<DateTime<Utc>>> {
        Ok(lock(&self.state)
            .intents
            .get(&scope(connection, object))
            .and_then(|m| m.get(item))
            .copied())
    }

    async fn clear_intent(
        &self,
        connection: &ConnectionId,
        object: &ObjectType,
        item: &ItemId,
    ) -> Result<()> {
        if let Some(m) = lock(&self.state)
            .intents
            .get_mut(&scope(connection, object))
        {
            m.remove(item);
        }
        Ok(())
    }

    async fn purge_connection(&self, connection: &ConnectionId) -> Result<usize> {
        let mut state = lock(&self.state);
        let mut removed = 0;
        let State {
            links,
            by_external,
            cursors,
            exclusions,
            intents,
        } = &mut *state;
        links.retain(|k, v| {
            let keep = &k.0 != connection;
            if !keep {
                removed += v.len();
            }
            keep
        });
        by_external.retain(|k, _| &k.0 != connection);
        cursors.retain(|k, _| {
            let keep = &k.0 != connection;
            removed += usize::from(!keep);
            keep
        });
        exclusions.retain(|k, v| {
            let keep = &k.0 != connection;
            if !keep {
                removed += v.len();
            }
            keep
        });
        intents.retain(|k, v| {
            let keep = &k.0 != connection;
            if !keep {
                removed += v.len();
            }
            keep
        });
        Ok(removed)
    }
}
