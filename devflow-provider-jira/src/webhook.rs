//! Jira webhook deliveries: admin webhooks signed `X-Hub-Signature: sha256=<hex>`, the
//! delivery id in `X-Atlassian-Webhook-Identifier` (the same across retries), and the
//! events `jira:issue_created|updated|deleted` and `worklog_created|updated|deleted`.
//! Webhook bodies carry the v2 representation (a wiki-markup description, a worklog
//! without its properties), so an event carries no record: the engine fetches the issue
//! or the worklog. Other events (links, comments) carry nothing.
//!
//! ```
//! use devflow_provider_jira::webhook::parse_verified;
//! use devflow_sync_core::provider::{Headers, WebhookAction};
//! let body = br#"{"timestamp":1485797534721,"webhookEvent":"jira:issue_updated",
//!   "issue":{"id":"10000","key":"TEST-1","fields":{"project":{"key":"TEST"}}}}"#;
//! let headers = Headers::new().with("X-Atlassian-Webhook-Identifier", "d-1");
//! let delivery = parse_verified(&headers, body, Some("TEST")).unwrap();
//! assert_eq!(delivery.events[0].id.as_str(), "10000");
//! assert_eq!(delivery.events[0].action, WebhookAction::Upsert);
//! assert_eq!(parse_verified(&headers, body, Some("OTHER")).unwrap().out_of_scope, 1);
//! ```

use chrono::{DateTime, Utc};
use devflow_sync_core::model::{ExternalId, ObjectType};
use devflow_sync_core::provider::{Headers, WebhookAction, WebhookDelivery, WebhookEvent};
use devflow_sync_core::webhook::delivery_id;
use devflow_sync_core::{Error, Result};
use serde::Deserialize;
use serde_json::Value;

/// The signature header of admin webhooks.
pub const SIGNATURE_HEADER: &str = "X-Hub-Signature";
/// The delivery id header.
pub const DELIVERY_HEADER: &str = "X-Atlassian-Webhook-Identifier";
/// The largest delivery taken (Jira's bodies carry the whole issue).
pub const MAX_BODY: usize = 10 << 20;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Envelope {
    #[serde(default)]
    webhook_event: Option<String>,
    #[serde(default)]
    timestamp: Option<Value>,
    #[serde(default)]
    issue: Option<IssueRef>,
    #[serde(default)]
    worklog: Option<WorklogRef>,
}

#[derive(Deserialize)]
struct WorklogRef {
    #[serde(default)]
    id: Option<Value>,
}

/// An id given as a string or a number.
fn id_text(id: Option<&Value>) -> Option<String> {
    match id {
        Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    }
}

#[derive(Deserialize)]
struct IssueRef {
    #[serde(default)]
    id: Option<Value>,
    #[serde(default)]
    fields: Option<Value>,
}

/// Parses a delivery whose signature was checked; `project`: the project synced
/// (events about others are counted out of scope).
pub fn parse_verified(
    headers: &Headers,
    body: &[u8],
    project: Option<&str>,
) -> Result<WebhookDelivery> {
    let id = delivery_id(headers, DELIVERY_HEADER)?.to_owned();
    let envelope: Envelope = devflow_sync_core::api::parse_json("Jira webhook", body)?;
    let event = envelope.webhook_event.unwrap_or_default();
    let occurred_at = envelope
        .timestamp
        .as_ref()
        .and_then(Value::as_i64)
        .and_then(DateTime::<Utc>::from_timestamp_millis)
        .unwrap_or_else(Utc::now);
    // Worklogs: the body carries no properties, so the engine reads the worklog, and
    // one without the `devflow` property is not one of ours (`get` says not found).
    let worklog_action = match event.as_str() {
        "worklog_created" | "worklog_updated" => Some(WebhookAction::Upsert),
        "worklog_deleted" => Some(WebhookAction::Deleted),
        _ => None,
    };
    if let Some(action) = worklog_action {
        let worklog_id = id_text(envelope.worklog.as_ref().and_then(|w| w.id.as_ref()))
            .ok_or_else(|| {
                Error::invalid_input(
                    "/worklog/id",
                    format!("a {event} delivery without a worklog id"),
                )
            })?;
        return Ok(WebhookDelivery::new(
            id,
            vec![WebhookEvent {
                object: ObjectType::new(crate::worklog::OBJECT),
                id: ExternalId::new(worklog_id),
                action,
                occurred_at,
                record: None,
            }],
        ));
    }
    let action = match event.as_str() {
        "jira:issue_created" | "jira:issue_updated" => WebhookAction::Upsert,
        "jira:issue_deleted" => WebhookAction::Deleted,
        _ => return Ok(WebhookDelivery::new(id, Vec::new())),
    };
    let issue = envelope.issue.ok_or_else(|| {
        Error::invalid_input("/issue", format!("a {event} delivery without an issue"))
    })?;
    let issue_id = id_text(issue.id.as_ref())
        .ok_or_else(|| Error::invalid_input("/issue/id", "a Jira webhook issue without an id"))?;
    let in_scope = match (
        project,
        issue
            .fields
            .as_ref()
            .and_then(|f| f.pointer("/project/key"))
            .and_then(Value::as_str),
    ) {
        (Some(want), Some(have)) => want == have,
        _ => true,
    };
    if !in_scope {
        let mut delivery = WebhookDelivery::new(id, Vec::new());
        delivery.out_of_scope = 1;
        return Ok(delivery);
    }
    Ok(WebhookDelivery::new(
        id,
        vec![WebhookEvent {
            object: ObjectType::new("issue"),
            id: ExternalId::new(issue_id),
            action,
            occurred_at,
            record: None,
        }],
    ))
}
