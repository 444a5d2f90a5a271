//! [`PageStore`]: a pull page's imports, links, log lines and cursor in one
//! transaction, each table in one statement over arrays (`UNNEST`); and a page's links
//! and exclusions read in one query each (`= ANY`).

use async_trait::async_trait;
use devflow_sync_core::model::{ConnectionId, ExternalId, ItemId, ObjectType};
use devflow_sync_core::store::{Exclusion, Link, PageStore, PageWrites};
use devflow_sync_core::{Error, Result};

use crate::PgStore;
use crate::codec::{Db, from_json, json, time};
use crate::items::next_counter;

/// Item ids taken from the tenant's counter at a time (the unused ones serve the next
/// pages; a gap left by a worker that stops is harmless).
const ID_BLOCK: usize = 1024;

/// Item ids this store took from the counter and has not handed out yet.
#[derive(Debug, Default)]
pub(crate) struct ReservedIds(std::sync::Mutex<(i64, i64)>);

impl ReservedIds {
    /// Moves ids into `out` until it holds `n` or the block runs out.
    fn fill(&self, n: usize, out: &mut Vec<ItemId>) {
        let mut range = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        while out.len() < n && range.0 != 0 && range.0 <= range.1 {
            out.push(ItemId::new(format!("item-{}", range.0)));
            range.0 += 1;
        }
    }

    /// Keeps `first..=last` (what is left of an older block is dropped).
    fn put(&self, first: i64, last: i64) {
        *self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = (first, last);
    }
}

impl PgStore {
    /// The links of several records of one connection and object.
    pub(crate) async fn links_of_externals(
        &self,
        connection: &ConnectionId,
        object: &ObjectType,
        ids: &[ExternalId],
    ) -> Result<Vec<Link>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<&str> = ids.iter().map(ExternalId::as_str).collect();
        let rows: Vec<(String,)> = sqlx::query_as(
            "SELECT data FROM links
             WHERE tenant = $1 AND connection = $2 AND object = $3 AND external = ANY($4)",
        )
        .bind(&*self.tenant)
        .bind(connection.as_str())
        .bind(object.as_str())
        .bind(&ids)
        .fetch_all(&self.pool)
        .await
        .db()?;
        rows.iter()
            .map(|(data,)| from_json(data, "links"))
            .collect()
    }

    /// Which of `exclusions` are excluded in one connection and object.
    pub(crate) async fn exclusions_among(
        &self,
        connection: &ConnectionId,
        object: &ObjectType,
        exclusions: &[Exclusion],
    ) -> Result<Vec<Exclusion>> {
        if exclusions.is_empty() {
            return Ok(Vec::new());
        }
        let docs = exclusions.iter().map(json).collect::<Result<Vec<_>>>()?;
        let rows: Vec<(String,)> = sqlx::query_as(
            "SELECT entity FROM exclusions
             WHERE tenant = $1 AND connection = $2 AND object = $3 AND entity = ANY($4)",
        )
        .bind(&*self.tenant)
        .bind(connection.as_str())
        .bind(object.as_str())
        .bind(&docs)
        .fetch_all(&self.pool)
        .await
        .db()?;
        rows.iter()
            .map(|(entity,)| from_json(entity, "exclusions"))
            .collect()
    }
}

#[async_trait]
impl PageStore for PgStore {
    async fn reserve_item_ids(&self, n: usize) -> Result<Vec<ItemId>> {
        if n == 0 {
            return Ok(Vec::new());
        }
        let mut ids = Vec::with_capacity(n);
        self.ids.fill(n, &mut ids);
        if ids.len() < n {
            // A block from the tenant's counter: other workers take other blocks.
            let block = (n - ids.len()).max(ID_BLOCK);
            let want =
                i64::try_from(block).map_err(|_| Error::invalid_input("n", "too many ids"))?;
            let last = next_counter(&self.pool, &self.tenant, "item_ids", want).await?;
            self.ids.put(last - want + 1, last);
            self.ids.fill(n, &mut ids);
        }
        Ok(ids)
    }

