//! Writing worklogs: create (the `devflow` property in the same request), read by id
//! (`worklog/list`), update, delete, and the marker lookup.

use chrono::{DateTime, FixedOffset, Offset, Utc};
use devflow_sync_core::http::{Method, percent_encode};
use devflow_sync_core::model::{ConnectionId, ExternalId, FieldValue, Fields, ItemId};
use devflow_sync_core::provider::{NewRemote, RemoteRecord, RemoteUpdate};
use devflow_sync_core::{Error, Result};
use serde_json::{Value, json};

use super::{
    PROPERTY_KEY, WorklogProperty, WorklogWire, checked_issue_key, checked_seconds, format_started,
    parse_offset, parse_time, record_of,
};
use crate::client::JiraProvider;

/// What the provider remembers of worklogs it wrote or read in this process.
#[derive(Debug, Default)]
pub(crate) struct WorklogCache {
    /// Worklog id -> the issue it belongs to (id or key).
    issue_of: std::collections::HashMap<String, String>,
    /// Host record id -> the issue key its create went to (for the marker lookup).
    pending: std::collections::HashMap<String, String>,
}

/// Keeps the cache from growing without bound in a long-lived process.
const CACHE_MAX: usize = 100_000;

/// A refusal about one issue, saying which and why.
fn about_issue(key: &str, e: Error) -> Error {
    match e {
        Error::NotFound(_) => Error::not_found(format!(
            "Jira issue {key} does not exist, or this account cannot see it"
        )),
        Error::PermissionDenied(why) => Error::PermissionDenied(format!(
            "this account may not log time on Jira issue {key} ({why})"
        )),
        other => other,
    }
}

/// The start instant of `fields`, or an error naming the record.
fn started_of(fields: &Fields, record: &str) -> Result<DateTime<Utc>> {
    match fields.get("started") {
        FieldValue::DateTime(at) => Ok(*at),
        FieldValue::Text(text) => parse_time(text).ok_or_else(|| Error::InvalidInput {
            pointer: Some("/fields/started".into()),
            message: format!("time record {record}: the start {text:?} is not a time"),
        }),
        _ => Err(Error::InvalidInput {
            pointer: Some("/fields/started".into()),
            message: format!("time record {record} has no start time"),
        }),
    }
}

/// The offset to write the start in (`+02:00`; UTC when the record has none).
fn offset_of(fields: &Fields, record: &str) -> Result<(FixedOffset, Option<String>)> {
    match fields.get("startedOffset").as_str().map(str::trim) {
        None | Some("") => Ok((Utc.fix(), None)),
        Some(text) => parse_offset(text)
            .map(|o| (o, Some(o.to_string())))
            .ok_or_else(|| Error::InvalidInput {
                pointer: Some("/fields/startedOffset".into()),
                message: format!("time record {record}: {text:?} is not a UTC offset like +02:00"),
            }),
    }
}

impl JiraProvider {
    fn worklog_cache(&self) -> std::sync::MutexGuard<'_, WorklogCache> {
        self.worklogs.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn remember_worklog(&self, record: &RemoteRecord) {
        let Some(issue) = record.record.fields.get("issueId").as_str() else {
            return;
        };
        let mut cache = self.worklog_cache();
        if cache.issue_of.len() >= CACHE_MAX {
            cache.issue_of.clear();
        }
        cache
            .issue_of
            .insert(record.id.as_str().to_owned(), issue.to_owned());
    }

    /// Books a host time record as a worklog, its marker in the same request.
    pub(crate) async fn create_worklog(
        &self,
        connection: &ConnectionId,
        new: &NewRemote,
    ) -> Result<RemoteRecord> {
        let record = new.marker.as_str();
        let key = checked_issue_key(&new.fields, "issue", record)?;
        let seconds = checked_seconds(&new.fields, "timeSpentSeconds", record)?;
        let started = started_of(&new.fields, record)?;
        let (offset, offset_text) = offset_of(&new.fields, record)?;
        let property = WorklogProperty {
            item: Some(record.to_owned()),
            issue: Some(key.clone()),
            offset: offset_text,
        };
        let mut body = json!({
            "timeSpentSeconds": seconds,
            "started": format_started(started, offset),
            "properties": [{"key": PROPERTY_KEY, "value": property}],
        });
        if let Some(text) = new.fields.get("comment").as_str().filter(|t| !t.is_empty()) {
            body["comment"] = crate::adf::from_markdown(text);
        }
        {
            let mut cache = self.worklog_cache();
            if cache.pending.len() >= CACHE_MAX {
                cache.pending.clear();
            }
            cache.pending.insert(record.to_owned(), key.clone());
        }
        let path = format!(
            "/rest/api/3/issue/{}/worklog?notifyUsers=false&expand=properties",
            percent_encode(&key)
        );
        let response = self
            .call(connection, Method::POST, &path, Some(&body))
            .await
            .map_err(|e| about_issue(&key, e))?;
        let created = self.worklog_of_body(&response.body)?;
        self.remember_worklog(&created);
        Ok(created)
    }

