//! An issue as GitHub sends it, read into a typed struct of the fields synced, and
//! turned into a record.

use std::borrow::Cow;
use std::fmt::Write as _;

use chrono::{DateTime, Utc};
use devflow_sync_core::api::{Present, lenient, parse_borrowed};
use devflow_sync_core::model::{
    ExternalId, FieldValue, Fields, Fingerprint, ItemKind, ObjectType, Record, Version,
};
use devflow_sync_core::provider::RemoteRecord;
use devflow_sync_core::{Error, Result};
use serde::{Deserialize, Deserializer};
use serde_json::Value;

use super::{KIND_LABELS, is_devflow_label, issue_id, parent_from_url};
use crate::metadata::BodyMetadata;

/// The fields of a GitHub issue (REST or webhook) that are synced; every other field
/// is skipped unread. Strings borrow from the response where they have no escapes.
/// Each field is read leniently, as GitHub's optional fields are: a value of another
/// type (or `null`) reads as absent; only a missing `number` or `updated_at` is an
/// error, reported by [`IssueWire::into_record`].
#[derive(Debug, Default, Deserialize)]
#[non_exhaustive]
#[serde(remote = "Self")]
pub struct IssueWire<'a> {
    /// The issue's number in its repository.
    #[serde(default, deserialize_with = "lenient::unsigned")]
    pub number: Option<u64>,
    /// The title.
    #[serde(default, borrow, deserialize_with = "lenient::text")]
    pub title: Option<Cow<'a, str>>,
    /// The Markdown body, with DevFlow's metadata block if written by it.
    #[serde(default, borrow, deserialize_with = "lenient::text")]
    pub body: Option<Cow<'a, str>>,
    /// `open` or `closed`.
    #[serde(default, borrow, deserialize_with = "lenient::text")]
    pub state: Option<Cow<'a, str>>,
    /// `completed`, `not_planned`, `reopened`, or none.
    #[serde(default, borrow, deserialize_with = "lenient::text")]
    pub state_reason: Option<Cow<'a, str>>,
    /// The last change, RFC 3339.
    #[serde(default, borrow, deserialize_with = "lenient::text")]
    pub updated_at: Option<Cow<'a, str>>,
    /// The page people open.
    #[serde(default, borrow, deserialize_with = "lenient::text")]
    pub html_url: Option<Cow<'a, str>>,
    /// Label names (labels are objects with a `name`, or names in requests).
    #[serde(default, borrow, deserialize_with = "label_names")]
    pub labels: Vec<Cow<'a, str>>,
    /// Assignee logins.
    #[serde(default, borrow, deserialize_with = "logins")]
    pub assignees: Vec<Cow<'a, str>>,
    /// The milestone's number.
    #[serde(default, deserialize_with = "milestone_number")]
    pub milestone: Option<i64>,
    /// The issue type's name.
    #[serde(default, borrow, rename = "type", deserialize_with = "type_name")]
    pub issue_type: Option<Cow<'a, str>>,
    /// The parent link: absent on servers without sub-issues, `null` for none.
    #[serde(default, borrow)]
    pub parent_issue_url: ParentLink<'a>,
    /// Present on pull requests, which the issues API lists too.
    #[serde(default)]
    pub pull_request: Present,
}

/// Only a JSON object is an issue (a derived struct would also take an array, field by
/// position).
impl<'de: 'a, 'a> Deserialize<'de> for IssueWire<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Object;
        impl<'de> serde::de::Visitor<'de> for Object {
            type Value = IssueWire<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a GitHub issue object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                map: A,
            ) -> Result<Self::Value, A::Error> {
                IssueWire::deserialize(serde::de::value::MapAccessDeserializer::new(map))
            }
        }
        d.deserialize_map(Object)
    }
}

fn label_names<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Cow<'de, str>>, D::Error> {
    lenient::names(d, "name")
}

fn logins<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Cow<'de, str>>, D::Error> {
    lenient::names(d, "login")
}

fn milestone_number<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    lenient::field_signed(d, "number")
}

fn type_name<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Cow<'de, str>>, D::Error> {
    lenient::field_text(d, "name")
}

/// What an issue says of its parent.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub enum ParentLink<'a> {
    /// The server does not report sub-issue links (or sent something unreadable).
    #[default]
    Unknown,
    /// Explicitly no parent.
    None,
    /// The parent's API URL.
    Url(Cow<'a, str>),
}

impl<'de: 'a, 'a> Deserialize<'de> for ParentLink<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = Value::deserialize(d)?;
        Ok(match raw {
            Value::Null => ParentLink::None,
            Value::String(url) => ParentLink::Url(Cow::Owned(url)),
            _ => ParentLink::Unknown,
        })
    }
}

fn bad(pointer: &str, what: &str) -> Error {
    Error::InvalidInput {
        pointer: Some(pointer.to_owned()),
        message: format!("GitHub issue: {what}"),
    }
}

