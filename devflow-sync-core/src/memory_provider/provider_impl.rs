//! [`Provider`] for the [`MemoryProvider`].

use async_trait::async_trait;

use super::*;
use crate::provider::{ChangeQuery, NewRemote, Page, Provider, RemoteUpdate, WebhookDelivery};

#[async_trait]
impl Provider for MemoryProvider {
    fn key(&self) -> ProviderKey {
        self.key.clone()
    }

    fn capabilities(&self, _object: &ObjectType) -> Capabilities {
        lock(&self.state).capabilities
    }

    async fn list_changed(
        &self,
        connection: &ConnectionId,
        object: &ObjectType,
        query: &ChangeQuery,
    ) -> Result<Page> {
        self.enter(Call::List, connection)?;
        let now = self.clock.now();
        let state = lock(&self.state);
        let after = match &query.page_token {
            Some(token) => {
                let (nanos, id) = token
                    .split_once(':')
                    .and_then(|(n, id)| Some((n.parse::<i64>().ok()?, id)))
                    .ok_or_else(|| {
                        Error::StalePageToken(format!("malformed page token {token:?}"))
                    })?;
                Some((nanos, ExternalId::new(id)))
            }
            None => None,
        };
        let since = query
            .since
            .map_or(i64::MIN, |t| t.timestamp_nanos_opt().unwrap_or(i64::MAX));
        let start: FeedKey = match &after {
            // Strictly after the last record of the previous page.
            Some((nanos, id)) => (
                object.clone(),
                *nanos,
                id.as_str().len(),
                format!("{}\u{0}", id.as_str()),
            ),
            None => (object.clone(), since, 0, String::new()),
        };
        let limit = query.limit.max(1);
        let mut records = Vec::with_capacity(limit);
        let mut more = false;
        for key in state.feed.range(start..) {
            if &key.0 != object {
                break;
            }
            let Some(stored) = state
                .records
                .get(&(object.clone(), ExternalId::new(key.3.as_str())))
            else {
                continue;
            };
            if stored.visible_at > now || key.1 < since {
                continue;
            }
            // Label filters are pushed into the query, as GitHub's `labels=` is.
            if !query.filter.labels.is_empty() && !stored.record.deleted {
                let labels = stored.record.record.fields.get("labels").as_set();
                if !query
                    .filter
                    .labels
                    .iter()
                    .all(|l| labels.is_some_and(|s| s.contains(l)))
                {
                    continue;
                }
            }
            if records.len() == limit {
                more = true;
                break;
            }
            records.push(stored.record.clone());
        }
        let next_page_token = if more {
            records.last().map(token_of)
        } else {
            None
        };
        Ok(Page {
            records,
            next_page_token,
        })
    }

    async fn get(
        &self,
        connection: &ConnectionId,
        object: &ObjectType,
        id: &ExternalId,
    ) -> Result<RemoteRecord> {
        self.enter(Call::Get, connection)?;
        self.record(object, id)
            .filter(|r| !r.deleted)
            .ok_or_else(|| Error::not_found(format!("{object} {id}")))
    }

    async fn create(
        &self,
        connection: &ConnectionId,
        object: &ObjectType,
        new: &NewRemote,
    ) -> Result<RemoteRecord> {
        self.enter(Call::Create, connection)?;
        let mut state = lock(&self.state);
        if let Some(parent) = &new.parent {
            if !state
                .records
                .contains_key(&(object.clone(), parent.clone()))
            {
                return Err(Error::invalid_input(
                    "parent",
                    format!("parent {object} {parent} does not exist"),
                ));
            }
        }
        let record = self.insert(
            &mut state,
            object,
            new.kind,
            new.parent.clone(),
            new.fields.clone(),
            Some(new.marker.clone()),
        );
        if !new.related.is_empty() {
            state
                .related
                .insert((object.clone(), record.id.clone()), new.related.clone());
        }
        Ok(record)
    }

