//! In-memory implementations of every store trait: real ones, with versions,
//! compare-and-swap, uniqueness and the same error kinds as the SQL stores, held to the
//! same conformance suites. Handy for tests and single-process hosts.
//!
//! ```
//! # tokio_test_block_on(async {
//! use devflow_sync_core::model::{ItemKind, Record};
//! use devflow_sync_core::store::memory::MemoryWorkItems;
//! use devflow_sync_core::store::WorkItemStore;
//!
//! let items = MemoryWorkItems::new();
//! let epic = items
//!     .create(None, Record::new("work_item", chrono::Utc::now()).with_kind(ItemKind::Epic))
//!     .await
//!     .unwrap();
//! assert_eq!(epic.record.version.as_ref().unwrap().as_str(), "1");
//! # });
//! # fn tokio_test_block_on<F: std::future::Future>(f: F) -> F::Output {
//! #     tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(f)
//! # }
//! ```

mod connections;
mod events;
mod items;
mod journal;
mod leases;
mod log;
mod mappings;
mod page;
mod tokens;

use std::sync::{Mutex, MutexGuard};

pub use connections::MemoryConnections;
pub use events::MemoryEvents;
pub use items::MemoryWorkItems;
pub use journal::MemoryJournal;
pub use leases::MemoryLeases;
pub use mappings::MemoryMappings;
pub use page::MemoryPageStore;
pub use tokens::MemoryTokens;

/// Locks a mutex, carrying on after a panic elsewhere (the data stays consistent: every
/// write is a single assignment under the lock).
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}
