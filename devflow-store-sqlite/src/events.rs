//! [`EventLog`]: engine events in order of their number, which is their id.

use async_trait::async_trait;
use devflow_sync_core::Result;
use devflow_sync_core::store::{EngineEvent, EventLog};

use crate::SqliteStore;
use crate::codec::{Db, from_json, json, time};

#[async_trait]
impl EventLog for SqliteStore {
    async fn append_event(&self, event: &EngineEvent) -> Result<u64> {
        let seq: i64 =
            sqlx::query_scalar("INSERT INTO events (at, data) VALUES (?, ?) RETURNING seq")
                .bind(time(event.at))
                .bind(json(event)?)
                .fetch_one(&self.pool)
                .await
                .db()?;
        self.wrote();
        Ok(u64::try_from(seq).unwrap_or(0))
    }

    async fn events_after(&self, after: u64, limit: usize) -> Result<Vec<EngineEvent>> {
        let rows: Vec<(i64, String)> =
            sqlx::query_as("SELECT seq, data FROM events WHERE seq > ? ORDER BY seq LIMIT ?")
                .bind(i64::try_from(after).unwrap_or(i64::MAX))
                .bind(i64::try_from(limit).unwrap_or(i64::MAX))
                .fetch_all(&self.pool)
                .await
                .db()?;
        rows.iter()
            .map(|(seq, data)| {
                let mut event: EngineEvent = from_json(data, "events")?;
                event.id = u64::try_from(*seq).unwrap_or(0);
                Ok(event)
            })
            .collect()
    }
}
