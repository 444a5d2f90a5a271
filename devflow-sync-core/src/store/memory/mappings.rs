use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Mutex;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::lock;
use crate::error::{Error, Result};
use crate::model::{ConnectionId, ExternalId, ExternalRef, ItemId, ObjectType, ProviderKey};
use crate::store::{Exclusion, Link, MappingStore, Snapshot, SyncCursor};

/// A link as kept in its scope: the scope already names the connection and object, and
/// the rest sits behind one box so the ordered index stays small.
#[derive(Debug)]
struct StoredLink {
    provider: ProviderKey,
    id: ExternalId,
    url: Option<Box<str>>,
    base: Snapshot,
}

impl StoredLink {
    fn new(link: &Link) -> Box<Self> {
        Box::new(Self {
            provider: link.remote.provider.clone(),
            id: link.remote.id.clone(),
            url: link.remote.url.as_deref().map(Box::from),
            base: link.base.clone(),
        })
    }

    fn link(&self, connection: &ConnectionId, object: &ObjectType, item: &ItemId) -> Link {
        Link {
            item: item.clone(),
            remote: ExternalRef {
                provider: self.provider.clone(),
                connection: connection.clone(),
                object: object.clone(),
                id: self.id.clone(),
                url: self.url.as_deref().map(str::to_owned),
            },
            base: self.base.clone(),
        }
    }
}

/// Everything of one connection and object.
#[derive(Debug, Default)]
struct Scope {
    links: BTreeMap<ItemId, Box<StoredLink>>,
    /// The unique index the other way.
    by_external: HashMap<ExternalId, ItemId>,
    cursor: Option<SyncCursor>,
    exclusions: HashSet<Exclusion>,
    intents: HashMap<ItemId, DateTime<Utc>>,
}

impl Scope {
    fn rows(&self) -> usize {
        self.links.len()
            + usize::from(self.cursor.is_some())
            + self.exclusions.len()
            + self.intents.len()
    }
}

/// Scopes by connection, then object; looked up by reference, without copying keys.
type Scopes = HashMap<ConnectionId, HashMap<ObjectType, Scope>>;

/// [`MappingStore`] in memory.
#[derive(Debug, Default)]
pub struct MemoryMappings {
    state: Mutex<Scopes>,
}

impl MemoryMappings {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }
}

fn scope<'a>(
    scopes: &'a Scopes,
    connection: &ConnectionId,
    object: &ObjectType,
) -> Option<&'a Scope> {
    scopes
        .get(connection.as_str())
        .and_then(|m| m.get(object.as_str()))
}

fn scope_mut<'a>(
    scopes: &'a mut Scopes,
    connection: &ConnectionId,
    object: &ObjectType,
) -> &'a mut Scope {
    scopes
        .entry(connection.clone())
        .or_default()
        .entry(object.clone())
        .or_default()
}

#[async_trait]
impl MappingStore for MemoryMappings {
    async fn insert_link(&self, link: &Link) -> Result<()> {
        let (connection, object) = (&link.remote.connection, &link.remote.object);
        let mut state = lock(&self.state);
        let s = scope_mut(&mut state, connection, object);
        if s.links.contains_key(&link.item) {
            return Err(Error::already_exists(format!(
                "item {} is already linked in {connection}/{object}",
                link.item
            )));
        }
        if let Some(other) = s.by_external.get(&link.remote.id) {
            return Err(Error::already_exists(format!(
                "record {} is already linked to item {other} in {connection}/{object}",
                link.remote.id
            )));
        }
        s.by_external
            .insert(link.remote.id.clone(), link.item.clone());
        s.links.insert(link.item.clone(), StoredLink::new(link));
        Ok(())
    }

    async fn link_by_item(
        &self,
        connection: &ConnectionId,
        object: &ObjectType,
        item: &ItemId,
    ) -> Result<Option<Link>> {
        let state = lock(&self.state);
        Ok(scope(&state, connection, object)
            .and_then(|s| s.links.get(item))
            .map(|l| l.link(connection, object, item)))
    }

