//! Opening the database: the file (or memory), its pragmas, the pool, the migrations.

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use devflow_sync_core::clock::{Clock, SystemClock};
use devflow_sync_core::{Error, Result};
use sqlx::SqlStr;
use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

use crate::codec::{Db, STORE};

/// The schema, one migration per file, applied in order on open.
fn migrator() -> Migrator {
    Migrator::with_migrations(vec![
        Migration::new(
            1,
            "stores".into(),
            MigrationType::Simple,
            SqlStr::from_static(include_str!("../migrations/0001_stores.sql")),
            false,
        ),
        Migration::new(
            2,
            "restore guard".into(),
            MigrationType::Simple,
            SqlStr::from_static(include_str!("../migrations/0002_restore_guard.sql")),
            false,
        ),
        Migration::new(
            3,
            "connections".into(),
            MigrationType::Simple,
            SqlStr::from_static(include_str!("../migrations/0003_connections.sql")),
            false,
        ),
        Migration::new(
            4,
            "change feed".into(),
            MigrationType::Simple,
            SqlStr::from_static(include_str!("../migrations/0004_change_feed.sql")),
            false,
        ),
        Migration::new(
            5,
            "webhook registrations".into(),
            MigrationType::Simple,
            SqlStr::from_static(include_str!("../migrations/0005_webhook_registrations.sql")),
            false,
        ),
        Migration::new(
            6,
            "conflicts by item".into(),
            MigrationType::Simple,
            SqlStr::from_static(include_str!("../migrations/0006_conflicts_by_item.sql")),
            false,
        ),
        Migration::new(
            7,
            "sync log by item".into(),
            MigrationType::Simple,
            SqlStr::from_static(include_str!("../migrations/0007_sync_log_item.sql")),
            false,
        ),
        Migration::new(
            8,
            "events".into(),
            MigrationType::Simple,
            SqlStr::from_static(include_str!("../migrations/0008_events.sql")),
            false,
        ),
    ])
}

/// How hard a commit is made to last.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Durability {
    /// A commit survives the process being killed at any point (WAL, `synchronous =
    /// NORMAL`); the last commits may be lost if the machine loses power. The default.
    #[default]
    ProcessCrash,
    /// A commit also survives power loss (`synchronous = FULL`: an fsync per commit).
    PowerLoss,
}

#[derive(Clone, Debug)]
enum Location {
    File(PathBuf),
    Memory,
}

/// Options for [`SqliteStore`]; [`SqliteStoreBuilder::open`] opens it.
#[derive(Clone)]
pub struct SqliteStoreBuilder {
    location: Location,
    busy_timeout: Duration,
    durability: Durability,
    max_connections: u32,
    clock: Arc<dyn Clock>,
}

impl fmt::Debug for SqliteStoreBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqliteStoreBuilder")
            .field("location", &self.location)
            .field("busy_timeout", &self.busy_timeout)
            .field("durability", &self.durability)
            .field("max_connections", &self.max_connections)
            .finish_non_exhaustive()
    }
}

impl SqliteStoreBuilder {
    /// The database file (created when missing).
    #[must_use]
    pub fn path(mut self, path: impl AsRef<Path>) -> Self {
        self.location = Location::File(path.as_ref().to_owned());
        self
    }

    /// A private database in memory, gone when the store is dropped (tests, examples).
    #[must_use]
    pub fn in_memory(mut self) -> Self {
        self.location = Location::Memory;
        self
    }

    /// How long a write waits for another writer before it fails as transient
    /// (default five seconds).
    #[must_use]
    pub fn busy_timeout(mut self, timeout: Duration) -> Self {
        self.busy_timeout = timeout;
        self
    }

    /// How hard commits are made to last (default [`Durability::ProcessCrash`]).
    #[must_use]
    pub fn durability(mut self, durability: Durability) -> Self {
        self.durability = durability;
        self
    }

    /// The most connections kept open (default 4; readers run side by side, writers
    /// take turns). At least 1.
    #[must_use]
    pub fn max_connections(mut self, n: u32) -> Self {
        self.max_connections = n.max(1);
        self
    }

