//! The sync log of [`MemoryJournal`](super::MemoryJournal), kept compact: a long pull
//! appends one line per record, so a line holds shared strings and no spare capacity.

use std::collections::HashSet;
use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::model::{ConnectionId, ExternalId, FieldChange, ItemId, ObjectType, ProviderKey};
use crate::store::{Direction, LogStatus, SyncLogEntry, Trigger};

/// Lines per chunk: chunks are allocated at their full size once, so the log never
/// copies itself to grow and wastes at most one chunk's tail.
const CHUNK: usize = 512;

/// The most distinct operation names kept shared (the engine uses a dozen).
const SHARED_OPERATIONS: usize = 64;

/// What the lines of one run against one connection and object have in common.
#[derive(Debug, PartialEq, Eq)]
struct Shared {
    run_id: Box<str>,
    connection: ConnectionId,
    provider: ProviderKey,
    object: ObjectType,
}

/// The parts most lines (an import, an unchanged record) do without.
#[derive(Debug)]
struct Rare {
    changes: Box<[FieldChange]>,
    error: Option<Box<str>>,
    request_id: Option<Box<str>>,
}

/// One log line as kept: [`SyncLogEntry`] with what repeats shared and what is rare
/// boxed, about half its size.
#[derive(Debug)]
struct Line {
    shared: Arc<Shared>,
    item: Option<ItemId>,
    external: Option<ExternalId>,
    operation: Arc<str>,
    rare: Option<Box<Rare>>,
    duration_ms: u64,
    at: DateTime<Utc>,
    direction: Direction,
    status: LogStatus,
    trigger: Trigger,
}

impl Line {
    fn entry(&self) -> SyncLogEntry {
        let rare = self.rare.as_deref();
        SyncLogEntry {
            run_id: self.shared.run_id.to_string(),
            connection: self.shared.connection.clone(),
            provider: self.shared.provider.clone(),
            object: self.shared.object.clone(),
            item: self.item.clone(),
            external: self.external.clone(),
            operation: self.operation.to_string(),
            direction: self.direction,
            changes: rare.map(|r| r.changes.to_vec()).unwrap_or_default(),
            status: self.status,
            error: rare.and_then(|r| r.error.as_deref()).map(str::to_owned),
            duration_ms: self.duration_ms,
            trigger: self.trigger,
            request_id: rare
                .and_then(|r| r.request_id.as_deref())
                .map(str::to_owned),
            at: self.at,
        }
    }
}

/// The log lines in order, in fixed-size chunks.
#[derive(Debug, Default)]
pub(super) struct Log {
    chunks: Vec<Vec<Line>>,
    /// What the latest line shares: the lines of one run share it.
    last: Option<Arc<Shared>>,
    operations: HashSet<Arc<str>>,
}

impl Log {
    fn operation(&mut self, name: &str) -> Arc<str> {
        if let Some(shared) = self.operations.get(name) {
            return shared.clone();
        }
        let fresh: Arc<str> = Arc::from(name);
        if self.operations.len() < SHARED_OPERATIONS {
            self.operations.insert(fresh.clone());
        }
        fresh
    }

    fn shared(&mut self, entry: &SyncLogEntry) -> Arc<Shared> {
        match &self.last {
            Some(last)
                if *last.run_id == *entry.run_id
                    && last.connection == entry.connection
                    && last.provider == entry.provider
                    && last.object == entry.object =>
            {
                last.clone()
            }
            _ => {
                let fresh = Arc::new(Shared {
                    run_id: entry.run_id.as_str().into(),
                    connection: entry.connection.clone(),
                    provider: entry.provider.clone(),
                    object: entry.object.clone(),
                });
                self.last = Some(fresh.clone());
                fresh
            }
        }
    }

    /// Appends a copy of `entry`.
    pub(super) fn push(&mut self, entry: &SyncLogEntry) {
        let rare =
            (!entry.changes.is_empty() || entry.error.is_some() || entry.request_id.is_some())
                .then(|| {
                    Box::new(Rare {
                        changes: entry.changes.clone().into_boxed_slice(),
                        error: entry.error.as_deref().map(Box::from),
                        request_id: entry.request_id.as_deref().map(Box::from),
                    })
                });
        let line = Line {
            shared: self.shared(entry),
            item: entry.item.clone(),
            external: entry.external.clone(),
            operation: self.operation(&entry.operation),
            rare,
            duration_ms: entry.duration_ms,
            at: entry.at,
            direction: entry.direction,
            status: entry.status,
            trigger: entry.trigger,
        };
        self.push_line(line);
    }

    fn push_line(&mut self, line: Line) {
        match self.chunks.last_mut() {
            Some(chunk) if chunk.len() < CHUNK => chunk.push(line),
            _ => {
                let mut chunk = Vec::with_capacity(CHUNK);
                chunk.push(line);
                self.chunks.push(chunk);
            }
        }
    }

