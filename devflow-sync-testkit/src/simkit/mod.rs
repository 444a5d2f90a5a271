//! What every provider simulator needs, written once: an axum server with a latency
//! knob ([`server`]), injected failures and a request count ([`Faults`]), a rate-limit
//! budget in windows ([`RateBudget`]), ETags and 304s ([`json_with_etag`]), page numbers and `link` headers ([`paging`]), signed
//! webhook deliveries queued for the test to hand over ([`WebhookOutbox`]), and OAuth
//! authorization codes with PKCE and rotating refresh tokens ([`AuthCodes`]). A
//! simulator adds only its API and its headers.

mod budget;
mod codes;
mod etag;
mod faults;
mod outbox;
pub mod paging;
pub mod server;

pub use budget::RateBudget;
pub use codes::AuthCodes;
pub use etag::{fnv, json_with_etag};
pub use faults::Faults;
pub use outbox::{OutgoingWebhook, WebhookOutbox};
pub use paging::{Links, PageRequest};
pub use server::{Request, Response};

/// A check of OAuth access tokens issued by another simulator: the scopes a token holds
/// while it is valid. One Atlassian OAuth server serves Jira and Confluence, so the
/// Confluence simulator can trust the Jira simulator's tokens
/// (`JiraSimulator::bearer_check`, `ConfluenceSimulator::trust_bearers`).
pub type BearerCheck = std::sync::Arc<dyn Fn(&str) -> Option<Vec<String>> + Send + Sync>;
