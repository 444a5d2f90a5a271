//! What a record is: its kind in the hierarchy, its ids on each side, its fields.
//!
//! This module depends on nothing else in the crate; everything else builds on it.

mod fields;
mod fingerprint;
mod ids;
mod kind;
mod record;
mod value;

pub(crate) use fields::zip3;
pub use fields::{FieldChange, Fields, Iter as FieldsIter, StaleChange};
pub use fingerprint::Fingerprint;
pub use ids::{ConnectionId, ExternalId, ExternalRef, ItemId, ObjectType, ProviderKey, Version};
pub use kind::{ItemKind, ParseItemKindError};
pub use record::Record;
pub use value::{FieldType, FieldValue, UserRef};

#[cfg(test)]
mod tests;
