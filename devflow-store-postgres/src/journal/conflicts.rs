//! [`ConflictStore`]: conflicts by number (their id), a pending one per subject (found
//! and replaced in one transaction under the tenant's `conflicts` lock, so two workers
//! never record it twice).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use devflow_sync_core::model::{ConnectionId, ExternalId, ItemId};
use devflow_sync_core::store::{ConflictRecord, ConflictStatus, ConflictStore};
use devflow_sync_core::{Error, Result};

use crate::PgStore;
use crate::codec::{Db, from_json, json, name, time};

/// A stored conflict with its number as its id.
fn conflict_from(seq: i64, data: &str) -> Result<ConflictRecord> {
    let mut conflict: ConflictRecord = from_json(data, "conflicts")?;
    conflict.id = seq.to_string();
    Ok(conflict)
}

fn seq_of(id: &str) -> Option<i64> {
    id.parse().ok()
}

#[async_trait]
impl ConflictStore for PgStore {
    async fn record_conflict(&self, conflict: &ConflictRecord) -> Result<String> {
        let pending = name(&ConflictStatus::Pending)?;
        let kind = name(&conflict.conflict_type)?;
        let mut tx = self.locked("conflicts").await?;
        let existing: Option<(i64, String)> = sqlx::query_as(
            "SELECT seq, data FROM conflicts
             WHERE tenant = $1 AND connection = $2 AND object = $3 AND conflict_type = $4
               AND status = $5 AND field IS NOT DISTINCT FROM $6
               AND ((external IS NOT NULL AND external = $7)
                    OR (external IS NULL AND item IS NOT NULL AND item = $8))
             ORDER BY seq LIMIT 1",
        )
        .bind(&*self.tenant)
        .bind(conflict.connection.as_str())
        .bind(conflict.object.as_str())
        .bind(&kind)
        .bind(&pending)
        .bind(conflict.field.as_deref())
        .bind(conflict.external.as_ref().map(ExternalId::as_str))
        .bind(conflict.item.as_ref().map(ItemId::as_str))
        .fetch_optional(&mut *tx)
        .await
        .db()?;
        let mut record = ConflictRecord {
            id: String::new(),
            status: ConflictStatus::Pending,
            resolution: None,
            ..conflict.clone()
        };
        let seq = match existing {
            Some((seq, data)) => {
                record.created_at = conflict_from(seq, &data)?.created_at;
                sqlx::query(
                    "UPDATE conflicts SET item = $1, external = $2, updated_at = $3, data = $4
                     WHERE seq = $5",
                )
                .bind(record.item.as_ref().map(ItemId::as_str))
                .bind(record.external.as_ref().map(ExternalId::as_str))
                .bind(time(record.updated_at))
                .bind(json(&record)?)
                .bind(seq)
                .execute(&mut *tx)
                .await
                .db()?;
                seq
            }
            None => sqlx::query_scalar(
                "INSERT INTO conflicts
                   (tenant, connection, object, conflict_type, field, item, external, status,
                    updated_at, data)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
                 RETURNING seq",
            )
            .bind(&*self.tenant)
            .bind(record.connection.as_str())
            .bind(record.object.as_str())
            .bind(&kind)
            .bind(record.field.as_deref())
            .bind(record.item.as_ref().map(ItemId::as_str))
            .bind(record.external.as_ref().map(ExternalId::as_str))
            .bind(&pending)
            .bind(time(record.updated_at))
            .bind(json(&record)?)
            .fetch_one(&mut *tx)
            .await
            .db()?,
        };
        tx.commit().await.db()?;
        Ok(seq.to_string())
    }

    async fn conflict(&self, id: &str) -> Result<Option<ConflictRecord>> {
        let Some(seq) = seq_of(id) else {
            return Ok(None);
        };
        let row: Option<(String,)> =
            sqlx::query_as("SELECT data FROM conflicts WHERE tenant = $1 AND seq = $2")
                .bind(&*self.tenant)
                .bind(seq)
                .fetch_optional(&self.pool)
                .await
                .db()?;
        row.map(|(data,)| conflict_from(seq, &data)).transpose()
    }

    async fn conflicts(
        &self,
        connection: &ConnectionId,
        status: Option<ConflictStatus>,
    ) -> Result<Vec<ConflictRecord>> {
        let status = status.map(|s| name(&s)).transpose()?;
        let rows: Vec<(i64, String)> = sqlx::query_as(
            "SELECT seq, data FROM conflicts
             WHERE tenant = $1 AND connection = $2 AND ($3::text IS NULL OR status = $3)
             ORDER BY seq",
        )
        .bind(&*self.tenant)
        .bind(connection.as_str())
        .bind(status.as_deref())
        .fetch_all(&self.pool)
        .await
        .db()?;
        rows.iter()
            .map(|(seq, data)| conflict_from(*seq, data))
            .collect()
    }

    async fn item_conflicts(
        &self,
        item: &ItemId,
        status: Option<ConflictStatus>,
    ) -> Result<Vec<ConflictRecord>> {
        let status = status.map(|s| name(&s)).transpose()?;
        let rows: Vec<(i64, String)> = sqlx::query_as(
            "SELECT seq, data FROM conflicts
             WHERE tenant = $1 AND item = $2 AND ($3::text IS NULL OR status = $3)
             ORDER BY seq",
        )
        .bind(&*self.tenant)
        .bind(item.as_str())
        .bind(status.as_deref())
        .fetch_all(&self.pool)
        .await
        .db()?;
        rows.iter()
            .map(|(seq, data)| conflict_from(*seq, data))
            .collect()
    }

    async fn settle_conflict(
        &self,
        id: &str,
        status: ConflictStatus,
        resolution: &str,
        at: DateTime<Utc>,
    ) -> Result<()> {
        let seq = seq_of(id).ok_or_else(|| Error::not_found(format!("conflict {id}")))?;
        let mut tx = self.pool.begin().await.db()?;
        let row: Option<(String,)> =
            sqlx::query_as("SELECT data FROM conflicts WHERE tenant = $1 AND seq = $2 FOR UPDATE")
                .bind(&*self.tenant)
                .bind(seq)
                .fetch_optional(&mut *tx)
                .await
                .db()?;
        let mut conflict = match row {
            Some((data,)) => conflict_from(seq, &data)?,
            None => return Err(Error::not_found(format!("conflict {id}"))),
        };
        if conflict.status != ConflictStatus::Pending {
            return Err(Error::precondition(format!(
                "conflict {id} is already {:?}",
                conflict.status
            )));
        }
        conflict.status = status;
        conflict.resolution = Some(resolution.to_owned());
        conflict.updated_at = at;
        sqlx::query("UPDATE conflicts SET status = $1, updated_at = $2, data = $3 WHERE seq = $4")
            .bind(name(&status)?)
            .bind(time(at))
            .bind(json(&conflict)?)
            .bind(seq)
            .execute(&mut *tx)
            .await
            .db()?;
        tx.commit().await.db()?;
        Ok(())
    }
}
