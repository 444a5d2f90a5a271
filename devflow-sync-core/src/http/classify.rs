//! What an HTTP response means: success, a wait and a retry, or an error of a kind.
//! Decided here, in one place, for every provider.

use std::time::Duration;

use chrono::{DateTime, NaiveDateTime, Utc};

use super::redact::error_message;
use crate::error::Error;
use crate::provider::Headers;

/// Why a request may be tried again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RetryReason {
    /// A rate limit (429, or 403 with rate-limit headers or message).
    RateLimited,
    /// A server error (5xx).
    ServerError,
    /// A request timeout (408).
    RequestTimeout,
}

/// What to do with a response.
#[derive(Debug)]
pub enum Disposition {
    /// Use it (2xx, 304 included).
    Success,
    /// Wait and try again, if the request may be retried; `wait` is what the provider
    /// asked for, when it said.
    Retry {
        /// Why.
        reason: RetryReason,
        /// How long the provider asked to wait.
        wait: Option<Duration>,
        /// The error to return when no retry is left.
        error: Error,
    },
    /// Give up with this error.
    Fail(Error),
}

/// The least wait after a secondary rate limit that gives no time (GitHub asks for at
/// least a minute).
pub const SECONDARY_LIMIT_WAIT: Duration = Duration::from_secs(60);

/// The longest wait a server can ask for: anything longer (`Retry-After: 1e20`) is
/// clamped to this. A wait past a request's deadline is not taken anyway: the request
/// fails as rate limited.
pub const MAX_SERVER_WAIT: Duration = Duration::from_secs(7 * 24 * 3600);

/// `Retry-After` in seconds or as an HTTP date, as a wait from `now`, at most
/// [`MAX_SERVER_WAIT`].
///
/// ```
/// use std::time::Duration;
/// use chrono::{TimeZone, Utc};
/// use devflow_sync_core::http::parse_retry_after;
/// let now = Utc.with_ymd_and_hms(2015, 10, 21, 7, 28, 0).unwrap();
/// assert_eq!(parse_retry_after("120", now), Some(Duration::from_secs(120)));
/// assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:30 GMT", now), Some(Duration::from_secs(30)));
/// assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:00:00 GMT", now), Some(Duration::ZERO));
/// assert_eq!(parse_retry_after("soon", now), None);
/// // Numbers from outside are clamped, never overflowed.
/// assert_eq!(parse_retry_after("1e20", now), Some(MAX_SERVER_WAIT));
/// assert_eq!(parse_retry_after("18446744073709551615", now), Some(MAX_SERVER_WAIT));
/// # use devflow_sync_core::http::MAX_SERVER_WAIT;
/// ```
pub fn parse_retry_after(value: &str, now: DateTime<Utc>) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs).min(MAX_SERVER_WAIT));
    }
    if let Ok(secs) = value.parse::<f64>() {
        if !(secs.is_finite() && secs >= 0.0) {
            return None;
        }
        return Some(Duration::from_secs_f64(
            secs.min(MAX_SERVER_WAIT.as_secs_f64()),
        ));
    }
    let at = DateTime::parse_from_rfc2822(value)
        .ok()?
        .with_timezone(&Utc);
    Some(wait_until(at, now))
}

/// The wait from `now` until `at`: zero when it is past, at most [`MAX_SERVER_WAIT`].
fn wait_until(at: DateTime<Utc>, now: DateTime<Utc>) -> Duration {
    at.signed_duration_since(now)
        .to_std()
        .unwrap_or(Duration::ZERO)
        .min(MAX_SERVER_WAIT)
}

