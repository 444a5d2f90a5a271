//! Settling recorded conflicts.

use serde::{Deserialize, Serialize};

use super::ctx::{Ctx, Target};
use super::report::Outcome;
use super::sync::{PARENT_FIELD, ensure_linked, import_as, push_one, reconcile, snapshot};
use crate::error::{Error, Result};
use crate::hierarchy::Candidate;
use crate::model::{FieldChange, FieldValue, ItemId, ItemKind, Record};
use crate::provider::RemoteUpdate;
use crate::store::{ConflictRecord, ConflictStatus, ConflictType, Exclusion, ItemUpdate};

/// How a person settles a conflict.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "resolution")]
pub enum Resolution {
    /// Import the provider record under this host parent; the provider record is moved
    /// under the parent's record too.
    LinkToParent {
        /// The host parent.
        parent: ItemId,
    },
    /// Create a host parent, push it, then link the record under it.
    CreateParent {
        /// The parent's kind.
        kind: ItemKind,
        /// The parent's title.
        title: String,
        /// The parent's own parent, for kinds that need one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        parent: Option<ItemId>,
    },
    /// Import the record as it is (its place in the hierarchy must be valid).
    Import,
    /// Keep the record in the provider only: exclude it from sync both ways.
    KeepExternal,
    /// For a field: the host's value goes to every side.
    UseHost,
    /// For a field: the value of the conflict's own provider record goes to every side.
    UseRemote,
    /// For a field: this value goes to both sides.
    UseValue {
        /// The value.
        value: FieldValue,
    },
    /// For a field in conflict in several systems: the value one side held (`host` or a
    /// connection id, as listed in the conflict's `sides`) goes to every side.
    UseSide {
        /// The side.
        side: String,
    },
    /// Dismiss the conflict; nothing changes.
    Ignore,
}

impl Resolution {
    fn name(&self) -> &'static str {
        match self {
            Resolution::LinkToParent { .. } => "link_to_parent",
            Resolution::CreateParent { .. } => "create_parent",
            Resolution::Import => "import",
            Resolution::KeepExternal => "keep_external",
            Resolution::UseHost => "use_host",
            Resolution::UseRemote => "use_remote",
            Resolution::UseValue { .. } => "use_value",
            Resolution::UseSide { .. } => "use_side",
            Resolution::Ignore => "ignore",
        }
    }
}

pub(crate) async fn resolve(ctx: &mut Ctx<'_>, id: &str, resolution: Resolution) -> Result<()> {
    let conflict = ctx
        .e
        .journal
        .conflict(id)
        .await?
        .ok_or_else(|| Error::not_found(format!("conflict {id}")))?;
    if conflict.status != ConflictStatus::Pending {
        return Err(Error::precondition(format!("conflict {id} is not pending")));
    }
    let t = ctx.e.target(&conflict.connection, &conflict.object)?;
    match &resolution {
        Resolution::Ignore => {
            ctx.settle_conflict(id, ConflictStatus::Ignored, "ignore")
                .await?;
        }
        Resolution::KeepExternal => {
            if let Some(ext) = &conflict.external {
                ctx.exclude(&t, &Exclusion::External(ext.clone())).await?;
            }
            if let Some(item) = &conflict.item {
                ctx.exclude(&t, &Exclusion::Item(item.clone())).await?;
            }
            ctx.settle_conflict(id, ConflictStatus::Resolved, resolution.name())
                .await?;
            ctx.report.record(
                conflict.item.as_ref(),
                conflict.external.as_ref(),
                Outcome::Excluded,
                None,
            );
        }
        Resolution::LinkToParent { .. } | Resolution::CreateParent { .. } | Resolution::Import => {
            link_record(ctx, &t, &conflict, &resolution).await?;
        }
        Resolution::UseHost
        | Resolution::UseRemote
        | Resolution::UseValue { .. }
        | Resolution::UseSide { .. } => {
            settle_field(ctx, &t, &conflict, &resolution).await?;
        }
    }
    Ok(())
}

