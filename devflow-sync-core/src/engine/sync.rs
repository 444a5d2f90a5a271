//! The per-entity steps every operation shares: reconcile a linked pair, take in a
//! provider record, push a host item, handle a provider delete.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;

use tracing::Instrument;

use super::config::{DeletionPolicy, ImportMode};
use super::ctx::{Ctx, Target};
use super::report::Outcome;
use crate::error::{Error, Result};
use crate::hierarchy::{Candidate, Placement, Violation, ViolationKind};
use crate::merge::{FieldConflict, MergeSide, diff, three_way};
use crate::model::{ExternalId, FieldChange, FieldValue, Fields, ItemId, ItemKind, Record};
use crate::provider::{NewRemote, RemoteRecord, RemoteUpdate};
use crate::store::{
    ConflictRecord, ConflictStatus, ConflictType, Exclusion, ItemUpdate, Link, Snapshot, WorkItem,
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
        let base_f = with_parent(&link.base.fields, link.base.parent.as_ref());
        let local_f = with_parent(&local.record.fields, local.record.parent.as_ref());
        let remote_f = with_parent(&remote.record.fields, remote_parent_id.as_ref());
        let out = three_way(
            &base_f,
            MergeSide::new(&local_f, local.record.updated_at),
            MergeSide::new(&remote_f, remote.record.updated_at),
            ctx.e.policy.as_ref(),
        );
        let (local_changes, mut local_parent) = split_parent(out.local_changes);
        let (remote_changes, remote_parent_change) = split_parent(out.remote_changes);
        let mut new_base = out.base;

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
            ctx.record_conflict(record).await?;
            conflicts += 1;
        }

        let mut wrote = false;
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

/// Takes in one provider record (from a pull page or a webhook) and records its outcome.
pub(crate) async fn sync_remote(ctx: &mut Ctx<'_>, t: &Target, remote: RemoteRecord) -> Result<()> {
    t.trace();
    let span = tracing::debug_span!("entity", external = %remote.id, item = tracing::field::Empty);
    let (item, outcome, detail) = sync_remote_inner(ctx, t, &remote)
        .instrument(span.clone())
        .await?;
    if let Some(item) = &item {
        span.record("item", item.as_str());
    }
    tracing::debug!(external = %remote.id, outcome = ?outcome, "provider record synced");
    ctx.report
        .record(item.as_ref(), Some(&remote.id), outcome, detail);
    Ok(())
}

async fn sync_remote_inner(
    ctx: &mut Ctx<'_>,
    t: &Target,
    remote: &RemoteRecord,
) -> Result<(Option<ItemId>, Outcome, Option<String>)> {
    if ctx
        .is_excluded(t, &Exclusion::External(remote.id.clone()))
        .await?
    {
        return Ok((None, Outcome::Excluded, None));
    }
    if let Some(link) = ctx.link_by_external(t, &remote.id).await? {
        let item = Some(link.item.clone());
        if ctx
            .is_excluded(t, &Exclusion::Item(link.item.clone()))
            .await?
        {
            return Ok((item, Outcome::Excluded, None));
        }
        let local = ctx.item(&link.item).await?;
        if remote.deleted {
            let outcome = remote_deleted(ctx, t, &link, local.as_ref()).await?;
            return Ok((item, outcome, None));
        }
        if !link.base.remote_deleted
            && link.base.remote_version.is_some()
            && link.base.remote_version == remote.record.version
        {
            // Already applied: an echo of the engine's own write, a duplicate delivery,
            // or a record listed again by the lookback window.
            return Ok((item, Outcome::Unchanged, None));
        }
        let Some(local) = local else {
            return Ok((
                item,
                Outcome::Skipped,
                Some("the host item no longer exists".into()),
            ));
        };
        let outcome = reconcile(ctx, t, link, local, remote.clone()).await?;
        return Ok((item, outcome, None));
    }
    if remote.deleted {
        return Ok((
            None,
            Outcome::Skipped,
            Some("deleted before it was linked".into()),
        ));
    }
    // A record the engine created whose link was lost (a crash between the create and
    // the link): link it rather than import a duplicate.
    if let Some(marker) = &remote.marker {
        if let Some(local) = ctx.item(marker).await? {
            if ctx.link_by_item(t, marker).await?.is_none() {
                let outcome = link_existing(ctx, t, local, remote.clone()).await?;
                return Ok((Some(marker.clone()), outcome, None));
            }
        }
    }
    import(ctx, t, remote).await
}

