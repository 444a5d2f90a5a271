//! BQE webhooks, as far as they are known: an app's deliveries are JSON posts naming the
//! entity, the action and the record; BQE documents neither the body nor the signature,
//! so this reads `{"entity", "action", "id"|"entityId"}` (as configured in BQE's Developer
//! Portal: Entity x Action), behind the scheme the host configures in
//! [`BqeConfig::webhook_scheme`](crate::BqeConfig::webhook_scheme): an HMAC-SHA256 hex
//! signature in `X-BQE-Signature` by default (an assumption: a host relaying deliveries
//! signs them so), or a shared token in a header of the host's choosing. Polling is the
//! primary path.

use chrono::Utc;
use devflow_sync_core::model::{ExternalId, ObjectType};
use devflow_sync_core::provider::{WebhookAction, WebhookDelivery, WebhookEvent};
use devflow_sync_core::{Error, Result};
use serde_json::Value;

/// The signature header.
pub const SIGNATURE_HEADER: &str = "X-BQE-Signature";
/// The largest delivery read.
pub const MAX_BODY: usize = 1 << 20;

/// A verified delivery's event: the record, to fetch.
pub fn parse_verified(body: &[u8]) -> Result<WebhookDelivery> {
    if body.len() > MAX_BODY {
        return Err(Error::invalid_input(
            "body",
            "the BQE delivery is too large",
        ));
    }
    let v: Value = devflow_sync_core::api::parse_json("BQE webhook", body)?;
    let entity = v
        .get("entity")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_ascii_lowercase();
    let action = v
        .get("action")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_ascii_lowercase();
    let id = v
        .get("entityId")
        .or_else(|| v.get("id"))
        .and_then(Value::as_str)
        .filter(|id| !id.is_empty())
        .ok_or_else(|| Error::invalid_input("/entityId", "the BQE delivery names no record"))?;
    let delivery_id = format!(
        "bqe-{entity}-{id}-{action}-{}",
        v.get("timestamp")
            .map(ToString::to_string)
            .unwrap_or_default()
    );
    if crate::objects::object(&entity).is_none() {
        return Ok(WebhookDelivery {
            delivery_id,
            events: Vec::new(),
            out_of_scope: 1,
        });
    }
    let action = match action.as_str() {
        "delete" | "deleted" => WebhookAction::Deleted,
        _ => WebhookAction::Upsert,
    };
    Ok(WebhookDelivery::new(
        delivery_id,
        vec![WebhookEvent {
            object: ObjectType::new(entity),
            id: ExternalId::new(id),
            action,
            occurred_at: Utc::now(),
            record: None,
        }],
    ))
}
