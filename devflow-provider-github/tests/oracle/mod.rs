//! The Value-based issue conversion the typed wire structs replaced, kept as the
//! test oracle they are compared against (tests/wire_equivalence.rs).

use chrono::{DateTime, Utc};
use devflow_provider_github::metadata::BodyMetadata;
use devflow_provider_github::wire::{KIND_LABELS, SYNCED_LABEL, issue_id, parent_from_url};
use devflow_sync_core::model::{ExternalId, FieldValue, Fields, ObjectType, Record, Version};
use devflow_sync_core::provider::RemoteRecord;
use devflow_sync_core::{Error, Result};
use serde_json::Value;

fn is_devflow_label(label: &str) -> bool {
    KIND_LABELS.iter().any(|(_, l, _)| *l == label) || label == SYNCED_LABEL.0
}
fn bad(pointer: &str, what: &str) -> Error {
    Error::InvalidInput {
        pointer: Some(pointer.to_owned()),
        message: format!("GitHub issue: {what}"),
    }
}
fn names(v: &Value, key: &str) -> Vec<String> {
    v.as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(|i| i.get(key).and_then(Value::as_str).or_else(|| i.as_str()))
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}
pub(crate) fn issue_to_record(repo: &str, issue: &Value) -> Result<Option<RemoteRecord>> {
    if issue.get("pull_request").is_some() {
        return Ok(None);
    }
    let number = issue
        .get("number")
        .and_then(Value::as_u64)
        .ok_or_else(|| bad("/number", "no number"))?;
    let updated_at: DateTime<Utc> = issue
        .get("updated_at")
        .and_then(Value::as_str)
        .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        .map(|t| t.with_timezone(&Utc))
        .ok_or_else(|| bad("/updated_at", "no update time"))?;
    let (meta, text) = BodyMetadata::split(issue.get("body").and_then(Value::as_str).unwrap_or(""));
    let all_labels = names(issue.get("labels").unwrap_or(&Value::Null), "name");
    let kind = meta.kind.or_else(|| {
        KIND_LABELS
            .iter()
            .find(|(_, l, _)| all_labels.iter().any(|a| a == l))
            .map(|(k, _, _)| *k)
    });
    let labels: Vec<String> = all_labels
        .into_iter()
        .filter(|l| !is_devflow_label(l))
        .collect();
    let mut fields = Fields::new()
        .with(
            "title",
            FieldValue::text(issue.get("title").and_then(Value::as_str).unwrap_or("")),
        )
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
            FieldValue::enumeration(issue.get("state").and_then(Value::as_str).unwrap_or("open")),
        )
        .with("labels", FieldValue::set(labels))
        .with(
            "assignees",
            FieldValue::set(names(
                issue.get("assignees").unwrap_or(&Value::Null),
                "login",
            )),
        );
    if let Some(reason) = issue.get("state_reason").and_then(Value::as_str) {
        fields.insert("state_reason", FieldValue::enumeration(reason));
    }
    if let Some(m) = issue
        .get("milestone")
        .and_then(|m| m.get("number"))
        .and_then(Value::as_i64)
    {
        fields.insert("milestone", FieldValue::int(m));
    }
    if let Some(t) = issue
        .get("type")
        .and_then(|t| t.get("name"))
        .and_then(Value::as_str)
    {
        fields.insert("type", FieldValue::enumeration(t));
    }
    let parent = match issue.get("parent_issue_url") {
        Some(Value::String(url)) => parent_from_url(url),
        Some(Value::Null) => None,
        _ => meta.parent.map(ExternalId::new),
    };
    // GitHub's change times have one-second precision: the version adds a hash of what
    // the engine syncs, so two changes within one second are still two versions.
    let fingerprint = format!(
        "{}|{:?}|{:?}",
        serde_json::to_string(&fields).unwrap_or_default(),
        kind,
        parent
    );
    let version = format!(
        "{}#{:016x}",
        updated_at.to_rfc3339(),
        fnv(fingerprint.as_bytes())
    );
    fields.shrink_to_fit();
    let mut record = Record::new(ObjectType::new("issue"), updated_at)
        .with_fields(fields)
        .with_version(Version::new(version));
    record.kind = kind;
    record.parent = parent;
    Ok(Some(RemoteRecord {
        id: issue_id(repo, number),
        url: issue
            .get("html_url")
            .and_then(Value::as_str)
            .map(str::to_owned),
        record,
        marker: meta.id,
        deleted: false,
    }))
}
fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}
