//! Retry configuration and decorrelated-jitter backoff.

use std::fmt;
use std::time::Duration;

/// A source of random numbers in `[0, 1)`, injectable so retry tests are deterministic.
pub trait JitterSource: Send + fmt::Debug {
    /// The next number in `[0, 1)`.
    fn next_unit(&mut self) -> f64;
}

/// A seeded generator (SplitMix64) for jitter.
#[derive(Clone, Debug)]
pub struct SeededJitter(u64);

impl SeededJitter {
    /// A generator from a seed.
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    /// A generator seeded from the system random source.
    pub fn from_entropy() -> Self {
        let seed = crate::auth::random_bytes::<8>().map_or(0x5eed, u64::from_le_bytes);
        Self(seed)
    }
}

impl JitterSource for SeededJitter {
    fn next_unit(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        (z >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Backoff between retries: decorrelated jitter, each delay drawn between `init` and
/// `base` times the previous delay, capped at `max`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BackoffConfig {
    /// The first delay's lower bound.
    pub init: Duration,
    /// The longest delay.
    pub max: Duration,
    /// How much a delay may grow over the previous one.
    pub base: f64,
}

impl Default for BackoffConfig {
    fn default() -> Self {
        Self {
            init: Duration::from_millis(200),
            max: Duration::from_secs(30),
            base: 3.0,
        }
    }
}

/// How a request is retried.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RetryConfig {
    /// The backoff between attempts.
    pub backoff: BackoffConfig,
    /// The most retries after the first attempt.
    pub max_retries: u32,
    /// The total time allowed from the first attempt; no retry starts (and no wait is
    /// taken) that would end after it.
    pub retry_timeout: Duration,
}

impl Default for RetryConfig {
    fn default() -> Self {
        Self {
            backoff: BackoffConfig::default(),
            max_retries: 5,
            retry_timeout: Duration::from_secs(180),
        }
    }
}

/// The delays of one request's retries.
///
/// ```
/// use std::time::Duration;
/// use devflow_sync_core::http::{Backoff, BackoffConfig, SeededJitter};
/// let config = BackoffConfig { init: Duration::from_millis(100), max: Duration::from_secs(2), base: 3.0 };
/// let mut a = Backoff::new(config, Box::new(SeededJitter::new(1)));
/// let mut b = Backoff::new(config, Box::new(SeededJitter::new(1)));
/// for _ in 0..10 {
///     let d = a.next_delay();
///     assert_eq!(d, b.next_delay(), "the same seed gives the same delays");
///     assert!(d >= Duration::from_millis(100) && d <= Duration::from_secs(2));
/// }
/// ```
#[derive(Debug)]
pub struct Backoff {
    config: BackoffConfig,
    previous: Duration,
    jitter: Box<dyn JitterSource>,
}

impl Backoff {
    /// A backoff starting fresh.
    pub fn new(config: BackoffConfig, jitter: Box<dyn JitterSource>) -> Self {
        Self {
            config,
            previous: config.init,
            jitter,
        }
    }

    /// The next delay: uniform in `[init, previous * base]`, at most `max`.
    pub fn next_delay(&mut self) -> Duration {
        let low = self.config.init.as_secs_f64();
        let high = (self.previous.as_secs_f64() * self.config.base).max(low);
        let pick = low + (high - low) * self.jitter.next_unit().clamp(0.0, 1.0);
        let delay = Duration::try_from_secs_f64(pick.min(self.config.max.as_secs_f64()))
            .unwrap_or(self.config.max);
        self.previous = delay;
        delay
    }
}
