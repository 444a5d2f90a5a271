//! The provider side of a run: records read in the host's view, creates and updates
//! written (or, in a dry run, collected).

use std::time::Instant;

use crate::engine::report::PlannedWrite;
use crate::error::{Error, Result};
use crate::model::{ExternalId, FieldChange, Fields, ItemId, Record, Version};
use crate::provider::{NewRemote, RemoteRecord, RemoteUpdate};
use crate::store::Direction;

use super::{Ctx, RAW_KEPT, Target};

impl Ctx<'_> {
    /// A provider record as the engine works with it: in host field names when the
    /// binding has a mapping (its own fields are kept for later writes).
    pub(crate) fn host_view(&mut self, t: &Target, mut remote: RemoteRecord) -> RemoteRecord {
        if let Some(mapping) = &t.mapping {
            let host = mapping.to_host(&remote.record.fields);
            let raw = std::mem::replace(&mut remote.record.fields, host);
            if self.raw.len() >= RAW_KEPT && !self.raw.contains_key(&remote.id) {
                // Records read this long ago were handled already; a write to one
                // composes onto its host view instead.
                self.raw.clear();
            }
            self.raw.insert(remote.id.clone(), raw);
        }
        remote
    }

    /// Forgets the provider fields read so far (a pull, after applying a page).
    pub(crate) fn forget_raw(&mut self) {
        self.raw.clear();
        if self.raw.capacity() > RAW_KEPT {
            self.raw.shrink_to(RAW_KEPT);
        }
    }

    /// Reads a provider record, in the host's view.
    pub(crate) async fn get_remote(&mut self, t: &Target, id: &ExternalId) -> Result<RemoteRecord> {
        let remote = t.provider.get(&t.connection, &t.object, id).await?;
        Ok(self.host_view(t, remote))
    }

    /// Reads a provider record, `None` when it does not exist.
    pub(crate) async fn get_remote_opt(
        &mut self,
        t: &Target,
        id: &ExternalId,
    ) -> Result<Option<RemoteRecord>> {
        match self.get_remote(t, id).await {
            Ok(remote) => Ok(Some(remote)),
            Err(Error::NotFound(_)) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Finds the record a create for `marker` made, in the host's view.
    pub(crate) async fn find_by_marker(
        &mut self,
        t: &Target,
        marker: &ItemId,
    ) -> Result<Option<RemoteRecord>> {
        let found = t
            .provider
            .find_by_marker(&t.connection, &t.object, marker)
            .await?;
        Ok(found.map(|r| self.host_view(t, r)))
    }

    /// Provider field changes for host field changes of `current`.
    fn provider_changes(
        &self,
        t: &Target,
        current: &RemoteRecord,
        changes: &[FieldChange],
    ) -> Vec<FieldChange> {
        let Some(mapping) = &t.mapping else {
            return changes.to_vec();
        };
        let mut host = current.record.fields.clone();
        host.apply(changes);
        let before = match self.raw.get(&current.id) {
            Some(raw) => raw.clone(),
            None => mapping.to_provider(&current.record.fields, &Fields::new()),
        };
        let after = mapping.to_provider(&host, &before);
        crate::merge::diff(&before, &after)
    }

    pub(crate) async fn remote_create(
        &mut self,
        t: &Target,
        new: &NewRemote,
    ) -> Result<RemoteRecord> {
        let converted;
        let new = match &t.mapping {
            Some(mapping) => {
                converted = NewRemote {
                    fields: mapping.to_provider(&new.fields, &Fields::new()),
                    ..new.clone()
                };
                &converted
            }
            None => new,
        };
        if self.dry_run {
            self.planned.push(PlannedWrite::CreateRemote {
                object: t.object.clone(),
                item: new.marker.clone(),
            });
            let id = ExternalId::new(self.synthetic_id("remote"));
            return Ok(RemoteRecord {
                id,
                url: None,
                record: Record {
                    object: t.object.clone(),
                    kind: new.kind,
                    parent: new.parent.clone(),
                    fields: new.fields.clone(),
                    updated_at: self.now(),
                    version: None,
                },
                marker: Some(new.marker.clone()),
                deleted: false,
            });
        }
        let started = Instant::now();
        let result = t
            .provider
            .create(&t.connection, &t.object, new)
            .await
            .map(|r| self.host_view(t, r));
        let external = result.as_ref().ok().map(|r| r.id.clone());
        self.log(
            t,
            Some(&new.marker),
            external.as_ref(),
            "create",
            Direction::Push,
            &[],
            result.as_ref().map(|_| ()),
            started,
        )
        .await?;
        result
    }

    pub(crate) async fn remote_update(
        &mut self,
        t: &Target,
        current: &RemoteRecord,
        item: Option<&ItemId>,
        update: &RemoteUpdate,
        expected: Option<&Version>,
    ) -> Result<RemoteRecord> {
        if self.dry_run {
            self.planned.push(PlannedWrite::UpdateRemote {
                object: t.object.clone(),
                external: current.id.clone(),
                changes: update.changes.clone(),
                reparent: update.parent.is_some(),
            });
            let mut next = current.clone();
            next.record.fields.apply(&update.changes);
            if let Some(parent) = &update.parent {
                next.record.parent = parent.clone();
            }
            return Ok(next);
        }
        let started = Instant::now();
        let converted;
        let update = if t.mapping.is_some() {
            converted = RemoteUpdate {
                changes: self.provider_changes(t, current, &update.changes),
                parent: update.parent.clone(),
                related: update.related.clone(),
            };
            &converted
        } else {
            update
        };
        let result = t
            .provider
            .update(&t.connection, &t.object, &current.id, update, expected)
            .await
            .map(|r| self.host_view(t, r));
        self.log(
            t,
            item,
            Some(&current.id),
            "update",
            Direction::Push,
            &update.changes,
            result.as_ref().map(|_| ()),
            started,
        )
        .await?;
        result
    }
}
