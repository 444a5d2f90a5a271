//! The per-entity steps every operation shares: reconcile a linked pair, take in a
//! provider record, push a host item, handle a provider delete. Taking in provider
//! records is in [`import`], pushing host items in [`push`].

use std::collections::HashMap;

use super::config::DeletionPolicy;
use super::ctx::{Ctx, Target};
use super::report::Outcome;
use crate::error::{Error, Result};
use crate::hierarchy::{Candidate, Placement, Violation, ViolationKind};
use crate::merge::{FieldConflict, MergeSide, three_way};
use crate::model::{ExternalId, FieldChange, FieldValue, Fields, ItemId};
use crate::provider::{RemoteRecord, RemoteUpdate};
use crate::store::{
    ConflictRecord, ConflictStatus, ConflictType, ItemUpdate, Link, Snapshot, WorkItem,
};

/// The parent link travels through the three-way merge as this pseudo-field, so a
/// reparent on one side merges like any other field.
pub(crate) const PARENT_FIELD: &str = "@parent";

fn with_parent(fields: &Fields, parent: Option<&ItemId>) -> Fields {
    let mut out = fields.clone();
    if let Some(parent) = parent {
        out.insert(PARENT_FIELD, FieldValue::Text(parent.to_string()));
    }
    out
}

fn parent_value(value: &FieldValue) -> Option<ItemId> {
    value.as_str().map(ItemId::new)
}

/// Splits the parent pseudo-field out of a list of changes.
fn split_parent(changes: Vec<FieldChange>) -> (Vec<FieldChange>, Option<Option<ItemId>>) {
    let mut parent = None;
    let fields = changes
        .into_iter()
        .filter_map(|c| {
            if c.field == PARENT_FIELD {
                parent = Some(parent_value(&c.new));
                None
            } else {
                Some(c)
            }
        })
        .collect();
    (fields, parent)
}

/// Splits a merged base into fields and parent.
fn split_base(mut fields: Fields) -> (Fields, Option<ItemId>) {
    let parent = fields.remove(PARENT_FIELD).as_ref().and_then(parent_value);
    (fields, parent)
}

/// A provider record's parent, seen from the host.
enum RemoteParent {
    None,
    Item(ItemId),
    Unknown(ExternalId),
}

impl RemoteParent {
    /// The parent as a host id; an unknown record gets a placeholder no lookup knows.
    fn as_item(&self) -> Option<ItemId> {
        match self {
            RemoteParent::None => None,
            RemoteParent::Item(id) => Some(id.clone()),
            RemoteParent::Unknown(ext) => Some(ItemId::new(format!("external:{ext}"))),
        }
    }
}

async fn remote_parent(ctx: &Ctx<'_>, t: &Target, remote: &RemoteRecord) -> Result<RemoteParent> {
    Ok(match &remote.record.parent {
        None => RemoteParent::None,
        Some(ext) => match ctx.item_of_external(t, ext).await? {
            Some(item) => RemoteParent::Item(item),
            None => RemoteParent::Unknown(ext.clone()),
        },
    })
}

/// The kinds and parents the rules need to judge a link to `parent`: the parent, and
/// its ancestors when the rules let kinds nest (only then can a loop form).
async fn placements(
    ctx: &mut Ctx<'_>,
    parent: Option<&ItemId>,
) -> Result<HashMap<ItemId, Placement<ItemId>>> {
    let mut out = HashMap::new();
    if !ctx.e.rules.may_nest() {
        // Only the parent's kind matters, and kinds do not change within a run.
        if let Some(id) = parent {
            let kind = match ctx.kinds.get(id) {
                Some(kind) => Some(*kind),
                None => {
                    let kind = ctx.item(id).await?.and_then(|i| i.record.kind);
                    if let Some(kind) = kind {
                        ctx.kinds.insert(id.clone(), kind);
                    }
                    kind
                }
            };
            if let Some(kind) = kind {
                out.insert(id.clone(), Placement::new(kind, None));
            }
        }
        return Ok(out);
    }
    let mut next = parent.cloned();
    for _ in 0..64 {
        let Some(id) = next.take() else { break };
        if out.contains_key(&id) {
            break;
        }
        if let Some(item) = ctx.item(&id).await? {
            if let Some(kind) = item.record.kind {
                next = item.record.parent.clone();
                out.insert(id, Placement::new(kind, item.record.parent));
            }
        }
    }
    Ok(out)
}

