//! Engine events: stored in the durable log first (so a host that was down catches up
//! from its cursor, at least once, each event with a stable id), then told to live
//! subscribers. See [`crate::store::EventLog`] for what is told.

use tokio::sync::broadcast;

use super::{Inner, SyncEngine};
use crate::error::Result;
use crate::model::ConnectionId;
use crate::store::{ConflictRecord, EngineEvent, EventKind};

impl Inner {
    /// Stores the event and tells subscribers. A log that cannot take it is logged
    /// and the event is still told live: the change that caused it is already written
    /// and must not fail for it.
    pub(crate) async fn emit(&self, connection: Option<&ConnectionId>, kind: EventKind) {
        let mut event = EngineEvent {
            id: 0,
            tenant: self.config.tenant.clone(),
            connection: connection.cloned(),
            at: self.clock.now(),
            kind,
        };
        match self.events.append_event(&event).await {
            Ok(id) => event.id = id,
            Err(e) => tracing::warn!(error = %e, "an engine event could not be stored"),
        }
        // No subscriber is not an error.
        let _ = self.live.send(event);
    }

    /// A conflict stored as `id`: told when it is new, not when a pending one of the
    /// same subject was brought up to date (a retry finding the same problem).
    pub(crate) async fn conflict_recorded(&self, id: &str, conflict: &ConflictRecord) {
        let new = match self.journal.conflict(id).await {
            Ok(Some(stored)) => stored.created_at == conflict.created_at,
            Ok(None) => false,
            Err(e) => {
                tracing::warn!(error = %e, "a recorded conflict could not be read back");
                false
            }
        };
        if !new {
            return;
        }
        let kind = EventKind::ConflictRecorded {
            conflict_id: id.to_owned(),
            conflict_type: conflict.conflict_type,
            platform: conflict.provider.clone(),
            object: conflict.object.clone(),
            item: conflict.item.clone(),
            external: conflict.external.clone(),
            field: conflict.field.clone(),
            message: conflict.message.clone(),
            suggested_action: conflict.suggested_action.clone(),
        };
        self.emit(Some(&conflict.connection), kind).await;
    }
}

impl SyncEngine {
    /// Events as they happen. A subscriber that falls more than 1,024 events behind
    /// gets [`broadcast::error::RecvError::Lagged`] and catches up with
    /// [`SyncEngine::events_after`] from the last id it saw.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// use devflow_sync_core::engine::SyncEngine;
    /// let engine = SyncEngine::builder().build().unwrap();
    /// let mut live = engine.subscribe();
    /// assert!(live.try_recv().is_err(), "nothing happened yet");
    /// assert!(engine.events_after(0, 10).await.unwrap().is_empty());
    /// # });
    /// ```
    pub fn subscribe(&self) -> broadcast::Receiver<EngineEvent> {
        self.inner.live.subscribe()
    }

    /// Stored events after the id `cursor` (0 for all), oldest first, at most `limit`:
    /// what a host missed while it was down. Each has a stable id; keep the last one
    /// handled as the cursor.
    pub async fn events_after(&self, cursor: u64, limit: usize) -> Result<Vec<EngineEvent>> {
        self.inner
            .events
            .events_after(cursor, limit.clamp(1, 10_000))
            .await
    }
}
