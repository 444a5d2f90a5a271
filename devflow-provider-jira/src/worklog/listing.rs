//! The worklog delta: `/worklog/updated` (ids and properties), bodies by
//! `POST /worklog/list`, then `/worklog/deleted`, both from the cursor less the
//! configured overlap (the pull repeats a few minutes, which the engine settles as
//! unchanged, so a change made while the two phases ran is never skipped).
//!
//! Page tokens: `u:<since ms>:<from ms>` while updated worklogs are read, then
//! `d:<since ms>` for the deletions, where `from` is where the deletions start.

use devflow_sync_core::http::Method;
use devflow_sync_core::model::{ConnectionId, ExternalId, Record};
use devflow_sync_core::provider::{ChangeQuery, Page, RemoteRecord};
use devflow_sync_core::{Error, Result};
use serde::Deserialize;

use super::{OBJECT, PROPERTY_KEY, PropertyWire, WorklogProperty};
use crate::client::JiraProvider;

/// One row of `/worklog/updated` or `/worklog/deleted`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ChangeWire {
    #[serde(default)]
    worklog_id: Option<serde_json::Value>,
    #[serde(default)]
    updated_time: Option<i64>,
    #[serde(default)]
    properties: Vec<PropertyWire>,
}

/// A page of `/worklog/updated` or `/worklog/deleted`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ChangesWire {
    #[serde(default)]
    values: Vec<ChangeWire>,
    #[serde(default)]
    until: Option<i64>,
    #[serde(default = "yes")]
    last_page: bool,
}

fn yes() -> bool {
    true
}

/// What a page of `/worklog/updated` holds.
pub(crate) struct UpdatedIds {
    /// Every worklog id with the host record id of its `devflow` property, if any.
    pub ours: Vec<(String, Option<String>)>,
    /// Where the next page starts, when there is one.
    pub next_since: Option<i64>,
}

fn id_text(v: &Option<serde_json::Value>) -> Option<String> {
    match v {
        Some(serde_json::Value::Number(n)) => Some(n.to_string()),
        Some(serde_json::Value::String(s)) if !s.is_empty() => Some(s.clone()),
        _ => None,
    }
}

fn stale(token: &str) -> Error {
    Error::StalePageToken(format!("{token:?} is not a Jira worklog page token"))
}

impl JiraProvider {
    async fn changes(
        &self,
        connection: &ConnectionId,
        which: &str,
        since: i64,
    ) -> Result<ChangesWire> {
        let path = format!(
            "/rest/api/3/worklog/{which}?since={}&expand=properties",
            since.max(0)
        );
        let response = self.call(connection, Method::GET, &path, None).await?;
        devflow_sync_core::api::parse_json("Jira worklog changes", &response.body)
    }

    /// A page of `/worklog/updated` from `since` (epoch milliseconds).
    pub(crate) async fn updated_ids(
        &self,
        connection: &ConnectionId,
        since: i64,
    ) -> Result<UpdatedIds> {
        let page = self.changes(connection, "updated", since).await?;
        let ours = page
            .values
            .iter()
            .filter_map(|v| {
                let id = id_text(&v.worklog_id)?;
                let item = v
                    .properties
                    .iter()
                    .find(|p| p.key == PROPERTY_KEY)
                    .and_then(|p| serde_json::from_value::<WorklogProperty>(p.value.clone()).ok())
                    .and_then(|p| p.item);
                Some((id, item))
            })
            .collect();
        let next_since = (!page.last_page).then(|| page.until.unwrap_or(since).max(since + 1));
        Ok(UpdatedIds { ours, next_since })
    }

    /// One page of the worklog delta (see the module docs).
    pub(crate) async fn list_worklogs(
        &self,
        connection: &ConnectionId,
        query: &ChangeQuery,
    ) -> Result<Page> {
        let overlap = chrono::Duration::from_std(self.config.overlap).unwrap_or_default();
        let from = query
            .since
            .and_then(|t| t.checked_sub_signed(overlap))
            .map_or(0, |t| t.timestamp_millis());
        match query.page_token.as_deref() {
            None => self.updated_page(connection, from, from).await,
            Some(token) => {
                let mut parts = token.split(':');
                let phase = parts.next();
                let since: i64 = parts
                    .next()
                    .and_then(|n| n.parse().ok())
                    .ok_or_else(|| stale(token))?;
                match phase {
                    Some("u") => {
                        let from: i64 = parts
                            .next()
                            .and_then(|n| n.parse().ok())
                            .ok_or_else(|| stale(token))?;
                        self.updated_page(connection, since, from).await
                    }
                    Some("d") => self.deleted_page(connection, since).await,
                    _ => Err(stale(token)),
                }
            }
        }
    }

    async fn updated_page(&self, connection: &ConnectionId, since: i64, from: i64) -> Result<Page> {
        let page = self.updated_ids(connection, since).await?;
        // Only the worklogs this library booked (see the module docs).
        let ids: Vec<String> = page
            .ours
            .into_iter()
            .filter(|(_, item)| item.is_some())
            .map(|(id, _)| id)
            .collect();
        let records = if ids.is_empty() {
            Vec::new()
        } else {
            self.worklogs_by_id(connection, &ids).await?
        };
        let next = match page.next_since {
            Some(next) => format!("u:{next}:{from}"),
            None => format!("d:{from}"),
        };
        Ok(Page {
            records,
            next_page_token: Some(next),
        })
    }

    async fn deleted_page(&self, connection: &ConnectionId, since: i64) -> Result<Page> {
        let page = self.changes(connection, "deleted", since).await?;
        let records = page
            .values
            .iter()
            .filter_map(|v| {
                let id = id_text(&v.worklog_id)?;
                let at = v
                    .updated_time
                    .and_then(chrono::DateTime::from_timestamp_millis)
                    .unwrap_or_default();
                Some(RemoteRecord {
                    id: ExternalId::new(id),
                    url: None,
                    record: Record::new(OBJECT, at),
                    marker: None,
                    deleted: true,
                })
            })
            .collect();
        let next = (!page.last_page)
            .then(|| page.until.unwrap_or(since).max(since + 1))
            .map(|n| format!("d:{n}"));
        Ok(Page {
            records,
            next_page_token: next,
        })
    }
}
