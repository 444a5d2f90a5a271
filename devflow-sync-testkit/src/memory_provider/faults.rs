//! Knobs that make a [`MemoryProvider`](super::MemoryProvider) misbehave on purpose.

use std::collections::VecDeque;
use std::time::Duration;

/// A provider call, for aiming faults.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Op {
    /// `list_changed`.
    List,
    /// `get`.
    Get,
    /// `create`.
    Create,
    /// `update`.
    Update,
    /// `delete`.
    Delete,
    /// `find_by_marker`.
    FindByMarker,
}

/// What an injected fault does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FaultKind {
    /// Fails with a transient error before doing anything.
    Transient,
    /// Fails with a rate limit (retry after one second) before doing anything.
    RateLimited,
    /// Fails as unauthenticated.
    Unauthenticated,
    /// Does the write, then fails with a transient error, as a timeout after the
    /// server committed does.
    TimeoutAfterCommit,
    /// Panics, as a provider with a bug would (for tests that the engine survives it).
    Panic,
}

/// The fault a call meets, shared by every provider that injects them: the next one
/// scripted for `op`, else a random failure at `error_rate` (writes fail after the
/// write half of the time). `Ok(true)`: do the write, then report a timeout.
///
/// # Panics
///
/// When the fault met is [`FaultKind::Panic`]: that is its purpose.
pub(crate) fn decide(
    op: Op,
    scripted: &mut VecDeque<(Op, FaultKind)>,
    error_rate: f64,
    rng: &mut crate::rng::SimRng,
) -> devflow_sync_core::Result<bool> {
    use devflow_sync_core::Error;
    if let Some(pos) = scripted.iter().position(|(o, _)| *o == op) {
        let kind = scripted
            .remove(pos)
            .map_or(FaultKind::Transient, |(_, k)| k);
        return match kind {
            FaultKind::Transient => Err(Error::transient(format!("injected failure of {op:?}"))),
            FaultKind::RateLimited => Err(Error::RateLimited {
                retry_after: Some(Duration::from_secs(1)),
                message: format!("injected rate limit of {op:?}"),
            }),
            FaultKind::Unauthenticated => {
                Err(Error::Unauthenticated(format!("injected for {op:?}")))
            }
            FaultKind::TimeoutAfterCommit => Ok(true),
            FaultKind::Panic => panic!("injected panic in {op:?}"),
        };
    }
    if rng.chance(error_rate) {
        if matches!(op, Op::Create | Op::Update | Op::Delete) && rng.chance(0.5) {
            return Ok(true);
        }
        return Err(Error::transient(format!(
            "injected random failure of {op:?}"
        )));
    }
    Ok(false)
}

/// The fault knobs. All off by default.
#[derive(Clone, Debug, Default)]
pub struct Faults {
    /// Probability that any call fails transiently; for writes, half of these fail after
    /// the write was committed.
    pub error_rate: f64,
    /// Faults for the next calls of an operation, in order.
    pub scripted: VecDeque<(Op, FaultKind)>,
    /// Delay before every call.
    pub latency: Duration,
    /// Probability that a webhook is delivered twice.
    pub duplicate_webhooks: f64,
    /// Probability that a webhook is never delivered.
    pub drop_webhooks: f64,
    /// Whether the webhooks taken at once come in a shuffled order.
    pub reorder_webhooks: bool,
    /// Whether webhook payloads leave the record out (the receiver must fetch it).
    pub partial_webhooks: bool,
    /// How long a change takes to appear in the change feed.
    pub feed_lag: Duration,
}
