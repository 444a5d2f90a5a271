//! The scheduler and workers inside the service: each binding pulled when due, from
//! its saved rule's interval (or the default) with jitter (a lease keeps one puller
//! per connection and object, so several service instances can run side by side);
//! the webhook inbox drained often; edits carried on to the other systems; Jira's
//! dynamic webhooks refreshed before they expire; old deliveries pruned. Stopping lets
//! the round in progress finish, so nothing is held when the process ends.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use devflow_sync_core::Error;
use devflow_sync_core::engine::PullBudget;
use devflow_sync_core::http::{JitterSource, SeededJitter};
use devflow_sync_core::model::{ConnectionId, ObjectType};
use devflow_sync_core::rules::IntegrationRule;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::state::AppState;

/// How often each part runs.
#[derive(Clone, Copy, Debug)]
pub struct Intervals {
    /// Pulls of a binding without a saved rule (plus up to a fifth as jitter).
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

/// When a binding runs next: from its rule (its interval or cron, ±10% jitter), else
/// `default` plus up to a fifth of it.
pub fn next_run(
    rule: Option<&IntegrationRule>,
    default: Duration,
    now: DateTime<Utc>,
    jitter: &mut dyn JitterSource,
) -> DateTime<Utc> {
    if let Some(next) = rule.and_then(|r| r.next_run(None, now, jitter).ok()) {
        return next;
    }
    let extra = default.mul_f64(1.0 + 0.2 * jitter.next_unit().clamp(0.0, 1.0));
    devflow_sync_core::clock::after(now, extra)
}

/// The saved rules of every connection, by (connection, object).
async fn rules(state: &AppState) -> HashMap<(ConnectionId, ObjectType), IntegrationRule> {
    let mut out = HashMap::new();
    let Ok(connections) = state.engine.connections().await else {
        return out;
    };
    for c in connections {
        let Some(map) = c.settings.get("rules").and_then(|r| r.as_object()) else {
            continue;
        };
        for (object, rule) in map {
            if let Ok(rule) = IntegrationRule::load("rule", &rule.to_string()) {
                out.insert((c.id.clone(), ObjectType::new(object.as_str())), rule);
            }
        }
    }
    out
}

/// Pulls what is due, then carries edits on, refreshes expiring webhooks, prunes.
async fn pull_round(
    state: &AppState,
    next: &mut HashMap<(ConnectionId, ObjectType), DateTime<Utc>>,
    default: Duration,
    jitter: &mut SeededJitter,
) {
    let now = Utc::now();
    let rules = rules(state).await;
    let mut pulled = false;
    for binding in state.engine.bindings() {
        let key = (binding.connection.clone(), binding.object.clone());
        let due = *next
            .entry(key.clone())
            .or_insert_with(|| next_run(rules.get(&key), default, now, jitter));
        if due > now {
            continue;
        }
        pulled = true;
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
        next.insert(key.clone(), next_run(rules.get(&key), default, now, jitter));
    }
    if !pulled {
        return;
    }
    if let Err(e) = state.engine.propagate(500).await {
        tracing::warn!(error = %e, "propagation failed");
    }
    if let Some(store) = &state.connection_store {
        for (connection, provider) in state.jira() {
            if let Err(e) = provider
                .refresh_due_webhooks(store.as_ref(), &connection, now)
                .await
            {
                tracing::warn!(connection = %connection, error = %e, "refreshing Jira webhooks failed");
            }
        }
    }
    if let Err(e) = state.engine.prune_inbox().await {
        tracing::warn!(error = %e, "pruning the inbox failed");
    }
    if let Some(store) = &state.maintenance {
        let now = chrono::Utc::now();
        match store.prune(now, &state.retention).await {
            Ok(pruned) => tracing::debug!(?pruned, "history pruned"),
            Err(e) => tracing::warn!(error = %e, "pruning history failed"),
        }
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
        // Pulls: checked every second (or the default interval, if shorter).
        let mut stopped = stop.subscribe();
        let puller = state.clone();
        tasks.push(tokio::spawn(async move {
            let mut next = HashMap::new();
            let mut jitter = SeededJitter::from_entropy();
            let tick = intervals.pull.min(Duration::from_secs(1));
            loop {
                tokio::select! {
                    _ = tokio::time::sleep(tick) => {}
                    _ = stopped.changed() => break,
                }
                pull_round(&puller, &mut next, intervals.pull, &mut jitter).await;
            }
        }));
        let mut stopped = stop.subscribe();
        let worker = state.clone();
        tasks.push(tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = tokio::time::sleep(intervals.inbox) => {}
                    _ = stopped.changed() => break,
                }
                inbox_round(&worker).await;
            }
        }));
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rule_sets_the_interval_and_jitter_spreads_it() {
        let now = Utc::now();
        let rule = IntegrationRule::load(
            "rule",
            r#"{"provider":"jira","object":"issue","direction":"bidirectional","interval":{"minutes":15}}"#,
        )
        .unwrap();
        let mut jitter = SeededJitter::new(7);
        for _ in 0..50 {
            let at = next_run(Some(&rule), Duration::from_secs(60), now, &mut jitter);
            let minutes = (at - now).num_seconds() as f64 / 60.0;
            assert!((13.5..=16.5).contains(&minutes), "{minutes}");
            let at = next_run(None, Duration::from_secs(60), now, &mut jitter);
            let seconds = (at - now).num_milliseconds() as f64 / 1000.0;
            assert!((60.0..=72.0).contains(&seconds), "{seconds}");
        }
    }
}
