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
use crate::provider::{Capabilities, Provider, RecordFilter, RemoteRecord};
use crate::store::{
    ConflictRecord, Direction, ItemUpdate, Link, LogStatus, SyncLogEntry, Trigger, WorkItem,
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
    /// Which item kinds it carries (`None`: all).
    pub(crate) kinds: Option<crate::hierarchy::KindSet>,
    /// Which host object it carries (`None`: all).
    pub(crate) host_object: Option<ObjectType>,
    /// Its own import mode (`None`: the engine's).
    pub(crate) import_mode: Option<super::ImportMode>,
}

impl Target {
    /// Whether the binding carries this host record: its object and its kind.
    pub(crate) fn carries_record(&self, record: &crate::model::Record) -> bool {
        self.host_object
            .as_ref()
            .is_none_or(|o| *o == record.object)
            && self.carries(record.kind)
    }

    /// Whether the binding carries items of `kind` (items without a kind always).
    pub(crate) fn carries(&self, kind: Option<ItemKind>) -> bool {
        match (self.kinds, kind) {
            (Some(kinds), Some(kind)) => kinds.contains(kind),
            _ => true,
        }
    }

    /// Whether the parent link of an item of `kind` syncs through this binding: only
    /// when the binding carries a kind its parent may have.
    pub(crate) fn parent_synced(
        &self,
        rules: &crate::hierarchy::HierarchyRules,
        kind: Option<ItemKind>,
    ) -> bool {
        match (self.kinds, kind) {
            (Some(kinds), Some(kind)) => rules
                .allowed_parents(kind)
                .into_iter()
                .any(|p| kinds.contains(p)),
            _ => true,
        }
    }

    /// The host fields this binding syncs: with a mapping, those it names; without
    /// one, every field. A merge through this binding sees only these, so a field kept
    /// for another system (or by the host alone) is never taken for one this provider
    /// cleared.
    pub(crate) fn scope(&self, fields: &Fields) -> Fields {
        match &self.mapping {
            None => fields.clone(),
            Some(m) => fields
                .iter()
                .filter(|(name, _)| m.covers(name))
                .map(|(name, value)| (name.to_owned(), value.clone()))
                .collect(),
        }
    }

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
    /// A pull page's imports, held until the page ends (with a page store).
    page: Option<page::PageBuffer>,
    /// Connections known to have no pending conflict in this run (none was there when
    /// it looked, and it recorded none since): nothing to close there.
    pub(crate) no_pending: std::collections::HashSet<ConnectionId>,
    /// Items with a pending field conflict that spans several systems, in any
    /// connection: read once per run when first needed.
    pub(crate) grouped: Option<std::collections::HashSet<ItemId>>,
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
            page: None,
            no_pending: std::collections::HashSet::new(),
            grouped: None,
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
        &mut self,
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
        match self.page.as_mut() {
            Some(page) => {
                page.logs.push(entry);
                Ok(())
            }
            None => self.e.journal.append_log(&entry).await,
        }
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
        let result = match self.reserved_id() {
            // Held with the page, written with its link in one transaction.
            Some(id) => {
                let mut record = record;
                record.version = Some(Version::new("1"));
                record.updated_at = self.now();
                let item = WorkItem {
                    id,
                    record,
                    active: true,
                };
                self.hold_item(&item);
                Ok(item)
            }
            None => self.e.items.create(None, record).await,
        };
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
        if self.holds_item(&current.id) {
            // The store must have the item before it can change it.
            self.settle_page(t).await?;
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
        let result = if self.drop_held_item(id) {
            Ok(())
        } else {
            self.e.items.delete(id).await
        };
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
}

mod links;
mod page;
mod remote;
