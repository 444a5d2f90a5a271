//! One run of an engine operation: its id, its report, and every write it makes, which a
//! dry run collects instead of making.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use chrono::{DateTime, Utc};

use super::Inner;
use super::report::{PlannedWrite, SyncReport};
use crate::error::{Error, Result};
use crate::mapping::ObjectMapping;
use crate::model::{
    ConnectionId, ExternalId, ExternalRef, FieldChange, Fields, ItemId, ItemKind, ObjectType,
    ProviderKey, Record, Version,
};
use crate::provider::{
    Capabilities, NewRemote, Provider, RecordFilter, RemoteRecord, RemoteUpdate,
};
use crate::store::{
    ConflictRecord, Direction, Exclusion, ItemUpdate, Link, LogStatus, Snapshot, SyncCursor,
    SyncLogEntry, Trigger, WorkItem,
};

/// The provider side of one binding, resolved for a run.
#[derive(Clone, Debug)]
pub(crate) struct Target {
    pub(crate) connection: ConnectionId,
    pub(crate) object: ObjectType,
    pub(crate) key: ProviderKey,
    pub(crate) provider: Arc<dyn Provider>,
    pub(crate) caps: Capabilities,
    /// Host fields <-> provider fields; `None` passes fields through.
    pub(crate) mapping: Option<Arc<ObjectMapping>>,
    /// Which records the binding covers.
    pub(crate) filter: RecordFilter,
}

impl Target {
    /// Names the provider and object on the current run's span.
    pub(crate) fn trace(&self) {
        let span = tracing::Span::current();
        span.record("provider", self.key.as_str());
        span.record("object", self.object.as_str());
    }

    pub(crate) fn external_ref(&self, remote: &RemoteRecord) -> ExternalRef {
        ExternalRef {
            provider: self.key.clone(),
            connection: self.connection.clone(),
            object: self.object.clone(),
            id: remote.id.clone(),
            url: remote.url.clone(),
        }
    }
}

type Scoped<K> = (ConnectionId, ObjectType, K);

/// The most provider records whose own fields a run keeps at once.
const RAW_KEPT: usize = 1024;

pub(crate) struct Ctx<'a> {
    pub(crate) e: &'a Inner,
    pub(crate) run_id: String,
    pub(crate) trigger: Trigger,
    pub(crate) dry_run: bool,
    pub(crate) report: SyncReport,
    pub(crate) planned: Vec<PlannedWrite>,
    pub(crate) planned_conflicts: Vec<ConflictRecord>,
    /// Links a dry run would have made, so later steps of the same run see them.
    planned_links: HashMap<Scoped<ExternalId>, Link>,
    planned_by_item: HashMap<Scoped<ItemId>, ExternalId>,
    /// Host items as a dry run would have left them.
    planned_items: HashMap<ItemId, WorkItem>,
    /// Kinds of host items seen in this run; the engine never changes a kind, so they
    /// stay true for the run.
    pub(crate) kinds: HashMap<ItemId, ItemKind>,
    /// Provider records' own fields, by id, as recently read in this run (what a
    /// mapping composes its writes onto). Bounded by [`RAW_KEPT`]: a pull forgets a
    /// page's records once the page is applied, so a long run does not hold them all.
    raw: HashMap<ExternalId, Fields>,
    /// Whether the run used a stale mapping's valid subset.
    pub(crate) partial: bool,
    synthetic: u64,
}

impl<'a> Ctx<'a> {
    pub(crate) fn new(e: &'a Inner, run_id: String, trigger: Trigger, dry_run: bool) -> Self {
        Self {
            e,
            report: SyncReport {
                run_id: run_id.clone(),
                ..SyncReport::default()
            },
            run_id,
            trigger,
            dry_run,
            planned: Vec::new(),
            planned_conflicts: Vec::new(),
            planned_links: HashMap::new(),
            planned_by_item: HashMap::new(),
            planned_items: HashMap::new(),
            kinds: HashMap::new(),
            raw: HashMap::new(),
            partial: false,
            synthetic: 0,
        }
    }

    pub(crate) fn now(&self) -> DateTime<Utc> {
        self.e.clock.now()
    }

    fn synthetic_id(&mut self, prefix: &str) -> String {
        self.synthetic += 1;
        format!("planned-{prefix}-{}", self.synthetic)
    }

