//! Cross-references: when an item gets a record in one more system, each of its other
//! records is told of all of them. Announcements of one item are taken one at a time in
//! this process (two systems creating the item at once would otherwise race, and the
//! older list could land last), and each announcer re-reads the links after its writes:
//! a link another worker added meanwhile is announced again, so the last write to every
//! record names every system.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::engine::ctx::{Ctx, Target};
use crate::error::Result;
use crate::model::{ExternalRef, ItemId};
use crate::provider::RemoteUpdate;

/// How many times an announcer re-reads the links before it leaves the rest to the
/// next announcer.
const ROUNDS: usize = 4;

/// One lock per item being announced; an entry goes away with its last user.
#[derive(Default)]
pub(crate) struct ItemLocks {
    locks: Mutex<HashMap<ItemId, Arc<tokio::sync::Mutex<()>>>>,
}

impl ItemLocks {
    async fn lock(&self, id: &ItemId) -> ItemGuard<'_> {
        let lock = {
            let mut map = self.locks.lock().unwrap_or_else(|e| e.into_inner());
            map.entry(id.clone()).or_default().clone()
        };
        let guard = lock.clone().lock_owned().await;
        ItemGuard {
            owner: self,
            id: id.clone(),
            lock,
            held: Some(guard),
        }
    }
}

struct ItemGuard<'a> {
    owner: &'a ItemLocks,
    id: ItemId,
    lock: Arc<tokio::sync::Mutex<()>>,
    held: Option<tokio::sync::OwnedMutexGuard<()>>,
}

impl Drop for ItemGuard<'_> {
    fn drop(&mut self) {
        self.held = None;
        let mut map = self.owner.locks.lock().unwrap_or_else(|e| e.into_inner());
        // Ours and the map's: nobody else waits for it.
        if Arc::strong_count(&self.lock) == 2 {
            map.remove(&self.id);
        }
    }
}

fn key(r: &ExternalRef) -> (String, String, String) {
    (
        r.connection.as_str().to_owned(),
        r.object.as_str().to_owned(),
        r.id.as_str().to_owned(),
    )
}

/// Tells the item's other systems of its new record in `origin`'s: each gets the
/// cross-references to every other system (a write of nothing else, whose echo diffs to
/// nothing), all at once. A system that cannot take it is left as it is, with a
/// warning. The bases are left as they are: another run may be writing them right now,
/// and a version such a write moved on only costs the next update a re-read.
pub(super) async fn announce(ctx: &mut Ctx<'_>, origin: &Target, id: &ItemId) -> Result<()> {
    if ctx.dry_run || !ctx.e.config.cross_references {
        return Ok(());
    }
    let _turn = ctx.e.announcing.lock(id).await;
    let mut links = ctx.e.mappings.links_of_item(id).await?;
    for _ in 0..ROUNDS {
        if links.len() < 2 {
            return Ok(());
        }
        write_all(ctx, origin, id, &links).await;
        let now = ctx.e.mappings.links_of_item(id).await?;
        let mut before: Vec<_> = links.iter().map(|l| key(&l.remote)).collect();
        let mut after: Vec<_> = now.iter().map(|l| key(&l.remote)).collect();
        before.sort();
        after.sort();
        if before == after {
            return Ok(());
        }
        links = now;
    }
    Ok(())
}

async fn write_all(ctx: &Ctx<'_>, origin: &Target, id: &ItemId, links: &[crate::store::Link]) {
    let mut writes = Vec::new();
    for link in links {
        let r = &link.remote;
        if r.connection == origin.connection && r.object == origin.object {
            continue;
        }
        let Ok(t) = ctx.e.target(&r.connection, &r.object) else {
            continue;
        };
        let related = links
            .iter()
            .map(|l| l.remote.clone())
            .filter(|o| !(o.connection == r.connection && o.object == r.object))
            .collect();
        let update = RemoteUpdate {
            related: Some(related),
            ..RemoteUpdate::default()
        };
        writes.push((t, r.id.clone(), update));
    }
    let results = futures_util::future::join_all(writes.iter().map(|(t, ext, update)| {
        t.provider
            .update(&t.connection, &t.object, ext, update, None)
    }))
    .await;
    for ((t, ext, _), result) in writes.iter().zip(results) {
        if let Err(err) = result {
            tracing::warn!(item = %id, connection = %t.connection, external = %ext, error = %err, "cross-references not written");
        }
    }
}
