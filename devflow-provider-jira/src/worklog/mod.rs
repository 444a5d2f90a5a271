//! Worklogs: a host time record (issue key, start, duration in seconds, comment,
//! author) as a Jira worklog, the provider's second object (`worklog`).
//!
//! Record fields (the provider's names, mapped to the host's by
//! [`crate::mapping::worklog_mapping`]):
//!
//! | field | Jira | notes |
//! |---|---|---|
//! | `issue` | the issue key | kept in the worklog's `devflow` property (a worklog body names only `issueId`); a worklog cannot move: a changed key is refused |
//! | `issueId` | `issueId` | read-only |
//! | `started` | `started` | an instant (UTC); written as `yyyy-MM-dd'T'HH:mm:ss.SSSZ` in `startedOffset` |
//! | `startedOffset` | the `devflow` property | the record's UTC offset (`+02:00`), so the start is written in the person's own zone; UTC when absent |
//! | `timeSpentSeconds` | `timeSpentSeconds` | whole seconds, at least 60 |
//! | `comment` | `comment` | Markdown <-> ADF |
//! | `author` | `author.accountId` | read-only |
//!
//! Durations Jira cannot hold are refused before any call, with
//! [`Error::InvalidInput`] naming the record: a record still running (no duration), a
//! negative duration, or one under a minute (Jira's own floor). Nothing is rounded.
//!
//! The marker is the worklog property `devflow` (`{"item": <host id>, "issue": <key>,
//! "offset": "+02:00"}`), written in the create request itself, so a create retried
//! after a timeout finds the worklog it made instead of booking the time twice.
//!
//! The delta (`list_changed`) reads `/worklog/updated` and then `/worklog/deleted`
//! since the cursor (Jira leaves out the last minute's changes, which the next pull
//! takes), bodies by `POST /worklog/list`. Only worklogs carrying the `devflow`
//! property are followed: the site-wide feed holds every person's time, and only the
//! worklogs this library booked belong to the host.

mod listing;
mod write;

use chrono::{DateTime, FixedOffset, Utc};
use devflow_sync_core::api::lenient;
use devflow_sync_core::model::{ExternalId, FieldValue, Fields, ItemId, Record, Version};
use devflow_sync_core::provider::RemoteRecord;
use devflow_sync_core::{Error, Result};
use serde::{Deserialize, Serialize};
use serde_json::Value;

pub(crate) use write::WorklogCache;

/// The object key of worklogs in the catalog.
pub const OBJECT: &str = "worklog";

/// The worklog property DevFlow keeps its marker in.
pub const PROPERTY_KEY: &str = "devflow";

/// The smallest duration Jira holds, in seconds.
pub const MIN_SECONDS: i64 = 60;

/// The `devflow` worklog property.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct WorklogProperty {
    /// The host record id: the marker.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item: Option<String>,
    /// The issue key the record booked to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issue: Option<String>,
    /// The record's UTC offset (`+02:00`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offset: Option<String>,
}

/// A worklog as Jira sends it (`POST issue/{key}/worklog`, `POST worklog/list`).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WorklogWire {
    /// The worklog id.
    #[serde(default, deserialize_with = "text")]
    pub id: Option<String>,
    /// The issue's id.
    #[serde(default, deserialize_with = "text")]
    pub issue_id: Option<String>,
    /// `2026-04-28T15:43:10.979+0200`.
    #[serde(default, deserialize_with = "text")]
    pub started: Option<String>,
    /// When it last changed.
    #[serde(default, deserialize_with = "text")]
    pub updated: Option<String>,
    /// The seconds booked.
    #[serde(default, deserialize_with = "lenient::signed")]
    pub time_spent_seconds: Option<i64>,
    /// ADF (REST v3) or plain text (REST v2 and webhooks).
    #[serde(default)]
    pub comment: Option<Value>,
    /// Who booked it.
    #[serde(default)]
    pub author: Option<Value>,
    /// With `expand=properties`.
    #[serde(default)]
    pub properties: Vec<PropertyWire>,
}

