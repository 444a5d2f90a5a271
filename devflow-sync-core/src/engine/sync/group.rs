//! A field edited differently in the host and several systems is one conflict: the
//! first binding to find it records it with the host's side and its own; every other
//! binding that finds the same item and field in conflict adds its side to that record
//! instead of recording a second one.

use super::super::ctx::{Ctx, Target};
use crate::error::Result;
use crate::model::FieldValue;
use crate::provider::RemoteRecord;
use crate::store::{
    ConflictRecord, ConflictSide, ConflictStatus, ConflictType, HOST_SIDE, WorkItem,
    recommend_newest, upsert_side,
};

/// The side `t` holds in a conflict about `remote`.
fn own_side(t: &Target, remote: &RemoteRecord, value: FieldValue) -> ConflictSide {
    ConflictSide::system(
        (t.connection.clone(), t.key.clone(), t.object.clone()),
        remote.id.clone(),
        value,
        remote.record.updated_at,
    )
}

/// What a person reads about a field that differs in several places.
fn message(field: &str, sides: &[ConflictSide]) -> String {
    let names: Vec<&str> = sides.iter().map(|s| s.side.as_str()).collect();
    match names.len() {
        0..=2 => format!("Both sides changed {field}"),
        _ => format!("{field} differs in {}", names.join(", ")),
    }
}

/// Records the field conflict `record` found by binding `t`, grouped with any pending
/// conflict about the same item and field in another system. Returns the id kept.
pub(crate) async fn record_field_conflict(
    ctx: &mut Ctx<'_>,
    t: &Target,
    mut record: ConflictRecord,
    local: &WorkItem,
    remote: &RemoteRecord,
) -> Result<String> {
    let host = ConflictSide::host(record.local.clone(), local.record.updated_at);
    let own = own_side(t, remote, record.remote.clone());
    let pending = match (&record.item, ctx.dry_run) {
        (Some(item), false) => ctx
            .e
            .journal
            .item_conflicts(item, Some(ConflictStatus::Pending))
            .await?
            .into_iter()
            .filter(|c| c.conflict_type == ConflictType::Field && c.field == record.field)
            .collect(),
        _ => Vec::new(),
    };
    let Some(mut group) = pending.first().cloned() else {
        upsert_side(&mut record.sides, host);
        upsert_side(&mut record.sides, own);
        return ctx.record_conflict(record).await;
    };
    // The oldest pending conflict about this item and field holds every side.
    if group.sides.is_empty() {
        // Recorded before conflicts had sides: its own system's side from its values.
        if let Some(external) = group.external.clone() {
            let side = ConflictSide::system(
                (
                    group.connection.clone(),
                    group.provider.clone(),
                    group.object.clone(),
                ),
                external,
                group.remote.clone(),
                group.updated_at,
            );
            upsert_side(&mut group.sides, side);
        }
    }
    upsert_side(&mut group.sides, host);
    upsert_side(&mut group.sides, own);
    let field = record.field.clone().unwrap_or_default();
    group.message = message(&field, &group.sides);
    group.local = record.local.clone();
    group.updated_at = record.updated_at;
    if group.connection == t.connection {
        group.remote = record.remote.clone();
        group.external = record.external.clone();
        return ctx.record_conflict(group).await;
    }
    let id = ctx.e.journal.record_conflict(&group).await?;
    ctx.e.conflict_recorded(&id, &group).await;
    ctx.no_pending.remove(&group.connection);
    if let (Some(grouped), Some(item)) = (ctx.grouped.as_mut(), group.item.clone()) {
        grouped.insert(item);
    }
    // A record of this binding's own about the same field is folded into the group.
    for stale in pending.iter().skip(1) {
        if stale.connection == t.connection {
            ctx.settle_conflict(
                &stale.id,
                ConflictStatus::Ignored,
                &format!("merged into conflict {id}"),
            )
            .await?;
        }
    }
    Ok(id)
}

/// When binding `t` finds the sides of `conflict` agree for it now (its record holds
/// the host's value): `true` when the whole conflict is over; otherwise its sides are
/// brought up to date (this system and the host holding `agreed`) and it stays pending
/// for the systems that still differ.
pub(crate) async fn agrees_everywhere(
    ctx: &mut Ctx<'_>,
    t: &Target,
    conflict: &ConflictRecord,
    agreed: &FieldValue,
) -> Result<bool> {
    let others_differ = conflict.sides.iter().any(|s| {
        s.side != HOST_SIDE && s.connection.as_ref() != Some(&t.connection) && &s.value != agreed
    });
    if !others_differ {
        return Ok(true);
    }
    let mut kept = conflict.clone();
    let now = ctx.now();
    for side in &mut kept.sides {
        if side.side == HOST_SIDE || side.connection.as_ref() == Some(&t.connection) {
            side.value = agreed.clone();
            side.changed_at = now;
        }
    }
    let field = kept.field.clone().unwrap_or_default();
    kept.message = message(&field, &kept.sides);
    kept.updated_at = now;
    recommend_newest(&mut kept.sides);
    ctx.e.journal.record_conflict(&kept).await?;
    Ok(false)
}

/// Whether `item` has a pending field conflict spanning several systems in any
/// connection (all connections' pending conflicts read once per run).
pub(crate) async fn in_group(ctx: &mut Ctx<'_>, item: &crate::model::ItemId) -> Result<bool> {
    if ctx.dry_run {
        return Ok(false);
    }
    if ctx.grouped.is_none() {
        let mut connections: Vec<_> = ctx.e.bindings().into_iter().map(|b| b.connection).collect();
        connections.sort();
        connections.dedup();
        let mut items = std::collections::HashSet::new();
        for connection in connections {
            for c in ctx
                .e
                .journal
                .conflicts(&connection, Some(ConflictStatus::Pending))
                .await?
            {
                if c.conflict_type == ConflictType::Field && c.sides.len() > 2 {
                    items.extend(c.item);
                }
            }
        }
        ctx.grouped = Some(items);
    }
    Ok(ctx.grouped.as_ref().is_some_and(|g| g.contains(item)))
}

/// After binding `t` merged `item`: the conflicts about it that other connections hold
/// and that list `t`'s system as a side learn that `t` now agrees with the host on a
/// field (`agreed` gives the field's value where the host and `t` hold the same), and
/// close when every side agrees.
pub(crate) async fn update_groups(
    ctx: &mut Ctx<'_>,
    t: &Target,
    item: &crate::model::ItemId,
    agreed: impl Fn(&str) -> Option<FieldValue>,
) -> Result<()> {
    if !in_group(ctx, item).await? {
        return Ok(());
    }
    let foreign: Vec<ConflictRecord> = ctx
        .e
        .journal
        .item_conflicts(item, Some(ConflictStatus::Pending))
        .await?
        .into_iter()
        .filter(|c| {
            c.conflict_type == ConflictType::Field
                && c.connection != t.connection
                && c.sides
                    .iter()
                    .any(|s| s.connection.as_ref() == Some(&t.connection))
        })
        .collect();
    for conflict in foreign {
        let Some(value) = conflict.field.as_deref().and_then(&agreed) else {
            continue;
        };
        let mine = conflict
            .sides
            .iter()
            .find(|s| s.connection.as_ref() == Some(&t.connection));
        if mine.is_some_and(|s| s.value == value) {
            continue;
        }
        if agrees_everywhere(ctx, t, &conflict, &value).await? {
            ctx.settle_conflict(&conflict.id, ConflictStatus::Resolved, "the sides agree")
                .await?;
        }
    }
    Ok(())
}