fn conflict_from_violation(
    ctx: &Ctx<'_>,
    t: &Target,
    v: &Violation,
    item: Option<&ItemId>,
    remote: &RemoteRecord,
) -> ConflictRecord {
    let now = ctx.now();
    ConflictRecord {
        id: String::new(),
        connection: t.connection.clone(),
        provider: t.key.clone(),
        object: t.object.clone(),
        item: item.cloned(),
        external: Some(remote.id.clone()),
        conflict_type: if v.kind == ViolationKind::CreatedOutsideHost {
            ConflictType::ExternalCreation
        } else {
            ConflictType::HierarchyViolation
        },
        field: None,
        base: FieldValue::Null,
        local: FieldValue::Null,
        remote: serde_json::to_value(remote).map_or(FieldValue::Null, FieldValue::Json),
        message: v.message.clone(),
        suggested_action: v.suggested_action.clone(),
        sides: Vec::new(),
        status: ConflictStatus::Pending,
        resolution: None,
        created_at: now,
        updated_at: now,
    }
}

fn field_conflict(
    ctx: &Ctx<'_>,
    t: &Target,
    c: &FieldConflict,
    item: &ItemId,
    external: &ExternalId,
) -> ConflictRecord {
    let now = ctx.now();
    let field = if c.field == PARENT_FIELD {
        "parent"
    } else {
        c.field.as_str()
    };
    ConflictRecord {
        id: String::new(),
        connection: t.connection.clone(),
        provider: t.key.clone(),
        object: t.object.clone(),
        item: Some(item.clone()),
        external: Some(external.clone()),
        conflict_type: ConflictType::Field,
        field: Some(c.field.clone()),
        base: c.base.clone(),
        local: c.local.clone(),
        remote: c.remote.clone(),
        message: match c.line {
            Some(line) => format!("Both sides edited {field} at line {line}"),
            None => format!("Both sides changed {field}"),
        },
        suggested_action: "Keep the host value, keep the provider value, or enter a value".into(),
        sides: Vec::new(),
        status: ConflictStatus::Pending,
        resolution: None,
        created_at: now,
        updated_at: now,
    }
}

pub(crate) fn snapshot(
    ctx: &Ctx<'_>,
    base: Fields,
    local: &WorkItem,
    remote: &RemoteRecord,
) -> Snapshot {
    let (fields, parent) = split_base(base);
    snapshot_of(ctx, fields, parent, local, remote)
}

/// [`snapshot`] from fields and a parent kept apart (no pseudo-field to add and take
/// out again, so the fields are shared, not copied).
pub(crate) fn snapshot_of(
    ctx: &Ctx<'_>,
    fields: Fields,
    parent: Option<ItemId>,
    local: &WorkItem,
    remote: &RemoteRecord,
) -> Snapshot {
    Snapshot {
        fields,
        parent,
        kind: local.record.kind,
        local_version: local.record.version.clone(),
        remote_version: remote.record.version.clone(),
        remote_updated_at: Some(remote.record.updated_at),
        remote_deleted: remote.deleted,
        synced_at: ctx.now(),
    }
}

