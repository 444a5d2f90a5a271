//! The HTTP layer: one shared [`HttpClient`], and the decisions it makes: how long to back off, what a response means (rate
//! limits of GitHub and Atlassian included), how much of an error body may be shown,
//! and how many requests a provider may take.
//!
//! Every decision is a pure function or a small state machine over an injectable
//! clock and random source, so it is tested without a network.

mod budget;
mod classify;
mod client;
mod config;
mod failure;
mod origin;
mod redact;
mod request;
mod retry;

/// The HTTP method type requests are built with.
pub use reqwest::Method;

pub use budget::RequestBudget;
pub use classify::{
    Disposition, MAX_SERVER_WAIT, RetryReason, SECONDARY_LIMIT_WAIT, classify, parse_reset,
    parse_retry_after,
};
pub use client::{
    HttpClient, HttpClientBuilder, HttpObserver, REQUEST_ID_HEADER, Sleeper, TokioSleeper,
};
pub use config::{HttpConfig, RateLimitConfig};
pub use origin::{Origin, check_api_base};
pub use redact::{KnownSecrets, MAX_ERROR_BODY, is_secret_key, percent_encode, redact_body};
pub use request::{HttpRequest, HttpResponse, is_secret_header};
pub use retry::{Backoff, BackoffConfig, JitterSource, RetryConfig, SeededJitter};

#[cfg(test)]
mod tests;
