//! One webhook delivery as every simulator and the memory provider queue it.

use devflow_sync_core::provider::Headers;

/// One delivery: what a provider would POST to the host's webhook URL.
#[derive(Clone, Debug)]
pub struct OutgoingWebhook {
    /// The headers to hand to the engine.
    pub headers: Headers,
    /// The raw body.
    pub body: Vec<u8>,
}
