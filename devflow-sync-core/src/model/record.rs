//! A record as one side of a sync sees it.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{FieldValue, Fields, ItemId, ItemKind, ObjectType, Version};

/// A record on one side of a sync: its object type, its level in the hierarchy (when it
/// has one), its parent, its fields, when it last changed and its version.
///
/// `P` is the type of the parent's id: an [`ItemId`] on the host side (the default), an
/// [`ExternalId`](super::ExternalId) on a provider's side.
///
/// ```
/// use chrono::{TimeZone, Utc};
/// use devflow_sync_core::model::{ItemId, ItemKind, Record};
/// let story = Record::new("work_item", Utc.with_ymd_and_hms(2026, 3, 1, 9, 0, 0).unwrap())
///     .with_kind(ItemKind::Story)
///     .with_parent(ItemId::new("epic-1"))
///     .with_field("title", "Pay by card")
///     .with_version("7");
/// assert_eq!(story.fields.get("title").as_str(), Some("Pay by card"));
/// let json = serde_json::to_string(&story).unwrap();
/// assert_eq!(serde_json::from_str::<Record>(&json).unwrap(), story);
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record<P = ItemId> {
    /// The object type (`work_item`, `issue`, `page`, ...).
    pub object: ObjectType,
    /// The level in the hierarchy, for records that have one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<ItemKind>,
    /// The parent record, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent: Option<P>,
    /// The field values.
    #[serde(default)]
    pub fields: Fields,
    /// When the record last changed on its side.
    pub updated_at: DateTime<Utc>,
    /// The side's version of the record, for conditional writes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<Version>,
}

impl<P> Record<P> {
    /// A record with no kind, parent, fields or version.
    pub fn new(object: impl Into<ObjectType>, updated_at: DateTime<Utc>) -> Self {
        Self {
            object: object.into(),
            kind: None,
            parent: None,
            fields: Fields::new(),
            updated_at,
            version: None,
        }
    }

    /// Sets the hierarchy level.
    #[must_use]
    pub fn with_kind(mut self, kind: ItemKind) -> Self {
        self.kind = Some(kind);
        self
    }

    /// Sets the parent.
    #[must_use]
    pub fn with_parent(mut self, parent: impl Into<P>) -> Self {
        self.parent = Some(parent.into());
        self
    }

    /// Sets one field.
    #[must_use]
    pub fn with_field(mut self, name: impl AsRef<str>, value: impl Into<FieldValue>) -> Self {
        self.fields.insert(name, value);
        self
    }

    /// Replaces all fields.
    #[must_use]
    pub fn with_fields(mut self, fields: Fields) -> Self {
        self.fields = fields;
        self
    }

    /// Sets the version.
    #[must_use]
    pub fn with_version(mut self, version: impl Into<Version>) -> Self {
        self.version = Some(version.into());
        self
    }
}
