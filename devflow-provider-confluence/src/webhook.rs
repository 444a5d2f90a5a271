//! Connect-style webhooks (`page_created`, `page_updated`, `page_moved`, `page_trashed`,
//! `page_restored`, `page_removed`) for hosts that receive them, e.g. from a Forge or
//! Connect relay, verified by `X-Hub-Signature` (HMAC-SHA256, as Data Center signs).
//! Confluence sends no delivery id: the page id and version stand for one. Polling
//! stays the primary path.

use chrono::{DateTime, Utc};
use devflow_sync_core::model::{ExternalId, ObjectType};
use devflow_sync_core::provider::{Headers, WebhookAction, WebhookDelivery, WebhookEvent};
use devflow_sync_core::{Error, Result};
use serde::Deserialize;

/// The signature header.
pub const SIGNATURE_HEADER: &str = "X-Hub-Signature";
/// The largest delivery read.
pub const MAX_BODY: usize = 1 << 20;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PageRef {
    #[serde(default)]
    id: Option<serde_json::Value>,
    #[serde(default)]
    id_as_string: Option<String>,
    #[serde(default)]
    version: Option<u64>,
    #[serde(default)]
    space_key: Option<String>,
    #[serde(default)]
    modification_date: Option<i64>,
}

#[derive(Deserialize)]
struct Body {
    #[serde(default)]
    event: Option<String>,
    #[serde(default, rename = "webhookEvent")]
    webhook_event: Option<String>,
    page: Option<PageRef>,
    #[serde(default)]
    timestamp: Option<i64>,
}

/// A verified delivery's events: the page, to fetch (the body is partial). Pages of
/// another space count as out of scope.
pub fn parse_verified(headers: &Headers, body: &[u8], space: &str) -> Result<WebhookDelivery> {
    if body.len() > MAX_BODY {
        return Err(Error::invalid_input(
            "body",
            "the Confluence delivery is too large",
        ));
    }
    let parsed: Body = devflow_sync_core::api::parse_json("Confluence webhook", body)?;
    let event = headers
        .get("x-confluence-event")
        .map(str::to_owned)
        .or(parsed.event)
        .or(parsed.webhook_event)
        .unwrap_or_default();
    let Some(page) = parsed.page else {
        return Ok(WebhookDelivery::new(
            format!("confluence-{event}-none"),
            Vec::new(),
        ));
    };
    let id = page
        .id_as_string
        .or_else(|| {
            page.id
                .as_ref()
                .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
        })
        .filter(|id| !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()))
        .ok_or_else(|| Error::invalid_input("/page/id", "the Confluence delivery names no page"))?;
    let action = match event.as_str() {
        "page_trashed" | "page_removed" | "page_archived" => WebhookAction::Deleted,
        "page_created" | "page_updated" | "page_moved" | "page_restored" | "page_unarchived" => {
            WebhookAction::Upsert
        }
        other => {
            return Ok(WebhookDelivery {
                delivery_id: format!("confluence-{id}-{other}"),
                events: Vec::new(),
                out_of_scope: 1,
            });
        }
    };
    let delivery_id = format!("confluence-{id}-v{}-{event}", page.version.unwrap_or(0));
    if page.space_key.as_deref().is_some_and(|k| k != space) {
        return Ok(WebhookDelivery {
            delivery_id,
            events: Vec::new(),
            out_of_scope: 1,
        });
    }
    let at = page
        .modification_date
        .or(parsed.timestamp)
        .and_then(DateTime::<Utc>::from_timestamp_millis)
        .unwrap_or_else(Utc::now);
    Ok(WebhookDelivery::new(
        delivery_id,
        vec![WebhookEvent {
            object: ObjectType::new("page"),
            id: ExternalId::new(id),
            action,
            occurred_at: at,
            record: None,
        }],
    ))
}
