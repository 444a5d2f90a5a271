//! devflow-sync keeps a host application's records in two-way sync with Jira Cloud,
//! Confluence Cloud, GitHub and BQE CORE.
//!
//! This facade re-exports [`devflow_sync_core`] and, behind one feature each, the
//! provider crates: `jira`, `github`, `confluence`, `bqe` (`full` turns on all four).
//!
//! ```
//! use devflow_sync::hierarchy::{Candidate, NoLookup};
//! use devflow_sync::{HierarchyRules, ItemId, ItemKind};
//!
//! let rules = HierarchyRules::devflow();
//! let orphan = rules
//!     .validate(&Candidate::<ItemId>::new(ItemKind::Task), &NoLookup)
//!     .unwrap_err();
//! assert_eq!(orphan.message, "Task requires a parent");
//! assert_eq!(orphan.suggested_action, "Link to a story");
//! ```

pub use devflow_sync_core::*;

/// The Jira Cloud provider (feature `jira`).
#[cfg(feature = "jira")]
pub use devflow_provider_jira as jira;

/// The GitHub provider (feature `github`).
#[cfg(feature = "github")]
pub use devflow_provider_github as github;

/// The Confluence Cloud provider (feature `confluence`).
#[cfg(feature = "confluence")]
pub use devflow_provider_confluence as confluence;

/// The BQE CORE provider (feature `bqe`).
#[cfg(feature = "bqe")]
pub use devflow_provider_bqe as bqe;
