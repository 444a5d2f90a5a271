//! Per-field strategies of a binding's mapping ([`FieldStrategy`]) applied to a
//! three-way merge's outcome: the provider's value always, the host's when it diverged,
//! or the provider's only while the host has none.

use crate::mapping::{FieldStrategy, ObjectMapping};
use crate::merge::MergeOutcome;
use crate::model::{FieldChange, Fields};

/// Settles the fields of `mapping` that have a strategy other than the merge: their
/// conflicts, the writes to each side and the agreed value (`base`).
pub(crate) fn apply(
    mapping: Option<&ObjectMapping>,
    base: &Fields,
    local: &Fields,
    remote: &Fields,
    out: &mut MergeOutcome,
) {
    let Some(mapping) = mapping else {
        return;
    };
    for entry in mapping
        .fields
        .iter()
        .filter(|f| f.strategy != FieldStrategy::Merge)
    {
        let field = entry.host_field.as_str();
        let (b, l, r) = (base.get(field), local.get(field), remote.get(field));
        // What the host ends with; the provider is never written for these fields.
        let keep = match entry.strategy {
            FieldStrategy::ProviderWins => r.clone(),
            FieldStrategy::HostWins => {
                if l != b {
                    l.clone()
                } else {
                    r.clone()
                }
            }
            FieldStrategy::WriteOnce => {
                if l.is_null() {
                    r.clone()
                } else {
                    l.clone()
                }
            }
            FieldStrategy::Merge => continue,
        };
        out.conflicts.retain(|c| c.field != field);
        out.remote_changes.retain(|c| c.field != field);
        out.local_changes.retain(|c| c.field != field);
        if &keep != l {
            out.local_changes
                .push(FieldChange::new(field, l.clone(), keep.clone()));
        }
        // The provider's value is the agreed one: a later change there is seen as one.
        out.base.insert(field, r.clone());
        out.merged.insert(field, keep);
    }
}