/// Links a host item to a record made for it by an earlier, unfinished create, then
/// merges them.
async fn link_existing(
    ctx: &mut Ctx<'_>,
    t: &Target,
    local: WorkItem,
    remote: RemoteRecord,
) -> Result<Outcome> {
    let parent = remote_parent(ctx, t, &remote).await?.as_item();
    let base_fields = with_parent(&remote.record.fields, parent.as_ref());
    let mut base = snapshot(ctx, base_fields, &local, &remote);
    // Nothing is agreed on the host side yet: let the merge push the host's values.
    base.local_version = None;
    let link = Link {
        item: local.id.clone(),
        remote: t.external_ref(&remote),
        base,
    };
    ctx.insert_link(t, &link).await?;
    ctx.clear_intent(t, &local.id).await?;
    reconcile(ctx, t, link, local, remote).await?;
    Ok(Outcome::Linked)
}

async fn import(
    ctx: &mut Ctx<'_>,
    t: &Target,
    remote: &RemoteRecord,
) -> Result<(Option<ItemId>, Outcome, Option<String>)> {
    let strict = ctx.e.config.import_mode == ImportMode::Strict;
    let parent = remote_parent(ctx, t, remote).await?;
    let parent_id = parent.as_item();
    let violation = match remote.record.kind {
        Some(kind) => {
            let known = match &parent {
                RemoteParent::Item(p) => placements(ctx, Some(p)).await?,
                _ => HashMap::new(),
            };
            let candidate = Candidate::new(kind)
                .parent(parent_id.as_ref())
                .created_outside_host(strict);
            ctx.e.rules.validate(&candidate, &known).err()
        }
        None if strict => Some(outside_host_without_kind(t, remote)),
        None => None,
    };
    if let Some(v) = violation {
        let record = conflict_from_violation(ctx, t, &v, None, remote);
        let id = ctx.record_conflict(record).await?;
        return Ok((
            None,
            Outcome::Conflict,
            Some(format!("conflict {id}: {}", v.message)),
        ));
    }
    let item = import_as(ctx, t, remote, parent_id).await?;
    Ok((Some(item), Outcome::Imported, None))
}

fn outside_host_without_kind(t: &Target, remote: &RemoteRecord) -> Violation {
    Violation {
        kind: ViolationKind::CreatedOutsideHost,
        item: Some(remote.id.to_string()),
        item_kind: ItemKind::Task,
        parent: None,
        parent_kind: None,
        valid_parents: crate::hierarchy::KindSet::empty(),
        message: format!("{} {} was created outside the host", t.object, remote.id),
        suggested_action: "Import it into the host, or link it to an existing item".into(),
    }
}

/// Creates the host item for a provider record and links them; settles the conflicts
/// recorded for the record while it could not be imported.
pub(crate) async fn import_as(
    ctx: &mut Ctx<'_>,
    t: &Target,
    remote: &RemoteRecord,
    parent: Option<ItemId>,
) -> Result<ItemId> {
    let record = Record {
        object: ctx.e.config.host_object.clone(),
        kind: remote.record.kind,
        parent: parent.clone(),
        fields: remote.record.fields.clone(),
        updated_at: remote.record.updated_at,
        version: None,
    };
    let local = ctx.host_create(t, &remote.id, record).await?;
    let base = snapshot(
        ctx,
        with_parent(&remote.record.fields, parent.as_ref()),
        &local,
        remote,
    );
    let link = Link {
        item: local.id.clone(),
        remote: t.external_ref(remote),
        base,
    };
    if let Err(e) = ctx.insert_link(t, &link).await {
        // Someone linked the record meanwhile: drop the copy rather than keep a duplicate.
        if matches!(e, Error::AlreadyExists(_)) {
            ctx.host_delete(t, &local.id).await?;
        }
        return Err(e);
    }
    if !ctx.dry_run {
        let pending = ctx
            .e
            .journal
            .conflicts(&t.connection, Some(ConflictStatus::Pending))
            .await?;
        for c in pending.iter().filter(|c| {
            c.object == t.object
                && c.external.as_ref() == Some(&remote.id)
                && c.conflict_type != ConflictType::Field
        }) {
            ctx.settle_conflict(&c.id, ConflictStatus::Resolved, "imported")
                .await?;
        }
    }
    Ok(local.id)
}