/// Merges a linked pair three ways against its base, writes each side what it lacks,
/// records conflicts and saves the new base. A version mismatch on either write re-reads
/// and merges again.
pub(crate) async fn reconcile(
    ctx: &mut Ctx<'_>,
    t: &Target,
    link: Link,
    mut local: WorkItem,
    mut remote: RemoteRecord,
) -> Result<Outcome> {
    for _ in 0..ctx.e.config.max_merge_attempts.max(1) {
        if remote.deleted {
            return remote_deleted(ctx, t, &link, Some(&local)).await;
        }
        // A record that was gone and is back: the item its deletion made inactive
        // comes back too (an item the host itself deactivated stays so).
        let mut reactivated = false;
        if link.base.remote_deleted
            && !local.active
            && ctx.e.config.deletion_policy == DeletionPolicy::MarkInactiveKeepLink
        {
            // Only if the provider has it now: a stale delivery's copy is no return.
            match ctx.get_remote_opt(t, &remote.id).await? {
                Some(fresh) if !fresh.deleted => remote = fresh,
                _ => return remote_deleted(ctx, t, &link, Some(&local)).await,
            }
            let update = ItemUpdate {
                active: Some(true),
                ..ItemUpdate::default()
            };
            local = ctx.host_update(t, &local, update, None).await?;
            reactivated = true;
        }
        let mut conflicts = 0;
        let parent = remote_parent(ctx, t, &remote).await?;
        let remote_parent_id = match &parent {
            RemoteParent::Unknown(_) => {
                // The provider moved it under a record the host does not know: keep the
                // agreed parent and say so.
                if let Some(kind) = remote.record.kind.or(local.record.kind) {
                    let v = ctx
                        .e
                        .rules
                        .validate(
                            &Candidate::new(kind)
                                .id(&local.id)
                                .parent(parent.as_item().as_ref()),
                            &HashMap::new(),
                        )
                        .err();
                    if let Some(v) = v {
                        let record = conflict_from_violation(ctx, t, &v, Some(&local.id), &remote);
                        ctx.record_conflict(record).await?;
                        conflicts += 1;
                    }
                }
                link.base.parent.clone()
            }
            other => other.as_item(),
        };
        // Only what this binding syncs: fields of other bindings are not this one's to
        // clear, and a parent of a kind it does not carry is not its to change.
        let (base_parent, remote_parent_id) =
            if t.parent_synced(&ctx.e.rules, local.record.kind.or(remote.record.kind)) {
                (link.base.parent.clone(), remote_parent_id)
            } else {
                (local.record.parent.clone(), local.record.parent.clone())
            };
        let base_f = with_parent(&t.scope(&link.base.fields), base_parent.as_ref());
        let local_f = with_parent(&t.scope(&local.record.fields), local.record.parent.as_ref());
        let remote_f = with_parent(&remote.record.fields, remote_parent_id.as_ref());
        let mut out = three_way(
            &base_f,
            MergeSide::new(&local_f, local.record.updated_at),
            MergeSide::new(&remote_f, remote.record.updated_at),
            ctx.e.policy.as_ref(),
        );
        strategy::apply(t.mapping.as_deref(), &base_f, &local_f, &remote_f, &mut out);
        let (local_changes, mut local_parent) = split_parent(out.local_changes);
        let (mut remote_changes, mut remote_parent_change) = split_parent(out.remote_changes);
        let mut new_base = out.base;
        // Nothing goes to a provider that takes no writes, nor into fields mapped to be
        // read only; what stays unwritten keeps the provider's value as the agreed one,
        // so the host's own value is not taken for a provider change next time.
        let writable = |field: &str| {
            t.caps.update
                && t.mapping.as_deref().is_none_or(|m| {
                    m.fields
                        .iter()
                        .filter(|f| f.host_field == field)
                        .all(|f| f.direction != crate::mapping::MappingDirection::Pull)
                })
        };
        remote_changes.retain(|c| {
            let keep = writable(&c.field);
            if !keep {
                new_base.insert(c.field.as_str(), remote_f.get(&c.field).clone());
            }
            keep
        });
        if !t.caps.update {
            remote_parent_change = None;
        }

        // A parent that comes from the provider must be a legal one for the host.
        if let (Some(new_parent), Some(kind)) = (&local_parent, local.record.kind) {
            let known = placements(ctx, new_parent.as_ref()).await?;
            let candidate = Candidate::new(kind)
                .id(&local.id)
                .parent(new_parent.as_ref());
            if let Err(v) = ctx.e.rules.validate(&candidate, &known) {
                let record = conflict_from_violation(ctx, t, &v, Some(&local.id), &remote);
                ctx.record_conflict(record).await?;
                conflicts += 1;
                local_parent = None;
                match &link.base.parent {
                    Some(p) => new_base.insert(PARENT_FIELD, FieldValue::Text(p.to_string())),
                    None => new_base.remove(PARENT_FIELD),
                };
            }
        }
        for c in &out.conflicts {
            let record = field_conflict(ctx, t, c, &local.id, &remote.id);
            group::record_field_conflict(ctx, t, record, &local, &remote).await?;
            conflicts += 1;
        }

        let mut wrote = reactivated;
        if !local_changes.is_empty() || local_parent.is_some() {
            let update = ItemUpdate {
                changes: local_changes,
                parent: local_parent,
                active: None,
            };
            let expected = local.record.version.clone();
            match ctx.host_update(t, &local, update, expected.as_ref()).await {
                Ok(updated) => local = updated,
                Err(Error::Precondition(_)) => {
                    local = reload_local(ctx, &local.id).await?;
                    continue;
                }
                Err(e) => return Err(e),
            }
            wrote = true;
        }
        if !remote_changes.is_empty() || remote_parent_change.is_some() {
            let parent = match remote_parent_change {
                Some(Some(p)) => Some(Some(ensure_linked(ctx, t, &p).await?)),
                Some(None) => Some(None),
                None => None,
            };
            let update = RemoteUpdate {
                changes: remote_changes,
                parent,
                related: None,
            };
            let expected = if t.caps.conditional_update {
                remote.record.version.clone()
            } else {
                None
            };
            match ctx
                .remote_update(t, &remote, Some(&local.id), &update, expected.as_ref())
                .await
            {
                Ok(updated) => remote = updated,
                Err(Error::Precondition(_)) => {
                    remote = ctx.get_remote(t, &remote.id).await?;
                    local = reload_local(ctx, &local.id).await?;
                    continue;
                }
                Err(e) => return Err(e),
            }
            wrote = true;
        }
        // A field conflict whose sides now agree (a person made them so, in either
        // system) closes by itself. Looked at only while the connection has pending
        // conflicts at all.
        if !ctx.dry_run && !ctx.no_pending.contains(&t.connection) {
            let pending = ctx.pending_conflicts(t).await?;
            if pending.is_empty() {
                // None for this run to close (until it records one).
                ctx.no_pending.insert(t.connection.clone());
            }
            let agreed: Vec<ConflictRecord> = pending
                .into_iter()
                .filter(|c| {
                    c.conflict_type == ConflictType::Field && c.item.as_ref() == Some(&local.id)
                })
                .filter(|c| {
                    c.field.as_deref().is_some_and(|f| {
                        !out.conflicts.iter().any(|x| x.field == f)
                            && (local_f.get(f) != base_f.get(f) || remote_f.get(f) != base_f.get(f))
                    })
                })
                .collect();
            for c in agreed {
                let value = new_base.get(c.field.as_deref().unwrap_or_default()).clone();
                if group::agrees_everywhere(ctx, t, &c, &value).await? {
                    ctx.settle_conflict(&c.id, ConflictStatus::Resolved, "the sides agree")
                        .await?;
                }
            }
        }
        // Conflicts other systems hold about this item, with this system as a side.
        if !ctx.dry_run {
            group::update_groups(ctx, t, &local.id, |f| {
                (!out.conflicts.iter().any(|x| x.field == f)).then(|| new_base.get(f).clone())
            })
            .await?;
        }
        let base = snapshot(ctx, new_base, &local, &remote);
        ctx.update_base(t, &local.id, &base).await?;
        return Ok(if conflicts > 0 {
            Outcome::Conflict
        } else if wrote {
            Outcome::Updated
        } else {
            Outcome::Unchanged
        });
    }
    Err(Error::precondition(format!(
        "item {} kept changing during the merge; gave up after {} attempts",
        local.id, ctx.e.config.max_merge_attempts
    )))
}

