//! What changed on each side, and how two sides' changes combine.
//!
//! [`diff`] lists the field changes between two versions. [`three_way`] merges the host's
//! and the provider's versions of a record against the base both last agreed on:
//!
//! - a field changed on one side takes that side's value;
//! - a field changed the same way on both sides is no conflict;
//! - a set (labels, assignees) takes the adds and removes of both sides;
//! - a long text keeps both sides' edits when they touch different lines;
//! - anything else changed differently on both sides, and long texts whose edits
//!   overlap, go to the [`ConflictPolicy`].
//!
//! ```
//! use devflow_sync_core::merge::{three_way, Manual};
//! use devflow_sync_core::model::{FieldValue, Fields};
//!
//! let base = Fields::new()
//!     .with("title", "Checkout")
//!     .with("labels", FieldValue::set(["web", "p2"]));
//! // The host renamed it and dropped "p2"; the provider added "backend".
//! let local = Fields::new()
//!     .with("title", "Checkout v2")
//!     .with("labels", FieldValue::set(["web"]));
//! let remote = Fields::new()
//!     .with("title", "Checkout")
//!     .with("labels", FieldValue::set(["web", "p2", "backend"]));
//!
//! let out = three_way(&base, &local, &remote, &Manual);
//! assert!(out.conflicts.is_empty());
//! assert_eq!(out.merged.get("title").as_str(), Some("Checkout v2"));
//! assert_eq!(out.merged.get("labels"), &FieldValue::set(["backend", "web"]));
//! // What to write where:
//! assert_eq!(out.local_changes.len(), 1); // labels gain "backend"
//! assert_eq!(out.remote_changes.len(), 2); // title, and labels lose "p2"
//! ```

mod policy;
mod text;

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub use crate::model::FieldChange;
use crate::model::{FieldValue, Fields, Record, zip3};
pub use policy::{
    ConflictPolicy, ConflictReason, Decision, FieldContext, HostWins, LastWriterWins, Manual,
    PerField, PreserveLocal, RemoteWins, Side, WriteOnce,
};

/// The changes that turn `a` into `b`, one per field whose value differs, in field
/// order. An absent field counts as [`FieldValue::Null`].
///
/// ```
/// use devflow_sync_core::merge::diff;
/// use devflow_sync_core::model::{FieldChange, FieldValue, Fields};
/// let a = Fields::new().with("title", "A").with("points", 3);
/// let b = Fields::new().with("title", "B").with("points", 3).with("due", FieldValue::Null);
/// assert_eq!(diff(&a, &b), vec![FieldChange::new("title", "A", "B")]);
/// ```
pub fn diff(a: &Fields, b: &Fields) -> Vec<FieldChange> {
    let mut changes = Vec::new();
    for (name, [old, new, _]) in zip3(a, b, Fields::empty()) {
        if old != new {
            changes.push(FieldChange::new(name, old.clone(), new.clone()));
        }
    }
    changes
}

/// One side of a merge: its fields and, for [`LastWriterWins`], when it last changed.
#[derive(Clone, Copy, Debug)]
pub struct MergeSide<'a> {
    /// The side's fields.
    pub fields: &'a Fields,
    /// When the side's record last changed, if known.
    pub updated_at: Option<DateTime<Utc>>,
}

impl<'a> MergeSide<'a> {
    /// A side with its fields and update time.
    pub fn new(fields: &'a Fields, updated_at: DateTime<Utc>) -> Self {
        Self {
            fields,
            updated_at: Some(updated_at),
        }
    }
}

impl<'a> From<&'a Fields> for MergeSide<'a> {
    fn from(fields: &'a Fields) -> Self {
        Self {
            fields,
            updated_at: None,
        }
    }
}

impl<'a, P> From<&'a Record<P>> for MergeSide<'a> {
    fn from(record: &'a Record<P>) -> Self {
        Self {
            fields: &record.fields,
            updated_at: Some(record.updated_at),
        }
    }
}

