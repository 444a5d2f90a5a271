//! Shared by the HTTP client test files.

pub(crate) mod http;
