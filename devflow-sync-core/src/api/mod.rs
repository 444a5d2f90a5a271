//! The provider kit: what every provider's HTTP side needs, written once.
//!
//! - [`TokenSource`]: static tokens, [`TokenManager`](crate::auth::TokenManager)
//!   (refresh before expiry and once after a 401), and any source a provider adds
//!   (GitHub App installation tokens).
//! - [`ApiClient`]: requests on the shared [`HttpClient`](crate::http::HttpClient)
//!   bound to the provider's API origin, with its auth scheme and headers, a fresh
//!   token and one more try after a 401, typed JSON bodies, the provider's own error
//!   codes ([`ErrorMapper`]), and every page of a list.
//! - [`EtagCache`]: answers kept with their ETags, so an unchanged page is a 304.
//! - [`parse_borrowed`] and [`parse_json`]: a response body into a provider's typed wire
//!   structs (borrowing strings from the body), and on failure an error with the JSON
//!   pointer of the value that did not fit.
//!
//! A provider keeps only what is its own: URLs, wire types, paging rules, webhooks.

mod client;
mod etag;
pub mod lenient;
mod tokens;
mod wire;

pub use client::{ApiClient, ApiRequest, AuthScheme, ErrorMapper};
pub use etag::EtagCache;
pub use tokens::{StaticToken, TokenSource};
pub use wire::{Present, parse_borrowed, parse_json};
