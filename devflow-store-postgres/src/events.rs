//! [`EventLog`]: the tenant's engine events in order of their number, which is their
//! id. Numbers are taken under the tenant's `events` lock, so a reader at a cursor
//! never skips an event committed after a later one.

use async_trait::async_trait;
use devflow_sync_core::Result;
use devflow_sync_core::store::{EngineEvent, EventLog};

use crate::PgStore;
use crate::codec::{Db, from_json, json, time};

#[async_trait]
impl EventLog for PgStore {
    async fn append_event(&self, event: &EngineEvent) -> Result<u64> {
        let mut tx = self.locked("events").await?;
        let seq: i64 = sqlx::query_scalar(
            "INSERT INTO events (tenant, at, data) VALUES ($1, $2, $3) RETURNING seq",
        )
        .bind(&*self.tenant)
        .bind(time(event.at))
        .bind(json(event)?)
        .fetch_one(&mut *tx)
        .await
        .db()?;
        tx.commit().await.db()?;
        Ok(u64::try_from(seq).unwrap_or(0))
    }

    async fn events_after(&self, after: u64, limit: usize) -> Result<Vec<EngineEvent>> {
        let rows: Vec<(i64, String)> = sqlx::query_as(
            "SELECT seq, data FROM events WHERE tenant = $1 AND seq > $2 ORDER BY seq LIMIT $3",
        )
        .bind(&*self.tenant)
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
