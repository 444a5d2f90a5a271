//! A request budget per provider: a token bucket of requests per minute with a burst.

use std::time::Duration;

use chrono::{DateTime, Utc};

/// A token bucket: holds up to `burst` requests and refills at `per_minute` a minute.
/// Pure state, driven by the caller's clock.
///
/// ```
/// use std::time::Duration;
/// use chrono::{TimeZone, Utc};
/// use devflow_sync_core::http::RequestBudget;
/// let t0 = Utc.timestamp_opt(1_780_000_000, 0).unwrap();
/// let mut budget = RequestBudget::new(60, 2, t0);
/// assert_eq!(budget.take(t0), Duration::ZERO);
/// assert_eq!(budget.take(t0), Duration::ZERO);
/// // The burst is spent: the third request waits one refill (1 s at 60/min).
/// assert_eq!(budget.take(t0), Duration::from_secs(1));
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct RequestBudget {
    /// Tokens per second.
    rate: f64,
    burst: u32,
    tokens: f64,
    at: DateTime<Utc>,
}

impl RequestBudget {
    /// A full bucket at `now`.
    pub fn new(per_minute: u32, burst: u32, now: DateTime<Utc>) -> Self {
        let burst = burst.max(1);
        Self {
            rate: f64::from(per_minute.max(1)) / 60.0,
            burst,
            tokens: f64::from(burst),
            at: now,
        }
    }

    /// `requests` per `window`, all of them at once at most (GitHub's 500 writes an
    /// hour): a full bucket at `now`.
    ///
    /// ```
    /// use std::time::Duration;
    /// use chrono::{TimeZone, Utc};
    /// use devflow_sync_core::http::RequestBudget;
    /// let t0 = Utc.timestamp_opt(1_780_000_000, 0).unwrap();
    /// let mut hourly = RequestBudget::per_window(2, Duration::from_secs(3600), t0);
    /// assert_eq!(hourly.take(t0) + hourly.take(t0), Duration::ZERO);
    /// assert_eq!(hourly.take(t0), Duration::from_secs(1800));
    /// ```
    pub fn per_window(requests: u32, window: Duration, now: DateTime<Utc>) -> Self {
        let requests = requests.max(1);
        Self {
            rate: f64::from(requests) / window.as_secs_f64().max(1e-3),
            burst: requests,
            tokens: f64::from(requests),
            at: now,
        }
    }

    fn refill(&mut self, now: DateTime<Utc>) {
        let elapsed = (now - self.at)
            .to_std()
            .unwrap_or(Duration::ZERO)
            .as_secs_f64();
        self.tokens = (self.tokens + elapsed * self.rate).min(f64::from(self.burst));
        if now > self.at {
            self.at = now;
        }
    }

    /// Takes one request's token and returns how long to wait before sending it
    /// (zero when a token was there). The token is taken either way, so waiters queue.
    pub fn take(&mut self, now: DateTime<Utc>) -> Duration {
        self.refill(now);
        self.tokens -= 1.0;
        if self.tokens >= 0.0 {
            Duration::ZERO
        } else {
            Duration::try_from_secs_f64(-self.tokens / self.rate).unwrap_or(Duration::MAX)
        }
    }

    /// Empties the bucket so that the next token comes at `until` (a provider said
    /// its limit is spent until then).
    pub fn exhaust_until(&mut self, until: DateTime<Utc>, now: DateTime<Utc>) {
        self.refill(now);
        let wait = (until - now)
            .to_std()
            .unwrap_or(Duration::ZERO)
            .as_secs_f64();
        self.tokens = self.tokens.min(1.0 - wait * self.rate);
    }
}
