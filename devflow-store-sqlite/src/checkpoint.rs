//! Write-ahead-log checkpoints off the write path.
//!
//! SQLite's automatic checkpoint runs inside the commit that crosses its threshold: that
//! commit copies every page of the log into the database file and syncs it, and takes
//! tens of milliseconds instead of one. A file store instead runs a passive checkpoint
//! on a connection of its own after writes (a passive checkpoint never blocks a writer
//! or a reader), so commits stay short and the log stays small. The automatic checkpoint
//! stays on with a high threshold, as a safety net when no runtime task can run.

use std::sync::Arc;
use std::time::Duration;

use sqlx::SqlitePool;
use tokio::sync::Notify;
use tokio::task::JoinHandle;

/// The automatic checkpoint's threshold in pages while the background one runs
/// (128 MiB of 16 KiB pages). Under steady writes a passive checkpoint rarely finds the
/// whole log copied, so the log is not restarted and grows; this bounds it (one long
/// commit per 128 MiB written), and `journal_size_limit` cuts the file back after.
pub(crate) const SAFETY_NET_PAGES: &str = "8192";

/// The longest time between two checkpoints: writes the store is not told of (single
/// statements) are checkpointed at least this often. A checkpoint with nothing to copy
/// costs next to nothing.
const IDLE: Duration = Duration::from_secs(1);

/// A log file larger than this is checkpointed with `TRUNCATE` (which waits for the
/// writer of the moment, copies everything and empties the log) rather than passively:
/// under steady writes a passive checkpoint never finds the whole log copied, so the
/// log would not restart and would only grow.
const TRUNCATE_ABOVE: u64 = 64 << 20;

/// How long writes gather before a checkpoint, so a burst of commits is one checkpoint.
const GATHER: Duration = Duration::from_millis(5);

/// The background checkpoint of one file store; stopped when the last clone of the
/// store is dropped.
#[derive(Debug)]
pub(crate) struct Checkpointer {
    wrote: Arc<Notify>,
    task: JoinHandle<()>,
}

impl Checkpointer {
    /// Starts the checkpoint task on the current Tokio runtime; `None` outside one (the
    /// automatic checkpoint then does the work).
    pub(crate) fn start(pool: SqlitePool, file: std::path::PathBuf) -> Option<Self> {
        let runtime = tokio::runtime::Handle::try_current().ok()?;
        let wrote = Arc::new(Notify::new());
        let signal = wrote.clone();
        let task = runtime.spawn(async move {
            loop {
                // After writes (gathered for a moment), and at least every IDLE.
                if tokio::time::timeout(IDLE, signal.notified()).await.is_ok() {
                    tokio::time::sleep(GATHER).await;
                }
                if pool.is_closed() {
                    break;
                }
                let mut wal = file.clone().into_os_string();
                wal.push("-wal");
                let large = std::fs::metadata(&wal).is_ok_and(|m| m.len() > TRUNCATE_ABOVE);
                let pragma = if large {
                    "PRAGMA wal_checkpoint(TRUNCATE)"
                } else {
                    "PRAGMA wal_checkpoint(PASSIVE)"
                };
                if let Err(e) = sqlx::query(pragma).execute(&pool).await {
                    tracing::debug!(error = %e, "background checkpoint skipped");
                }
            }
        });
        Some(Self { wrote, task })
    }

    /// Tells the task that a transaction committed (a page of a pull: checkpointed soon
    /// rather than within the second).
    pub(crate) fn wrote(&self) {
        self.wrote.notify_one();
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        self.task.abort();
    }
}
