//! An issue as Jira's REST v3 sends it (`GET issue`, `search/jql`), read into typed
//! structs of the fields synced, and turned into a record.
//!
//! Record fields (Jira's names): `summary`, `description` (Markdown of the ADF),
//! `status` (name), `priority` (name), `labels`, `assignee` (account id), `duedate`,
//! `issuetype` (name, read-only). The level comes from the `devflow` issue property,
//! else from the issue type; the parent from `fields.parent`, else from the property's
//! `parentIssueId` (links Jira's own hierarchy cannot hold: an epic under a PRD epic, a
//! task under a story); the marker from the property's `id`; the version is `updated`.

use std::borrow::Cow;

use chrono::{DateTime, FixedOffset, NaiveDate, Utc};
use devflow_sync_core::api::{lenient, parse_borrowed};
use devflow_sync_core::model::{
    ExternalId, FieldValue, Fields, ItemId, ItemKind, ObjectType, Record, Version,
};
use devflow_sync_core::provider::RemoteRecord;
use devflow_sync_core::{Error, Result};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

use crate::config::IssueTypeNames;

/// The issue property DevFlow keeps its metadata in.
pub const PROPERTY_KEY: &str = "devflow";

/// The fields a listing asks for.
pub const LIST_FIELDS: &str =
    "summary,description,status,priority,labels,assignee,duedate,updated,issuetype,parent,project";

/// The `devflow` issue property: what DevFlow knows of the issue, invisible to people.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DevflowProperty {
    /// The level (`prd`, `epic`, `story`, `task`, `subtask`).
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<ItemKind>,
    /// The host item id: the marker.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The host parent's id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_id: Option<String>,
    /// The parent issue's id where Jira's own `parent` cannot hold the link.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_issue_id: Option<String>,
    /// When DevFlow last wrote the issue (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub synced_at: Option<String>,
    /// `synced`, `conflict`, `pending` or `error`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conflict_status: Option<String>,
    /// The other systems' refs (a Confluence page id, a GitHub issue number).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Value>,
}

/// An issue of a REST answer; every field not synced is skipped unread.
#[derive(Debug, Deserialize)]
#[non_exhaustive]
pub struct IssueWire<'a> {
    /// The stable id.
    #[serde(borrow)]
    pub id: Cow<'a, str>,
    /// The key (`KAN-5`); it changes when the issue moves.
    #[serde(default, borrow, deserialize_with = "lenient::text")]
    pub key: Option<Cow<'a, str>>,
    /// The fields asked for.
    #[serde(default, borrow)]
    pub fields: FieldsWire<'a>,
    /// The properties asked for.
    #[serde(default)]
    pub properties: PropertiesWire,
}

/// The synced fields of an issue.
#[derive(Debug, Default, Deserialize)]
#[non_exhaustive]
pub struct FieldsWire<'a> {
    /// The summary.
    #[serde(default, borrow, deserialize_with = "lenient::text")]
    pub summary: Option<Cow<'a, str>>,
    /// The description (ADF), or `null`.
    #[serde(default, borrow, deserialize_with = "adf")]
    pub description: Option<crate::adf::Node<'a>>,
    /// The status name.
    #[serde(default, borrow, deserialize_with = "name")]
    pub status: Option<Cow<'a, str>>,
    /// The priority name.
    #[serde(default, borrow, deserialize_with = "name")]
    pub priority: Option<Cow<'a, str>>,
    /// The labels.
    #[serde(default, borrow, deserialize_with = "labels")]
    pub labels: Vec<Cow<'a, str>>,
    /// The assignee's account id.
    #[serde(default, borrow, deserialize_with = "account")]
    pub assignee: Option<Cow<'a, str>>,
    /// The due date (`yyyy-MM-dd`).
    #[serde(default, borrow, deserialize_with = "lenient::text")]
    pub duedate: Option<Cow<'a, str>>,
    /// The last change (`2026-04-28T15:33:15.492+0200`).
    #[serde(default, borrow, deserialize_with = "lenient::text")]
    pub updated: Option<Cow<'a, str>>,
    /// The issue type.
    #[serde(default, borrow)]
    pub issuetype: Option<IssueTypeWire<'a>>,
    /// The parent's id.
    #[serde(default, borrow, deserialize_with = "id")]
    pub parent: Option<Cow<'a, str>>,
    /// The project's key.
    #[serde(default, borrow, deserialize_with = "key")]
    pub project: Option<Cow<'a, str>>,
}