/// A field left for a person: both sides changed it and the policy did not decide.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldConflict {
    /// The field name.
    pub field: String,
    /// The value both sides last agreed on.
    pub base: FieldValue,
    /// The host's value.
    pub local: FieldValue,
    /// The provider's value.
    pub remote: FieldValue,
    /// Why the merge could not decide.
    pub reason: ConflictReason,
    /// For overlapping text edits, the first base line (1-based) where they clash.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
}

/// The result of [`three_way`].
///
/// Applying `local_changes` to the host and `remote_changes` to the provider makes both
/// equal to `merged`, except for the fields in `conflicts` (both keep their value until
/// a person decides) and in `diverged` (a policy chose to let each side keep its own).
/// `base` is the snapshot to store as what both sides now agree on.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MergeOutcome {
    /// The host's fields after the merge.
    pub merged: Fields,
    /// The new base snapshot. Conflicted and diverged fields keep their old base, so
    /// they are seen again on the next merge.
    pub base: Fields,
    /// What to write to the host, in field order.
    pub local_changes: Vec<FieldChange>,
    /// What to write to the provider, in field order.
    pub remote_changes: Vec<FieldChange>,
    /// Fields left for a person, in field order.
    pub conflicts: Vec<FieldConflict>,
    /// Fields each side keeps differently on purpose ([`Decision::KeepBoth`]).
    pub diverged: Vec<String>,
}

impl MergeOutcome {
    /// Whether the merge writes nothing and leaves nothing open.
    pub fn is_noop(&self) -> bool {
        self.local_changes.is_empty() && self.remote_changes.is_empty() && self.conflicts.is_empty()
    }
}

/// Merges the host's (`local`) and the provider's (`remote`) versions of a record
/// against `base`, deciding fields both changed with `policy`. See the [module
/// docs](self) for the rules. Deterministic: the same inputs give the same outcome.
pub fn three_way<'a, P>(
    base: &Fields,
    local: impl Into<MergeSide<'a>>,
    remote: impl Into<MergeSide<'a>>,
    policy: &P,
) -> MergeOutcome
where
    P: ConflictPolicy + ?Sized,
{
    let (local, remote) = (local.into(), remote.into());
    let capacity = local.fields.len().max(remote.fields.len());
    let mut out = Builder {
        merged: Vec::with_capacity(capacity),
        base: Vec::with_capacity(capacity),
        ..Builder::default()
    };
    for (name, [b, l, r]) in zip3(base, local.fields, remote.fields) {
        let context = |reason| FieldContext {
            field: name,
            base: b,
            local: l,
            remote: r,
            local_updated_at: local.updated_at,
            remote_updated_at: remote.updated_at,
            reason,
        };

        let mut reason = ConflictReason::BothChanged;
        let mut line = None;
        let decision = if l == r {
            // Unchanged, or the same change on both sides.
            Decision::TakeLocal
        } else if l == b {
            policy.one_sided(&context(reason), Side::Remote)
        } else if r == b {
            policy.one_sided(&context(reason), Side::Local)
        } else if let Some(set) = merge_sets(b, l, r) {
            Decision::Take(set)
        } else {
            match merge_texts(b, l, r) {
                Some(Ok(text)) => Decision::Take(text),
                Some(Err(at)) => {
                    reason = ConflictReason::TextOverlap;
                    line = Some(at);
                    policy.resolve(&context(reason))
                }
                None => policy.resolve(&context(reason)),
            }
        };

        match decision {
            Decision::TakeLocal => out.take(name, l, l, r),
            Decision::TakeRemote => out.take(name, r, l, r),
            Decision::Take(value) => out.take(name, &value, l, r),
            Decision::KeepBoth => {
                out.diverged.push(name.to_owned());
                out.keep(name, b, l);
            }
            Decision::Conflict => {
                out.conflicts.push(FieldConflict {
                    field: name.to_owned(),
                    base: b.clone(),
                    local: l.clone(),
                    remote: r.clone(),
                    reason,
                    line,
                });
                out.keep(name, b, l);
            }
        }
    }
    out.finish()
}

