//! [`WebhookInbox`]: deliveries unique per tenant, provider, connection and delivery
//! id (the table's key), bodies as `bytea`, and the exclusive claim: the due rows are
//! locked with `FOR UPDATE SKIP LOCKED` and marked with the worker and a visibility
//! timeout in one statement, so two workers never hold one delivery at once, and a
//! worker that dies loses its claims when the timeout passes. Claims of one tenant
//! take turns (the tenant's `inbox` lock), and a delivery is not handed out while an
//! older one of the same record is held by another worker or waiting for its retry:
//! each record's deliveries are applied in order across workers.

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use devflow_sync_core::store::{InboxEntry, InboxStatus, WebhookInbox};
use devflow_sync_core::{Error, Result};
use sqlx::Row;
use sqlx::postgres::PgRow;

use crate::PgStore;
use crate::codec::{Db, count, from_json, json, name, parse_time, time};

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

fn entry_from(row: &PgRow) -> Result<InboxEntry> {
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

fn oldest_first(entries: &mut [InboxEntry]) {
    entries.sort_by(|a, b| {
        (a.received_at, a.id.parse::<i64>().ok()).cmp(&(b.received_at, b.id.parse().ok()))
    });
}

#[async_trait]
impl WebhookInbox for PgStore {
    async fn insert_inbox(&self, entry: &InboxEntry) -> Result<String> {
        let inserted: std::result::Result<i64, _> = sqlx::query_scalar(
            "INSERT INTO inbox
               (tenant, provider, connection, delivery_id, status, received_at,
                next_attempt_at, entity, data, body)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
             RETURNING seq",
        )
        .bind(&*self.tenant)
        .bind(entry.provider.as_str())
        .bind(entry.connection.as_str())
        .bind(&entry.delivery_id)
        .bind(name(&entry.status)?)
        .bind(time(entry.received_at))
        .bind(time(entry.next_attempt_at))
        .bind(entry.entity.as_deref())
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
        let rows = sqlx::query(
            "SELECT seq, data, body, claimed_by, claimed_until FROM inbox
             WHERE tenant = $1 AND status = 'pending' AND next_attempt_at <= $2
             ORDER BY received_at, seq LIMIT $3",
        )
        .bind(&*self.tenant)
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
        let mut tx = self.locked("inbox").await?;
        let rows = sqlx::query(
            "WITH blocked AS MATERIALIZED (
               -- Per record, the first delivery another worker holds or that waits for
               -- its retry: nothing after it goes out.
               SELECT entity, min(seq) AS from_seq FROM inbox
               WHERE tenant = $1 AND status = 'pending' AND entity IS NOT NULL
                 AND ((claimed_until IS NOT NULL AND claimed_until > $4)
                      OR next_attempt_at > $4)
               GROUP BY entity),
             due AS MATERIALIZED (
               SELECT i.seq FROM inbox i LEFT JOIN blocked b ON b.entity = i.entity
               WHERE i.tenant = $1 AND i.status = 'pending' AND i.next_attempt_at <= $4
                 AND (i.claimed_until IS NULL OR i.claimed_until <= $4)
                 AND (b.from_seq IS NULL OR i.seq < b.from_seq)
               ORDER BY i.received_at, i.seq LIMIT $5
               FOR UPDATE OF i SKIP LOCKED)
             UPDATE inbox SET claimed_by = $2, claimed_until = $3
             FROM due WHERE inbox.seq = due.seq
             RETURNING inbox.seq, inbox.data, inbox.body, inbox.claimed_by, inbox.claimed_until",
        )
        .bind(&*self.tenant)
        .bind(worker)
        .bind(time(until))
        .bind(&now)
        .bind(limit_of(limit))
        .fetch_all(&mut *tx)
        .await
        .db()?;
        tx.commit().await.db()?;
        let mut claimed = rows.iter().map(entry_from).collect::<Result<Vec<_>>>()?;
        // RETURNING gives rows in no set order.
        oldest_first(&mut claimed);
        Ok(claimed)
    }

    async fn update_inbox(&self, entry: &InboxEntry) -> Result<()> {
        let seq: Option<i64> = entry.id.parse().ok();
        let written = sqlx::query(
            "UPDATE inbox
             SET status = $3, next_attempt_at = $4, data = $5, claimed_by = NULL,
                 claimed_until = NULL
             WHERE tenant = $1 AND seq = $2",
        )
        .bind(&*self.tenant)
        .bind(seq)
        .bind(name(&entry.status)?)
        .bind(time(entry.next_attempt_at))
        .bind(document(entry)?)
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
        let gone = sqlx::query(
            "DELETE FROM inbox WHERE tenant = $1 AND status != $2 AND received_at < $3",
        )
        .bind(&*self.tenant)
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
        let row = sqlx::query(
            "SELECT seq, data, body, claimed_by, claimed_until FROM inbox
             WHERE tenant = $1 AND seq = $2",
        )
        .bind(&*self.tenant)
        .bind(seq)
        .fetch_optional(&self.pool)
        .await
        .db()?;
        row.as_ref().map(entry_from).transpose()
    }
}
