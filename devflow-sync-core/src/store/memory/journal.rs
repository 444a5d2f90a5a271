use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Mutex;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::lock;
use super::log::Log;
use crate::error::{Error, Result};
use crate::model::{ConnectionId, ItemId, ProviderKey};
use crate::store::{
    ConflictRecord, ConflictStatus, ConflictStore, ConnectionHealth, HealthStore, InboxEntry,
    InboxStatus, RunLog, RunRecord, SyncJournal, SyncLogEntry, WebhookInbox,
};

#[derive(Debug, Default)]
struct State {
    next_id: u64,
    logs: Log,
    runs: HashMap<String, RunRecord>,
    /// Ordered by id, which counts up, so by age.
    conflicts: BTreeMap<u64, ConflictRecord>,
    inbox: BTreeMap<u64, InboxEntry>,
    /// The pending deliveries by (arrival, number): what `claim_due` walks, oldest
    /// first, without looking at those already handled.
    pending: BTreeSet<(DateTime<Utc>, u64)>,
    deliveries: HashMap<(ProviderKey, ConnectionId, String), u64>,
    health: HashMap<ConnectionId, ConnectionHealth>,
}

/// [`SyncJournal`] in memory.
#[derive(Debug, Default)]
pub struct MemoryJournal {
    state: Mutex<State>,
}

impl MemoryJournal {
    /// An empty journal.
    pub fn new() -> Self {
        Self::default()
    }

    /// Every log line, in order.
    pub fn all_logs(&self) -> Vec<SyncLogEntry> {
        lock(&self.state).logs.all()
    }

    /// Every conflict, oldest first.
    pub fn all_conflicts(&self) -> Vec<ConflictRecord> {
        lock(&self.state).conflicts.values().cloned().collect()
    }

    /// Every inbox entry, oldest first.
    pub fn all_inbox(&self) -> Vec<InboxEntry> {
        lock(&self.state).inbox.values().cloned().collect()
    }
}

fn parse_id(id: &str) -> Option<u64> {
    id.parse().ok()
}

fn same_subject(a: &ConflictRecord, b: &ConflictRecord) -> bool {
    a.connection == b.connection
        && a.object == b.object
        && a.conflict_type == b.conflict_type
        && a.field == b.field
        && ((a.external.is_some() && a.external == b.external)
            || (a.external.is_none() && a.item.is_some() && a.item == b.item))
}

#[async_trait]
impl RunLog for MemoryJournal {
    async fn append_log(&self, entry: &SyncLogEntry) -> Result<()> {
        lock(&self.state).logs.push(entry);
        Ok(())
    }

    async fn logs_of_run(&self, run_id: &str) -> Result<Vec<SyncLogEntry>> {
        Ok(lock(&self.state).logs.of_run(run_id))
    }

    async fn put_run(&self, run: &RunRecord) -> Result<()> {
        lock(&self.state).runs.insert(run.id.clone(), run.clone());
        Ok(())
    }

    async fn run(&self, id: &str) -> Result<Option<RunRecord>> {
        Ok(lock(&self.state).runs.get(id).cloned())
    }

    async fn query_logs(&self, query: &crate::store::LogQuery) -> Result<Vec<SyncLogEntry>> {
        Ok(lock(&self.state).logs.query(query))
    }
}

#[async_trait]
impl ConflictStore for MemoryJournal {
    async fn record_conflict(&self, conflict: &ConflictRecord) -> Result<String> {
        let mut state = lock(&self.state);
        if let Some(existing) = state
            .conflicts
            .values_mut()
            .find(|c| c.status == ConflictStatus::Pending && same_subject(c, conflict))
        {
            let id = existing.id.clone();
            let created_at = existing.created_at;
            *existing = ConflictRecord {
                id: id.clone(),
                created_at,
                status: ConflictStatus::Pending,
                resolution: None,
                ..conflict.clone()
            };
            return Ok(id);
        }
        state.next_id += 1;
        let n = state.next_id;
        let record = ConflictRecord {
            id: n.to_string(),
            status: ConflictStatus::Pending,
            resolution: None,
            ..conflict.clone()
        };
        state.conflicts.insert(n, record);
        Ok(n.to_string())
    }

    async fn conflict(&self, id: &str) -> Result<Option<ConflictRecord>> {
        Ok(parse_id(id).and_then(|n| lock(&self.state).conflicts.get(&n).cloned()))
    }

    async fn conflicts(
        &self,
        connection: &ConnectionId,
        status: Option<ConflictStatus>,
    ) -> Result<Vec<ConflictRecord>> {
        Ok(lock(&self.state)
            .conflicts
            .values()
            .filter(|c| &c.connection == connection && status.is_none_or(|s| c.status == s))
            .cloned()
            .collect())
    }

    async fn item_conflicts(
        &self,
        item: &ItemId,
        status: Option<ConflictStatus>,
    ) -> Result<Vec<ConflictRecord>> {
        Ok(lock(&self.state)
            .conflicts
            .values()
            .filter(|c| c.item.as_ref() == Some(item) && status.is_none_or(|s| c.status == s))
            .cloned()
            .collect())
    }

