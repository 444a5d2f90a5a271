//! Read markers of notifications, per person: the last engine event each person has
//! read. Kept in a table of the host's own in the service's SQLite file (as a host
//! keeps its tables beside the library's), so they survive a restart; in memory when
//! no database is given.

use std::collections::HashMap;
use std::sync::Mutex;

use devflow_sync_core::{Error, Result};
use sqlx::SqlitePool;

/// The markers.
#[derive(Debug, Default)]
pub struct ReadMarkers {
    memory: Mutex<HashMap<String, u64>>,
    pool: Option<SqlitePool>,
}

#[allow(clippy::needless_pass_by_value)] // the shape `map_err` hands it
fn db(e: sqlx::Error) -> Error {
    Error::transient(format!("read markers: {e}"))
}

impl ReadMarkers {
    /// Markers kept in `pool` (the table is made when missing).
    pub async fn in_database(pool: SqlitePool) -> Result<Self> {
        sqlx::query(
            "CREATE TABLE IF NOT EXISTS host_notification_reads (
                 person TEXT PRIMARY KEY NOT NULL, up_to INTEGER NOT NULL)",
        )
        .execute(&pool)
        .await
        .map_err(db)?;
        Ok(Self {
            memory: Mutex::new(HashMap::new()),
            pool: Some(pool),
        })
    }

    /// The last event id `person` has read (0: none).
    pub async fn get(&self, person: &str) -> Result<u64> {
        if let Some(pool) = &self.pool {
            let up_to: Option<i64> =
                sqlx::query_scalar("SELECT up_to FROM host_notification_reads WHERE person = ?")
                    .bind(person)
                    .fetch_optional(pool)
                    .await
                    .map_err(db)?;
            return Ok(up_to.and_then(|n| u64::try_from(n).ok()).unwrap_or(0));
        }
        Ok(self
            .memory
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(person)
            .copied()
            .unwrap_or(0))
    }

    /// Everything up to `up_to` is read by `person` (a marker never goes back);
    /// returns the marker.
    pub async fn mark(&self, person: &str, up_to: u64) -> Result<u64> {
        if let Some(pool) = &self.pool {
            let up_to = i64::try_from(up_to).unwrap_or(i64::MAX);
            let now: i64 = sqlx::query_scalar(
                "INSERT INTO host_notification_reads (person, up_to) VALUES (?, ?)
                 ON CONFLICT (person) DO UPDATE SET up_to = max(up_to, excluded.up_to)
                 RETURNING up_to",
            )
            .bind(person)
            .bind(up_to)
            .fetch_one(pool)
            .await
            .map_err(db)?;
            return Ok(u64::try_from(now).unwrap_or(0));
        }
        let mut reads = self.memory.lock().unwrap_or_else(|e| e.into_inner());
        let marker = reads.entry(person.to_owned()).or_insert(0);
        *marker = (*marker).max(up_to);
        Ok(*marker)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn markers_outlive_the_process_and_never_go_back() {
        let store = devflow_store_sqlite::SqliteStore::in_memory()
            .await
            .unwrap();
        let first = ReadMarkers::in_database(store.pool().clone())
            .await
            .unwrap();
        assert_eq!(first.get("ana").await.unwrap(), 0);
        assert_eq!(first.mark("ana", 7).await.unwrap(), 7);
        assert_eq!(first.mark("ana", 3).await.unwrap(), 7, "never back");
        // A restarted service on the same database.
        let again = ReadMarkers::in_database(store.pool().clone())
            .await
            .unwrap();
        assert_eq!(again.get("ana").await.unwrap(), 7);
        assert_eq!(again.get("bob").await.unwrap(), 0);
        let memory = ReadMarkers::default();
        assert_eq!(memory.mark("ana", 2).await.unwrap(), 2);
        assert_eq!(memory.get("ana").await.unwrap(), 2);
    }
}
