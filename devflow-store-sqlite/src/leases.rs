//! [`LeaseManager`]: one holder per (connection, object), taken and renewed in single
//! statements, so two processes on one file never both hold a lease.

use std::time::Duration;

use async_trait::async_trait;
use devflow_sync_core::model::{ConnectionId, ObjectType};
use devflow_sync_core::store::{Lease, LeaseManager};
use devflow_sync_core::{Error, Result};

use crate::SqliteStore;
use crate::codec::{Db, time};

#[async_trait]
impl LeaseManager for SqliteStore {
    async fn acquire(
        &self,
        connection: &ConnectionId,
        object: &ObjectType,
        holder: &str,
        ttl: Duration,
    ) -> Result<Option<Lease>> {
        let now = self.clock.now();
        let expires_at = devflow_sync_core::clock::after(now, ttl);
        // A token no grant has had before, so a lost lease cannot be renewed.
        let token: i64 = sqlx::query_scalar(
            "INSERT INTO lease_tokens (only_row, last) VALUES (1, 1)
             ON CONFLICT (only_row) DO UPDATE SET last = last + 1
             RETURNING last",
        )
        .fetch_one(&self.pool)
        .await
        .db()?;
        // Taken only when free or lapsed.
        let taken = sqlx::query(
            "INSERT INTO leases (connection, object, holder, token, expires_at)
             VALUES (?, ?, ?, ?, ?)
             ON CONFLICT (connection, object) DO UPDATE
               SET holder = excluded.holder, token = excluded.token,
                   expires_at = excluded.expires_at
               WHERE leases.expires_at <= ?",
        )
        .bind(connection.as_str())
        .bind(object.as_str())
        .bind(holder)
        .bind(token)
        .bind(time(expires_at))
        .bind(time(now))
        .execute(&self.pool)
        .await
        .db()?;
        Ok((taken.rows_affected() == 1).then(|| Lease {
            connection: connection.clone(),
            object: object.clone(),
            holder: holder.to_owned(),
            token: u64::try_from(token).unwrap_or(0),
            expires_at,
        }))
    }

    async fn renew(&self, lease: &Lease, ttl: Duration) -> Result<Lease> {
        let now = self.clock.now();
        let expires_at = devflow_sync_core::clock::after(now, ttl);
        let renewed = sqlx::query(
            "UPDATE leases SET expires_at = ?
             WHERE connection = ? AND object = ? AND token = ? AND expires_at > ?",
        )
        .bind(time(expires_at))
        .bind(lease.connection.as_str())
        .bind(lease.object.as_str())
        .bind(i64::try_from(lease.token).unwrap_or(-1))
        .bind(time(now))
        .execute(&self.pool)
        .await
        .db()?;
        if renewed.rows_affected() == 0 {
            return Err(Error::precondition(format!(
                "lease on {}/{} is no longer held by {}",
                lease.connection, lease.object, lease.holder
            )));
        }
        Ok(Lease {
            expires_at,
            ..lease.clone()
        })
    }

    async fn release(&self, lease: &Lease) -> Result<()> {
        sqlx::query("DELETE FROM leases WHERE connection = ? AND object = ? AND token = ?")
            .bind(lease.connection.as_str())
            .bind(lease.object.as_str())
            .bind(i64::try_from(lease.token).unwrap_or(-1))
            .execute(&self.pool)
            .await
            .db()?;
        Ok(())
    }
}
