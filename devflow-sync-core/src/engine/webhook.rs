//! Webhooks: accept fast into the inbox, apply later in order per entity.

use std::collections::{HashMap, VecDeque};

use serde::{Deserialize, Serialize};

use super::Inner;
use super::ctx::{Ctx, Target};
use super::report::Outcome;
use super::sync::sync_remote;
use crate::error::{Error, Result};
use crate::model::{ConnectionId, ExternalId, ObjectType, ProviderKey, Record};
use crate::provider::{
    Headers, ProviderExt, RemoteRecord, WebhookAction, WebhookDelivery, WebhookEvent,
};
use crate::store::{InboxEntry, InboxStatus};

/// What [`SyncEngine::accept_webhook`](super::SyncEngine::accept_webhook) did with a
/// delivery.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Accepted {
    /// The provider's delivery id.
    pub delivery_id: String,
    /// The inbox id, when it was stored.
    pub inbox_id: Option<String>,
    /// Whether the delivery id was seen before (nothing was stored).
    pub duplicate: bool,
    /// How many events the delivery carries about what the connection syncs.
    pub events: usize,
    /// How many events were about records outside the connection's configuration:
    /// dropped, never imported.
    pub out_of_scope: usize,
}

pub(crate) async fn accept(
    e: &Inner,
    provider: &ProviderKey,
    connection: &ConnectionId,
    headers: &Headers,
    body: &[u8],
) -> Result<Accepted> {
    if body.len() > e.config.max_webhook_bytes {
        return Err(Error::invalid_input(
            "body",
            format!(
                "webhook body of {} bytes is over the limit of {} bytes",
                body.len(),
                e.config.max_webhook_bytes
            ),
        ));
    }
    let p = e
        .provider_for(connection, provider)
        .ok_or_else(|| Error::not_found(format!("provider {provider}")))?;
    let delivery = p.parse_webhook(connection, headers, body)?;
    if delivery.delivery_id.trim().is_empty() {
        return Err(Error::invalid_input(
            "delivery_id",
            format!("a {provider} delivery without a delivery id is refused"),
        ));
    }
    if delivery.out_of_scope > 0 {
        tracing::warn!(
            %provider,
            %connection,
            delivery = %delivery.delivery_id,
            out_of_scope = delivery.out_of_scope,
            "webhook events outside the connection's configuration dropped"
        );
    }
    let now = e.clock.now();
    let entry = InboxEntry {
        id: String::new(),
        provider: provider.clone(),
        connection: connection.clone(),
        delivery_id: delivery.delivery_id.clone(),
        // Only what parsing needs; never a signature or a token.
        headers: headers.only(&p.webhook_headers()),
        body: body.to_vec(),
        received_at: now,
        status: InboxStatus::Pending,
        attempts: 0,
        last_error: None,
        next_attempt_at: now,
        claimed_by: None,
        claimed_until: None,
        entity: delivery
            .events
            .first()
            .map(|ev| format!("{}/{}", ev.object, ev.id)),
    };
    match e.journal.insert_inbox(&entry).await {
        Ok(id) => {
            let accepted = Accepted {
                delivery_id: delivery.delivery_id.clone(),
                inbox_id: Some(id),
                duplicate: false,
                events: delivery.events.len(),
                out_of_scope: delivery.out_of_scope,
            };
            // Kept parsed for this process's `process_inbox`, so it is not parsed again.
            e.parsed.put(
                (
                    provider.clone(),
                    connection.clone(),
                    delivery.delivery_id.clone(),
                ),
                delivery,
            );
            Ok(accepted)
        }
        Err(Error::AlreadyExists(_)) => Ok(Accepted {
            delivery_id: delivery.delivery_id,
            inbox_id: None,
            duplicate: true,
            events: delivery.events.len(),
            out_of_scope: delivery.out_of_scope,
        }),
        Err(err) => Err(err),
    }
}

