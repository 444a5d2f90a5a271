//! Webhook deliveries a simulator queues for the test to hand to the engine.

use devflow_sync_core::auth::WebhookSecret;
use devflow_sync_core::provider::Headers;
use devflow_sync_core::webhook::sign_hmac_sha256;

pub use devflow_sync_core::memory_provider::OutgoingWebhook;

/// Deliveries in the order they happened, each with a fresh delivery id and an
/// HMAC-SHA256 signature in the provider's header.
///
/// ```
/// use devflow_sync_core::auth::WebhookSecret;
/// use devflow_sync_testkit::simkit::WebhookOutbox;
/// let mut outbox = WebhookOutbox::new(WebhookSecret::new("s"), "X-Hub-Signature-256", "X-GitHub-Delivery");
/// outbox.push(&[("X-GitHub-Event", "issues")], b"{}".to_vec());
/// let hooks = outbox.take();
/// let id = hooks[0].headers.get("x-github-delivery").unwrap();
/// assert!(id.len() == 36 && id.ends_with("-4000-8000-000000000001"), "{id}");
/// assert!(hooks[0].headers.get("X-Hub-Signature-256").unwrap().starts_with("sha256="));
/// assert!(outbox.take().is_empty());
/// ```
#[derive(Clone, Debug)]
pub struct WebhookOutbox {
    secret: WebhookSecret,
    signature_header: String,
    delivery_header: String,
    next: u64,
    /// Differs from one outbox to the next, so a simulator started again (from saved
    /// state) never repeats a delivery id an engine has seen.
    run: u32,
    queue: Vec<OutgoingWebhook>,
}

/// A value that differs between outboxes and processes.
fn run_id() -> u32 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0),
    );
    (h.finish() >> 32) as u32
}

impl WebhookOutbox {
    /// An empty outbox signing with `secret` into `signature_header` (as
    /// `sha256=<hex>`), numbering deliveries in `delivery_header`.
    pub fn new(
        secret: WebhookSecret,
        signature_header: impl Into<String>,
        delivery_header: impl Into<String>,
    ) -> Self {
        Self {
            secret,
            signature_header: signature_header.into(),
            delivery_header: delivery_header.into(),
            next: 0,
            run: run_id(),
            queue: Vec::new(),
        }
    }

    /// Queues a delivery of `body` with these extra headers.
    pub fn push(&mut self, headers: &[(&str, &str)], body: Vec<u8>) {
        self.next += 1;
        let mut out = Headers::new();
        for (name, value) in headers {
            out = out.with(*name, *value);
        }
        let out = out
            .with(
                self.delivery_header.as_str(),
                format!("{:08x}-0000-4000-8000-{:012}", self.run, self.next),
            )
            .with(
                self.signature_header.as_str(),
                sign_hmac_sha256(&self.secret, &body),
            )
            .with("Content-Type", "application/json");
        self.queue.push(OutgoingWebhook { headers: out, body });
    }

    /// Queues a delivery of `body` carrying its own credentials in `headers` (a JWT),
    /// with a delivery id but no HMAC signature.
    pub fn push_unsigned(&mut self, headers: &[(&str, &str)], body: Vec<u8>) {
        self.next += 1;
        let mut out = Headers::new();
        for (name, value) in headers {
            out = out.with(*name, *value);
        }
        let out = out
            .with(
                self.delivery_header.as_str(),
                format!("{:08x}-0000-4000-8000-{:012}", self.run, self.next),
            )
            .with("Content-Type", "application/json");
        self.queue.push(OutgoingWebhook { headers: out, body });
    }

    /// Every queued delivery, oldest first; the queue is emptied.
    pub fn take(&mut self) -> Vec<OutgoingWebhook> {
        std::mem::take(&mut self.queue)
    }
}
