//! GitHub's issue JSON <-> the records the engine works with.
//!
//! Responses are read into typed structs of only the fields synced
//! ([`IssueWire`]), borrowing strings from the response body; the
//! requests written are built from record fields.

mod issue;

pub use issue::{IssueWire, issue_from_json, issue_to_record, issues_from_page};

use devflow_sync_core::model::{ExternalId, FieldValue, Fields, ItemKind};
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

pub(crate) fn is_devflow_label(label: &str) -> bool {
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