    #[allow(clippy::too_many_arguments)]
    async fn log(
        &self,
        t: &Target,
        item: Option<&ItemId>,
        external: Option<&ExternalId>,
        operation: &str,
        direction: Direction,
        changes: &[FieldChange],
        result: std::result::Result<(), &Error>,
        started: Instant,
    ) -> Result<()> {
        if self.dry_run {
            return Ok(());
        }
        let entry = SyncLogEntry {
            run_id: self.run_id.clone(),
            connection: t.connection.clone(),
            provider: t.key.clone(),
            object: t.object.clone(),
            item: item.cloned(),
            external: external.cloned(),
            operation: operation.to_owned(),
            direction,
            changes: changes.to_vec(),
            status: if result.is_ok() {
                LogStatus::Ok
            } else {
                LogStatus::Failed
            },
            error: result.err().map(ToString::to_string),
            duration_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
            trigger: self.trigger,
            request_id: None,
            at: self.now(),
        };
        self.e.journal.append_log(&entry).await
    }

    pub(crate) async fn host_create(
        &mut self,
        t: &Target,
        external: &ExternalId,
        record: Record,
    ) -> Result<WorkItem> {
        if self.dry_run {
            self.planned.push(PlannedWrite::CreateItem {
                external: Some(external.clone()),
            });
            let id = ItemId::new(self.synthetic_id("item"));
            let item = WorkItem {
                id: id.clone(),
                record,
                active: true,
            };
            self.planned_items.insert(id, item.clone());
            return Ok(item);
        }
        let started = Instant::now();
        let result = self.e.items.create(None, record).await;
        let id = result.as_ref().ok().map(|i| i.id.clone());
        self.log(
            t,
            id.as_ref(),
            Some(external),
            "import",
            Direction::Pull,
            &[],
            result.as_ref().map(|_| ()),
            started,
        )
        .await?;
        result
    }

    pub(crate) async fn host_update(
        &mut self,
        t: &Target,
        current: &WorkItem,
        update: ItemUpdate,
        expected: Option<&Version>,
    ) -> Result<WorkItem> {
        if self.dry_run {
            self.planned.push(PlannedWrite::UpdateItem {
                item: current.id.clone(),
                changes: update.changes.clone(),
                reparent: update.parent.is_some(),
                active: update.active,
            });
            let mut next = current.clone();
            next.record.fields.apply(&update.changes);
            if let Some(parent) = update.parent {
                next.record.parent = parent;
            }
            if let Some(active) = update.active {
                next.active = active;
            }
            self.planned_items.insert(next.id.clone(), next.clone());
            return Ok(next);
        }
        let started = Instant::now();
        let result = self.e.items.update(&current.id, &update, expected).await;
        let operation = if update.active == Some(false) {
            "mark_inactive"
        } else {
            "update"
        };
        self.log(
            t,
            Some(&current.id),
            None,
            operation,
            Direction::Pull,
            &update.changes,
            result.as_ref().map(|_| ()),
            started,
        )
        .await?;
        result
    }

    pub(crate) async fn host_delete(&mut self, t: &Target, id: &ItemId) -> Result<()> {
        if self.dry_run {
            self.planned
                .push(PlannedWrite::DeleteItem { item: id.clone() });
            return Ok(());
        }
        let started = Instant::now();
        let result = self.e.items.delete(id).await;
        self.log(
            t,
            Some(id),
            None,
            "delete",
            Direction::Pull,
            &[],
            result.as_ref().map(|_| ()),
            started,
        )
        .await?;
        result
    }

    /// A provider record as the engine works with it: in host field names when the
    /// binding has a mapping (its own fields are kept for later writes).
    pub(crate) fn host_view(&mut self, t: &Target, mut remote: RemoteRecord) -> RemoteRecord {
        if let Some(mapping) = &t.mapping {
            let host = mapping.to_host(&remote.record.fields);
            let raw = std::mem::replace(&mut remote.record.fields, host);
            if self.raw.len() >= RAW_KEPT && !self.raw.contains_key(&remote.id) {
                // Records read this long ago were handled already; a write to one
                // composes onto its host view instead.
                self.raw.clear();
            }
            self.raw.insert(remote.id.clone(), raw);
        }
        remote
    }

    /// Forgets the provider fields read so far (a pull, after applying a page).
    pub(crate) fn forget_raw(&mut self) {
        self.raw.clear();
        if self.raw.capacity() > RAW_KEPT {
            self.raw.shrink_to(RAW_KEPT);
        }
    }

    /// Reads a provider record, in the host's view.
    pub(crate) async fn get_remote(&mut self, t: &Target, id: &ExternalId) -> Result<RemoteRecord> {
        let remote = t.provider.get(&t.connection, &t.object, id).await?;
        Ok(self.host_view(t, remote))
    }