/// A string (ids too, which Jira sends as strings), owned; anything else is absent.
fn text<'de, D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Option<String>, D::Error> {
    lenient::text(d).map(|t| t.map(std::borrow::Cow::into_owned))
}

/// One entity property.
#[derive(Debug, Deserialize)]
pub struct PropertyWire {
    /// Its key.
    #[serde(default)]
    pub key: String,
    /// Its value.
    #[serde(default)]
    pub value: Value,
}

impl WorklogWire {
    /// The `devflow` property, when the worklog has one.
    pub fn property(&self) -> Option<WorklogProperty> {
        self.properties
            .iter()
            .find(|p| p.key == PROPERTY_KEY)
            .and_then(|p| serde_json::from_value(p.value.clone()).ok())
    }
}

/// Jira's time: `2026-04-28T15:43:10.979+0200` (also read with a colon in the offset).
pub fn parse_time(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f%z")
        .or_else(|_| DateTime::parse_from_rfc3339(text))
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// `+02:00`, `+0200`, `Z` -> the offset.
pub fn parse_offset(text: &str) -> Option<FixedOffset> {
    let probe = format!("2000-01-01T00:00:00{}", text.trim());
    DateTime::parse_from_rfc3339(&probe)
        .or_else(|_| DateTime::parse_from_str(&probe, "%Y-%m-%dT%H:%M:%S%z"))
        .ok()
        .map(|t| *t.offset())
}

/// `started` as Jira takes it: `yyyy-MM-dd'T'HH:mm:ss.SSSZ` in `offset`.
pub fn format_started(at: DateTime<Utc>, offset: FixedOffset) -> String {
    at.with_timezone(&offset)
        .format("%Y-%m-%dT%H:%M:%S%.3f%z")
        .to_string()
}

/// A worklog as a record (see the module docs for its fields); `None` without an id.
pub fn record_of(wire: &WorklogWire, url_base: Option<&str>) -> Option<RemoteRecord> {
    let id = wire.id.clone()?;
    let property = wire.property();
    let updated = wire.updated.as_deref().and_then(parse_time);
    let mut fields = Fields::new();
    let issue_id = wire.issue_id.clone();
    let issue = property
        .as_ref()
        .and_then(|p| p.issue.clone())
        .or_else(|| issue_id.clone());
    if let Some(issue) = &issue {
        fields.insert("issue", FieldValue::text(issue.clone()));
    }
    if let Some(id) = issue_id {
        fields.insert("issueId", FieldValue::text(id));
    }
    if let Some(at) = wire.started.as_deref().and_then(parse_time) {
        fields.insert("started", FieldValue::DateTime(at));
    }
    if let Some(offset) = property.as_ref().and_then(|p| p.offset.clone()) {
        fields.insert("startedOffset", FieldValue::text(offset));
    }
    if let Some(seconds) = wire.time_spent_seconds {
        fields.insert("timeSpentSeconds", FieldValue::int(seconds));
    }
    let comment = match &wire.comment {
        Some(Value::String(text)) => FieldValue::long_text(text.clone()),
        Some(adf @ Value::Object(_)) => FieldValue::long_text(crate::adf::to_markdown(adf)),
        _ => FieldValue::Null,
    };
    fields.insert("comment", comment);
    if let Some(id) = wire
        .author
        .as_ref()
        .and_then(|a| a.get("accountId"))
        .and_then(Value::as_str)
    {
        let mut user = devflow_sync_core::model::UserRef::new(id);
        if let Some(name) = wire
            .author
            .as_ref()
            .and_then(|a| a.get("displayName"))
            .and_then(Value::as_str)
        {
            user = user.with_display_name(name);
        }
        fields.insert("author", FieldValue::User(Box::new(user)));
    }
    // `updated` has millisecond precision: the version adds a fingerprint of the
    // fields, so two changes within one millisecond are still two versions.
    let version = format!(
        "{}#{:016x}",
        wire.updated.as_deref().unwrap_or(""),
        devflow_sync_core::model::Fingerprint::of(&fields)
    );
    let record = Record::new(OBJECT, updated.unwrap_or_default())
        .with_fields(fields)
        .with_version(Version::new(version));
    Some(RemoteRecord {
        url: url_base.zip(issue).map(|(site, issue)| {
            format!(
                "{}/browse/{issue}?focusedWorklogId={id}",
                site.trim_end_matches('/')
            )
        }),
        id: ExternalId::new(id),
        record,
        marker: property.and_then(|p| p.item).map(ItemId::new),
        deleted: false,
    })
}

/// Whether `key` has the shape of a Jira issue key (`PROJ-123`): a project key of an
/// upper-case letter then upper-case letters, digits or `_`, a dash, a number from 1.
///
/// ```
/// use devflow_provider_jira::worklog::is_issue_key;
/// assert!(is_issue_key("PROJ-123"));
/// assert!(is_issue_key("AB_2-7"));
/// assert!(!is_issue_key("proj-1"));
/// assert!(!is_issue_key("PROJ-0"));
/// assert!(!is_issue_key("PROJ123"));
/// ```
pub fn is_issue_key(key: &str) -> bool {
    let Some((project, number)) = key.rsplit_once('-') else {
        return false;
    };
    let mut chars = project.chars();
    chars.next().is_some_and(|c| c.is_ascii_uppercase())
        && project.len() >= 2
        && chars.all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
        && !number.is_empty()
        && !number.starts_with('0')
        && number.len() <= 18
        && number.chars().all(|c| c.is_ascii_digit())
}

/// The issue key of a record's fields, checked; `record` names the record in the error.
pub fn checked_issue_key(fields: &Fields, field: &str, record: &str) -> Result<String> {
    let key = fields.get(field).as_str().map(str::trim).unwrap_or("");
    if key.is_empty() {
        return Err(Error::InvalidInput {
            pointer: Some(format!("/fields/{field}")),
            message: format!("time record {record} names no Jira issue"),
        });
    }
    if !is_issue_key(key) {
        return Err(Error::InvalidInput {
            pointer: Some(format!("/fields/{field}")),
            message: format!(
                "time record {record}: {key:?} is not a Jira issue key (expected the shape PROJ-123)"
            ),
        });
    }
    Ok(key.to_owned())
}

/// The seconds of a record's `field`, refused when Jira cannot hold them: missing or
/// null (the record is still running), negative, fractional, or under a minute.
pub fn checked_seconds(fields: &Fields, field: &str, record: &str) -> Result<i64> {
    let refuse = |message: String| Error::InvalidInput {
        pointer: Some(format!("/fields/{field}")),
        message,
    };
    let value = fields.get(field);
    if value.is_null() {
        return Err(refuse(format!(
            "time record {record} is still running (no duration yet): stop it before it is booked in Jira"
        )));
    }
    let seconds = value.as_f64().ok_or_else(|| {
        refuse(format!(
            "time record {record}: the duration is not a number"
        ))
    })?;
    if seconds.fract() != 0.0 || !seconds.is_finite() {
        return Err(refuse(format!(
            "time record {record}: the duration {seconds} is not a whole number of seconds"
        )));
    }
    if seconds < 0.0 {
        return Err(refuse(format!(
            "time record {record}: the duration {seconds} s is negative"
        )));
    }
    if seconds < MIN_SECONDS as f64 {
        return Err(refuse(format!(
            "time record {record}: {seconds} s is under a minute, the least Jira books; it is not rounded up"
        )));
    }
    if seconds > 1e12 {
        return Err(refuse(format!(
            "time record {record}: the duration {seconds} s is too large"
        )));
    }
    Ok(seconds as i64)
}