pub(crate) async fn process(ctx: &mut Ctx<'_>, limit: usize) -> Result<()> {
    let now = ctx.now();
    // Claimed, not just read: another worker processing the inbox at the same time
    // gets other deliveries. A dry run only looks.
    let mut entries = if ctx.dry_run {
        ctx.e.journal.due_inbox(now, limit).await?
    } else {
        ctx.e
            .journal
            .claim_due(
                now,
                limit,
                &ctx.e.config.worker_id,
                ctx.e.config.inbox_visibility,
            )
            .await?
    };
    let mut failures: Vec<Option<String>> = vec![None; entries.len()];
    let mut dead: Vec<bool> = vec![false; entries.len()];
    // Every event with the entry it came in, grouped per entity in the order entities
    // first appear, each group oldest first.
    let mut groups: Vec<Vec<(usize, WebhookEvent)>> = Vec::new();
    let mut group_of: HashMap<(ConnectionId, ObjectType, ExternalId), usize> = HashMap::new();
    for (i, entry) in entries.iter().enumerate() {
        let kept = ctx.e.parsed.take(&(
            entry.provider.clone(),
            entry.connection.clone(),
            entry.delivery_id.clone(),
        ));
        let parsed = match kept {
            Some(delivery) => Ok(delivery),
            None => ctx
                .e
                .provider_for(&entry.connection, &entry.provider)
                .ok_or_else(|| Error::not_found(format!("provider {}", entry.provider)))
                .and_then(|p| {
                    p.parse_verified_webhook(&entry.connection, &entry.headers, &entry.body)
                }),
        };
        match parsed {
            Ok(delivery) => {
                for event in delivery.events {
                    let key = (
                        entry.connection.clone(),
                        event.object.clone(),
                        event.id.clone(),
                    );
                    let g = *group_of.entry(key).or_insert_with(|| {
                        groups.push(Vec::new());
                        groups.len() - 1
                    });
                    groups[g].push((i, event));
                }
            }
            Err(err) => {
                failures[i] = Some(err.to_string());
                dead[i] = true;
            }
        }
    }
    for group in &mut groups {
        group.sort_by_key(|(_, event)| event.occurred_at);
    }
    for group in groups {
        for (i, event) in group {
            let connection = entries[i].connection.clone();
            let Ok(t) = ctx.e.target(&connection, &event.object) else {
                ctx.report.record(
                    None,
                    Some(&event.id),
                    Outcome::Skipped,
                    Some(format!("no binding for {connection}/{}", event.object)),
                );
                continue;
            };
            let checked = ctx.e.mapping_check(&connection, &event.object);
            if let Ok(true) = checked {
                ctx.partial = true;
            }
            let applied = match checked {
                Err(err) => Err(err),
                Ok(_) => apply_event(ctx, &t, event.clone()).await,
            };
            if let Err(err) = applied {
                ctx.report.record(
                    None,
                    Some(&event.id),
                    Outcome::Failed,
                    Some(err.to_string()),
                );
                failures[i] = Some(err.to_string());
            }
        }
    }
    if ctx.dry_run {
        return Ok(());
    }
    let backoff = ctx.e.config.inbox_backoff;
    for (i, entry) in entries.iter_mut().enumerate() {
        entry.attempts += 1;
        match failures[i].take() {
            None => {
                entry.status = InboxStatus::Processed;
                entry.last_error = None;
            }
            Some(err) => {
                entry.last_error = Some(err);
                if dead[i] || entry.attempts >= ctx.e.config.max_inbox_attempts {
                    entry.status = InboxStatus::Failed;
                    let kind = crate::store::EventKind::SyncFailed {
                        platform: entry.provider.clone(),
                        inbox_id: entry.id.clone(),
                        delivery_id: entry.delivery_id.clone(),
                        reason: entry.last_error.clone().unwrap_or_default(),
                    };
                    ctx.e.emit(Some(&entry.connection), kind).await;
                } else {
                    let factor = 1u32 << entry.attempts.saturating_sub(1).min(16);
                    let delay = backoff.saturating_mul(factor);
                    entry.next_attempt_at = crate::clock::after(now, delay);
                }
            }
        }
        ctx.e.journal.update_inbox(entry).await?;
    }
    Ok(())
}