/// Collects a merge's results in name order; the fields are built once at the end.
#[derive(Default)]
struct Builder {
    merged: Vec<(String, FieldValue)>,
    base: Vec<(String, FieldValue)>,
    local_changes: Vec<FieldChange>,
    remote_changes: Vec<FieldChange>,
    conflicts: Vec<FieldConflict>,
    diverged: Vec<String>,
}

impl Builder {
    /// Both sides end up with `value`, which becomes the base.
    fn take(&mut self, name: &str, value: &FieldValue, l: &FieldValue, r: &FieldValue) {
        if l != value {
            self.local_changes
                .push(FieldChange::new(name, l.clone(), value.clone()));
        }
        if r != value {
            self.remote_changes
                .push(FieldChange::new(name, r.clone(), value.clone()));
        }
        push_unless_null(&mut self.merged, name, value);
        push_unless_null(&mut self.base, name, value);
    }

    /// Each side keeps its value and the base stays.
    fn keep(&mut self, name: &str, b: &FieldValue, l: &FieldValue) {
        push_unless_null(&mut self.merged, name, l);
        push_unless_null(&mut self.base, name, b);
    }

    fn finish(self) -> MergeOutcome {
        MergeOutcome {
            merged: self.merged.into_iter().collect(),
            base: self.base.into_iter().collect(),
            local_changes: self.local_changes,
            remote_changes: self.remote_changes,
            conflicts: self.conflicts,
            diverged: self.diverged,
        }
    }
}

fn push_unless_null(fields: &mut Vec<(String, FieldValue)>, name: &str, value: &FieldValue) {
    if !value.is_null() {
        fields.push((name.to_owned(), value.clone()));
    }
}

/// Merges sets by both sides' adds and removes, when all three values are sets (or
/// null, read as the empty set).
fn merge_sets(b: &FieldValue, l: &FieldValue, r: &FieldValue) -> Option<FieldValue> {
    fn as_set(v: &FieldValue) -> Option<Option<&BTreeSet<String>>> {
        match v {
            FieldValue::Null => Some(None),
            FieldValue::Set(s) => Some(Some(s)),
            _ => None,
        }
    }
    let (b, l, r) = (as_set(b)?, as_set(l)?, as_set(r)?);
    if l.is_none() && r.is_none() {
        return None;
    }
    let empty = BTreeSet::new();
    let (b, l, r) = (
        b.unwrap_or(&empty),
        l.unwrap_or(&empty),
        r.unwrap_or(&empty),
    );
    // Keep a member unless a side removed it; add what either side added.
    let merged: BTreeSet<String> = b
        .iter()
        .filter(|m| l.contains(*m) && r.contains(*m))
        .chain(l.iter().filter(|m| !b.contains(*m)))
        .chain(r.iter().filter(|m| !b.contains(*m)))
        .cloned()
        .collect();
    Some(FieldValue::Set(merged))
}

/// Merges long texts line by line, when all three values are long texts (or null, read
/// as the empty text). `Err` carries the first overlapping base line.
fn merge_texts(
    b: &FieldValue,
    l: &FieldValue,
    r: &FieldValue,
) -> Option<Result<FieldValue, usize>> {
    fn as_text(v: &FieldValue) -> Option<Option<&str>> {
        match v {
            FieldValue::Null => Some(None),
            FieldValue::LongText(s) => Some(Some(s)),
            _ => None,
        }
    }
    let (b, l, r) = (as_text(b)?, as_text(l)?, as_text(r)?);
    if l.is_none() || r.is_none() {
        // Clearing a text against an edit is a real disagreement, not a line merge.
        return None;
    }
    let merged = text::merge_lines(b.unwrap_or(""), l.unwrap_or(""), r.unwrap_or(""));
    Some(merged.map(FieldValue::LongText).map_err(|o| o.line))
}

#[cfg(test)]
mod tests;
