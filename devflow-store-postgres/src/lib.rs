//! Postgres stores for devflow-sync: every store trait on one database shared by many
//! workers and many tenants.
//!
//! [`PgStore`] implements [`TokenStore`] (compare-and-swap on a version column, so two
//! workers refreshing one rotating token end with one refresh), [`MappingStore`],
//! [`SyncJournal`] (the webhook inbox claimed with `FOR UPDATE SKIP LOCKED` and a
//! visibility timeout, keeping each entity's deliveries in order across workers),
//! [`WorkItemStore`], [`LeaseManager`] (leases as rows with an expiry, taken over once
//! lapsed), [`ConnectionStore`], [`PageStore`] and [`Maintenance`] (retention by age,
//! the restore guard). Every statement names the store's
//! tenant, the first column of every key, so one database serves many tenants without
//! crossing them; every change of several rows is one transaction; the pool has limits
//! and every statement a timeout. The schema is versioned by migrations run on
//! connect.
//!
//! Secrets are stored as given: hold the tokens through
//! [`EncryptedTokenStore`](devflow_sync_core::auth::EncryptedTokenStore) so only
//! ciphertext reaches the database.
//!
//! [`TokenStore`]: devflow_sync_core::store::TokenStore
//! [`MappingStore`]: devflow_sync_core::store::MappingStore
//! [`SyncJournal`]: devflow_sync_core::store::SyncJournal
//! [`WorkItemStore`]: devflow_sync_core::store::WorkItemStore
//! [`LeaseManager`]: devflow_sync_core::store::LeaseManager
//! [`ConnectionStore`]: devflow_sync_core::store::ConnectionStore
//! [`PageStore`]: devflow_sync_core::store::PageStore
//! [`Maintenance`]: devflow_sync_core::store::Maintenance

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
pub use store::{PgStore, PgStoreBuilder};
