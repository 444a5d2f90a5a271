//! Which parent-child links are legal, and what to tell a person when one is not.
//!
//! [`HierarchyRules::devflow`] is the strict PRD -> Epic -> Story -> Task -> Subtask
//! hierarchy; [`HierarchyRules::builder`] makes others. [`HierarchyRules::validate`]
//! checks one item against a [`ParentLookup`]; [`HierarchyRules::plan_batch`] checks a
//! batch, finds loops and orphans and orders it parents first for a push.

mod batch;
mod rules;
mod validate;
mod violation;

pub use batch::{BatchItem, BatchPlan, CycleError, order_parents_first};
pub use rules::{HierarchyRules, HierarchyRulesBuilder, KindSet};
pub use validate::{Candidate, FnLookup, NoLookup, ParentLookup, Placement};
pub use violation::{Violation, ViolationKind};

#[cfg(test)]
mod tests;