async fn link_record(
    ctx: &mut Ctx<'_>,
    t: &Target,
    conflict: &ConflictRecord,
    resolution: &Resolution,
) -> Result<()> {
    if conflict.conflict_type == ConflictType::Field {
        return Err(Error::invalid_input(
            "resolution",
            format!(
                "{} settles a record that was not imported, not a field conflict",
                resolution.name()
            ),
        ));
    }
    let ext = conflict
        .external
        .clone()
        .ok_or_else(|| Error::invalid_input("external", "the conflict names no provider record"))?;
    if let Some(link) = ctx.link_by_external(t, &ext).await? {
        return Err(Error::precondition(format!(
            "record {ext} is already linked to item {}",
            link.item
        )));
    }
    let mut remote = ctx.get_remote(t, &ext).await?;
    let parent = match resolution {
        Resolution::LinkToParent { parent } => Some(parent.clone()),
        Resolution::CreateParent {
            kind,
            title,
            parent,
        } => {
            // Check both new links before creating anything.
            if let Some(child) = remote.record.kind {
                let placeholder = ItemId::new("new parent");
                let lookup = crate::hierarchy::FnLookup(|_: &ItemId| Some(*kind));
                ctx.e
                    .rules
                    .validate(&Candidate::new(child).parent(Some(&placeholder)), &lookup)?;
            }
            let mut known = std::collections::HashMap::new();
            if let Some(p) = parent {
                if let Some(item) = ctx.e.items.get(p).await? {
                    if let Some(k) = item.record.kind {
                        known.insert(
                            p.clone(),
                            crate::hierarchy::Placement::new(k, item.record.parent),
                        );
                    }
                }
            }
            ctx.e
                .rules
                .validate(&Candidate::new(*kind).parent(parent.as_ref()), &known)?;
            let record = Record::new(ctx.e.config.host_object.clone(), ctx.now())
                .with_kind(*kind)
                .with_field("title", title.as_str());
            let record = match parent {
                Some(p) => record.with_parent(p.clone()),
                None => record,
            };
            let created = if ctx.dry_run {
                ItemId::new(format!("planned-parent-{}", conflict.id))
            } else {
                ctx.e.items.create(None, record).await?.id
            };
            if !ctx.dry_run {
                push_one(ctx, t, &created, 0).await?;
            }
            Some(created)
        }
        _ => match &remote.record.parent {
            Some(p) => Some(
                ctx.link_by_external(t, p)
                    .await?
                    .map(|l| l.item)
                    .ok_or_else(|| {
                        Error::precondition(format!("parent record {p} is not linked yet"))
                    })?,
            ),
            None => None,
        },
    };
    if let Some(kind) = remote.record.kind {
        let known = match &parent {
            Some(p) => {
                let mut map = std::collections::HashMap::new();
                if let Some(item) = ctx.e.items.get(p).await? {
                    if let Some(k) = item.record.kind {
                        map.insert(
                            p.clone(),
                            crate::hierarchy::Placement::new(k, item.record.parent),
                        );
                    }
                }
                map
            }
            None => std::collections::HashMap::new(),
        };
        ctx.e
            .rules
            .validate(&Candidate::new(kind).parent(parent.as_ref()), &known)?;
    }
    // The provider record moves under the parent's record.
    if let Some(p) = &parent {
        let parent_ext = ensure_linked(ctx, t, p).await?;
        if remote.record.parent.as_ref() != Some(&parent_ext) {
            let update = RemoteUpdate {
                changes: Vec::new(),
                parent: Some(Some(parent_ext)),
                related: None,
            };
            remote = ctx.remote_update(t, &remote, None, &update, None).await?;
        }
    }
    ctx.settle_conflict(&conflict.id, ConflictStatus::Resolved, resolution.name())
        .await?;
    let item = import_as(ctx, t, &remote, parent).await?;
    ctx.report
        .record(Some(&item), Some(&ext), Outcome::Imported, None);
    Ok(())
}

