//! [`LeaseManager`]: leases as rows with an expiry, one holder per (connection,
//! object), taken (when free or lapsed) and renewed in single statements; another
//! worker takes a lease over once it lapsed, and the old holder's renewal then fails.

use std::time::Duration;

use async_trait::async_trait;
use devflow_sync_core::model::{ConnectionId, ObjectType};
use devflow_sync_core::store::{Lease, LeaseManager};
use devflow_sync_core::{Error, Result};

use crate::PgStore;
use crate::codec::{Db, time};
use crate::items::next_counter;

#[async_trait]
impl LeaseManager for PgStore {
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
        let token = next_counter(&self.pool, &self.tenant, "lease_tokens", 1).await?;
        // Taken only when free or lapsed.
        let taken = sqlx::query(
            "INSERT INTO leases (tenant, connection, object, holder, token, expires_at)
             VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (tenant, connection, object) DO UPDATE
               SET holder = excluded.holder, token = excluded.token,
                   expires_at = excluded.expires_at
               WHERE leases.expires_at <= $7",
        )
        .bind(&*self.tenant)
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
            "UPDATE leases SET expires_at = $1
             WHERE tenant = $2 AND connection = $3 AND object = $4 AND token = $5
               AND expires_at > $6",
        )
        .bind(time(expires_at))
        .bind(&*self.tenant)
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
        sqlx::query(
            "DELETE FROM leases
             WHERE tenant = $1 AND connection = $2 AND object = $3 AND token = $4",
        )
        .bind(&*self.tenant)
        .bind(lease.connection.as_str())
        .bind(lease.object.as_str())
        .bind(i64::try_from(lease.token).unwrap_or(-1))
        .execute(&self.pool)
        .await
        .db()?;
        Ok(())
    }
}