    /// Reads a provider record, `None` when it does not exist.
    pub(crate) async fn get_remote_opt(
        &mut self,
        t: &Target,
        id: &ExternalId,
    ) -> Result<Option<RemoteRecord>> {
        match self.get_remote(t, id).await {
            Ok(remote) => Ok(Some(remote)),
            Err(Error::NotFound(_)) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Finds the record a create for `marker` made, in the host's view.
    pub(crate) async fn find_by_marker(
        &mut self,
        t: &Target,
        marker: &ItemId,
    ) -> Result<Option<RemoteRecord>> {
        let found = t
            .provider
            .find_by_marker(&t.connection, &t.object, marker)
            .await?;
        Ok(found.map(|r| self.host_view(t, r)))
    }

    /// Provider field changes for host field changes of `current`.
    fn provider_changes(
        &self,
        t: &Target,
        current: &RemoteRecord,
        changes: &[FieldChange],
    ) -> Vec<FieldChange> {
        let Some(mapping) = &t.mapping else {
            return changes.to_vec();
        };
        let mut host = current.record.fields.clone();
        host.apply(changes);
        let before = match self.raw.get(&current.id) {
            Some(raw) => raw.clone(),
            None => mapping.to_provider(&current.record.fields, &Fields::new()),
        };
        let after = mapping.to_provider(&host, &before);
        crate::merge::diff(&before, &after)
    }

    pub(crate) async fn remote_create(
        &mut self,
        t: &Target,
        new: &NewRemote,
    ) -> Result<RemoteRecord> {
        let converted;
        let new = match &t.mapping {
            Some(mapping) => {
                converted = NewRemote {
                    fields: mapping.to_provider(&new.fields, &Fields::new()),
                    ..new.clone()
                };
                &converted
            }
            None => new,
        };
        if self.dry_run {
            self.planned.push(PlannedWrite::CreateRemote {
                object: t.object.clone(),
                item: new.marker.clone(),
            });
            let id = ExternalId::new(self.synthetic_id("remote"));
            return Ok(RemoteRecord {
                id,
                url: None,
                record: Record {
                    object: t.object.clone(),
                    kind: new.kind,
                    parent: new.parent.clone(),
                    fields: new.fields.clone(),
                    updated_at: self.now(),
                    version: None,
                },
                marker: Some(new.marker.clone()),
                deleted: false,
            });
        }
        let started = Instant::now();
        let result = t
            .provider
            .create(&t.connection, &t.object, new)
            .await
            .map(|r| self.host_view(t, r));
        let external = result.as_ref().ok().map(|r| r.id.clone());
        self.log(
            t,
            Some(&new.marker),
            external.as_ref(),
            "create",
            Direction::Push,
            &[],
            result.as_ref().map(|_| ()),
            started,
        )
        .await?;
        result
    }

    pub(crate) async fn remote_update(
        &mut self,
        t: &Target,
        current: &RemoteRecord,
        item: Option<&ItemId>,
        update: &RemoteUpdate,
        expected: Option<&Version>,
    ) -> Result<RemoteRecord> {
        if self.dry_run {
            self.planned.push(PlannedWrite::UpdateRemote {
                object: t.object.clone(),
                external: current.id.clone(),
                changes: update.changes.clone(),
                reparent: update.parent.is_some(),
            });
            let mut next = current.clone();
            next.record.fields.apply(&update.changes);
            if let Some(parent) = &update.parent {
                next.record.parent = parent.clone();
            }
            return Ok(next);
        }
        let started = Instant::now();
        let converted;
        let update = if t.mapping.is_some() {
            converted = RemoteUpdate {
                changes: self.provider_changes(t, current, &update.changes),
                parent: update.parent.clone(),
            };
            &converted
        } else {
            update
        };
        let result = t
            .provider
            .update(&t.connection, &t.object, &current.id, update, expected)
            .await
            .map(|r| self.host_view(t, r));
        self.log(
            t,
            item,
            Some(&current.id),
            "update",
            Direction::Push,
            &update.changes,
            result.as_ref().map(|_| ()),
            started,
        )
        .await?;
        result
    }

    /// A host item, as a dry run would have left it.
    pub(crate) async fn item(&self, id: &ItemId) -> Result<Option<WorkItem>> {
        if self.dry_run {
            if let Some(item) = self.planned_items.get(id) {
                return Ok(Some(item.clone()));
            }
        }
        self.e.items.get(id).await
    }

    pub(crate) async fn link_by_item(&self, t: &Target, item: &ItemId) -> Result<Option<Link>> {
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
        self.e.mappings.insert_link(link).await
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
        self.e
            .mappings
            .update_base(&t.connection, &t.object, item, base)
            .await
    }

    pub(crate) async fn delete_link(&mut self, t: &Target, item: &ItemId) -> Result<()> {
        if self.dry_run {
            return Ok(());
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
            .await
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
        self.e.journal.record_conflict(&conflict).await
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
            .await
    }
}
