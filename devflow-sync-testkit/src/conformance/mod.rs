//! The conformance suites: one public async function per trait, which every
//! implementation — the in-memory ones, the SQL ones, each provider against its
//! simulator — must pass. A suite panics with a message naming the broken rule.
//!
//! ```
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! use std::sync::Arc;
//! use devflow_sync_core::store::memory::MemoryTokens;
//! use devflow_sync_core::store::TokenStore;
//! use devflow_sync_testkit::conformance;
//!
//! conformance::token_store(&MemoryTokens::new()).await;
//! // Also through a trait object, as hosts hold stores:
//! let shared: Arc<dyn TokenStore> = Arc::new(MemoryTokens::new());
//! conformance::token_store(shared.as_ref()).await;
//! # });
//! ```

mod connections;
mod events;
mod history;
mod items;
mod journal;
mod leases;
mod maintenance;
mod mappings;
mod page;
mod provider;
mod tokens;

pub use connections::{connection_store, webhook_registrations};
pub use events::event_log;
pub use items::work_item_store;
pub use journal::sync_journal;
pub use leases::lease_manager;
pub use maintenance::{restore_guard, retention};
pub use mappings::mapping_store;
pub use page::page_store;
pub use provider::{
    BehaviourOutcome, ProviderReport, ProviderSetup, provider, provider_behaviours,
};
pub use tokens::token_store;

use chrono::{DateTime, TimeZone, Utc};

/// A fixed instant for rows the suites write.
pub(crate) fn t0() -> DateTime<Utc> {
    Utc.timestamp_opt(1_780_000_000, 0)
        .single()
        .unwrap_or_default()
}