    async fn link_by_external(
        &self,
        connection: &ConnectionId,
        object: &ObjectType,
        id: &ExternalId,
    ) -> Result<Option<Link>> {
        let state = lock(&self.state);
        Ok(scope(&state, connection, object).and_then(|s| {
            let item = s.by_external.get(id)?;
            s.links.get(item).map(|l| l.link(connection, object, item))
        }))
    }

    async fn item_of_external(
        &self,
        connection: &ConnectionId,
        object: &ObjectType,
        id: &ExternalId,
    ) -> Result<Option<ItemId>> {
        let state = lock(&self.state);
        Ok(scope(&state, connection, object).and_then(|s| s.by_external.get(id).cloned()))
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
            .get_mut(connection.as_str())
            .and_then(|m| m.get_mut(object.as_str()))
            .and_then(|s| s.links.get_mut(item))
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
        let mut state = lock(&self.state);
        if let Some(s) = state
            .get_mut(connection.as_str())
            .and_then(|m| m.get_mut(object.as_str()))
        {
            if let Some(link) = s.links.remove(item) {
                s.by_external.remove(&link.id);
            }
        }
        Ok(())
    }

    async fn links(&self, connection: &ConnectionId, object: &ObjectType) -> Result<Vec<Link>> {
        let state = lock(&self.state);
        Ok(scope(&state, connection, object)
            .map(|s| {
                s.links
                    .iter()
                    .map(|(item, l)| l.link(connection, object, item))
                    .collect()
            })
            .unwrap_or_default())
    }

    async fn links_of_item(&self, item: &ItemId) -> Result<Vec<Link>> {
        let state = lock(&self.state);
        let mut out: Vec<Link> = state
            .iter()
            .flat_map(|(connection, scopes)| {
                scopes.iter().filter_map(move |(object, s)| {
                    s.links.get(item).map(|l| l.link(connection, object, item))
                })
            })
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
        let state = lock(&self.state);
        Ok(scope(&state, connection, object).and_then(|s| s.cursor.clone()))
    }

    async fn put_cursor(
        &self,
        connection: &ConnectionId,
        object: &ObjectType,
        cursor: &SyncCursor,
    ) -> Result<()> {
        scope_mut(&mut lock(&self.state), connection, object).cursor = Some(cursor.clone());
        Ok(())
    }

    async fn exclude(
        &self,
        connection: &ConnectionId,
        object: &ObjectType,
        exclusion: &Exclusion,
    ) -> Result<()> {
        scope_mut(&mut lock(&self.state), connection, object)
            .exclusions
            .insert(exclusion.clone());
        Ok(())
    }

    async fn is_excluded(
        &self,
        connection: &ConnectionId,
        object: &ObjectType,
        exclusion: &Exclusion,
    ) -> Result<bool> {
        let state = lock(&self.state);
        Ok(scope(&state, connection, object).is_some_and(|s| s.exclusions.contains(exclusion)))
    }

    async fn put_intent(
        &self,
        connection: &ConnectionId,
        object: &ObjectType,
        item: &ItemId,
        at: DateTime<Utc>,
    ) -> Result<()> {
        scope_mut(&mut lock(&self.state), connection, object)
            .intents
            .insert(item.clone(), at);
        Ok(())
    }

    async fn intent(
        &self,
        connection: &ConnectionId,
        object: &ObjectType,
        item: &ItemId,
    ) -> Result<Option<DateTime<Utc>>> {
        let state = lock(&self.state);
        Ok(scope(&state, connection, object).and_then(|s| s.intents.get(item).copied()))
    }

    async fn clear_intent(
        &self,
        connection: &ConnectionId,
        object: &ObjectType,
        item: &ItemId,
    ) -> Result<()> {
        if let Some(s) = lock(&self.state)
            .get_mut(connection.as_str())
            .and_then(|m| m.get_mut(object.as_str()))
        {
            s.intents.remove(item);
        }
        Ok(())
    }

    async fn purge_connection(&self, connection: &ConnectionId) -> Result<usize> {
        let removed = lock(&self.state).remove(connection.as_str());
        Ok(removed.map_or(0, |m| m.values().map(Scope::rows).sum()))
    }
}
