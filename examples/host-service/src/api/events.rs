//! Engine events for the dashboard: a server-sent event stream (`?after=ID` replays
//! what came after that id from the durable log first, then goes live; each event's
//! id is its SSE id, so a browser that reconnects says where it was), and the stored
//! history.

use std::convert::Infallible;
use std::sync::Arc;

use axum::Json;
use axum::extract::{Query, State};
use axum::response::sse::{Event, KeepAlive, Sse};
use devflow_sync_core::store::EngineEvent;
use futures_util::Stream;
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::sync::broadcast::error::RecvError;

use super::ApiError;
use crate::state::AppState;

#[derive(Debug, Deserialize)]
pub(crate) struct After {
    /// The last event id the caller has (default 0: everything stored).
    after: Option<u64>,
    /// At most this many (history only; default 100).
    limit: Option<usize>,
}

fn sse(event: &EngineEvent) -> Event {
    Event::default()
        .id(event.id.to_string())
        .event("engine")
        .data(serde_json::to_string(event).unwrap_or_default())
}

/// `GET /api/integrations/events/history?after=&limit=`: stored events, oldest first.
#[utoipa::path(get, path = "/api/integrations/events/history", tag = "events", params(("after" = Option<u64>, Query, description = "The last event id the caller has"), ("limit" = Option<usize>, Query, description = "At most this many")), responses((status = 200, description = "Stored engine events, oldest first")))]
pub(crate) async fn history(
    State(state): State<Arc<AppState>>,
    Query(q): Query<After>,
) -> Result<Json<Value>, ApiError> {
    let events = state
        .engine
        .events_after(q.after.unwrap_or(0), q.limit.unwrap_or(100))
        .await?;
    Ok(Json(json!({ "events": events })))
}

/// `GET /api/integrations/events?after=`: the stream.
#[utoipa::path(get, path = "/api/integrations/events", tag = "events", params(("after" = Option<u64>, Query, description = "Replay what came after this id first")), responses((status = 200, description = "Server-sent events, each an engine event", content_type = "text/event-stream")))]
pub(crate) async fn stream(
    State(state): State<Arc<AppState>>,
    Query(q): Query<After>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    // Subscribed before the replay is read, so nothing falls between the two.
    let live = state.engine.subscribe();
    let missed = state
        .engine
        .events_after(q.after.unwrap_or(0), 10_000)
        .await?;
    let last = missed.last().map_or(q.after.unwrap_or(0), |e| e.id);
    let replay = futures_util::stream::iter(missed.iter().map(sse).map(Ok).collect::<Vec<_>>());
    let live = futures_util::stream::unfold((live, last), |(mut rx, last)| async move {
        loop {
            match rx.recv().await {
                Ok(event) if event.id != 0 && event.id <= last => {}
                Ok(event) => {
                    let next = event.id.max(last);
                    return Some((Ok(sse(&event)), (rx, next)));
                }
                // Fell behind: the browser reconnects with its last id and replays.
                Err(RecvError::Lagged(_)) | Err(RecvError::Closed) => return None,
            }
        }
    });
    Ok(Sse::new(futures_util::StreamExt::chain(replay, live)).keep_alive(KeepAlive::default()))
}
