//! Test support for devflow-sync and for the test suites of host applications.
//!
//! - [`items`]: ready-made records and trees: a typical work item (12 fields, a 2 KB
//!   markdown description, 5 labels), edits of it, and whole PRD -> Subtask trees as
//!   batches.
//! - [`memory_provider`]: [`MemoryProvider`](memory_provider::MemoryProvider), an
//!   in-memory remote system with a change feed, webhooks and fault knobs: a mock
//!   provider for engine tests and for host test suites.
//! - [`conformance`]: the suites every provider and store implementation must pass.
//! - [`faulty`]: [`FaultyProvider`](faulty::FaultyProvider), any provider made to fail on
//!   purpose (scripted, random, latency, timeouts after a write was done).
//! - [`rng`]: a seeded generator for reproducible simulations.
//! - [`hostile`]: a loopback server answering with scripted raw bytes, for tests of
//!   careless and hostile servers; [`fuzz`]: truncations and mutations of real
//!   payloads for property tests; [`capture`]: a tracing subscriber that keeps what
//!   was logged.
//! - `simkit` (feature `simkit`): what every provider simulator is built on (server,
//!   faults, webhook outbox, OAuth codes); `github_sim` (feature `github-sim`, on by
//!   default): the GitHub simulator; `confluence_sim` (feature `confluence-sim`, on by
//!   default): the Confluence Cloud simulator; `bqe_sim` (feature `bqe-sim`, on by
//!   default): the BQE CORE simulator; `jira_sim` (feature `jira-sim`, on by default):
//!   the Jira Cloud simulator. Without them the testkit needs no HTTP server.
//!
//! ```
//! use devflow_sync_core::HierarchyRules;
//! use devflow_sync_core::hierarchy::NoLookup;
//! use devflow_sync_testkit::items::{devflow_tree, typical_fields};
//!
//! assert_eq!(typical_fields().len(), 12);
//! let tree = devflow_tree(2);
//! let plan = HierarchyRules::devflow().plan_batch(&tree, &NoLookup);
//! assert!(plan.is_clean());
//! assert_eq!(plan.order.len(), tree.len());
//! ```

#[cfg(feature = "bqe-sim")]
pub mod bqe_sim;
pub mod capture;
#[cfg(feature = "confluence-sim")]
pub mod confluence_sim;
pub mod conformance;
pub mod faulty;
pub mod fuzz;
#[cfg(feature = "github-sim")]
pub mod github_sim;
pub mod harness;
pub mod hostile;
pub mod items;
#[cfg(feature = "jira-sim")]
pub mod jira_sim;
pub mod memory_provider;
pub mod recorded;
pub mod rng;
#[cfg(feature = "simkit")]
pub mod simkit;
