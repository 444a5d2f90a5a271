//! Time as the engine and the in-memory stores see it, injectable for tests.

use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};

/// A source of the current time.
pub trait Clock: Send + Sync + fmt::Debug {
    /// Now.
    fn now(&self) -> DateTime<Utc>;
}

/// The system clock.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// `at` plus `by`, saturating at the last representable instant instead of
/// overflowing: durations that reach here may come from outside (a server's
/// `Retry-After`, a token's `expires_in`).
///
/// ```
/// use std::time::Duration;
/// use chrono::{DateTime, Utc};
/// use devflow_sync_core::clock::after;
/// let t0 = DateTime::from_timestamp(1_780_000_000, 0).unwrap();
/// assert_eq!((after(t0, Duration::from_secs(90)) - t0).num_seconds(), 90);
/// assert_eq!(after(t0, Duration::from_secs(u64::MAX)), DateTime::<Utc>::MAX_UTC);
/// ```
pub fn after(at: DateTime<Utc>, by: Duration) -> DateTime<Utc> {
    chrono::Duration::from_std(by)
        .ok()
        .and_then(|d| at.checked_add_signed(d))
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// `at` minus `by`, saturating at the first representable instant.
///
/// ```
/// use std::time::Duration;
/// use chrono::{DateTime, Utc};
/// use devflow_sync_core::clock::before;
/// let t0 = DateTime::from_timestamp(1_780_000_000, 0).unwrap();
/// assert_eq!((t0 - before(t0, Duration::from_secs(90))).num_seconds(), 90);
/// assert_eq!(before(t0, Duration::from_secs(u64::MAX)), DateTime::<Utc>::MIN_UTC);
/// ```
pub fn before(at: DateTime<Utc>, by: Duration) -> DateTime<Utc> {
    chrono::Duration::from_std(by)
        .ok()
        .and_then(|d| at.checked_sub_signed(d))
        .unwrap_or(DateTime::<Utc>::MIN_UTC)
}

/// A clock that moves only when told to; clones share the same time.
///
/// ```
/// use std::time::Duration;
/// use devflow_sync_core::clock::{Clock, ManualClock};
/// let clock = ManualClock::starting_at_epoch_secs(1_780_000_000);
/// let t0 = clock.now();
/// clock.advance(Duration::from_secs(90));
/// assert_eq!((clock.now() - t0).num_seconds(), 90);
/// ```
#[derive(Clone, Debug)]
pub struct ManualClock {
    now: Arc<Mutex<DateTime<Utc>>>,
}

impl ManualClock {
    /// A clock showing `start`.
    pub fn new(start: DateTime<Utc>) -> Self {
        Self {
            now: Arc::new(Mutex::new(start)),
        }
    }

    /// A clock showing `secs` seconds after the Unix epoch.
    pub fn starting_at_epoch_secs(secs: i64) -> Self {
        Self::new(DateTime::from_timestamp(secs, 0).unwrap_or_default())
    }

    /// Moves the clock forward.
    pub fn advance(&self, by: Duration) {
        let mut now = self.now.lock().unwrap_or_else(|e| e.into_inner());
        *now = after(*now, by);
    }

    /// Sets the clock.
    pub fn set(&self, to: DateTime<Utc>) {
        *self.now.lock().unwrap_or_else(|e| e.into_inner()) = to;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.now.lock().unwrap_or_else(|e| e.into_inner())
    }
}