/// A rate-limit reset header as an instant: epoch seconds (GitHub) or an ISO 8601 time
/// with or without seconds (Atlassian's `yyyy-MM-ddTHH:mmZ`).
///
/// ```
/// use devflow_sync_core::http::parse_reset;
/// assert_eq!(parse_reset("1372700873").unwrap().timestamp(), 1_372_700_873);
/// assert_eq!(parse_reset("2026-04-28T07:48Z").unwrap().to_rfc3339(), "2026-04-28T07:48:00+00:00");
/// assert!(parse_reset("2026-04-28T07:48:03.295+0000").is_some());
/// ```
pub fn parse_reset(value: &str) -> Option<DateTime<Utc>> {
    let value = value.trim();
    if value.bytes().all(|b| b.is_ascii_digit()) {
        return DateTime::from_timestamp(value.parse().ok()?, 0);
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(value) {
        return Some(t.with_timezone(&Utc));
    }
    if let Ok(t) = DateTime::parse_from_str(value, "%Y-%m-%dT%H:%M:%S%.f%z") {
        return Some(t.with_timezone(&Utc));
    }
    let bare = value.strip_suffix('Z').unwrap_or(value);
    NaiveDateTime::parse_from_str(bare, "%Y-%m-%dT%H:%M")
        .ok()
        .map(|t| t.and_utc())
}

fn header_u64(headers: &Headers, name: &str) -> Option<u64> {
    headers.get(name).and_then(|v| v.trim().parse().ok())
}

/// The wait a rate-limited response asks for: `Retry-After`, else the reset time when
/// nothing remains, else none.
fn rate_limit_wait(headers: &Headers, now: DateTime<Utc>) -> Option<Duration> {
    if let Some(wait) = headers
        .get("retry-after")
        .and_then(|v| parse_retry_after(v, now))
    {
        return Some(wait);
    }
    let exhausted = header_u64(headers, "x-ratelimit-remaining") == Some(0);
    let reset = headers.get("x-ratelimit-reset").and_then(parse_reset);
    match (exhausted, reset) {
        (true, Some(at)) => Some(wait_until(at, now)),
        _ => None,
    }
}

/// Classifies a response. `body` is the raw body; error messages taken from it are
/// truncated and redacted.
///
/// ```
/// use std::time::Duration;
/// use chrono::Utc;
/// use devflow_sync_core::http::{classify, Disposition, RetryReason};
/// use devflow_sync_core::provider::Headers;
/// // GitHub's primary limit: 403 with nothing remaining is a rate limit, not a refusal.
/// let now = Utc::now();
/// let reset = (now.timestamp() + 30).to_string();
/// let headers = Headers::new().with("x-ratelimit-remaining", "0").with("x-ratelimit-reset", reset);
/// match classify(403, &headers, br#"{"message":"API rate limit exceeded"}"#, now) {
///     Disposition::Retry { reason: RetryReason::RateLimited, wait: Some(w), .. } => {
///         assert!(w <= Duration::from_secs(30) && w >= Duration::from_secs(29));
///     }
///     other => panic!("{other:?}"),
/// }
/// ```
pub fn classify(status: u16, headers: &Headers, body: &[u8], now: DateTime<Utc>) -> Disposition {
    if (200..400).contains(&status) {
        return Disposition::Success;
    }
    let message = error_message(status, body);
    let secondary = message
        .to_ascii_lowercase()
        .contains("secondary rate limit");
    let exhausted = header_u64(headers, "x-ratelimit-remaining") == Some(0);
    let rate_limited = status == 429
        || (status == 403 && (secondary || exhausted || headers.get("retry-after").is_some()));
    if rate_limited {
        let mut wait = rate_limit_wait(headers, now);
        if secondary && wait.is_none() {
            wait = Some(SECONDARY_LIMIT_WAIT);
        }
        let reason = headers
            .get("ratelimit-reason")
            .or_else(|| headers.get("x-beta-ratelimit-reason"))
            .map(|r| format!(" ({r})"))
            .unwrap_or_default();
        return Disposition::Retry {
            reason: RetryReason::RateLimited,
            wait,
            error: Error::RateLimited {
                retry_after: wait,
                message: format!("{message}{reason}"),
            },
        };
    }
    match status {
        408 => Disposition::Retry {
            reason: RetryReason::RequestTimeout,
            wait: None,
            error: Error::transient(message),
        },
        500..=599 => Disposition::Retry {
            reason: RetryReason::ServerError,
            wait: headers
                .get("retry-after")
                .and_then(|v| parse_retry_after(v, now)),
            error: Error::transient(message),
        },
        401 => Disposition::Fail(Error::Unauthenticated(message)),
        403 => Disposition::Fail(Error::PermissionDenied(message)),
        404 | 410 => Disposition::Fail(Error::NotFound(message)),
        409 | 412 => Disposition::Fail(Error::Precondition(message)),
        400 | 413 | 422 => Disposition::Fail(Error::InvalidInput {
            pointer: None,
            message,
        }),
        _ => Disposition::Fail(Error::InvalidInput {
            pointer: None,
            message,
        }),
    }
}