    fn worklog_of_body(&self, body: &[u8]) -> Result<RemoteRecord> {
        let wire: WorklogWire = devflow_sync_core::api::parse_json("Jira worklog", body)?;
        record_of(&wire, self.site())
            .ok_or_else(|| Error::invalid_input("id", "Jira answered a worklog without an id"))
    }

    /// Worklogs by id, with their properties (`POST worklog/list`, at most 1,000 ids).
    pub(crate) async fn worklogs_by_id(
        &self,
        connection: &ConnectionId,
        ids: &[String],
    ) -> Result<Vec<RemoteRecord>> {
        let mut out = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(1000) {
            let body = json!({"ids": chunk.iter().map(|id| id.parse::<u64>().map_or_else(|_| json!(id), |n| json!(n))).collect::<Vec<_>>()});
            let response = self
                .call(
                    connection,
                    Method::POST,
                    "/rest/api/3/worklog/list?expand=properties",
                    Some(&body),
                )
                .await?;
            let wires: Vec<WorklogWire> =
                devflow_sync_core::api::parse_json("Jira worklogs", &response.body)?;
            for wire in &wires {
                if let Some(record) = record_of(wire, self.site()) {
                    self.remember_worklog(&record);
                    out.push(record);
                }
            }
        }
        Ok(out)
    }

    /// One worklog by id. A worklog without the `devflow` property (booked by hand in
    /// Jira) is not one of ours: not found, as the listing leaves it out too.
    pub(crate) async fn get_worklog(
        &self,
        connection: &ConnectionId,
        id: &ExternalId,
    ) -> Result<RemoteRecord> {
        self.worklogs_by_id(connection, &[id.as_str().to_owned()])
            .await?
            .into_iter()
            .next()
            .filter(|w| w.marker.is_some())
            .ok_or_else(|| Error::not_found(format!("Jira worklog {id}")))
    }