    fn lines(&self) -> impl Iterator<Item = &Line> {
        self.chunks.iter().flatten()
    }

    /// The number of lines.
    pub(super) fn len(&self) -> usize {
        self.chunks.iter().map(Vec::len).sum()
    }

    /// Every line, in order.
    pub(super) fn all(&self) -> Vec<SyncLogEntry> {
        self.lines().map(Line::entry).collect()
    }

    /// The lines of one run, in order.
    pub(super) fn of_run(&self, run_id: &str) -> Vec<SyncLogEntry> {
        self.lines()
            .filter(|l| *l.shared.run_id == *run_id)
            .map(Line::entry)
            .collect()
    }

    /// The lines matching `query`, newest first.
    pub(super) fn query(&self, query: &crate::store::LogQuery) -> Vec<SyncLogEntry> {
        let mut found: Vec<SyncLogEntry> = self
            .lines()
            .map(Line::entry)
            .filter(|e| query.matches(e))
            .collect();
        found.reverse();
        found.truncate(query.clamped_limit());
        found
    }

    /// Drops the lines of `connection`, keeping the order of the rest.
    pub(super) fn purge(&mut self, connection: &ConnectionId) {
        let mut kept = Log {
            last: None,
            operations: std::mem::take(&mut self.operations),
            chunks: Vec::new(),
        };
        for line in std::mem::take(&mut self.chunks).into_iter().flatten() {
            if line.shared.connection != *connection {
                kept.push_line(line);
            }
        }
        kept.last = kept.lines().last().map(|l| l.shared.clone());
        *self = kept;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(run: &str, connection: &str, n: usize) -> SyncLogEntry {
        SyncLogEntry {
            run_id: run.to_owned(),
            connection: ConnectionId::new(connection),
            provider: ProviderKey::new("github"),
            object: ObjectType::new("issue"),
            item: Some(ItemId::new(format!("item-{n}"))),
            external: Some(ExternalId::new(format!("acme/app#{n}"))),
            operation: if n % 2 == 0 { "import" } else { "update" }.to_owned(),
            direction: Direction::Pull,
            changes: if n % 3 == 0 {
                vec![FieldChange::new("title", "a", format!("b{n}"))]
            } else {
                Vec::new()
            },
            status: if n % 5 == 0 {
                LogStatus::Failed
            } else {
                LogStatus::Ok
            },
            error: (n % 5 == 0).then(|| format!("failure {n}")),
            duration_ms: n as u64,
            trigger: Trigger::Poll,
            request_id: (n % 7 == 0).then(|| format!("req-{n}")),
            at: DateTime::from_timestamp(1_700_000_000 + n as i64, 0).unwrap_or_default(),
        }
    }

    #[test]
    fn lines_come_back_as_appended_across_chunks() {
        let mut log = Log::default();
        let entries: Vec<SyncLogEntry> = (0..CHUNK * 2 + 3)
            .map(|n| entry(if n < CHUNK { "run-1" } else { "run-2" }, "c", n))
            .collect();
        for e in &entries {
            log.push(e);
        }
        assert_eq!(log.len(), entries.len());
        assert_eq!(log.chunks.len(), 3);
        assert_eq!(log.all(), entries);
        assert_eq!(log.of_run("run-1"), entries[..CHUNK].to_vec());
        assert_eq!(log.of_run("run-2").len(), CHUNK + 3);
        assert!(log.of_run("run-3").is_empty());
    }

    #[test]
    fn lines_of_one_run_share_its_id_and_operations_are_shared() {
        let mut log = Log::default();
        for n in 0..4 {
            log.push(&entry("run-1", "c", n));
        }
        let lines: Vec<&Line> = log.lines().collect();
        assert!(Arc::ptr_eq(&lines[0].shared, &lines[3].shared));
        assert!(Arc::ptr_eq(&lines[0].operation, &lines[2].operation));
    }

    #[test]
    fn purge_keeps_the_other_connections_in_order() {
        let mut log = Log::default();
        let entries: Vec<SyncLogEntry> = (0..CHUNK + 10)
            .map(|n| entry("run-1", if n % 2 == 0 { "a" } else { "b" }, n))
            .collect();
        for e in &entries {
            log.push(e);
        }
        log.purge(&ConnectionId::new("a"));
        let kept: Vec<SyncLogEntry> = entries
            .iter()
            .filter(|e| e.connection.as_str() == "b")
            .cloned()
            .collect();
        assert_eq!(log.all(), kept);
        log.push(&entry("run-1", "b", 9999));
        assert_eq!(log.len(), kept.len() + 1);
    }
}