async fn reload_local(ctx: &Ctx<'_>, id: &ItemId) -> Result<WorkItem> {
    ctx.item(id)
        .await?
        .ok_or_else(|| Error::not_found(format!("work item {id}")))
}

/// Applies the deletion policy to a linked pair whose provider record is gone.
pub(crate) async fn remote_deleted(
    ctx: &mut Ctx<'_>,
    t: &Target,
    link: &Link,
    local: Option<&WorkItem>,
) -> Result<Outcome> {
    if link.base.remote_deleted {
        return Ok(Outcome::Unchanged);
    }
    let mut base = link.base.clone();
    base.remote_deleted = true;
    base.synced_at = ctx.now();
    match ctx.e.config.deletion_policy {
        DeletionPolicy::MarkInactiveKeepLink => {
            if let Some(local) = local.filter(|l| l.active) {
                let update = ItemUpdate {
                    active: Some(false),
                    ..ItemUpdate::default()
                };
                let updated = ctx.host_update(t, local, update, None).await?;
                base.local_version = updated.record.version;
            }
            ctx.update_base(t, &link.item, &base).await?;
            Ok(Outcome::MarkedInactive)
        }
        DeletionPolicy::Propagate => {
            ctx.host_delete(t, &link.item).await?;
            ctx.delete_link(t, &link.item).await?;
            Ok(Outcome::Deleted)
        }
        DeletionPolicy::Ignore => {
            ctx.update_base(t, &link.item, &base).await?;
            Ok(Outcome::Skipped)
        }
    }
}

pub(crate) mod announce;
mod group;
mod import;
mod push;
mod strategy;

pub(crate) use import::{import_as, sync_remote};
pub(crate) use push::{ensure_linked, push_one, refresh_one};
