//! [`EventLog`] in memory.

use std::sync::Mutex;

use async_trait::async_trait;

use crate::error::Result;
use crate::store::{EngineEvent, EventLog};

/// Events in memory, ids counting up from 1.
#[derive(Debug, Default)]
pub struct MemoryEvents {
    events: Mutex<Vec<EngineEvent>>,
}

impl MemoryEvents {
    /// An empty log.
    pub fn new() -> Self {
        Self::default()
    }
}

#[async_trait]
impl EventLog for MemoryEvents {
    async fn append_event(&self, event: &EngineEvent) -> Result<u64> {
        let mut events = self.events.lock().unwrap_or_else(|e| e.into_inner());
        let id = events.last().map_or(1, |e| e.id + 1);
        events.push(EngineEvent {
            id,
            ..event.clone()
        });
        Ok(id)
    }

    async fn events_after(&self, after: u64, limit: usize) -> Result<Vec<EngineEvent>> {
        let events = self.events.lock().unwrap_or_else(|e| e.into_inner());
        let start = events.partition_point(|e| e.id <= after);
        Ok(events.iter().skip(start).take(limit).cloned().collect())
    }
}