    /// The clock that stamps items and judges leases (default the system clock).
    #[must_use]
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Opens the database, creating it and bringing its schema up to date.
    pub async fn open(self) -> Result<SqliteStore> {
        let (options, max) = match &self.location {
            Location::File(path) => (
                SqliteConnectOptions::new()
                    .filename(path)
                    .create_if_missing(true),
                self.max_connections,
            ),
            // Every connection to `:memory:` is its own database: one connection, kept.
            Location::Memory => (SqliteConnectOptions::from_str("sqlite::memory:").db()?, 1),
        };
        let options = options
            // Records are a few kilobytes of JSON: 16 KiB pages keep most of them out of
            // overflow pages (applies when the file is created).
            .page_size(16_384)
            .journal_mode(SqliteJournalMode::Wal)
            .foreign_keys(true)
            .busy_timeout(self.busy_timeout)
            // The log is checkpointed in the background after writes (see
            // `checkpoint`); the automatic checkpoint inside a commit only as a safety net.
            .pragma("wal_autocheckpoint", crate::checkpoint::SAFETY_NET_PAGES)
            // After a checkpoint empties the log, its file is cut back to 64 MiB.
            .pragma("journal_size_limit", "67108864")
            // A 32 MiB page cache per connection (the default is 2 MiB).
            .pragma("cache_size", "-32768")
            .synchronous(match self.durability {
                Durability::ProcessCrash => SqliteSynchronous::Normal,
                Durability::PowerLoss => SqliteSynchronous::Full,
            });
        let pool = SqlitePoolOptions::new()
            // A connection to a local file does not go stale the way a network one
            // does: no ping before every use (a round trip to the connection's thread).
            .test_before_acquire(false)
            .max_connections(max)
            .min_connections(u32::from(matches!(self.location, Location::Memory)))
            .idle_timeout(None)
            .max_lifetime(None)
            .acquire_timeout(self.busy_timeout.saturating_add(Duration::from_secs(5)))
            .connect_with(options)
            .await
            .map_err(|e| match &self.location {
                Location::File(path) => Error::InvalidConfig {
                    pointer: "sqlite.path".into(),
                    message: format!("cannot open {}: {e}", path.display()),
                },
                Location::Memory => crate::codec::db_error(e),
            })?;
        migrator().run(&pool).await.map_err(|e| Error::Other {
            provider: STORE.into(),
            source: Box::new(e),
        })?;
        let checkpointer = match &self.location {
            Location::File(path) => {
                crate::checkpoint::Checkpointer::start(pool.clone(), path.clone()).map(Arc::new)
            }
            Location::Memory => None,
        };
        Ok(SqliteStore {
            pool,
            clock: self.clock,
            location: self.location,
            checkpointer,
            ids: Arc::default(),
        })
    }
}

/// Every store trait of devflow-sync in one SQLite database: tokens, mappings (links,
/// bases, cursors, exclusions, intents), the journal (run log, conflicts, webhook
/// inbox, connection health), work items and leases. Cheap to clone (one pool).
///
/// ```
/// # tokio_test_block_on(async {
/// use std::sync::Arc;
/// use devflow_store_sqlite::SqliteStore;
/// use devflow_sync_core::engine::SyncEngine;
///
/// let store = SqliteStore::in_memory().await.unwrap();
/// let store = Arc::new(store);
/// let engine = SyncEngine::builder()
///     .work_items(store.clone())
///     .mappings(store.clone())
///     .journal(store.clone())
///     .tokens(store.clone())
///     .leases(store.clone())
///     .build()
///     .unwrap();
/// assert!(engine.bindings().is_empty());
/// # });
/// # fn tokio_test_block_on<F: std::future::Future>(f: F) -> F::Output {
/// #     tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(f)
/// # }
/// ```
#[derive(Clone)]
pub struct SqliteStore {
    pub(crate) pool: SqlitePool,
    pub(crate) clock: Arc<dyn Clock>,
    location: Location,
    checkpointer: Option<Arc<crate::checkpoint::Checkpointer>>,
    /// Item ids reserved in a block and not handed out yet.
    pub(crate) ids: Arc<crate::page::ReservedIds>,
}

impl fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqliteStore")
            .field("location", &self.location)
            .finish_non_exhaustive()
    }
}

impl SqliteStore {
    /// Options, starting from an in-memory database on the system clock.
    pub fn builder() -> SqliteStoreBuilder {
        SqliteStoreBuilder {
            location: Location::Memory,
            busy_timeout: Duration::from_secs(5),
            durability: Durability::default(),
            max_connections: 4,
            clock: Arc::new(SystemClock),
        }
    }

    /// Opens (or creates) the database file at `path` with the default options.
    pub async fn open(path: impl AsRef<Path>) -> Result<Self> {
        Self::builder().path(path).open().await
    }

    /// A private database in memory.
    pub async fn in_memory() -> Result<Self> {
        Self::builder().in_memory().open().await
    }

    /// Tells the background checkpoint that a transaction committed.
    pub(crate) fn wrote(&self) {
        if let Some(c) = &self.checkpointer {
            c.wrote();
        }
    }

    /// The connection pool, for a host that keeps its own tables in the same file.
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// Closes every connection, waiting for those in use.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}
