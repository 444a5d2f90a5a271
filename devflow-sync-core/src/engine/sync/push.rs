//! Pushing one host item: its place checked, parents first, created with a marker or
//! merged into its linked record.

use std::future::Future;
use std::pin::Pin;

use tracing::Instrument;

use super::announce::announce;
use super::import::link_existing;
use super::*;
use crate::engine::ctx::{Ctx, Target};
use crate::engine::report::Outcome;
use crate::error::{Error, Result};
use crate::hierarchy::Candidate;
use crate::merge::diff;
use crate::model::{ExternalId, ItemId, ItemKind, Record};
use crate::provider::{NewRemote, RemoteRecord, RemoteUpdate};
use crate::store::{Exclusion, Link, WorkItem};

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
    if !t.carries_record(&local.record) {
        return Ok((None, Outcome::Skipped));
    }
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
    let parent_synced = t.parent_synced(&ctx.e.rules, local.record.kind);
    let parent = match local.record.parent.as_ref().filter(|_| parent_synced) {
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
    let related = if ctx.dry_run {
        Vec::new()
    } else {
        ctx.e
            .mappings
            .links_of_item(id)
            .await?
            .into_iter()
            .map(|l| l.remote)
            .filter(|r| !(r.connection == t.connection && r.object == t.object))
            .collect()
    };
    let new = NewRemote {
        kind: local.record.kind,
        parent,
        fields: local.record.fields.clone(),
        marker: id.clone(),
        related,
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
    if remote.record.fields != t.scope(&local.record.fields) {
        // The provider normalised or added fields: take them in.
        reconcile(ctx, t, link, local, remote).await?;
    }
    announce(ctx, t, id).await?;
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
    let base_f = with_parent(&t.scope(&link.base.fields), link.base.parent.as_ref());
    let local_f = with_parent(&t.scope(&local.record.fields), local.record.parent.as_ref());
    let (changes, parent) = split_parent(diff(&base_f, &local_f));
    let parent = parent.filter(|_| t.parent_synced(&ctx.e.rules, local.record.kind));
    let mut local_f = local_f;
    let parent = match parent {
        Some(Some(p)) => match ensure_linked(ctx, t, &p).await {
            Ok(ext) => Some(Some(ext)),
            // The new parent cannot reach this system (an ancestor deleted elsewhere):
            // the move waits on a conflict, the other changes go on, and the base keeps
            // the parent this system has.
            Err(Error::NotFound(why)) => {
                parent_blocked(ctx, t, &local.id, &link.remote.id, &why).await?;
                match &link.base.parent {
                    Some(old) => local_f.insert(PARENT_FIELD, FieldValue::Text(old.to_string())),
                    None => local_f.remove(PARENT_FIELD),
                };
                None
            }
            Err(e) => return Err(e),
        },
        Some(None) => Some(None),
        None => None,
    };
    let update = RemoteUpdate {
        changes,
        parent,
        related: None,
    };
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

/// Reads a linked item's record back and merges it (a "sync now" of an item the host
/// did not change); pushes it when it is not linked yet.
pub(crate) async fn refresh_one(ctx: &mut Ctx<'_>, t: &Target, id: &ItemId) -> Result<()> {
    let Some(link) = ctx.link_by_item(t, id).await? else {
        return push_one(ctx, t, id, 0).await.map(|_| ());
    };
    let local = reload_local(ctx, id).await?;
    let ext = link.remote.id.clone();
    let outcome = match ctx.get_remote_opt(t, &ext).await? {
        Some(remote) => reconcile(ctx, t, link, local, remote).await?,
        None => remote_deleted(ctx, t, &link, Some(&local)).await?,
    };
    ctx.report.record(Some(id), Some(&ext), outcome, None);
    Ok(())
}

/// Records that an item's new parent cannot be synced through `t` (it could not be
/// pushed there: an ancestor was deleted elsewhere, say).
async fn parent_blocked(
    ctx: &mut Ctx<'_>,
    t: &Target,
    item: &ItemId,
    external: &ExternalId,
    why: &str,
) -> Result<()> {
    let now = ctx.now();
    let record = crate::store::ConflictRecord {
        id: String::new(),
        connection: t.connection.clone(),
        provider: t.key.clone(),
        object: t.object.clone(),
        item: Some(item.clone()),
        external: Some(external.clone()),
        conflict_type: crate::store::ConflictType::HierarchyViolation,
        field: None,
        base: FieldValue::Null,
        local: FieldValue::Null,
        remote: FieldValue::text(why),
        message: "The new parent cannot be synced here".into(),
        suggested_action:
            "Restore the parent's own parent, or move the item under a parent that syncs".into(),
        sides: Vec::new(),
        status: crate::store::ConflictStatus::Pending,
        resolution: None,
        created_at: now,
        updated_at: now,
    };
    ctx.record_conflict(record).await.map(|_| ())
}
