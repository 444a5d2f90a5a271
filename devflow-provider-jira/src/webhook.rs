//! Jira webhook deliveries: admin webhooks signed `X-Hub-Signature: sha256=<hex>`, the
//! delivery id in `X-Atlassian-Webhook-Identifier` (the same across retries), and the
//! events `jira:issue_created|updated|deleted`. Webhook bodies carry the v2
//! representation (a wiki-markup description), so an event carries no record: the
//! engine fetches the issue. Other events (links, worklogs, comments) carry nothing for
//! the `issue` object.
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
    let action = match event.as_str() {
        "jira:issue_created" | "jira:issue_updated" => WebhookAction::Upsert,
        "jira:issue_deleted" => WebhookAction::Deleted,
        _ => return Ok(WebhookDelivery::new(id, Vec::new())),
    };
    let issue = envelope.issue.ok_or_else(|| {
        Error::invalid_input("/issue", format!("a {event} delivery without an issue"))
    })?;
    let issue_id = match issue.id {
        Some(Value::String(s)) if !s.is_empty() => s,
        Some(Value::Number(n)) => n.to_string(),
        _ => {
            return Err(Error::invalid_input(
                "/issue/id",
                "a Jira webhook issue without an id",
            ));
        }
    };
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
    let occurred_at = envelope
        .timestamp
        .as_ref()
        .and_then(Value::as_i64)
        .and_then(DateTime::<Utc>::from_timestamp_millis)
        .unwrap_or_else(Utc::now);
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
