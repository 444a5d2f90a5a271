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

/// Item ids taken from the database's counter at a time (the unused ones serve the
/// next pages; a gap left by a process that stops is harmless).
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
        let mut ids = Vec::with_capacity(n);
        self.ids.fill(n, &mut ids);
        if ids.len() < n {
            // A block from the database's counter: this store keeps what the page does
            // not use for the next pages (other stores on the file take other blocks).
            let block = (n - ids.len()).max(ID_BLOCK);
            let want =
                i64::try_from(block).map_err(|_| Error::invalid_input("n", "too many ids"))?;
            let last: i64 = sqlx::query_scalar(
                "INSERT INTO item_ids (only_row, last) VALUES (1, ?)
                 ON CONFLICT (only_row) DO UPDATE SET last = last + excluded.last
                 RETURNING last",
            )
            .bind(want)
            .fetch_one(&self.pool)
            .await
            .db()?;
            self.ids.put(last - want + 1, last);
            self.ids.fill(n, &mut ids);
        }
        Ok(ids)
    }

    async fn apply_page(&self, page: &PageWrites) -> Result<()> {
        if page.is_empty() {
            return Ok(());
        }
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await.db()?;
        // In one read: whether the scope must resync first (the restore guard), and the
        // last change number (the page's items take the next ones: no other writer
        // while the transaction holds the database).
        let (seq, since): (i64, Option<String>) = sqlx::query_as(
            "SELECT (SELECT coalesce(max(seq), 0) FROM work_items),
                    (SELECT since FROM resync_required WHERE connection = ? AND object = ?)",
        )
        .bind(page.connection.as_ref().map(ConnectionId::as_str))
        .bind(page.object.as_ref().map(ObjectType::as_str))
        .fetch_one(&mut *tx)
        .await
        .db()?;
        if let (Some(since), Some(connection), Some(object)) =
            (since, &page.connection, &page.object)
        {
            return Err(devflow_sync_core::store::must_resync(
                connection, object, &since,
            ));
        }
        // Each table's documents are written as JSON while the statement before runs
        // on the connection's thread: the two overlap instead of taking turns.
        let item_docs = docs(&page.items)?;
        let (done, link_docs) =
            futures_util::future::join(insert_items(&mut tx, &page.items, item_docs, seq), async {
                docs(&page.links)
            })
            .await;
        done?;
        let (done, log_docs) =
            futures_util::future::join(insert_links(&mut tx, &page.links, link_docs?), async {
                docs(&page.logs)
            })
            .await;
        done?;
        insert_logs(&mut tx, &page.logs, log_docs?).await?;
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

type Tx<'c> = sqlx::Transaction<'c, sqlx::Sqlite>;

/// Every value of `values` as a JSON document.
fn docs<T: serde::Serialize>(values: &[T]) -> Result<Vec<String>> {
    values.iter().map(json).collect()
}

/// The page's items (with their documents), taking the change numbers after `seq`.
async fn insert_items(
    tx: &mut Tx<'_>,
    items: &[devflow_sync_core::store::WorkItem],
    docs: Vec<String>,
    mut seq: i64,
) -> Result<()> {
    let mut docs = docs.into_iter();
    for chunk in items.chunks(ROWS) {
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
                .bind(docs.next().unwrap_or_default())
                .bind(seq);
        }
        query.execute(&mut **tx).await.db()?;
    }
    Ok(())
}

/// The page's links (with their documents).
async fn insert_links(tx: &mut Tx<'_>, links: &[Link], docs: Vec<String>) -> Result<()> {
    let mut docs = docs.into_iter();
    for chunk in links.chunks(ROWS) {
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
                .bind(docs.next().unwrap_or_default());
        }
        query.execute(&mut **tx).await.db()?;
    }
    Ok(())
}

/// The page's log lines (with their documents).
async fn insert_logs(
    tx: &mut Tx<'_>,
    logs: &[devflow_sync_core::store::SyncLogEntry],
    docs: Vec<String>,
) -> Result<()> {
    let mut docs = docs.into_iter();
    for chunk in logs.chunks(ROWS) {
        let sql = format!(
            "INSERT INTO sync_log (run_id, connection, at, item, data) VALUES {}",
            placeholders(chunk.len(), 5)
        );
        let mut query = sqlx::query(AssertSqlSafe(sql));
        for entry in chunk {
            query = query
                .bind(entry.run_id.clone())
                .bind(entry.connection.as_str())
                .bind(time(entry.at))
                .bind(entry.item.as_ref().map(|i| i.as_str().to_owned()))
                .bind(docs.next().unwrap_or_default());
        }
        query.execute(&mut **tx).await.db()?;
    }
    Ok(())
}