    /// The issue a worklog belongs to: remembered, else read.
    async fn issue_of(&self, connection: &ConnectionId, id: &ExternalId) -> Result<String> {
        if let Some(issue) = self.worklog_cache().issue_of.get(id.as_str()).cloned() {
            return Ok(issue);
        }
        let record = self.get_worklog(connection, id).await?;
        record
            .record
            .fields
            .get("issueId")
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| Error::not_found(format!("the issue of Jira worklog {id}")))
    }

    /// Writes changed fields of a worklog. Its issue cannot change (Jira cannot move a
    /// worklog); a new offset rewrites the property.
    pub(crate) async fn update_worklog(
        &self,
        connection: &ConnectionId,
        id: &ExternalId,
        update: &RemoteUpdate,
    ) -> Result<RemoteRecord> {
        let current = self.get_worklog(connection, id).await?;
        let mut fields = current.record.fields.clone();
        fields.apply(&update.changes);
        let name = format!("of worklog {id}");
        if update.changes.iter().any(|c| c.field == "issue")
            && fields.get("issue") != current.record.fields.get("issue")
        {
            return Err(Error::InvalidInput {
                pointer: Some("/fields/issue".into()),
                message: format!(
                    "Jira cannot move worklog {id} to another issue: delete it and book the time record again"
                ),
            });
        }
        let seconds = checked_seconds(&fields, "timeSpentSeconds", &name)?;
        let started = started_of(&fields, &name)?;
        let (offset, offset_text) = offset_of(&fields, &name)?;
        let issue = self.issue_of(connection, id).await?;
        if update.changes.iter().any(|c| c.field == "startedOffset") {
            let property = WorklogProperty {
                item: current.marker.as_ref().map(|m| m.as_str().to_owned()),
                issue: fields.get("issue").as_str().map(str::to_owned),
                offset: offset_text,
            };
            let path = format!(
                "/rest/api/3/issue/{}/worklog/{}/properties/{PROPERTY_KEY}",
                percent_encode(&issue),
                percent_encode(id.as_str())
            );
            let body = serde_json::to_value(&property)
                .map_err(|e| Error::invalid_input("devflow", e.to_string()))?;
            self.call(connection, Method::PUT, &path, Some(&body))
                .await?;
        }
        let mut body = json!({
            "timeSpentSeconds": seconds,
            "started": format_started(started, offset),
        });
        if update.changes.iter().any(|c| c.field == "comment") {
            body["comment"] = match fields.get("comment").as_str().filter(|t| !t.is_empty()) {
                Some(text) => crate::adf::from_markdown(text),
                None => Value::Null,
            };
        }
        let path = format!(
            "/rest/api/3/issue/{}/worklog/{}?notifyUsers=false&expand=properties",
            percent_encode(&issue),
            percent_encode(id.as_str())
        );
        let response = self
            .call(connection, Method::PUT, &path, Some(&body))
            .await
            .map_err(|e| about_issue(&issue, e))?;
        let updated = self.worklog_of_body(&response.body)?;
        self.remember_worklog(&updated);
        Ok(updated)
    }

    /// Deletes a worklog; one already gone is not an error.
    pub(crate) async fn delete_worklog(
        &self,
        connection: &ConnectionId,
        id: &ExternalId,
    ) -> Result<()> {
        let issue = match self.issue_of(connection, id).await {
            Ok(issue) => issue,
            Err(Error::NotFound(_)) => return Ok(()),
            Err(e) => return Err(e),
        };
        let path = format!(
            "/rest/api/3/issue/{}/worklog/{}?notifyUsers=false&adjustEstimate=auto",
            percent_encode(&issue),
            percent_encode(id.as_str())
        );
        match self.call(connection, Method::DELETE, &path, None).await {
            Ok(_) | Err(Error::NotFound(_)) => {
                self.worklog_cache().issue_of.remove(id.as_str());
                Ok(())
            }
            Err(e) => Err(about_issue(&issue, e)),
        }
    }

    /// The worklog a create for `marker` made: among the worklogs of the issue it went
    /// to (remembered by this process), else in the site's worklogs changed within
    /// `marker_scan_window` (Jira's delta leaves out the last minute).
    pub(crate) async fn find_worklog_marker(
        &self,
        connection: &ConnectionId,
        marker: &ItemId,
    ) -> Result<Option<RemoteRecord>> {
        let pending = self.worklog_cache().pending.get(marker.as_str()).cloned();
        if let Some(key) = pending {
            let path = format!(
                "/rest/api/3/issue/{}/worklog?expand=properties&maxResults=5000",
                percent_encode(&key)
            );
            let response = self
                .call(connection, Method::GET, &path, None)
                .await
                .map_err(|e| about_issue(&key, e))?;
            #[derive(serde::Deserialize)]
            struct Listed {
                #[serde(default)]
                worklogs: Vec<WorklogWire>,
            }
            let listed: Listed =
                devflow_sync_core::api::parse_json("Jira worklogs", &response.body)?;
            let found = listed
                .worklogs
                .iter()
                .filter_map(|w| record_of(w, self.site()))
                .find(|r| r.marker.as_ref() == Some(marker));
            if let Some(found) = &found {
                self.remember_worklog(found);
            }
            return Ok(found);
        }
        let window = chrono::Duration::from_std(self.config.marker_scan_window)
            .unwrap_or(chrono::Duration::hours(24));
        let since = Utc::now()
            .checked_sub_signed(window)
            .unwrap_or_else(Utc::now)
            .timestamp_millis();
        let mut cursor = since;
        for _ in 0..1000 {
            let page = self.updated_ids(connection, cursor).await?;
            if let Some(id) = page
                .ours
                .iter()
                .find(|(_, item)| item.as_deref() == Some(marker.as_str()))
                .map(|(id, _)| id.clone())
            {
                return self
                    .get_worklog(connection, &ExternalId::new(id))
                    .await
                    .map(Some);
            }
            match page.next_since {
                Some(next) if next > cursor => cursor = next,
                _ => return Ok(None),
            }
        }
        Ok(None)
    }
}
