//! GitHub's issue JSON <-> the records the engine works with.

use chrono::{DateTime, Utc};
use devflow_sync_core::model::{
    ExternalId, FieldValue, Fields, ItemKind, ObjectType, Record, Version,
};
use devflow_sync_core::provider::RemoteRecord;
use devflow_sync_core::{Error, Result};
use serde_json::{Value, json};

use crate::metadata::BodyMetadata;

/// The labels that carry an issue's level, with their colours.
pub const KIND_LABELS: [(ItemKind, &str, &str); 5] = [
    (ItemKind::Prd, "devflow-prd", "7B68EE"),
    (ItemKind::Epic, "devflow-epic", "FF6B6B"),
    (ItemKind::Story, "devflow-story", "4ECDC4"),
    (ItemKind::Task, "devflow-task", "95E77D"),
    (ItemKind::Subtask, "devflow-subtask", "FFE66D"),
];

/// The label on every synced issue.
pub const SYNCED_LABEL: (&str, &str) = ("devflow-synced", "6BCF7F");
/// The label on an issue with a pending conflict.
pub const CONFLICT_LABEL: (&str, &str) = ("devflow-conflict", "FF6B6B");

/// The label of a kind.
pub fn kind_label(kind: ItemKind) -> &'static str {
    KIND_LABELS
        .iter()
        .find(|(k, _, _)| *k == kind)
        .map_or("devflow-task", |(_, label, _)| label)
}

fn is_devflow_label(label: &str) -> bool {
    KIND_LABELS.iter().any(|(_, l, _)| *l == label) || label == SYNCED_LABEL.0
}

/// The id of an issue across repositories: `owner/repo#number`.
pub fn issue_id(repo: &str, number: u64) -> ExternalId {
    ExternalId::new(format!("{repo}#{number}"))
}

/// Splits an issue id into the repository and the number.
///
/// ```
/// use devflow_provider_github::wire::{issue_id, split_issue_id};
/// let id = issue_id("octo-org/app", 12);
/// assert_eq!(split_issue_id(&id).unwrap(), ("octo-org/app".to_owned(), 12));
/// assert!(split_issue_id(&"no-number".into()).is_err());
/// ```
pub fn split_issue_id(id: &ExternalId) -> Result<(String, u64)> {
    let (repo, number) = id
        .as_str()
        .rsplit_once('#')
        .ok_or_else(|| Error::invalid_input("id", format!("{id} is not owner/repo#number")))?;
    let number = number
        .parse()
        .map_err(|_| Error::invalid_input("id", format!("{id} does not end in an issue number")))?;
    if !repo.contains('/') {
        return Err(Error::invalid_input(
            "id",
            format!("{id} has no owner/repo"),
        ));
    }
    Ok((repo.to_owned(), number))
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

/// An issue from the REST API or a webhook payload as a record; `None` for a pull
/// request (the issues API lists both). `repo` is `owner/name`.
///
/// Fields: `title`, `body` (the person's text, metadata removed), `state`,
/// `state_reason`, `labels` (DevFlow's own level and synced labels left out),
/// `assignees` (logins), `milestone` (number), `type` (issue type name). The level comes
/// from the body metadata, else from a `devflow-*` label; the parent from the sub-issues
/// link (`parent_issue_url`) wherever the server reports one, even as `null` (a link
/// removed in GitHub removes the parent), else from the metadata (servers without
/// sub-issues).
pub fn issue_to_record(repo: &str, issue: &Value) -> Result<Option<RemoteRecord>> {
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

/// The issue id an API URL names: `…/repos/{owner}/{repo}/issues/{number}`.
///
/// ```
/// use devflow_provider_github::wire::parent_from_url;
/// let id = parent_from_url("https://api.github.com/repos/octo-org/app/issues/7").unwrap();
/// assert_eq!(id.as_str(), "octo-org/app#7");
/// assert!(parent_from_url("https://api.github.com/repos/octo-org/app").is_none());
/// ```
pub fn parent_from_url(url: &str) -> Option<ExternalId> {
    let (_, path) = url.rsplit_once("/repos/")?;
    let mut parts = path.split('/');
    let (owner, repo, issues, number) =
        (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    let number: u64 = number.parse().ok()?;
    (issues == "issues" && !owner.is_empty() && !repo.is_empty() && parts.next().is_none())
        .then(|| issue_id(&format!("{owner}/{repo}"), number))
}

fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// The JSON body to create or update an issue from record fields, with the metadata
/// written into the body and the level as a label. Only the fields given are sent
/// (`labels` and `assignees` replace the issue's own).
pub fn issue_request(fields: &Fields, meta: &BodyMetadata, kind: Option<ItemKind>) -> Value {
    let mut body = serde_json::Map::new();
    if let Some(title) = fields.get("title").as_str() {
        body.insert("title".into(), json!(title));
    }
    if fields.contains("body") || !meta.is_empty() {
        let text = fields.get("body").as_str().unwrap_or("");
        body.insert("body".into(), json!(meta.join(text)));
    }
    if let Some(state) = fields.get("state").as_str() {
        body.insert("state".into(), json!(state));
    }
    if fields.contains("state_reason") {
        body.insert(
            "state_reason".into(),
            json!(fields.get("state_reason").as_str()),
        );
    }
    if fields.contains("labels") || kind.is_some() {
        let mut labels: Vec<String> = fields
            .get("labels")
            .as_set()
            .map(|s| s.iter().cloned().collect())
            .unwrap_or_default();
        if let Some(kind) = kind {
            labels.push(kind_label(kind).to_owned());
            labels.push(SYNCED_LABEL.0.to_owned());
        }
        labels.sort();
        labels.dedup();
        body.insert("labels".into(), json!(labels));
    }
    if fields.contains("assignees") {
        let people: Vec<&String> = fields
            .get("assignees")
            .as_set()
            .map(|s| s.iter().collect())
            .unwrap_or_default();
        body.insert("assignees".into(), json!(people));
    }
    if fields.contains("milestone") {
        body.insert(
            "milestone".into(),
            match fields.get("milestone") {
                FieldValue::Number(n) => json!(n),
                _ => Value::Null,
            },
        );
    }
    Value::Object(body)
}

/// The `next` URL of a `link` header, verbatim (GitHub's cursor URLs are followed as
/// given, never rebuilt).
///
/// ```
/// use devflow_provider_github::wire::next_link;
/// let h = r#"<https://api.github.com/repositories/1/issues?per_page=3&after=Y3Vy&page=2>; rel="next", <https://api.github.com/repositories/1/issues?per_page=3&page=5>; rel="last""#;
/// assert_eq!(next_link(h).as_deref(), Some("https://api.github.com/repositories/1/issues?per_page=3&after=Y3Vy&page=2"));
/// assert_eq!(next_link(r#"<https://x/a>; rel="prev""#), None);
/// ```
pub fn next_link(header: &str) -> Option<String> {
    header.split(',').find_map(|part| {
        let (url, params) = part.split_once(';')?;
        let is_next = params
            .split(';')
            .any(|p| matches!(p.trim(), "rel=\"next\"" | "rel=next"));
        is_next.then(|| {
            url.trim()
                .trim_start_matches('<')
                .trim_end_matches('>')
                .to_owned()
        })
    })
}
