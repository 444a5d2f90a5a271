//! The HTTP client's settings: timeouts, retries, and each provider's request limits.

use std::collections::HashMap;
use std::time::Duration;

use super::retry::RetryConfig;
use crate::model::ProviderKey;

/// A provider's request limits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateLimitConfig {
    /// Requests per minute, shared by every connection of the provider.
    pub requests_per_minute: u32,
    /// Requests that may go at once before the rate applies.
    pub burst: u32,
    /// Requests in flight at once per connection.
    pub max_concurrent_per_connection: usize,
    /// Requests that write (`POST`, `PUT`, `PATCH`, `DELETE`) per minute, on top of the
    /// rate above (GitHub's content-creation limit).
    pub writes_per_minute: Option<u32>,
    /// Requests that write per hour.
    pub writes_per_hour: Option<u32>,
}

impl Default for RateLimitConfig {
    fn default() -> Self {
        Self {
            requests_per_minute: 600,
            burst: 50,
            max_concurrent_per_connection: 4,
            writes_per_minute: None,
            writes_per_hour: None,
        }
    }
}

/// The client's settings.
#[derive(Clone, Debug)]
pub struct HttpConfig {
    /// Time to establish a connection.
    pub connect_timeout: Duration,
    /// Time between bytes of a response.
    pub read_timeout: Duration,
    /// Retries and the total deadline.
    pub retry: RetryConfig,
    /// Limits per provider; others use `default_rate_limit`.
    pub rate_limits: HashMap<ProviderKey, RateLimitConfig>,
    /// Limits of providers not listed.
    pub default_rate_limit: RateLimitConfig,
    /// The `User-Agent` sent (GitHub refuses requests without one).
    pub user_agent: String,
    /// The largest response body read; a longer one is refused
    /// ([`Error::InvalidInput`](crate::Error::InvalidInput)) instead of filling memory.
    pub max_response_bytes: usize,
    /// Rate limits that hold one endpoint or one record rather than the whole provider,
    /// as `(header, value)` pairs a 429 carries (Jira: `RateLimit-Reason:
    /// jira-burst-based`, `jira-per-issue-on-write`). Such a 429 is retried after its
    /// wait without pausing the provider's other requests; any other 429 pauses them all
    /// until its reset.
    pub request_scoped_limits: Vec<(String, String)>,
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(10),
            read_timeout: Duration::from_secs(60),
            retry: RetryConfig::default(),
            rate_limits: HashMap::new(),
            default_rate_limit: RateLimitConfig::default(),
            user_agent: concat!("devflow-sync/", env!("CARGO_PKG_VERSION")).to_owned(),
            max_response_bytes: 64 << 20,
            request_scoped_limits: Vec::new(),
        }
    }
}
