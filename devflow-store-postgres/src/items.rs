//! [`WorkItemStore`]: the host's records. Versions count up from `1`; ids of new items
//! are `item-1`, `item-2`, ... per tenant. An update is read, applied and written back
//! only over the version it read (retried when another writer came between). Every
//! write takes the tenant's next change number under the tenant's `items` lock, so
//! the change feed is read in the order writes committed.

use async_trait::async_trait;
use devflow_sync_core::model::{ItemId, Record, Version};
use devflow_sync_core::store::{ItemUpdate, WorkItem, WorkItemStore};
use devflow_sync_core::{Error, Result};

use crate::PgStore;
use crate::codec::{Db, from_json, json};

/// How many times an update is tried when other writers keep coming between.
const UPDATE_TRIES: usize = 100;

fn version_number(v: Option<&Version>) -> i64 {
    v.and_then(|v| v.as_str().parse().ok()).unwrap_or(0)
}

/// The next value of the tenant's counter `name`, moved on by `by`.
pub(crate) async fn next_counter<'e, E>(e: E, tenant: &str, name: &str, by: i64) -> Result<i64>
where
    E: sqlx::PgExecutor<'e>,
{
    sqlx::query_scalar(
        "INSERT INTO counters (tenant, name, last) VALUES ($1, $2, $3)
         ON CONFLICT (tenant, name) DO UPDATE SET last = counters.last + excluded.last
         RETURNING last",
    )
    .bind(tenant)
    .bind(name)
    .bind(by)
    .fetch_one(e)
    .await
    .db()
}

impl PgStore {
    async fn item_row(&self, id: &ItemId) -> Result<Option<(WorkItem, i64)>> {
        let row: Option<(String, i64)> =
            sqlx::query_as("SELECT data, version FROM work_items WHERE tenant = $1 AND id = $2")
                .bind(&*self.tenant)
                .bind(id.as_str())
                .fetch_optional(&self.pool)
                .await
                .db()?;
        row.map(|(data, v)| Ok((from_json(&data, "work_items")?, v)))
            .transpose()
    }
}

#[async_trait]
impl WorkItemStore for PgStore {
    async fn changed_after(&self, after: u64, limit: usize) -> Result<Vec<(u64, WorkItem)>> {
        let rows: Vec<(i64, String)> = sqlx::query_as(
            "SELECT seq, data FROM work_items WHERE tenant = $1 AND seq > $2
             ORDER BY seq LIMIT $3",
        )
        .bind(&*self.tenant)
        .bind(i64::try_from(after).unwrap_or(i64::MAX))
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .fetch_all(&self.pool)
        .await
        .db()?;
        rows.iter()
            .map(|(seq, data)| {
                Ok((
                    u64::try_from(*seq).unwrap_or(0),
                    from_json(data, "work_items")?,
                ))
            })
            .collect()
    }

    async fn get(&self, id: &ItemId) -> Result<Option<WorkItem>> {
        Ok(self.item_row(id).await?.map(|(item, _)| item))
    }

    async fn create(&self, id: Option<ItemId>, mut record: Record) -> Result<WorkItem> {
        record.version = Some(Version::new("1"));
        record.updated_at = self.clock.now();
        let given = id.is_some();
        let mut item = WorkItem {
            id: id.unwrap_or_else(|| ItemId::new("")),
            record,
            active: true,
        };
        // A new id is the next number of a counter that only counts up; a number whose
        // id a caller already gave to an item is skipped.
        for _ in 0..UPDATE_TRIES {
            if !given {
                let n = next_counter(&self.pool, &self.tenant, "item_ids", 1).await?;
                item.id = ItemId::new(format!("item-{n}"));
            }
            let mut tx = self.locked("items").await?;
            let seq = next_counter(&mut *tx, &self.tenant, "changes", 1).await?;
            let inserted = sqlx::query(
                "INSERT INTO work_items (tenant, id, parent, version, data, seq)
                 VALUES ($1, $2, $3, 1, $4, $5)",
            )
            .bind(&*self.tenant)
            .bind(item.id.as_str())
            .bind(item.record.parent.as_ref().map(ItemId::as_str))
            .bind(json(&item)?)
            .bind(seq)
            .execute(&mut *tx)
            .await;
            match inserted.db() {
                Ok(_) => {
                    tx.commit().await.db()?;
                    return Ok(item);
                }
                Err(Error::AlreadyExists(_)) if !given => {}
                Err(Error::AlreadyExists(_)) => {
                    return Err(Error::already_exists(format!("work item {}", item.id)));
                }
                Err(e) => return Err(e),
            }
        }
        Err(Error::transient(format!(
            "no free item id after {UPDATE_TRIES} tries"
        )))
    }

    async fn update(
        &self,
        id: &ItemId,
        update: &ItemUpdate,
        expected: Option<&Version>,
    ) -> Result<WorkItem> {
        for _ in 0..UPDATE_TRIES {
            let (mut item, stored) = self
                .item_row(id)
                .await?
                .ok_or_else(|| Error::not_found(format!("work item {id}")))?;
            if let Some(expected) = expected
                && item.record.version.as_ref() != Some(expected)
            {
                return Err(Error::precondition(format!(
                    "work item {id} is at version {}, not {expected}",
                    item.record.version.as_ref().map_or("none", Version::as_str)
                )));
            }
            if update.is_empty() {
                return Ok(item);
            }
            item.record.fields.apply(&update.changes);
            if let Some(parent) = &update.parent {
                item.record.parent = parent.clone();
            }
            if let Some(active) = update.active {
                item.active = active;
            }
            let next = version_number(item.record.version.as_ref()).saturating_add(1);
            item.record.version = Some(Version::new(next.to_string()));
            item.record.updated_at = self.clock.now();
            let mut tx = self.locked("items").await?;
            let seq = next_counter(&mut *tx, &self.tenant, "changes", 1).await?;
            let written = sqlx::query(
                "UPDATE work_items SET parent = $3, version = $4, data = $5, seq = $6
                 WHERE tenant = $1 AND id = $2 AND version = $7",
            )
            .bind(&*self.tenant)
            .bind(id.as_str())
            .bind(item.record.parent.as_ref().map(ItemId::as_str))
            .bind(next)
            .bind(json(&item)?)
            .bind(seq)
            .bind(stored)
            .execute(&mut *tx)
            .await
            .db()?;
            if written.rows_affected() == 1 {
                tx.commit().await.db()?;
                return Ok(item);
            }
        }
        Err(Error::transient(format!(
            "work item {id} kept changing under {UPDATE_TRIES} tries"
        )))
    }

    async fn delete(&self, id: &ItemId) -> Result<()> {
        sqlx::query("DELETE FROM work_items WHERE tenant = $1 AND id = $2")
            .bind(&*self.tenant)
            .bind(id.as_str())
            .execute(&self.pool)
            .await
            .db()?;
        Ok(())
    }

    async fn children(&self, id: &ItemId) -> Result<Vec<WorkItem>> {
        let rows: Vec<(String,)> = sqlx::query_as(
            "SELECT data FROM work_items WHERE tenant = $1 AND parent = $2 ORDER BY id",
        )
        .bind(&*self.tenant)
        .bind(id.as_str())
        .fetch_all(&self.pool)
        .await
        .db()?;
        rows.iter()
            .map(|(data,)| from_json(data, "work_items"))
            .collect()
    }
}
