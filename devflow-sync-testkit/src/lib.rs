//! Test support for devflow-sync and for the test suites of host applications.
//!
//! - [`items`]: ready-made records and trees: a typical work item (12 fields, a 2 KB
//!   markdown description, 5 labels), edits of it, and whole PRD -> Subtask trees as
//!   batches.
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

pub mod items;