async fn apply_event(ctx: &mut Ctx<'_>, t: &Target, mut event: WebhookEvent) -> Result<()> {
    if let Some(link) = ctx.link_by_external(t, &event.id).await? {
        // A payload stamped with the very time both sides agreed on but another version
        // may be older or newer than the base (clocks with coarse precision): fetch the
        // record as it is now instead of trusting the payload.
        let ambiguous = link.base.remote_updated_at == Some(event.occurred_at)
            && event
                .record
                .as_ref()
                .is_some_and(|r| r.record.version != link.base.remote_version);
        if ambiguous {
            event.record = None;
        }
        if link
            .base
            .remote_updated_at
            .is_some_and(|agreed| event.occurred_at < agreed)
        {
            ctx.report.record(
                Some(&link.item),
                Some(&event.id),
                Outcome::Skipped,
                Some("older than what both sides agreed on".into()),
            );
            return Ok(());
        }
    }
    let tombstone = |event: &WebhookEvent| RemoteRecord {
        id: event.id.clone(),
        url: None,
        record: Record::new(event.object.clone(), event.occurred_at),
        marker: None,
        deleted: true,
    };
    let dead = tombstone(&event);
    let remote = match (event.action, event.record) {
        (WebhookAction::Deleted, _) => dead,
        (WebhookAction::Upsert, Some(record)) => {
            if !t.filter.matches(&record) {
                ctx.report.record(
                    None,
                    Some(&record.id),
                    Outcome::Skipped,
                    Some("outside the binding's filter".into()),
                );
                return Ok(());
            }
            ctx.host_view(t, record)
        }
        (WebhookAction::Upsert, None) => {
            // A partial payload: fetch the record.
            let Some(record) = t
                .provider
                .get_opt(&t.connection, &t.object, &event.id)
                .await?
            else {
                return sync_remote(ctx, t, dead).await;
            };
            if !t.filter.matches(&record) {
                ctx.report.record(
                    None,
                    Some(&record.id),
                    Outcome::Skipped,
                    Some("outside the binding's filter".into()),
                );
                return Ok(());
            }
            ctx.host_view(t, record)
        }
    };
    sync_remote(ctx, t, remote).await
}

/// Deliveries parsed on arrival, kept (at most [`ParsedDeliveries::CAPACITY`], the
/// oldest dropped first) until this process applies them, so a delivery is parsed once.
/// A delivery applied by another process, or after a restart, is parsed again from the
/// stored body.
#[derive(Debug, Default)]
pub(crate) struct ParsedDeliveries {
    inner: std::sync::Mutex<(HashMap<DeliveryKey, WebhookDelivery>, VecDeque<DeliveryKey>)>,
}

/// A delivery: its provider, connection and delivery id.
type DeliveryKey = (ProviderKey, ConnectionId, String);

impl ParsedDeliveries {
    pub(crate) const CAPACITY: usize = 4096;

    fn put(
        &self,
        key: (ProviderKey, ConnectionId, String),
        delivery: crate::provider::WebhookDelivery,
    ) {
        let mut guard = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let (map, order) = &mut *guard;
        if map.insert(key.clone(), delivery).is_none() {
            order.push_back(key);
        }
        while map.len() > Self::CAPACITY || order.len() > 2 * Self::CAPACITY {
            match order.pop_front() {
                Some(old) => {
                    map.remove(&old);
                }
                None => break,
            }
        }
    }

    fn take(
        &self,
        key: &(ProviderKey, ConnectionId, String),
    ) -> Option<crate::provider::WebhookDelivery> {
        let mut guard = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        // The key stays in the order queue until it comes up; a missing entry there is
        // skipped when it does.
        guard.0.remove(key)
    }
}