impl IssueWire<'_> {
    /// The record of this issue in `repo` (`owner/name`); `None` for a pull request.
    ///
    /// Fields: `title`, `body` (the person's text, metadata removed), `state`,
    /// `state_reason`, `labels` (DevFlow's own level and synced labels left out),
    /// `assignees` (logins), `milestone` (number), `type` (issue type name). The level
    /// comes from the body metadata, else from a `devflow-*` label; the parent from the
    /// sub-issues link (`parent_issue_url`) wherever the server reports one, even as
    /// `null` (a link removed in GitHub removes the parent), else from the metadata
    /// (servers without sub-issues).
    pub fn into_record(self, repo: &str) -> Result<Option<RemoteRecord>> {
        if self.pull_request.0 {
            return Ok(None);
        }
        let number = self.number.ok_or_else(|| bad("/number", "no number"))?;
        let updated_at: DateTime<Utc> = self
            .updated_at
            .as_deref()
            .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
            .map(|t| t.with_timezone(&Utc))
            .ok_or_else(|| bad("/updated_at", "no update time"))?;
        let (meta, text) = BodyMetadata::split(self.body.as_deref().unwrap_or(""));
        let kind = meta.kind.or_else(|| {
            KIND_LABELS
                .iter()
                .find(|(_, l, _)| self.labels.iter().any(|a| a == l))
                .map(|(k, _, _)| *k)
        });
        let labels = self
            .labels
            .into_iter()
            .filter(|l| !is_devflow_label(l))
            .map(Cow::into_owned);
        let mut fields = Fields::new()
            .with("title", FieldValue::text(self.title.unwrap_or_default()))
            .with(
                "body",
                if text.is_empty() {
                    FieldValue::Null
                } else {
                    FieldValue::long_text(text)
                },
            )
            .with(
                "state",
                FieldValue::enumeration(self.state.unwrap_or(Cow::Borrowed("open"))),
            )
            .with("labels", FieldValue::set(labels))
            .with(
                "assignees",
                FieldValue::set(self.assignees.into_iter().map(Cow::into_owned)),
            );
        if let Some(reason) = self.state_reason {
            fields.insert("state_reason", FieldValue::enumeration(reason));
        }
        if let Some(m) = self.milestone {
            fields.insert("milestone", FieldValue::int(m));
        }
        if let Some(t) = self.issue_type {
            fields.insert("type", FieldValue::enumeration(t));
        }
        let parent = match self.parent_issue_url {
            ParentLink::Url(url) => parent_from_url(&url),
            ParentLink::None => None,
            ParentLink::Unknown => meta.parent.map(ExternalId::new),
        };
        // GitHub's change times have one-second precision: the version adds a
        // fingerprint of what the engine syncs (fields, level, parent), so two changes
        // within one second are still two versions.
        let mut print = Fingerprint::new();
        print
            .fields(&fields)
            .text(kind.map_or("", ItemKind::as_str))
            .text(parent.as_ref().map_or("", ExternalId::as_str));
        let mut version = updated_at.to_rfc3339();
        let _ = write!(version, "#{:016x}", print.finish());
        fields.shrink_to_fit();
        let mut record = Record::new(ObjectType::new("issue"), updated_at)
            .with_fields(fields)
            .with_version(Version::new(version));
        record.kind = kind;
        record.parent = parent;
        Ok(Some(RemoteRecord {
            id: issue_id(repo, number),
            url: self.html_url.map(Cow::into_owned),
            record,
            marker: meta.id,
            deleted: false,
        }))
    }
}

/// An issue from a webhook payload or any parsed JSON as a record; `None` for a pull
/// request. See [`IssueWire::into_record`] for the fields.
pub fn issue_to_record(repo: &str, issue: &Value) -> Result<Option<RemoteRecord>> {
    let wire = IssueWire::deserialize(issue).map_err(|e| Error::InvalidInput {
        pointer: Some("/".into()),
        message: format!("GitHub issue: {e}"),
    })?;
    wire.into_record(repo)
}

/// One issue answered by the API (`GET`, `POST` or `PATCH` of an issue) as a record.
pub fn issue_from_json(repo: &str, body: &[u8]) -> Result<Option<RemoteRecord>> {
    parse_borrowed::<IssueWire<'_>>("GitHub issue", body)?.into_record(repo)
}

/// A page of the issues listing as records, pull requests left out. An issue that
/// cannot be read fails the page with its place in it and its id when it has one
/// (`/3/updated_at` of `octo-org/app#12`).
///
/// ```
/// use devflow_provider_github::wire::issues_from_page;
/// let page = br#"[{"number": 1, "title": "A", "updated_at": "2026-01-01T00:00:00Z"},
///                 {"number": 2, "title": "B", "updated_at": "yesterday"}]"#;
/// let err = issues_from_page("octo-org/app", page).unwrap_err();
/// assert!(err.to_string().contains("/1/updated_at"), "{err}");
/// assert!(err.to_string().contains("octo-org/app#2"), "{err}");
/// ```
pub fn issues_from_page(repo: &str, body: &[u8]) -> Result<Vec<RemoteRecord>> {
    let page: Vec<IssueWire<'_>> = parse_borrowed("GitHub issues page", body)?;
    let mut records = Vec::with_capacity(page.len());
    for (index, wire) in page.into_iter().enumerate() {
        let number = wire.number;
        match wire.into_record(repo) {
            Ok(Some(record)) => records.push(record),
            Ok(None) => {}
            Err(Error::InvalidInput { pointer, message }) => {
                let mut at = format!("/{index}{}", pointer.unwrap_or_default());
                if let Some(n) = number {
                    let _ = write!(at, " ({})", issue_id(repo, n));
                }
                return Err(Error::InvalidInput {
                    pointer: Some(at),
                    message,
                });
            }
            Err(other) => return Err(other),
        }
    }
    Ok(records)
}
