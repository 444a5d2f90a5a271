//! [`WebhookInbox`]: deliveries unique per provider, connection and delivery id (the
//! table's key), bodies as blobs, and the exclusive claim as one `UPDATE ... RETURNING`
//! statement, so two workers (or two processes) never hold one delivery at once.

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use devflow_sync_core::store::{InboxEntry, InboxStatus, WebhookInbox};
use devflow_sync_core::{Error, Result};
use sqlx::Row;
use sqlx::sqlite::SqliteRow;

use crate::SqliteStore;
use crate::codec::{Db, count, from_json, json, name, parse_time, time};

/// The columns an entry is read from, in every query.
macro_rules! columns {
    () => {
        "seq, data, body, claimed_by, claimed_until"
    };
}

/// An entry as stored: the document without its id, body and claim, which have their
/// own columns.
fn document(entry: &InboxEntry) -> Result<String> {
    json(&InboxEntry {
        id: String::new(),
        body: Vec::new(),
        claimed_by: None,
        claimed_until: None,
        ..entry.clone()
    })
}

fn entry_from(row: &SqliteRow) -> Result<InboxEntry> {
    let seq: i64 = row.try_get("seq").db()?;
    let mut entry: InboxEntry = from_json(&row.try_get::<String, _>("data").db()?, "inbox")?;
    entry.id = seq.to_string();
    entry.body = row.try_get("body").db()?;
    entry.claimed_by = row.try_get("claimed_by").db()?;
    entry.claimed_until = row
        .try_get::<Option<String>, _>("claimed_until")
        .db()?
        .map(|t| parse_time(&t, "inbox.claimed_until"))
        .transpose()?;
    Ok(entry)
}

fn limit_of(limit: usize) -> i64 {
    i64::try_from(limit).unwrap_or(i64::MAX)
}

#[async_trait]
impl WebhookInbox for SqliteStore {
    async fn insert_inbox(&self, entry: &InboxEntry) -> Result<String> {
        let inserted: std::result::Result<i64, _> = sqlx::query_scalar(
            "INSERT INTO inbox
               (provider, connection, delivery_id, status, received_at, next_attempt_at,
                data, body)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?)
             RETURNING seq",
        )
        .bind(entry.provider.as_str())
        .bind(entry.connection.as_str())
        .bind(&entry.delivery_id)
        .bind(name(&entry.status)?)
        .bind(time(entry.received_at))
        .bind(time(entry.next_attempt_at))
        .bind(document(entry)?)
        .bind(&entry.body)
        .fetch_one(&self.pool)
        .await;
        match inserted.db() {
            Ok(seq) => Ok(seq.to_string()),
            Err(Error::AlreadyExists(_)) => Err(Error::already_exists(format!(
                "delivery {} from {}/{}",
                entry.delivery_id, entry.provider, entry.connection
            ))),
            Err(e) => Err(e),
        }
    }

    async fn due_inbox(&self, now: DateTime<Utc>, limit: usize) -> Result<Vec<InboxEntry>> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            columns!(),
            " FROM inbox
             WHERE status = 'pending' AND next_attempt_at <= ?
             ORDER BY received_at, seq LIMIT ?"
        ))
        .bind(time(now))
        .bind(limit_of(limit))
        .fetch_all(&self.pool)
        .await
        .db()?;
        rows.iter().map(entry_from).collect()
    }

    async fn claim_due(
        &self,
        now: DateTime<Utc>,
        limit: usize,
        worker: &str,
        visibility: Duration,
    ) -> Result<Vec<InboxEntry>> {
        let until = devflow_sync_core::clock::after(now, visibility);
        let now = time(now);
        let rows = sqlx::query(concat!(
            "UPDATE inbox SET claimed_by = ?, claimed_until = ?
             WHERE seq IN (
               SELECT seq FROM inbox
               WHERE status = 'pending' AND next_attempt_at <= ?
                 AND (claimed_until IS NULL OR claimed_until <= ?)
               ORDER BY received_at, seq LIMIT ?)
             RETURNING ",
            columns!()
        ))
        .bind(worker)
        .bind(time(until))
        .bind(&now)
        .bind(&now)
        .bind(limit_of(limit))
        .fetch_all(&self.pool)
        .await
        .db()?;
        let mut claimed = rows.iter().map(entry_from).collect::<Result<Vec<_>>>()?;
        // RETURNING gives rows in no set order.
        claimed.sort_by(|a, b| {
            (a.received_at, a.id.parse::<i64>().ok()).cmp(&(b.received_at, b.id.parse().ok()))
        });
        Ok(claimed)
    }

    async fn update_inbox(&self, entry: &InboxEntry) -> Result<()> {
        let seq: Option<i64> = entry.id.parse().ok();
        let written = sqlx::query(
            "UPDATE inbox
             SET status = ?, next_attempt_at = ?, data = ?, claimed_by = NULL,
                 claimed_until = NULL
             WHERE seq = ?",
        )
        .bind(name(&entry.status)?)
        .bind(time(entry.next_attempt_at))
        .bind(document(entry)?)
        .bind(seq)
        .execute(&self.pool)
        .await
        .db()?;
        if written.rows_affected() == 0 {
            return Err(Error::not_found(format!("inbox entry {}", entry.id)));
        }
        Ok(())
    }

    async fn prune_inbox(&self, received_before: DateTime<Utc>) -> Result<usize> {
        let pending = name(&InboxStatus::Pending)?;
        let gone = sqlx::query("DELETE FROM inbox WHERE status != ? AND received_at < ?")
            .bind(pending)
            .bind(time(received_before))
            .execute(&self.pool)
            .await
            .db()?;
        Ok(count(gone.rows_affected()))
    }

    async fn inbox_entry(&self, id: &str) -> Result<Option<InboxEntry>> {
        let Ok(seq) = id.parse::<i64>() else {
            return Ok(None);
        };
        let row = sqlx::query(concat!("SELECT ", columns!(), " FROM inbox WHERE seq = ?"))
            .bind(seq)
            .fetch_optional(&self.pool)
            .await
            .db()?;
        row.as_ref().map(entry_from).transpose()
    }
}