/// Checks a host item's place in the hierarchy before it goes out.
async fn check_local(
    ctx: &mut Ctx<'_>,
    local: &WorkItem,
    previous_kind: Option<ItemKind>,
) -> Result<()> {
    let Some(kind) = local.record.kind else {
        return Ok(());
    };
    let known = placements(ctx, local.record.parent.as_ref()).await?;
    let candidate = Candidate::new(kind)
        .id(&local.id)
        .parent(local.record.parent.as_ref())
        .previous_kind(previous_kind);
    ctx.e.rules.validate(&candidate, &known)?;
    Ok(())
}

/// The provider id of a host item, pushing it first when it is not linked yet.
pub(crate) async fn ensure_linked(
    ctx: &mut Ctx<'_>,
    t: &Target,
    item: &ItemId,
) -> Result<ExternalId> {
    if let Some(link) = ctx.link_by_item(t, item).await? {
        return Ok(link.remote.id);
    }
    push_one(ctx, t, item, 0).await?.ok_or_else(|| {
        Error::not_found(format!(
            "item {item} could not be linked in {}/{}",
            t.connection, t.object
        ))
    })
}

/// How deep parents are pushed before giving up (a loop the rules let through).
const MAX_PARENT_DEPTH: usize = 64;

/// Pushes one host item (and, first, any parent not linked yet); records its outcome.
/// Returns the provider id when the item is linked afterwards.
pub(crate) fn push_one<'a, 'c>(
    ctx: &'a mut Ctx<'c>,
    t: &'a Target,
    id: &'a ItemId,
    depth: usize,
) -> Pin<Box<dyn Future<Output = Result<Option<ExternalId>>> + Send + 'a>>
where
    'c: 'a,
{
    Box::pin(async move {
        if depth > MAX_PARENT_DEPTH {
            return Err(Error::invalid_input(
                id.as_str(),
                "the parent chain is too deep or loops",
            ));
        }
        t.trace();
        let span = tracing::debug_span!("entity", item = %id);
        let result = push_inner(ctx, t, id, depth).instrument(span).await;
        match &result {
            Ok((external, outcome)) => {
                ctx.report
                    .record(Some(id), external.as_ref(), outcome.clone(), None);
            }
            Err(e) => {
                ctx.report
                    .record(Some(id), None, Outcome::Failed, Some(e.to_string()));
            }
        }
        result.map(|(external, _)| external)
    })
}

