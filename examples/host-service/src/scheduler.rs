//! The scheduler and workers inside the service: every binding pulled on an interval
//! with jitter (a lease keeps one puller per connection and object, so several
//! service instances can run side by side), the webhook inbox drained often, edits
//! carried on to the other systems, old deliveries pruned. Stopping lets the round in
//! progress finish, so nothing is held when the process ends.

use std::sync::Arc;
use std::time::Duration;

use devflow_sync_core::Error;
use devflow_sync_core::engine::PullBudget;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::state::AppState;

/// How often each part runs.
#[derive(Clone, Copy, Debug)]
pub struct Intervals {
    /// Pulls of every binding (plus up to a fifth of it as jitter).
    pub pull: Duration,
    /// The webhook inbox.
    pub inbox: Duration,
}

impl Default for Intervals {
    fn default() -> Self {
        Self {
            pull: Duration::from_secs(60),
            inbox: Duration::from_millis(250),
        }
    }
}

/// The running scheduler; [`Scheduler::stop`] ends it gracefully.
#[derive(Debug)]
pub struct Scheduler {
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

/// A jitter of up to a fifth of `base`, different each call.
fn jitter(base: Duration) -> Duration {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| u64::from(d.subsec_nanos()))
        .unwrap_or(0);
    let span = u64::try_from(base.as_millis() / 5)
        .unwrap_or(u64::MAX)
        .max(1);
    Duration::from_millis(nanos % span)
}

async fn pull_round(state: &AppState) {
    for binding in state.engine.bindings() {
        let result = state
            .engine
            .pull(&binding.connection, &binding.object, PullBudget::default())
            .await;
        match result {
            Ok(_) | Err(Error::Precondition(_)) => {}
            Err(e) => {
                tracing::warn!(connection = %binding.connection, object = %binding.object, error = %e, "scheduled pull failed");
            }
        }
    }
    if let Err(e) = state.engine.propagate(500).await {
        tracing::warn!(error = %e, "propagation failed");
    }
    if let Err(e) = state.engine.prune_inbox().await {
        tracing::warn!(error = %e, "pruning the inbox failed");
    }
}

async fn inbox_round(state: &AppState) {
    if let Err(e) = state.engine.process_inbox(200).await {
        tracing::warn!(error = %e, "processing the inbox failed");
    }
}

impl Scheduler {
    /// Starts the pull and inbox loops over `state`.
    pub fn start(state: &Arc<AppState>, intervals: Intervals) -> Self {
        let (stop, _) = watch::channel(false);
        let mut tasks = Vec::new();
        for part in ["pull", "inbox"] {
            let mut stopped = stop.subscribe();
            let state = state.clone();
            tasks.push(tokio::spawn(async move {
                loop {
                    let wait = match part {
                        "pull" => intervals.pull + jitter(intervals.pull),
                        _ => intervals.inbox,
                    };
                    tokio::select! {
                        _ = tokio::time::sleep(wait) => {}
                        _ = stopped.changed() => break,
                    }
                    match part {
                        "pull" => pull_round(&state).await,
                        _ => inbox_round(&state).await,
                    }
                }
            }));
        }
        Self { stop, tasks }
    }

    /// Stops both loops after the rounds in progress finish.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        for task in self.tasks {
            let _ = task.await;
        }
    }
}