    async fn update(
        &self,
        connection: &ConnectionId,
        object: &ObjectType,
        id: &ExternalId,
        update: &RemoteUpdate,
        expected: Option<&Version>,
    ) -> Result<RemoteRecord> {
        self.enter(Call::Update, connection)?;
        let mut state = lock(&self.state);
        if let Some(pos) = state
            .concurrent_edits
            .iter()
            .position(|(o, i, _)| o == object && i == id)
        {
            let (_, _, fields) = state.concurrent_edits.remove(pos);
            self.change(&mut state, object, id, |r| r.record.fields.extend(fields))?;
        }
        let current = state
            .records
            .get(&(object.clone(), id.clone()))
            .filter(|s| !s.record.deleted)
            .map(|s| s.record.record.version.clone())
            .ok_or_else(|| Error::not_found(format!("{object} {id}")))?;
        if let Some(expected) = expected {
            if current.as_ref() != Some(expected) {
                return Err(Error::precondition(format!(
                    "{object} {id} is at version {}, not {expected}",
                    current.as_ref().map_or("none", Version::as_str)
                )));
            }
        }
        if let Some(Some(parent)) = &update.parent {
            if !state
                .records
                .contains_key(&(object.clone(), parent.clone()))
            {
                return Err(Error::invalid_input(
                    "parent",
                    format!("parent {object} {parent} does not exist"),
                ));
            }
        }
        if let Some(related) = &update.related {
            state
                .related
                .insert((object.clone(), id.clone()), related.clone());
            if update.changes.is_empty() && update.parent.is_none() {
                // Like a property: the record itself does not change.
                return state
                    .records
                    .get(&(object.clone(), id.clone()))
                    .map(|s| s.record.clone())
                    .ok_or_else(|| Error::not_found(format!("{object} {id}")));
            }
        }
        let record = self.change(&mut state, object, id, |r| {
            r.record.fields.apply(&update.changes);
            if let Some(parent) = &update.parent {
                r.record.parent = parent.clone();
            }
        })?;
        Ok(record)
    }

    async fn delete(
        &self,
        connection: &ConnectionId,
        object: &ObjectType,
        id: &ExternalId,
    ) -> Result<()> {
        self.enter(Call::Delete, connection)?;
        let mut state = lock(&self.state);
        let exists = state
            .records
            .get(&(object.clone(), id.clone()))
            .is_some_and(|s| !s.record.deleted);
        if exists {
            self.change(&mut state, object, id, |r| r.deleted = true)?;
        }
        Ok(())
    }

    async fn find_by_marker(
        &self,
        connection: &ConnectionId,
        object: &ObjectType,
        marker: &ItemId,
    ) -> Result<Option<RemoteRecord>> {
        self.enter(Call::FindByMarker, connection)?;
        Ok(lock(&self.state)
            .records
            .iter()
            .filter(|((o, _), s)| o == object && !s.record.deleted)
            .map(|(_, s)| &s.record)
            .find(|r| r.marker.as_ref() == Some(marker))
            .cloned())
    }

    fn parse_webhook(
        &self,
        connection: &ConnectionId,
        headers: &Headers,
        body: &[u8],
    ) -> Result<WebhookDelivery> {
        self.verifier().verify(headers, body)?;
        self.parse_verified_webhook(connection, headers, body)
    }

    fn parse_verified_webhook(
        &self,
        _connection: &ConnectionId,
        _headers: &Headers,
        body: &[u8],
    ) -> Result<WebhookDelivery> {
        let parsed: Body = serde_json::from_slice(body).map_err(|e| Error::InvalidInput {
            pointer: Some(format!("body (line {}, column {})", e.line(), e.column())),
            message: format!("webhook body is not a delivery: {e}"),
        })?;
        if parsed.delivery_id.trim().is_empty() {
            return Err(Error::invalid_input(
                "/delivery_id",
                "a delivery without a delivery id",
            ));
        }
        Ok(WebhookDelivery::new(parsed.delivery_id, parsed.events))
    }

    fn webhook_headers(&self) -> Vec<String> {
        Vec::new()
    }

    async fn revoke(&self, connection: &ConnectionId) -> Result<()> {
        lock(&self.state).revoked.insert(connection.clone());
        Ok(())
    }
}
