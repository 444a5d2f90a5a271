//! A request budget in fixed windows, as providers count their primary rate limits.

/// `limit` requests per window of `window_secs`, counted from the first request of a
/// window; when spent, requests are refused until the window resets.
///
/// ```
/// use devflow_sync_testkit::simkit::RateBudget;
/// let mut budget = RateBudget::new(2, 3600, 1_000);
/// assert!(budget.try_spend(1_000).is_ok());
/// assert!(budget.try_spend(1_001).is_ok());
/// assert_eq!(budget.try_spend(1_002), Err(4_600), "spent until the reset");
/// assert!(budget.try_spend(4_600).is_ok(), "a new window");
/// assert_eq!((budget.remaining(), budget.used(), budget.reset()), (1, 1, 8_200));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RateBudget {
    limit: u32,
    remaining: u32,
    window_secs: i64,
    window_start: i64,
}

impl RateBudget {
    /// A full budget of `limit` per `window_secs`, the window starting at `now` (epoch
    /// seconds).
    pub fn new(limit: u32, window_secs: i64, now: i64) -> Self {
        Self {
            limit,
            remaining: limit,
            window_secs: window_secs.max(1),
            window_start: now,
        }
    }

    fn roll(&mut self, now: i64) {
        if now >= self.window_start.saturating_add(self.window_secs) {
            self.window_start = now;
            self.remaining = self.limit;
        }
    }

    /// Whether a request may go at `now`, without spending; `Err(reset)` when spent.
    pub fn check(&mut self, now: i64) -> Result<(), i64> {
        self.roll(now);
        if self.remaining == 0 {
            Err(self.reset())
        } else {
            Ok(())
        }
    }

    /// Spends one request at `now`; `Err(reset)` (epoch seconds) when none is left.
    pub fn try_spend(&mut self, now: i64) -> Result<(), i64> {
        self.check(now)?;
        self.remaining -= 1;
        Ok(())
    }

    /// Gives one request back (an answer that costs nothing, such as a 304).
    pub fn refund(&mut self) {
        self.remaining = (self.remaining + 1).min(self.limit);
    }

    /// A new limit, the window starting again at `now`.
    pub fn set_limit(&mut self, limit: u32, now: i64) {
        *self = Self::new(limit, self.window_secs, now);
    }

    /// The limit per window.
    pub fn limit(&self) -> u32 {
        self.limit
    }

    /// What is left in this window.
    pub fn remaining(&self) -> u32 {
        self.remaining
    }

    /// What this window used.
    pub fn used(&self) -> u32 {
        self.limit - self.remaining
    }

    /// When this window ends (epoch seconds).
    pub fn reset(&self) -> i64 {
        self.window_start.saturating_add(self.window_secs)
    }
}