async fn settle_field(
    ctx: &mut Ctx<'_>,
    t: &Target,
    conflict: &ConflictRecord,
    resolution: &Resolution,
) -> Result<()> {
    let field = conflict.field.clone().ok_or_else(|| {
        Error::invalid_input("field", "only a field conflict can take a field value")
    })?;
    let item = conflict
        .item
        .clone()
        .ok_or_else(|| Error::invalid_input("item", "the conflict names no host item"))?;
    if field == PARENT_FIELD {
        return Err(Error::not_supported(
            "settling a parent conflict by value; use link_to_parent or move the item",
        ));
    }
    let mut local = ctx
        .e
        .items
        .get(&item)
        .await?
        .ok_or_else(|| Error::not_found(format!("work item {item}")))?;
    // Every system of the conflict: its own, then the other sides'.
    let mut targets = vec![t.clone()];
    for side in &conflict.sides {
        if let (Some(connection), Some(object)) = (&side.connection, &side.object) {
            if connection != &t.connection {
                targets.push(ctx.e.target(connection, object)?);
            }
        }
    }
    let value = match resolution {
        Resolution::UseHost => local.record.fields.get(&field).clone(),
        Resolution::UseRemote => {
            let link = linked(ctx, t, &item).await?;
            ctx.get_remote(t, &link.remote.id)
                .await?
                .record
                .fields
                .get(&field)
                .clone()
        }
        Resolution::UseValue { value } => value.clone(),
        Resolution::UseSide { side } => conflict
            .sides
            .iter()
            .find(|s| &s.side == side)
            .map(|s| s.value.clone())
            .ok_or_else(|| {
                Error::invalid_input(
                    "side",
                    format!(
                        "conflict {} has no side {side:?}; its sides are {}",
                        conflict.id,
                        conflict
                            .sides
                            .iter()
                            .map(|s| s.side.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                )
            })?,
        _ => unreachable_resolution(resolution)?,
    };
    let local_now = local.record.fields.get(&field).clone();
    if local_now != value {
        let update = ItemUpdate {
            changes: vec![FieldChange::new(field.as_str(), local_now, value.clone())],
            ..ItemUpdate::default()
        };
        local = ctx.host_update(t, &local, update, None).await?;
    }
    // Each system gets the value and agrees on it; a failure leaves the conflict
    // pending, and settling it again writes only where the value is still missing.
    let mut agreed = Vec::with_capacity(targets.len());
    for target in &targets {
        let (link, remote) = write_value(ctx, target, &item, &local, &field, &value).await?;
        agreed.push((target, link, remote));
    }
    ctx.settle_conflict(&conflict.id, ConflictStatus::Resolved, resolution.name())
        .await?;
    for (target, link, remote) in agreed {
        let local = ctx
            .e
            .items
            .get(&item)
            .await?
            .ok_or_else(|| Error::not_found(format!("work item {item}")))?;
        let outcome = reconcile(ctx, target, link, local, remote).await?;
        ctx.report.record(
            Some(&item),
            Some(&link_external(target, conflict)),
            outcome,
            None,
        );
    }
    Ok(())
}

fn link_external(target: &Target, conflict: &ConflictRecord) -> crate::model::ExternalId {
    conflict
        .sides
        .iter()
        .find(|s| s.connection.as_ref() == Some(&target.connection))
        .and_then(|s| s.external.clone())
        .or_else(|| conflict.external.clone())
        .unwrap_or_else(|| crate::model::ExternalId::new(""))
}

async fn linked(ctx: &mut Ctx<'_>, t: &Target, item: &ItemId) -> Result<crate::store::Link> {
    ctx.link_by_item(t, item)
        .await?
        .ok_or_else(|| Error::not_found(format!("link of item {item} in {}", t.connection)))
}

/// Writes `value` to `field` of the record linked to `item` through `t` (when it differs)
/// and makes it the agreed value of the link's base.
async fn write_value(
    ctx: &mut Ctx<'_>,
    t: &Target,
    item: &ItemId,
    local: &crate::store::WorkItem,
    field: &str,
    value: &FieldValue,
) -> Result<(crate::store::Link, crate::provider::RemoteRecord)> {
    let mut link = linked(ctx, t, item).await?;
    let mut remote = ctx.get_remote(t, &link.remote.id).await?;
    let remote_now = remote.record.fields.get(field).clone();
    if &remote_now != value {
        let update = RemoteUpdate {
            changes: vec![FieldChange::new(field, remote_now, value.clone())],
            parent: None,
            related: None,
        };
        remote = ctx
            .remote_update(t, &remote, Some(item), &update, None)
            .await?;
    }
    // Both sides now hold the value: it is agreed. Other fields merge as usual.
    let mut agreed = link.base.fields.clone();
    agreed.insert(field, value.clone());
    if let Some(p) = &link.base.parent {
        agreed.insert(PARENT_FIELD, FieldValue::Text(p.to_string()));
    }
    let mut base = snapshot(ctx, agreed, local, &remote);
    // Versions stay those of the last agreement so other pending edits still merge.
    base.local_version = link.base.local_version.clone();
    base.remote_version = link.base.remote_version.clone();
    link.base = base;
    ctx.update_base(t, item, &link.base).await?;
    Ok((link, remote))
}

fn unreachable_resolution(resolution: &Resolution) -> Result<FieldValue> {
    Err(Error::invalid_input(
        "resolution",
        format!("{} does not give a field value", resolution.name()),
    ))
}
