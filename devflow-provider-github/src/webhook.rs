//! GitHub webhook deliveries: verified with `X-Hub-Signature-256`, deduplicated by
//! `X-GitHub-Delivery`, turned into the engine's events.

use chrono::{DateTime, Utc};
use devflow_sync_core::model::{ExternalId, ObjectType};
use devflow_sync_core::provider::{Headers, WebhookAction, WebhookDelivery, WebhookEvent};
use devflow_sync_core::webhook::{SignatureScheme, WebhookVerifier, delivery_id};
use devflow_sync_core::{Error, Result};
use serde_json::Value;

use crate::wire::{issue_id, issue_to_record};

/// The header naming the event.
pub const EVENT_HEADER: &str = "X-GitHub-Event";
/// The header carrying the delivery id.
pub const DELIVERY_HEADER: &str = "X-GitHub-Delivery";
/// The header carrying the signature.
pub const SIGNATURE_HEADER: &str = "X-Hub-Signature-256";

/// How GitHub signs deliveries: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256>`.
pub fn signature_scheme() -> SignatureScheme {
    SignatureScheme::hmac_sha256(SIGNATURE_HEADER, "sha256=")
}

fn time(v: Option<&Value>) -> Option<DateTime<Utc>> {
    v.and_then(Value::as_str)
        .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        .map(|t| t.with_timezone(&Utc))
}

/// Verifies a delivery and turns it into events, about any repository (see
/// [`parse_verified`]).
pub fn parse_delivery(
    verifier: &WebhookVerifier,
    headers: &Headers,
    body: &[u8],
) -> Result<WebhookDelivery> {
    verifier.verify(headers, body)?;
    parse_verified(headers, body, None)
}

/// Turns a verified delivery into events. `issues` events carry the whole issue;
/// `deleted` and `transferred` (the issue left the repository) are deletions;
/// `sub_issues` events name the child, whose record the engine fetches; `milestone`
/// events name the milestone; `ping` and other events carry none. With a `scope`,
/// events about repositories outside it are dropped and counted in
/// [`WebhookDelivery::out_of_scope`]. A missing or empty `X-GitHub-Delivery` is
/// refused.
pub fn parse_verified(
    headers: &Headers,
    body: &[u8],
    scope: Option<&[String]>,
) -> Result<WebhookDelivery> {
    let delivery_id = delivery_id(headers, DELIVERY_HEADER)?.to_owned();
    let in_scope =
        |repo: &str| scope.is_none_or(|repos| repos.iter().any(|r| r.eq_ignore_ascii_case(repo)));
    let mut out_of_scope = 0;
    let event = headers.get(EVENT_HEADER).unwrap_or_default().to_owned();
    let payload: Value = serde_json::from_slice(body).map_err(|e| Error::InvalidInput {
        pointer: Some(format!("body (line {}, column {})", e.line(), e.column())),
        message: format!("GitHub webhook body is not JSON: {e}"),
    })?;
    let repo = payload
        .pointer("/repository/full_name")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let action = payload
        .get("action")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let mut events = Vec::new();
    match event.as_str() {
        "issues" => {
            let issue = payload.get("issue").ok_or_else(|| {
                Error::invalid_input("/issue", "an issues event without an issue")
            })?;
            let Some(record) = issue_to_record(&repo, issue)? else {
                return Ok(WebhookDelivery::new(delivery_id, events));
            };
            if !in_scope(&repo) {
                return Ok(WebhookDelivery {
                    delivery_id,
                    events,
                    out_of_scope: 1,
                });
            }
            let gone = matches!(action, "deleted" | "transferred");
            events.push(WebhookEvent {
                object: ObjectType::new("issue"),
                id: record.id.clone(),
                action: if gone {
                    WebhookAction::Deleted
                } else {
                    WebhookAction::Upsert
                },
                occurred_at: if gone {
                    time(payload.pointer("/issue/updated_at")).unwrap_or(record.record.updated_at)
                } else {
                    record.record.updated_at
                },
                record: (!gone).then_some(record),
            });
        }
        "sub_issues" => {
            let child = payload
                .pointer("/sub_issue/number")
                .and_then(Value::as_u64)
                .ok_or_else(|| {
                    Error::invalid_input(
                        "/sub_issue/number",
                        "a sub_issues event without the child",
                    )
                })?;
            let child_repo = payload
                .pointer("/sub_issue_repo/full_name")
                .and_then(Value::as_str)
                .unwrap_or(&repo);
            if !in_scope(child_repo) {
                out_of_scope += 1;
            } else {
                events.push(WebhookEvent {
                    object: ObjectType::new("issue"),
                    id: issue_id(child_repo, child),
                    action: WebhookAction::Upsert,
                    occurred_at: time(payload.pointer("/sub_issue/updated_at"))
                        .unwrap_or_else(Utc::now),
                    record: None,
                });
            }
        }
        "milestone" => {
            let number = payload.pointer("/milestone/number").and_then(Value::as_u64);
            if number.is_some() && !in_scope(&repo) {
                out_of_scope += 1;
            } else if let Some(number) = number {
                events.push(WebhookEvent {
                    object: ObjectType::new("milestone"),
                    id: ExternalId::new(format!("{repo}#{number}")),
                    action: if action == "deleted" {
                        WebhookAction::Deleted
                    } else {
                        WebhookAction::Upsert
                    },
                    occurred_at: time(payload.pointer("/milestone/updated_at"))
                        .unwrap_or_else(Utc::now),
                    record: None,
                });
            }
        }
        _ => {}
    }
    Ok(WebhookDelivery {
        delivery_id,
        events,
        out_of_scope,
    })
}
