//! What an engine operation did.

use serde::{Deserialize, Serialize};

use crate::model::{ExternalId, FieldChange, ItemId, ObjectType};
use crate::store::ConflictRecord;

/// What happened to one entity.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// A provider record was created for a host item.
    Created,
    /// A host item was created from a provider record.
    Imported,
    /// An existing provider record was linked to a host item (a recovered create).
    Linked,
    /// Changes were written to one side or both.
    Updated,
    /// Nothing to do.
    Unchanged,
    /// Stopped at a conflict, recorded in the journal.
    Conflict,
    /// The entity is excluded from sync.
    Excluded,
    /// The host item was marked inactive after a provider delete.
    MarkedInactive,
    /// An item was deleted (per the deletion policy).
    Deleted,
    /// Skipped: an old event, a tombstone of an unknown record, a missing host item.
    Skipped,
    /// Failed; the change stays pending and is retried.
    Failed,
}

/// One entity's outcome in a [`SyncReport`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntityOutcome {
    /// The host item, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item: Option<ItemId>,
    /// The provider record, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external: Option<ExternalId>,
    /// What happened.
    pub outcome: Outcome,
    /// Why, for skips, conflicts and failures.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// What one engine operation did, entity by entity, with totals.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncReport {
    /// The run id, as recorded in the journal.
    pub run_id: String,
    /// Records created in a provider, items imported into the host, creates recovered.
    pub created: usize,
    /// Entities with changes written.
    pub updated: usize,
    /// Entities with nothing to do.
    pub unchanged: usize,
    /// Entities stopped at a conflict.
    pub conflicts: usize,
    /// Entities that failed.
    pub errors: usize,
    /// Entities skipped as excluded.
    pub excluded: usize,
    /// Entities deleted or marked inactive.
    pub deleted: usize,
    /// Entities skipped for another reason.
    pub skipped: usize,
    /// Every entity's outcome, in the order handled.
    pub outcomes: Vec<EntityOutcome>,
    /// What a person may want to know that concerns no one entity (a saved page
    /// token discarded, events dropped as out of scope).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

impl SyncReport {
    pub(crate) fn record(
        &mut self,
        item: Option<&ItemId>,
        external: Option<&ExternalId>,
        outcome: Outcome,
        detail: Option<String>,
    ) {
        match outcome {
            Outcome::Created | Outcome::Imported | Outcome::Linked => self.created += 1,
            Outcome::Updated => self.updated += 1,
            Outcome::Unchanged => self.unchanged += 1,
            Outcome::Conflict => self.conflicts += 1,
            Outcome::Excluded => self.excluded += 1,
            Outcome::MarkedInactive | Outcome::Deleted => self.deleted += 1,
            Outcome::Skipped => self.skipped += 1,
            Outcome::Failed => self.errors += 1,
        }
        self.outcomes.push(EntityOutcome {
            item: item.cloned(),
            external: external.cloned(),
            outcome,
            detail,
        });
    }

    /// Adds another report's outcomes and totals to this one (the parts of one run
    /// done concurrently).
    pub(crate) fn absorb(&mut self, other: SyncReport) {
        self.created += other.created;
        self.updated += other.updated;
        self.unchanged += other.unchanged;
        self.conflicts += other.conflicts;
        self.errors += other.errors;
        self.excluded += other.excluded;
        self.deleted += other.deleted;
        self.skipped += other.skipped;
        self.outcomes.extend(other.outcomes);
        self.warnings.extend(other.warnings);
    }

    pub(crate) fn warn(&mut self, warning: String) {
        self.warnings.push(warning);
    }

    /// The outcomes of one entity.
    pub fn outcomes_of_item<'a>(
        &'a self,
        item: &'a ItemId,
    ) -> impl Iterator<Item = &'a EntityOutcome> {
        self.outcomes
            .iter()
            .filter(move |o| o.item.as_ref() == Some(item))
    }

    /// A one-line summary.
    pub fn summary(&self) -> String {
        format!(
            "created={} updated={} unchanged={} conflicts={} errors={} excluded={} deleted={} skipped={}",
            self.created,
            self.updated,
            self.unchanged,
            self.conflicts,
            self.errors,
            self.excluded,
            self.deleted,
            self.skipped
        )
    }
}

/// One write a dry run would make.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "write")]
pub enum PlannedWrite {
    /// Create a host item.
    CreateItem {
        /// The provider record it comes from.
        external: Option<ExternalId>,
    },
    /// Change a host item.
    UpdateItem {
        /// The item.
        item: ItemId,
        /// The field changes.
        changes: Vec<FieldChange>,
        /// Whether the parent changes.
        reparent: bool,
        /// The new active flag, when it changes.
        active: Option<bool>,
    },
    /// Delete a host item.
    DeleteItem {
        /// The item.
        item: ItemId,
    },
    /// Create a provider record.
    CreateRemote {
        /// The object type.
        object: ObjectType,
        /// The host item it comes from.
        item: ItemId,
    },
    /// Change a provider record.
    UpdateRemote {
        /// The object type.
        object: ObjectType,
        /// The record.
        external: ExternalId,
        /// The field changes.
        changes: Vec<FieldChange>,
        /// Whether the parent changes.
        reparent: bool,
    },
    /// Link a host item to a provider record.
    Link {
        /// The item.
        item: ItemId,
        /// The record.
        external: ExternalId,
    },
}

/// What a dry run found: the writes it would make and the conflicts it would record.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    /// The writes, in order.
    pub writes: Vec<PlannedWrite>,
    /// The conflicts.
    pub conflicts: Vec<ConflictRecord>,
    /// The report the run would give.
    pub report: SyncReport,
}