    async fn settle_conflict(
        &self,
        id: &str,
        status: ConflictStatus,
        resolution: &str,
        at: DateTime<Utc>,
    ) -> Result<()> {
        let mut state = lock(&self.state);
        let conflict = parse_id(id)
            .and_then(|n| state.conflicts.get_mut(&n))
            .ok_or_else(|| Error::not_found(format!("conflict {id}")))?;
        if conflict.status != ConflictStatus::Pending {
            return Err(Error::precondition(format!(
                "conflict {id} is already {:?}",
                conflict.status
            )));
        }
        conflict.status = status;
        conflict.resolution = Some(resolution.to_owned());
        conflict.updated_at = at;
        Ok(())
    }
}

#[async_trait]
impl WebhookInbox for MemoryJournal {
    async fn insert_inbox(&self, entry: &InboxEntry) -> Result<String> {
        let mut state = lock(&self.state);
        let key = (
            entry.provider.clone(),
            entry.connection.clone(),
            entry.delivery_id.clone(),
        );
        if state.deliveries.contains_key(&key) {
            return Err(Error::already_exists(format!(
                "delivery {} from {}/{}",
                entry.delivery_id, entry.provider, entry.connection
            )));
        }
        state.next_id += 1;
        let n = state.next_id;
        state.deliveries.insert(key, n);
        if entry.status == InboxStatus::Pending {
            state.pending.insert((entry.received_at, n));
        }
        state.inbox.insert(
            n,
            InboxEntry {
                id: n.to_string(),
                ..entry.clone()
            },
        );
        Ok(n.to_string())
    }

    async fn due_inbox(&self, now: DateTime<Utc>, limit: usize) -> Result<Vec<InboxEntry>> {
        let state = lock(&self.state);
        Ok(state
            .pending
            .iter()
            .filter_map(|(_, n)| state.inbox.get(n))
            .filter(|e| e.next_attempt_at <= now)
            .take(limit)
            .cloned()
            .collect())
    }

    async fn claim_due(
        &self,
        now: DateTime<Utc>,
        limit: usize,
        worker: &str,
        visibility: std::time::Duration,
    ) -> Result<Vec<InboxEntry>> {
        let until = crate::clock::after(now, visibility);
        let mut state = lock(&self.state);
        let due: Vec<u64> = state
            .pending
            .iter()
            .filter(|(_, n)| {
                state.inbox.get(n).is_some_and(|e| {
                    e.next_attempt_at <= now && e.claimed_until.is_none_or(|t| t <= now)
                })
            })
            .take(limit)
            .map(|(_, n)| *n)
            .collect();
        let mut claimed = Vec::with_capacity(due.len());
        for n in due {
            if let Some(entry) = state.inbox.get_mut(&n) {
                entry.claimed_by = Some(worker.to_owned());
                entry.claimed_until = Some(until);
                claimed.push(entry.clone());
            }
        }
        Ok(claimed)
    }

    async fn update_inbox(&self, entry: &InboxEntry) -> Result<()> {
        let mut state = lock(&self.state);
        let n = parse_id(&entry.id)
            .filter(|n| state.inbox.contains_key(n))
            .ok_or_else(|| Error::not_found(format!("inbox entry {}", entry.id)))?;
        let old = state.inbox.insert(
            n,
            InboxEntry {
                claimed_by: None,
                claimed_until: None,
                ..entry.clone()
            },
        );
        if let Some(old) = old {
            state.pending.remove(&(old.received_at, n));
        }
        if entry.status == InboxStatus::Pending {
            state.pending.insert((entry.received_at, n));
        }
        Ok(())
    }

    async fn prune_inbox(&self, received_before: DateTime<Utc>) -> Result<usize> {
        let mut state = lock(&self.state);
        let before = state.inbox.len();
        let gone: Vec<u64> = state
            .inbox
            .iter()
            .filter(|(_, e)| e.status != InboxStatus::Pending && e.received_at < received_before)
            .map(|(n, _)| *n)
            .collect();
        for n in &gone {
            state.inbox.remove(n);
        }
        state.deliveries.retain(|_, n| !gone.contains(n));
        Ok(before - state.inbox.len())
    }

    async fn inbox_entry(&self, id: &str) -> Result<Option<InboxEntry>> {
        Ok(parse_id(id).and_then(|n| lock(&self.state).inbox.get(&n).cloned()))
    }
}

#[async_trait]
impl HealthStore for MemoryJournal {
    async fn health(&self, connection: &ConnectionId) -> Result<Option<ConnectionHealth>> {
        Ok(lock(&self.state).health.get(connection).cloned())
    }

    async fn put_health(&self, health: &ConnectionHealth) -> Result<()> {
        lock(&self.state)
            .health
            .insert(health.connection.clone(), health.clone());
        Ok(())
    }
}

#[async_trait]
impl SyncJournal for MemoryJournal {
    async fn purge_connection(&self, connection: &ConnectionId) -> Result<usize> {
        let mut state = lock(&self.state);
        let before = state.logs.len()
            + state.conflicts.len()
            + state.inbox.len()
            + state.health.len()
            + state.runs.len();
        state.logs.purge(connection);
        state.conflicts.retain(|_, c| &c.connection != connection);
        state.inbox.retain(|_, e| &e.connection != connection);
        let State { inbox, pending, .. } = &mut *state;
        pending.retain(|(_, n)| inbox.contains_key(n));
        state.deliveries.retain(|k, _| &k.1 != connection);
        state.health.remove(connection);
        state
            .runs
            .retain(|_, r| r.connection.as_ref() != Some(connection));
        let after = state.logs.len()
            + state.conflicts.len()
            + state.inbox.len()
            + state.health.len()
            + state.runs.len();
        Ok(before - after)
    }
}
