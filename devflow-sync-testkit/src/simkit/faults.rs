//! Injected failures and the request count.

use std::collections::VecDeque;

/// The statuses the next requests answer with, and how many requests came.
///
/// ```
/// use devflow_sync_testkit::simkit::Faults;
/// let mut faults = Faults::default();
/// faults.fail_next(&[502, 429]);
/// assert_eq!((faults.enter(), faults.enter(), faults.enter()), (Some(502), Some(429), None));
/// assert_eq!(faults.requests(), 3);
/// ```
#[derive(Clone, Debug, Default)]
pub struct Faults {
    next: VecDeque<u16>,
    requests: u64,
}

impl Faults {
    /// The next requests answer with these statuses, in order.
    pub fn fail_next(&mut self, statuses: &[u16]) {
        self.next.extend(statuses);
    }

    /// Counts a request; the status it must fail with, if one is queued.
    pub fn enter(&mut self) -> Option<u16> {
        self.requests += 1;
        self.next.pop_front()
    }

    /// How many requests came.
    pub fn requests(&self) -> u64 {
        self.requests
    }
}
