//! The core of devflow-sync: the record model, the hierarchy rules, the three-way merge
//! and the conflict policies every provider and every host relies on.
//!
//! - [`model`]: what a record is ([`model::Record`], [`model::Fields`],
//!   [`model::FieldValue`]), its level ([`model::ItemKind`]) and its ids on each side.
//! - [`hierarchy`]: which parent-child links are legal ([`hierarchy::HierarchyRules`]),
//!   with violations written for a person, and batch ordering parents first.
//! - [`merge`]: field diffs, the three-way merge and the [`merge::ConflictPolicy`]
//!   built-ins.
//! - [`api`]: the provider kit: token sources, an API client pinned to a provider's
//!   origin with one refresh after a 401, typed JSON, page following, ETag caching.
//!
//! A host's item and a provider's copy, merged after both were edited:
//!
//! ```
//! use devflow_sync_core::hierarchy::{Candidate, HierarchyRules, NoLookup};
//! use devflow_sync_core::merge::{three_way, LastWriterWins};
//! use devflow_sync_core::model::{FieldValue, Fields, ItemId, ItemKind};
//!
//! // An epic may stand at the root; a story may not.
//! let rules = HierarchyRules::devflow();
//! assert!(rules.validate(&Candidate::<ItemId>::new(ItemKind::Epic), &NoLookup).is_ok());
//! assert!(rules.validate(&Candidate::<ItemId>::new(ItemKind::Story), &NoLookup).is_err());
//!
//! let base = Fields::new().with("status", FieldValue::enumeration("todo"));
//! let host = Fields::new().with("status", FieldValue::enumeration("in_progress"));
//! let jira = Fields::new().with("status", FieldValue::enumeration("todo"));
//! let out = three_way(&base, &host, &jira, &LastWriterWins::default());
//! assert_eq!(out.remote_changes[0].new, FieldValue::enumeration("in_progress"));
//! ```

pub mod api;
pub mod auth;
pub mod clock;
pub mod engine;
mod error;
pub mod hierarchy;
pub mod http;
pub mod mapping;
pub mod memory_provider;
pub mod merge;
pub mod model;
pub mod provider;
pub mod registry;
pub mod rules;
pub mod store;
pub mod webhook;

pub use error::{Error, Result};

pub use hierarchy::{HierarchyRules, Violation, ViolationKind};
pub use merge::{ConflictPolicy, MergeOutcome, three_way};
pub use model::{
    ConnectionId, ExternalId, ExternalRef, FieldValue, Fields, ItemId, ItemKind, ObjectType,
    ProviderKey, Record, Version,
};