/// An issue type as an issue carries it.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IssueTypeWire<'a> {
    /// Its name.
    #[serde(default, borrow, deserialize_with = "lenient::text")]
    pub name: Option<Cow<'a, str>>,
    /// -1 sub-task, 0 standard, 1 epic.
    #[serde(default, deserialize_with = "lenient::signed")]
    pub hierarchy_level: Option<i64>,
}

/// The properties an answer carries.
#[derive(Debug, Default, Deserialize)]
pub struct PropertiesWire {
    /// DevFlow's property (unreadable values read as absent).
    #[serde(default, deserialize_with = "property")]
    pub devflow: Option<DevflowProperty>,
}

fn property<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DevflowProperty>, D::Error> {
    Ok(serde_json::from_value(Value::deserialize(d)?).ok())
}

fn adf<'de, D: Deserializer<'de>>(d: D) -> Result<Option<crate::adf::Node<'de>>, D::Error> {
    Option::<crate::adf::Node<'de>>::deserialize(d)
}

fn name<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Cow<'de, str>>, D::Error> {
    lenient::field_text(d, "name")
}

fn account<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Cow<'de, str>>, D::Error> {
    lenient::field_text(d, "accountId")
}

fn id<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Cow<'de, str>>, D::Error> {
    lenient::field_text(d, "id")
}

fn key<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Cow<'de, str>>, D::Error> {
    lenient::field_text(d, "key")
}

fn labels<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Cow<'de, str>>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::Array(a) => a
            .into_iter()
            .filter_map(|v| match v {
                Value::String(s) => Some(Cow::Owned(s)),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    })
}

/// A search answer.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SearchPage<'a> {
    /// The issues.
    #[serde(default, borrow)]
    pub issues: Vec<IssueWire<'a>>,
    /// The next page's token; absent on the last page.
    #[serde(default, deserialize_with = "lenient::text")]
    pub next_page_token: Option<Cow<'a, str>>,
    /// Whether this is the last page.
    #[serde(default)]
    pub is_last: Option<bool>,
}

/// A Jira time (`2026-04-28T15:33:15.438+0200`, or RFC 3339), with its offset.
pub fn parse_time(text: &str) -> Option<DateTime<FixedOffset>> {
    DateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f%z")
        .ok()
        .or_else(|| DateTime::parse_from_rfc3339(text).ok())
}

fn bad(pointer: &str, what: &str) -> Error {
    Error::InvalidInput {
        pointer: Some(pointer.to_owned()),
        message: format!("Jira issue: {what}"),
    }
}