async fn push_inner(
    ctx: &mut Ctx<'_>,
    t: &Target,
    id: &ItemId,
    depth: usize,
) -> Result<(Option<ExternalId>, Outcome)> {
    if ctx.is_excluded(t, &Exclusion::Item(id.clone())).await? {
        return Ok((None, Outcome::Excluded));
    }
    let local = reload_local(ctx, id).await?;
    if let Some(link) = ctx.link_by_item(t, id).await? {
        let ext = link.remote.id.clone();
        if ctx
            .is_excluded(t, &Exclusion::External(ext.clone()))
            .await?
        {
            return Ok((Some(ext), Outcome::Excluded));
        }
        if link.base.remote_deleted {
            return Ok((Some(ext), Outcome::Skipped));
        }
        if local.record.version.is_some() && local.record.version == link.base.local_version {
            return Ok((Some(ext), Outcome::Unchanged));
        }
        check_local(ctx, &local, link.base.kind).await?;
        if let Some(outcome) = push_against_base(ctx, t, &link, &local).await? {
            return Ok((Some(ext), outcome));
        }
        let outcome = match ctx.get_remote_opt(t, &ext).await? {
            Some(remote) => reconcile(ctx, t, link, local, remote).await?,
            None => remote_deleted(ctx, t, &link, Some(&local)).await?,
        };
        return Ok((Some(ext), outcome));
    }

    check_local(ctx, &local, None).await?;
    if !local.active {
        return Ok((None, Outcome::Skipped));
    }
    let parent = match &local.record.parent {
        Some(p) => Some(match ctx.link_by_item(t, p).await? {
            Some(link) => link.remote.id,
            None => push_one(ctx, t, p, depth + 1).await?.ok_or_else(|| {
                Error::not_found(format!("parent {p} of {id} could not be pushed"))
            })?,
        }),
        None => None,
    };
    // A create that may have happened before (a timeout, a crash): look for its marker.
    let earlier = if t.caps.markers
        && ctx
            .e
            .mappings
            .intent(&t.connection, &t.object, id)
            .await?
            .is_some()
    {
        ctx.find_by_marker(t, id).await?
    } else {
        None
    };
    if let Some(remote) = earlier {
        let ext = remote.id.clone();
        let outcome = link_existing(ctx, t, local, remote).await?;
        return Ok((Some(ext), outcome));
    }
    ctx.put_intent(t, id).await?;
    let new = NewRemote {
        kind: local.record.kind,
        parent,
        fields: local.record.fields.clone(),
        marker: id.clone(),
    };
    let remote = ctx.remote_create(t, &new).await?;
    let base = snapshot(
        ctx,
        with_parent(&local.record.fields, local.record.parent.as_ref()),
        &local,
        &remote,
    );
    let link = Link {
        item: id.clone(),
        remote: t.external_ref(&remote),
        base,
    };
    ctx.insert_link(t, &link).await?;
    ctx.clear_intent(t, id).await?;
    let ext = remote.id.clone();
    if remote.record.fields != local.record.fields {
        // The provider normalised or added fields: take them in.
        reconcile(ctx, t, link, local, remote).await?;
    }
    Ok((Some(ext), Outcome::Created))
}

/// Sends the host's changes since the base with the base's version as the expected
/// one. `None` when the provider's record moved on (or cannot be updated
/// conditionally): then the caller re-reads and merges.
async fn push_against_base(
    ctx: &mut Ctx<'_>,
    t: &Target,
    link: &Link,
    local: &WorkItem,
) -> Result<Option<Outcome>> {
    let Some(expected) = link.base.remote_version.clone() else {
        return Ok(None);
    };
    if !t.caps.conditional_update {
        return Ok(None);
    }
    let base_f = with_parent(&link.base.fields, link.base.parent.as_ref());
    let local_f = with_parent(&local.record.fields, local.record.parent.as_ref());
    let (changes, parent) = split_parent(diff(&base_f, &local_f));
    let parent = match parent {
        Some(Some(p)) => Some(Some(ensure_linked(ctx, t, &p).await?)),
        Some(None) => Some(None),
        None => None,
    };
    let update = RemoteUpdate { changes, parent };
    // The record as the base knows it: what an update applies to.
    let current = RemoteRecord {
        id: link.remote.id.clone(),
        url: link.remote.url.clone(),
        record: Record {
            object: t.object.clone(),
            kind: link.base.kind,
            parent: None,
            fields: link.base.fields.clone(),
            updated_at: link.base.remote_updated_at.unwrap_or_else(|| ctx.now()),
            version: Some(expected.clone()),
        },
        marker: None,
        deleted: false,
    };
    let remote = if update.is_empty() {
        current
    } else {
        match ctx
            .remote_update(t, &current, Some(&local.id), &update, Some(&expected))
            .await
        {
            Ok(remote) => remote,
            Err(Error::Precondition(_)) => return Ok(None),
            Err(Error::NotFound(_)) => {
                return remote_deleted(ctx, t, link, Some(local)).await.map(Some);
            }
            Err(e) => return Err(e),
        }
    };
    let base = snapshot(ctx, local_f, local, &remote);
    ctx.update_base(t, &local.id, &base).await?;
    Ok(Some(if update.is_empty() {
        Outcome::Unchanged
    } else {
        Outcome::Updated
    }))
}
