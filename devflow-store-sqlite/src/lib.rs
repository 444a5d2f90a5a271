//! SQLite stores for devflow-sync: every store trait in one embedded database file
//! that survives a crash with nothing lost and nothing applied twice.
//!
//! [`SqliteStore`] implements [`TokenStore`], [`MappingStore`], [`SyncJournal`] (run
//! log, conflicts, the webhook inbox with its exclusive claim, connection health),
//! [`WorkItemStore`], [`LeaseManager`] and [`PageStore`] (a pull page's imports, links,
//! log lines and cursor in one transaction). The database runs in WAL mode with a busy
//! timeout and foreign keys on; its schema is versioned by migrations that run on
//! open; every change that touches several rows is one transaction, and every
//! compare-and-swap is one statement or one `BEGIN IMMEDIATE` transaction, so two
//! processes on one file never both win.
//!
//! Secrets are stored as they are given: hold the tokens through
//! [`EncryptedTokenStore`](devflow_sync_core::auth::EncryptedTokenStore) so only
//! ciphertext reaches the file.
//!
//! [`TokenStore`]: devflow_sync_core::store::TokenStore
//! [`MappingStore`]: devflow_sync_core::store::MappingStore
//! [`SyncJournal`]: devflow_sync_core::store::SyncJournal
//! [`WorkItemStore`]: devflow_sync_core::store::WorkItemStore
//! [`LeaseManager`]: devflow_sync_core::store::LeaseManager
//! [`PageStore`]: devflow_sync_core::store::PageStore

mod checkpoint;
mod codec;
mod connections;
mod events;
mod items;
mod journal;
mod leases;
mod maintenance;
mod mappings;
mod page;
mod store;
mod tokens;

pub use devflow_sync_core::store::{Maintenance, Pruned, RestoreReport, Retention};
pub use store::{Durability, SqliteStore, SqliteStoreBuilder};
