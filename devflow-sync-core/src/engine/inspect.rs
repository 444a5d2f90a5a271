//! Looking without syncing: a dry run ([`SyncEngine::plan`]), an item's state in each
//! system ([`SyncEngine::status`]), and taking a connection out ([`SyncEngine::disconnect`]).

use super::*;

/// A request for a dry run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PlanRequest {
    /// What a push of one item would do.
    Push {
        /// The connection.
        connection: ConnectionId,
        /// The provider object.
        object: ObjectType,
        /// The item.
        item: ItemId,
    },
    /// What a pull would do.
    Pull {
        /// The connection.
        connection: ConnectionId,
        /// The provider object.
        object: ObjectType,
    },
}

/// One item's sync state with one connection: what a host's "sync status" badge shows.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ItemStatus {
    /// The connection.
    pub connection: ConnectionId,
    /// The provider.
    pub provider: ProviderKey,
    /// The provider object.
    pub object: ObjectType,
    /// The linked record, if any.
    pub external: Option<ExternalRef>,
    /// Linked, no host change waiting and no pending conflict.
    pub synced: bool,
    /// When both sides last agreed.
    pub last_synced_at: Option<DateTime<Utc>>,
    /// Whether the provider record was deleted.
    pub remote_deleted: bool,
    /// The pending conflicts of the item.
    pub pending_conflicts: Vec<ConflictRecord>,
}

/// What [`SyncEngine::disconnect`] did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DisconnectReport {
    /// Whether the provider revoked the grant (false where it cannot).
    pub revoked: bool,
    /// How many stored rows were deleted by the purge.
    pub purged_rows: usize,
}

impl SyncEngine {
    /// A dry run: goes through the same steps, reading both sides, and returns the
    /// writes it would make and the conflicts it would record. Writes nothing.
    pub async fn plan(&self, request: PlanRequest) -> Result<Plan> {
        let (report, ctx) = match &request {
            PlanRequest::Push {
                connection,
                object,
                item,
            } => {
                self.push_with(connection, object, item, Trigger::User, true)
                    .await?
            }
            PlanRequest::Pull { connection, object } => {
                let t = self.inner.target(connection, object)?;
                let partial = self.inner.mapping_check(connection, object)?;
                self.run(
                    "pull",
                    Some(connection),
                    Trigger::User,
                    true,
                    |mut ctx| async move {
                        ctx.partial = partial;
                        let result = pull::pull(&mut ctx, &t, PullBudget::UNLIMITED).await;
                        (ctx, result)
                    },
                )
                .await?
            }
        };
        Ok(Plan {
            writes: ctx.planned,
            conflicts: ctx.planned_conflicts,
            report,
        })
    }

    /// An item's sync state with every connection bound to the engine.
    pub async fn status(&self, item: &ItemId) -> Result<Vec<ItemStatus>> {
        let e = &*self.inner;
        let local = e.items.get(item).await?;
        let mut out = Vec::new();
        for binding in &e.bindings() {
            let link = e
                .mappings
                .link_by_item(&binding.connection, &binding.object, item)
                .await?;
            let pending: Vec<ConflictRecord> = e
                .journal
                .conflicts(&binding.connection, Some(ConflictStatus::Pending))
                .await?
                .into_iter()
                .filter(|c| {
                    c.object == binding.object
                        && (c.item.as_ref() == Some(item)
                            || link
                                .as_ref()
                                .is_some_and(|l| c.external.as_ref() == Some(&l.remote.id)))
                })
                .collect();
            let synced = link.as_ref().is_some_and(|l| {
                local.as_ref().map(|i| &i.record.version) == Some(&l.base.local_version)
            }) && pending.is_empty();
            out.push(ItemStatus {
                connection: binding.connection.clone(),
                provider: binding.provider.clone(),
                object: binding.object.clone(),
                synced,
                last_synced_at: link.as_ref().map(|l| l.base.synced_at),
                remote_deleted: link.as_ref().is_some_and(|l| l.base.remote_deleted),
                external: link.map(|l| l.remote),
                pending_conflicts: pending,
            });
        }
        Ok(out)
    }

    /// Disconnects a connection: revokes the grant where the provider can, deletes its
    /// tokens and marks it disabled. With `purge`, also deletes its links, base
    /// snapshots, cursors, exclusions and journal rows.
    pub async fn disconnect(
        &self,
        connection: &ConnectionId,
        purge: bool,
    ) -> Result<DisconnectReport> {
        let e = &*self.inner;
        let mut report = DisconnectReport::default();
        let mut providers: Vec<ProviderKey> = e
            .bindings()
            .into_iter()
            .filter(|b| &b.connection == connection)
            .map(|b| b.provider)
            .collect();
        providers.dedup();
        for key in providers {
            if let Some(p) = e.provider_for(connection, &key) {
                match p.revoke(connection).await {
                    Ok(()) => report.revoked = true,
                    Err(Error::NotSupported(_)) => {}
                    Err(err) => {
                        tracing::warn!(connection = %connection, error = %err, "revoke failed; tokens are deleted anyway");
                    }
                }
            }
        }
        e.tokens.delete(connection).await?;
        if purge {
            report.purged_rows += e.mappings.purge_connection(connection).await?;
            report.purged_rows += e.journal.purge_connection(connection).await?;
        }
        let mut health = ConnectionHealth::new(connection.clone());
        health.status = ConnectionStatus::Disabled;
        e.journal.put_health(&health).await?;
        Ok(report)
    }
}
