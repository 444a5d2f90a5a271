//! [`PageStore`]: a pull page's imports, links, log lines and cursor in one
//! transaction, with multi-row statements (a page is a handful of statements, not
//! several per record); and the page's links read in one query.

use async_trait::async_trait;
use devflow_sync_core::model::{ConnectionId, ExternalId, ItemId, ObjectType};
use devflow_sync_core::store::{Exclusion, Link, PageStore, PageWrites};
use devflow_sync_core::{Error, Result};
use sqlx::AssertSqlSafe;

use crate::SqliteStore;
use crate::codec::{Db, from_json, json, time};

/// Rows per multi-row statement (well under SQLite's limit of bound values).
const ROWS: usize = 200;

/// `(?, ?, ...), (?, ?, ...)` for `rows` rows of `columns` values. Only placeholders
/// are generated; every value is bound.
fn placeholders(rows: usize, columns: usize) -> String {
    let row = format!("({})", vec!["?"; columns].join(", "));
    vec![row; rows].join(", ")
}

impl SqliteStore {
    /// The links of several records of one connection and object.
    pub(crate) async fn links_of_externals(
        &self,
        connection: &ConnectionId,
        object: &ObjectType,
        ids: &[ExternalId],
    ) -> Result<Vec<Link>> {
        let mut out = Vec::new();
        for chunk in ids.chunks(ROWS) {
            let sql = format!(
                "SELECT data FROM links WHERE connection = ? AND object = ? AND external IN ({})",
                vec!["?"; chunk.len()].join(", ")
            );
            let mut query = sqlx::query_as::<_, (String,)>(AssertSqlSafe(sql))
                .bind(connection.as_str())
                .bind(object.as_str());
            for id in chunk {
                query = query.bind(id.as_str());
            }
            for (data,) in query.fetch_all(&self.pool).await.db()? {
                out.push(from_json(&data, "links")?);
            }
        }
        Ok(out)
    }
}

impl SqliteStore {
    /// Which of `exclusions` are excluded in one connection and object.
    pub(crate) async fn exclusions_among(
        &self,
        connection: &ConnectionId,
        object: &ObjectType,
        exclusions: &[Exclusion],
    ) -> Result<Vec<Exclusion>> {
        let mut out = Vec::new();
        for chunk in exclusions.chunks(ROWS) {
            let sql = format!(
                "SELECT entity FROM exclusions WHERE connection = ? AND object = ? AND entity IN ({})",
                vec!["?"; chunk.len()].join(", ")
            );
            let mut query = sqlx::query_as::<_, (String,)>(AssertSqlSafe(sql))
                .bind(connection.as_str())
                .bind(object.as_str());
            for e in chunk {
                query = query.bind(json(e)?);
            }
            for (entity,) in query.fetch_all(&self.pool).await.db()? {
                out.push(from_json(&entity, "exclusions")?);
            }
        }
        Ok(out)
    }
}

#[async_trait]
impl PageStore for SqliteStore {
    async fn reserve_item_ids(&self, n: usize) -> Result<Vec<ItemId>> {
        if n == 0 {
            return Ok(Vec::new());
        }
        let n = i64::try_from(n).map_err(|_| Error::invalid_input("n", "too many ids"))?;
        let last: i64 = sqlx::query_scalar(
            "INSERT INTO item_ids (only_row, last) VALUES (1, ?)
             ON CONFLICT (only_row) DO UPDATE SET last = last + excluded.last
             RETURNING last",
        )
        .bind(n)
        .fetch_one(&self.pool)
        .await
        .db()?;
        Ok((last - n + 1..=last)
            .map(|k| ItemId::new(format!("item-{k}")))
            .collect())
    }

    async fn apply_page(&self, page: &PageWrites) -> Result<()> {
        if page.is_empty() {
            return Ok(());
        }
        if let (Some(connection), Some(object)) = (&page.connection, &page.object) {
            self.check_resumable(connection, object).await?;
        }
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await.db()?;
        // The page's items take the next change numbers (no other writer while the
        // transaction holds the database).
        let mut seq: i64 = if page.items.is_empty() {
            0
        } else {
            sqlx::query_scalar("SELECT coalesce(max(seq), 0) FROM work_items")
                .fetch_one(&mut *tx)
                .await
                .db()?
        };
        for chunk in page.items.chunks(ROWS) {
            let sql = format!(
                "INSERT INTO work_items (id, parent, version, data, seq) VALUES {}",
                placeholders(chunk.len(), 5)
            );
            let mut query = sqlx::query(AssertSqlSafe(sql));
            for item in chunk {
                let version: i64 = item
                    .record
                    .version
                    .as_ref()
                    .and_then(|v| v.as_str().parse().ok())
                    .unwrap_or(1);
                seq += 1;
                query = query
                    .bind(item.id.as_str())
                    .bind(item.record.parent.as_ref().map(ItemId::as_str))
                    .bind(version)
                    .bind(json(item)?)
                    .bind(seq);
            }
            query.execute(&mut *tx).await.db()?;
        }
        for chunk in page.links.chunks(ROWS) {
            let sql = format!(
                "INSERT INTO links (connection, object, item, external, data) VALUES {}",
                placeholders(chunk.len(), 5)
            );
            let mut query = sqlx::query(AssertSqlSafe(sql));
            for link in chunk {
                query = query
                    .bind(link.remote.connection.as_str())
                    .bind(link.remote.object.as_str())
                    .bind(link.item.as_str())
                    .bind(link.remote.id.as_str())
                    .bind(json(link)?);
            }
            query.execute(&mut *tx).await.db()?;
        }
        for chunk in page.logs.chunks(ROWS) {
            let sql = format!(
                "INSERT INTO sync_log (run_id, connection, at, data) VALUES {}",
                placeholders(chunk.len(), 4)
            );
            let mut query = sqlx::query(AssertSqlSafe(sql));
            for entry in chunk {
                query = query
                    .bind(&entry.run_id)
                    .bind(entry.connection.as_str())
                    .bind(time(entry.at))
                    .bind(json(entry)?);
            }
            query.execute(&mut *tx).await.db()?;
        }
        if let (Some(cursor), Some(connection), Some(object)) =
            (&page.cursor, &page.connection, &page.object)
        {
            sqlx::query(
                "INSERT INTO cursors (connection, object, data) VALUES (?, ?, ?)
                 ON CONFLICT (connection, object) DO UPDATE SET data = excluded.data",
            )
            .bind(connection.as_str())
            .bind(object.as_str())
            .bind(json(cursor)?)
            .execute(&mut *tx)
            .await
            .db()?;
        }
        tx.commit().await.db()?;
        self.wrote();
        Ok(())
    }
}
