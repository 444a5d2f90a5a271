//! The stores' side of a run: items, links, cursors, intents, exclusions and
//! conflicts, read and written (or, in a dry run, collected).

use crate::engine::report::PlannedWrite;
use crate::error::Result;
use crate::model::{ExternalId, ItemId};
use crate::store::{ConflictRecord, Exclusion, Link, Snapshot, SyncCursor, WorkItem};

use super::{Ctx, Target};

impl Ctx<'_> {
    /// A host item, as a dry run would have left it.
    pub(crate) async fn item(&self, id: &ItemId) -> Result<Option<WorkItem>> {
        if let Some(item) = self.page.as_ref().and_then(|p| p.items.get(id)) {
            return Ok(Some(item.clone()));
        }
        if self.dry_run {
            if let Some(item) = self.planned_items.get(id) {
                return Ok(Some(item.clone()));
            }
        }
        self.e.items.get(id).await
    }

    pub(crate) async fn link_by_item(&self, t: &Target, item: &ItemId) -> Result<Option<Link>> {
        if let Some(link) = self.page.as_ref().and_then(|p| p.links.get(item)) {
            return Ok(Some(link.clone()));
        }
        if self.dry_run {
            let key = (t.connection.clone(), t.object.clone(), item.clone());
            if let Some(ext) = self.planned_by_item.get(&key) {
                let key = (t.connection.clone(), t.object.clone(), ext.clone());
                return Ok(self.planned_links.get(&key).cloned());
            }
        }
        self.e
            .mappings
            .link_by_item(&t.connection, &t.object, item)
            .await
    }

    pub(crate) async fn link_by_external(
        &self,
        t: &Target,
        id: &ExternalId,
    ) -> Result<Option<Link>> {
        if let Some(page) = &self.page {
            if let Some(link) = page.by_external.get(id).and_then(|i| page.links.get(i)) {
                return Ok(Some(link.clone()));
            }
            if let Some(known) = page.known.get(id) {
                return Ok(known.clone());
            }
        }
        if self.dry_run {
            let key = (t.connection.clone(), t.object.clone(), id.clone());
            if let Some(link) = self.planned_links.get(&key) {
                return Ok(Some(link.clone()));
            }
        }
        self.e
            .mappings
            .link_by_external(&t.connection, &t.object, id)
            .await
    }

    pub(crate) async fn item_of_external(
        &self,
        t: &Target,
        id: &ExternalId,
    ) -> Result<Option<ItemId>> {
        if let Some(page) = &self.page {
            if let Some(item) = page.by_external.get(id) {
                return Ok(Some(item.clone()));
            }
            if let Some(known) = page.known.get(id) {
                return Ok(known.as_ref().map(|l| l.item.clone()));
            }
        }
        if self.dry_run {
            let key = (t.connection.clone(), t.object.clone(), id.clone());
            if let Some(link) = self.planned_links.get(&key) {
                return Ok(Some(link.item.clone()));
            }
        }
        self.e
            .mappings
            .item_of_external(&t.connection, &t.object, id)
            .await
    }

    pub(crate) async fn insert_link(&mut self, t: &Target, link: &Link) -> Result<()> {
        if self.dry_run {
            self.planned.push(PlannedWrite::Link {
                item: link.item.clone(),
                external: link.remote.id.clone(),
            });
            self.planned_by_item.insert(
                (t.connection.clone(), t.object.clone(), link.item.clone()),
                link.remote.id.clone(),
            );
            self.planned_links.insert(
                (
                    t.connection.clone(),
                    t.object.clone(),
                    link.remote.id.clone(),
                ),
                link.clone(),
            );
            return Ok(());
        }
        if self.hold_link(link)? {
            return Ok(());
        }
        self.e.mappings.insert_link(link).await?;
        if let Some(page) = self.page.as_mut() {
            page.known
                .insert(link.remote.id.clone(), Some(link.clone()));
        }
        Ok(())
    }

    pub(crate) async fn update_base(
        &mut self,
        t: &Target,
        item: &ItemId,
        base: &Snapshot,
    ) -> Result<()> {
        if self.dry_run {
            return Ok(());
        }
        if let Some(link) = self.page.as_mut().and_then(|p| p.links.get_mut(item)) {
            link.base = base.clone();
            return Ok(());
        }
        self.e
            .mappings
            .update_base(&t.connection, &t.object, item, base)
            .await?;
        if let Some(page) = self.page.as_mut() {
            for link in page.known.values_mut().flatten() {
                if &link.item == item {
                    link.base = base.clone();
                }
            }
        }
        Ok(())
    }

    pub(crate) async fn delete_link(&mut self, t: &Target, item: &ItemId) -> Result<()> {
        if self.dry_run {
            return Ok(());
        }
        if let Some(page) = self.page.as_mut() {
            if let Some(link) = page.links.remove(item) {
                page.by_external.remove(&link.remote.id);
                return Ok(());
            }
            for known in page.known.values_mut() {
                if known.as_ref().is_some_and(|l| &l.item == item) {
                    *known = None;
                }
            }
        }
        self.e
            .mappings
            .delete_link(&t.connection, &t.object, item)
            .await
    }

    pub(crate) async fn put_cursor(&mut self, t: &Target, cursor: &SyncCursor) -> Result<()> {
        if self.dry_run {
            return Ok(());
        }
        self.e
            .mappings
            .put_cursor(&t.connection, &t.object, cursor)
            .await
    }

    pub(crate) async fn put_intent(&mut self, t: &Target, item: &ItemId) -> Result<()> {
        if self.dry_run {
            return Ok(());
        }
        let now = self.now();
        self.e
            .mappings
            .put_intent(&t.connection, &t.object, item, now)
            .await
    }

    pub(crate) async fn clear_intent(&mut self, t: &Target, item: &ItemId) -> Result<()> {
        if self.dry_run {
            return Ok(());
        }
        self.e
            .mappings
            .clear_intent(&t.connection, &t.object, item)
            .await
    }

    pub(crate) async fn is_excluded(&self, t: &Target, exclusion: &Exclusion) -> Result<bool> {
        if let Some(known) = self.page.as_ref().and_then(|p| p.excluded.get(exclusion)) {
            return Ok(*known);
        }
        self.e
            .mappings
            .is_excluded(&t.connection, &t.object, exclusion)
            .await
    }

    pub(crate) async fn exclude(&mut self, t: &Target, exclusion: &Exclusion) -> Result<()> {
        if self.dry_run {
            return Ok(());
        }
        self.e
            .mappings
            .exclude(&t.connection, &t.object, exclusion)
            .await?;
        if let Some(page) = self.page.as_mut() {
            page.excluded.insert(exclusion.clone(), true);
        }
        Ok(())
    }

    pub(crate) async fn record_conflict(&mut self, conflict: ConflictRecord) -> Result<String> {
        if self.dry_run {
            let id = self.synthetic_id("conflict");
            self.planned_conflicts.push(ConflictRecord {
                id: id.clone(),
                ..conflict
            });
            return Ok(id);
        }
        let id = self.e.journal.record_conflict(&conflict).await?;
        self.e.conflict_recorded(&id, &conflict).await;
        self.no_pending.remove(&conflict.connection);
        self.note_conflict(&id, Some(&conflict));
        Ok(id)
    }

    pub(crate) async fn settle_conflict(
        &mut self,
        id: &str,
        status: crate::store::ConflictStatus,
        resolution: &str,
    ) -> Result<()> {
        if self.dry_run {
            return Ok(());
        }
        let now = self.now();
        self.e
            .journal
            .settle_conflict(id, status, resolution, now)
            .await?;
        let connection = self
            .e
            .journal
            .conflict(id)
            .await
            .ok()
            .flatten()
            .map(|c| c.connection);
        self.e
            .emit(
                connection.as_ref(),
                crate::store::EventKind::ConflictResolved {
                    conflict_id: id.to_owned(),
                    resolution: resolution.to_owned(),
                },
            )
            .await;
        self.note_conflict(id, None);
        Ok(())
    }
}