    async fn apply_page(&self, page: &PageWrites) -> Result<()> {
        if page.is_empty() {
            return Ok(());
        }
        // Items take change numbers: under the tenant's `items` lock, so the change
        // feed is read in commit order.
        let mut tx = if page.items.is_empty() {
            self.pool.begin().await.db()?
        } else {
            self.locked("items").await?
        };
        if let (Some(connection), Some(object)) = (&page.connection, &page.object) {
            self.check_resumable(&mut *tx, connection, object).await?;
        }
        if !page.items.is_empty() {
            let n = i64::try_from(page.items.len()).unwrap_or(i64::MAX);
            let last = next_counter(&mut *tx, &self.tenant, "changes", n).await?;
            let mut ids = Vec::with_capacity(page.items.len());
            let mut parents = Vec::with_capacity(page.items.len());
            let mut versions = Vec::with_capacity(page.items.len());
            let mut docs = Vec::with_capacity(page.items.len());
            let mut seqs = Vec::with_capacity(page.items.len());
            for (k, item) in page.items.iter().enumerate() {
                ids.push(item.id.as_str());
                parents.push(item.record.parent.as_ref().map(ItemId::as_str));
                versions.push(
                    item.record
                        .version
                        .as_ref()
                        .and_then(|v| v.as_str().parse::<i64>().ok())
                        .unwrap_or(1),
                );
                docs.push(json(item)?);
                seqs.push(last - n + 1 + i64::try_from(k).unwrap_or(0));
            }
            sqlx::query(
                "INSERT INTO work_items (tenant, id, parent, version, data, seq)
                 SELECT $1, * FROM UNNEST($2::text[], $3::text[], $4::bigint[], $5::text[], $6::bigint[])",
            )
            .bind(&*self.tenant)
            .bind(&ids)
            .bind(&parents)
            .bind(&versions)
            .bind(&docs)
            .bind(&seqs)
            .execute(&mut *tx)
            .await
            .db()?;
        }
        if !page.links.is_empty() {
            let mut columns: [Vec<&str>; 4] = Default::default();
            let mut docs = Vec::with_capacity(page.links.len());
            for link in &page.links {
                columns[0].push(link.remote.connection.as_str());
                columns[1].push(link.remote.object.as_str());
                columns[2].push(link.item.as_str());
                columns[3].push(link.remote.id.as_str());
                docs.push(json(link)?);
            }
            sqlx::query(
                "INSERT INTO links (tenant, connection, object, item, external, data)
                 SELECT $1, * FROM UNNEST($2::text[], $3::text[], $4::text[], $5::text[], $6::text[])",
            )
            .bind(&*self.tenant)
            .bind(&columns[0])
            .bind(&columns[1])
            .bind(&columns[2])
            .bind(&columns[3])
            .bind(&docs)
            .execute(&mut *tx)
            .await
            .db()?;
        }
        if !page.logs.is_empty() {
            let mut runs = Vec::with_capacity(page.logs.len());
            let mut connections = Vec::with_capacity(page.logs.len());
            let mut ats = Vec::with_capacity(page.logs.len());
            let mut items = Vec::with_capacity(page.logs.len());
            let mut docs = Vec::with_capacity(page.logs.len());
            for entry in &page.logs {
                runs.push(entry.run_id.as_str());
                connections.push(entry.connection.as_str());
                ats.push(time(entry.at));
                items.push(entry.item.as_ref().map(ItemId::as_str));
                docs.push(json(entry)?);
            }
            sqlx::query(
                "INSERT INTO sync_log (tenant, run_id, connection, at, item, data)
                 SELECT $1, * FROM UNNEST($2::text[], $3::text[], $4::text[], $5::text[], $6::text[])",
            )
            .bind(&*self.tenant)
            .bind(&runs)
            .bind(&connections)
            .bind(&ats)
            .bind(&items)
            .bind(&docs)
            .execute(&mut *tx)
            .await
            .db()?;
        }
        if let (Some(cursor), Some(connection), Some(object)) =
            (&page.cursor, &page.connection, &page.object)
        {
            sqlx::query(
                "INSERT INTO cursors (tenant, connection, object, data) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (tenant, connection, object) DO UPDATE SET data = excluded.data",
            )
            .bind(&*self.tenant)
            .bind(connection.as_str())
            .bind(object.as_str())
            .bind(json(cursor)?)
            .execute(&mut *tx)
            .await
            .db()?;
        }
        tx.commit().await.db()
    }
}
