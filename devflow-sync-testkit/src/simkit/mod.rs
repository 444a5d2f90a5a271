//! What every provider simulator needs, written once: an axum server with a latency
//! knob ([`server`]), injected failures and a request count ([`Faults`]), signed
//! webhook deliveries queued for the test to hand over ([`WebhookOutbox`]), and OAuth
//! authorization codes with PKCE ([`AuthCodes`]). A simulator adds only its API.

mod codes;
mod faults;
mod outbox;
pub mod server;

pub use codes::AuthCodes;
pub use faults::Faults;
pub use outbox::{OutgoingWebhook, WebhookOutbox};
pub use server::{Request, Response};
