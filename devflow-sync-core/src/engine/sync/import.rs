//! Taking in one provider record: link, merge or import it, or record why not.

use std::collections::HashMap;

use tracing::Instrument;

use super::*;
use crate::engine::config::ImportMode;
use crate::engine::ctx::{Ctx, Target};
use crate::engine::report::Outcome;
use crate::error::{Error, Result};
use crate::hierarchy::{Candidate, Violation, ViolationKind};
use crate::model::{ItemId, ItemKind, Record};
use crate::provider::RemoteRecord;
use crate::store::{ConflictStatus, ConflictType, Exclusion, Link, WorkItem};

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
    if !t.carries(remote.record.kind) {
        let detail = format!("connection {} does not carry this level", t.connection);
        return Ok((None, Outcome::Skipped, Some(detail)));
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
pub(super) async fn link_existing(
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
    let strict = t.import_mode.unwrap_or(ctx.e.config.import_mode) == ImportMode::Strict;
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
    // With a page store, the item and its link are written in one transaction even
    // outside a pull page: a crash can never leave the item without its link.
    if !ctx.begin_single().await? {
        return import_unheld(ctx, t, remote, parent).await;
    }
    match import_unheld(ctx, t, remote, parent).await {
        Ok(id) => {
            ctx.flush_page(t, None).await?;
            Ok(id)
        }
        Err(e) => {
            ctx.drop_page();
            Err(e)
        }
    }
}

async fn import_unheld(
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
    let base = snapshot_of(
        ctx,
        remote.record.fields.clone(),
        parent.clone(),
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
        let pending = ctx.pending_conflicts(t).await?;
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