impl IssueWire<'_> {
    /// The record of this issue; `site` is the site URL for the browse link.
    pub fn into_record(self, types: &IssueTypeNames, site: Option<&str>) -> Result<RemoteRecord> {
        let f = self.fields;
        let updated = f
            .updated
            .as_deref()
            .ok_or_else(|| bad("/fields/updated", "no update time"))?;
        let updated_at: DateTime<Utc> = parse_time(updated)
            .ok_or_else(|| bad("/fields/updated", "an update time Jira does not write"))?
            .with_timezone(&Utc);
        let property = self.properties.devflow.unwrap_or_default();
        let level = f.issuetype.as_ref().and_then(|t| t.hierarchy_level);
        let type_name = f.issuetype.as_ref().and_then(|t| t.name.as_deref());
        let kind = property.kind.or_else(|| kind_of(types, type_name, level));
        let mut fields = Fields::new()
            .with("summary", FieldValue::text(f.summary.unwrap_or_default()))
            .with(
                "description",
                match f.description.as_ref().filter(|d| !d.kind.is_empty()) {
                    Some(adf) => FieldValue::long_text(crate::adf::node_markdown(adf)),
                    None => FieldValue::Null,
                },
            )
            .with(
                "labels",
                FieldValue::set(f.labels.into_iter().map(Cow::into_owned)),
            );
        let opt = |v: Option<Cow<'_, str>>, make: fn(String) -> FieldValue| {
            v.map_or(FieldValue::Null, |s| make(s.into_owned()))
        };
        fields.insert("status", opt(f.status, FieldValue::enumeration));
        fields.insert("priority", opt(f.priority, FieldValue::enumeration));
        fields.insert("assignee", opt(f.assignee, FieldValue::user));
        fields.insert(
            "duedate",
            f.duedate
                .and_then(|d| NaiveDate::parse_from_str(&d, "%Y-%m-%d").ok())
                .map_or(FieldValue::Null, FieldValue::Date),
        );
        if let Some(t) = type_name {
            fields.insert("issuetype", FieldValue::enumeration(t));
        }
        let parent = f
            .parent
            .map(|p| ExternalId::new(p.into_owned()))
            .or_else(|| property.parent_issue_id.clone().map(ExternalId::new));
        let mut record = Record::new(ObjectType::new("issue"), updated_at)
            .with_fields(fields)
            .with_version(Version::new(updated));
        record.kind = kind;
        record.parent = parent;
        let url = match (site, self.key.as_deref()) {
            (Some(site), Some(key)) => Some(format!("{site}/browse/{key}")),
            _ => None,
        };
        Ok(RemoteRecord {
            id: ExternalId::new(self.id.into_owned()),
            url,
            record,
            marker: property.id.map(ItemId::new),
            deleted: false,
        })
    }
}

/// The level an issue type stands for, by its name, or a sub-task type by its level.
pub fn kind_of(types: &IssueTypeNames, name: Option<&str>, level: Option<i64>) -> Option<ItemKind> {
    if level == Some(-1) && types.name(ItemKind::Subtask).is_none() {
        return Some(ItemKind::Subtask);
    }
    let name = name?;
    // PRDs are epics too: an epic is an Epic unless its property says PRD.
    [
        ItemKind::Epic,
        ItemKind::Story,
        ItemKind::Task,
        ItemKind::Subtask,
        ItemKind::Prd,
    ]
    .into_iter()
    .find(|k| types.name(*k).is_some_and(|n| n.eq_ignore_ascii_case(name)))
}

/// One issue of a `GET issue` answer.
pub fn issue_from_json(
    body: &[u8],
    types: &IssueTypeNames,
    site: Option<&str>,
) -> Result<RemoteRecord> {
    let wire: IssueWire<'_> = parse_borrowed("Jira issue", body)?;
    wire.into_record(types, site)
}

/// The records and next token of a `search/jql` answer. A record that does not read
/// fails with its pointer and the issue's id.
pub fn search_page(
    body: &[u8],
    types: &IssueTypeNames,
    site: Option<&str>,
) -> Result<(Vec<RemoteRecord>, Option<String>)> {
    let page: SearchPage<'_> = parse_borrowed("Jira search", body)?;
    let next = if page.is_last == Some(true) {
        None
    } else {
        page.next_page_token.map(Cow::into_owned)
    };
    let mut out = Vec::with_capacity(page.issues.len());
    for (i, issue) in page.issues.into_iter().enumerate() {
        let id = issue.id.clone().into_owned();
        out.push(issue.into_record(types, site).map_err(|e| match e {
            Error::InvalidInput { pointer, message } => Error::InvalidInput {
                pointer: Some(format!("/issues/{i}{}", pointer.unwrap_or_default())),
                message: format!("{message} (issue {id})"),
            },
            other => other,
        })?);
    }
    Ok((out, next))
}
