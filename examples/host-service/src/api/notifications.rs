//! Notifications per person, from the engine's event log: what a person has not read
//! yet (rejections, failures, connections needing them), a burst of rejections from
//! one connection summed up as one notification, and a read marker per person. The
//! markers live in the process: after a restart everything unread comes again (at
//! least once; nothing is missed) unless the service keeps them in its database
//! ([`crate::AppState::persist_reads`]).

use std::sync::Arc;

use axum::Json;
use axum::extract::{Query, State};
use devflow_sync_core::store::{EngineEvent, EventKind};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::ApiError;
use crate::state::AppState;

/// More rejections than this from one connection among the unread become one summary.
pub(crate) const BURST: usize = 10;

#[derive(Debug, Deserialize)]
pub(crate) struct Person {
    /// Whose notifications (default `admin`).
    person: Option<String>,
}

/// One notification.
#[derive(Debug, Serialize)]
struct Notification {
    /// The last event it stands for (the read marker to send back).
    id: u64,
    title: String,
    message: String,
    /// Where to act, in the dashboard.
    #[serde(skip_serializing_if = "Option::is_none")]
    link: Option<String>,
    /// How many events it sums up.
    count: usize,
}

fn of(event: &EngineEvent) -> Option<Notification> {
    let (title, message, link) = match &event.kind {
        EventKind::ConflictRecorded {
            conflict_id,
            message,
            platform,
            ..
        } => (
            "Sync rejected".to_owned(),
            format!("{message} ({platform})"),
            Some(format!("#conflict-{conflict_id}")),
        ),
        EventKind::SyncFailed {
            reason, platform, ..
        } => (
            "Sync failed".to_owned(),
            format!("{reason} ({platform})"),
            None,
        ),
        EventKind::HealthChanged { to, message, .. } => (
            format!(
                "Connection {}",
                event.connection.as_ref().map_or("", |c| c.as_str())
            ),
            format!(
                "is now {to:?}{}",
                message
                    .as_deref()
                    .map(|m| format!(": {m}"))
                    .unwrap_or_default()
            ),
            None,
        ),
        _ => return None,
    };
    Some(Notification {
        id: event.id,
        title,
        message,
        link,
        count: 1,
    })
}

/// `GET /api/integrations/notifications?person=`: the unread ones, oldest first.
#[utoipa::path(get, path = "/api/integrations/notifications", tag = "events", params(("person" = Option<String>, Query, description = "Whose (default admin)")), responses((status = 200, description = "Unread notifications, a burst summed up")))]
pub(crate) async fn unread(
    State(state): State<Arc<AppState>>,
    Query(q): Query<Person>,
) -> Result<Json<Value>, ApiError> {
    let person = q.person.unwrap_or_else(|| "admin".into());
    let after = state.reads.get(&person).await?;
    let mut events = Vec::new();
    let mut cursor = after;
    loop {
        let page = state.engine.events_after(cursor, 1_000).await?;
        let Some(last) = page.last() else { break };
        cursor = last.id;
        events.extend(page);
        if events.len() > 100_000 {
            break;
        }
    }
    // Rejections per connection: a burst becomes one.
    let mut by_connection: std::collections::BTreeMap<String, Vec<&EngineEvent>> =
        std::collections::BTreeMap::new();
    for e in &events {
        if matches!(e.kind, EventKind::ConflictRecorded { .. }) {
            by_connection
                .entry(
                    e.connection
                        .as_ref()
                        .map_or(String::new(), |c| c.as_str().to_owned()),
                )
                .or_default()
                .push(e);
        }
    }
    let mut out: Vec<Notification> = Vec::new();
    for (connection, rejected) in &by_connection {
        if rejected.len() > BURST {
            out.push(Notification {
                id: rejected.last().map_or(0, |e| e.id),
                title: "Sync rejected".into(),
                message: format!("{} records from {connection} need a person", rejected.len()),
                link: Some("#conflicts".into()),
                count: rejected.len(),
            });
        } else {
            out.extend(rejected.iter().filter_map(|e| of(e)));
        }
    }
    out.extend(
        events
            .iter()
            .filter(|e| !matches!(e.kind, EventKind::ConflictRecorded { .. }))
            .filter_map(of),
    );
    out.sort_by_key(|n| n.id);
    Ok(Json(
        json!({"person": person, "read_up_to": after, "unread": out}),
    ))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(crate) struct Read {
    person: Option<String>,
    /// Everything up to this event id is read.
    up_to: u64,
}

/// `POST /api/integrations/notifications/read` with `{"person", "up_to"}`.
#[utoipa::path(post, path = "/api/integrations/notifications/read", tag = "events", request_body = Read, responses((status = 200, description = "The read marker")))]
pub(crate) async fn mark_read(
    State(state): State<Arc<AppState>>,
    Json(body): Json<Read>,
) -> Result<Json<Value>, ApiError> {
    let person = body.person.unwrap_or_else(|| "admin".into());
    let now = state.reads.mark(&person, body.up_to).await?;
    Ok(Json(json!({"person": person, "read_up_to": now})))
}
