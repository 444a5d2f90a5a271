//! Field mappings between host fields and a provider object's fields: a direction per
//! field, value transforms both ways, defaults, host overrides, and a version with the
//! provider catalog's field signature, so a mapping made for fields that have since
//! changed is noticed before it runs.

mod transform;

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
pub use transform::Transform;

use crate::error::{Error, Result};
use crate::model::{FieldType, FieldValue, Fields, ObjectType, ProviderKey};
use crate::registry::ObjectCatalog;

/// Which way a field syncs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MappingDirection {
    /// Provider to host only.
    Pull,
    /// Host to provider only.
    Push,
    /// Both ways.
    #[default]
    Both,
}

/// How a field's value is settled when the host and the provider hold different ones,
/// beyond the three-way merge every field gets by default.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldStrategy {
    /// The three-way merge under the engine's conflict policy.
    #[default]
    Merge,
    /// The provider's value always: the host follows it, a host edit is overwritten
    /// at the next sync (BQE's `follow_bqe`).
    ProviderWins,
    /// The host's value when it diverged from the last agreed one; the provider's
    /// changes reach a host value nobody changed (BQE's `preserve_local`).
    HostWins,
    /// The provider's value only while the host has none (BQE's `write_once`).
    WriteOnce,
}

impl FieldStrategy {
    fn is_merge(&self) -> bool {
        *self == FieldStrategy::Merge
    }
}

/// One host field <-> one provider field.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FieldMapping {
    /// The host field.
    pub host_field: String,
    /// The provider field.
    pub provider_field: String,
    /// The provider field's type when the mapping was saved.
    pub provider_type: FieldType,
    /// Which way it syncs.
    #[serde(default)]
    pub direction: MappingDirection,
    /// How values change on the way.
    pub transform: Transform,
    /// The host value when the provider has none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<FieldValue>,
    /// How differing values are settled (default: merged).
    #[serde(default, skip_serializing_if = "FieldStrategy::is_merge")]
    pub strategy: FieldStrategy,
}

impl FieldMapping {
    /// An identity mapping both ways.
    pub fn identity(
        host: impl Into<String>,
        provider: impl Into<String>,
        provider_type: FieldType,
    ) -> Self {
        Self {
            host_field: host.into(),
            provider_field: provider.into(),
            provider_type,
            direction: MappingDirection::Both,
            transform: Transform::Identity,
            default: None,
            strategy: FieldStrategy::Merge,
        }
    }

    /// Sets how differing values are settled.
    #[must_use]
    pub fn with_strategy(mut self, strategy: FieldStrategy) -> Self {
        self.strategy = strategy;
        self
    }

    /// Sets the transform.
    #[must_use]
    pub fn with_transform(mut self, transform: Transform) -> Self {
        self.transform = transform;
        self
    }

    /// Sets the direction.
    #[must_use]
    pub fn with_direction(mut self, direction: MappingDirection) -> Self {
        self.direction = direction;
        self
    }

    /// Sets the default host value.
    #[must_use]
    pub fn with_default(mut self, value: FieldValue) -> Self {
        self.default = Some(value);
        self
    }
}

/// An entry dropped when a mapping was checked against the provider's catalog.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DroppedEntry {
    /// The host field.
    pub host_field: String,
    /// The provider field.
    pub provider_field: String,
    /// Why, for a person.
    pub reason: String,
}

/// The mapping of one provider object, as a host stores it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectMapping {
    /// The provider.
    pub provider: ProviderKey,
    /// The provider object.
    pub object: ObjectType,
    /// Bumped by every save.
    pub version: u32,
    /// The catalog's field signature hash when saved.
    pub field_signature_hash: String,
    /// The field mappings, applied in order.
    pub fields: Vec<FieldMapping>,
    /// Set on load when the provider's fields changed since the save.
    #[serde(default)]
    pub stale: bool,
    /// What the load dropped, for a person to review.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dropped: Vec<DroppedEntry>,
}

/// How a run may use a mapping.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MappingUse {
    /// Everything is current.
    Full,
    /// Stale, running with the entries that are still valid; the run is partial.
    Partial {
        /// What is left out.
        dropped: Vec<DroppedEntry>,
    },
}

impl ObjectMapping {
    /// A new mapping for `object` of `catalog`, at version 1 with the catalog's hash.
    pub fn new(
        provider: impl Into<ProviderKey>,
        catalog: &ObjectCatalog,
        fields: Vec<FieldMapping>,
    ) -> Self {
        Self {
            provider: provider.into(),
            object: catalog.key.clone(),
            version: 1,
            field_signature_hash: catalog.field_signature_hash(),
            fields,
            stale: false,
            dropped: Vec::new(),
        }
    }

    /// Checks a stored mapping against the provider's current catalog: a different
    /// field signature marks it stale, and entries whose provider field is gone or
    /// changed type are dropped and reported.
    ///
    /// ```
    /// use devflow_sync_core::mapping::{FieldMapping, ObjectMapping};
    /// use devflow_sync_core::model::FieldType;
    /// use devflow_sync_core::registry::load_catalog;
    /// let doc = |extra: &str| format!(r#"{{"providerSchemaVersion":1,"key":"github","displayName":"GitHub","oauth":{{"flows":["api_token"]}},"rateLimits":{{"requestsPerMinute":60,"burst":5,"maxConcurrentPerConnection":2}},"objects":[{{"key":"issue","label":"Issue","mappingSchemaVersion":1,"fields":[{{"name":"title","type":"text"}}{extra}],"capabilities":{{"list":true,"delta":true,"create":true,"update":true,"delete":false,"webhook":true}}}}]}}"#);
    /// let before = load_catalog("p", &doc(r#",{"name":"milestone","type":"number"}"#)).unwrap();
    /// let saved = ObjectMapping::new("github", &before.objects[0], vec![
    ///     FieldMapping::identity("title", "title", FieldType::Text),
    ///     FieldMapping::identity("sprint", "milestone", FieldType::Number),
    /// ]);
    /// let after = load_catalog("p", &doc("")).unwrap();
    /// let loaded = saved.checked_against(&after.objects[0]);
    /// assert!(loaded.stale);
    /// assert_eq!(loaded.fields.len(), 1);
    /// assert_eq!(loaded.dropped[0].provider_field, "milestone");
    /// let err = loaded.usable(false).unwrap_err();
    /// assert_eq!(err.to_string(), "invalid config at mappings/github/issue: Mappings out of date for github/issue; review and re-save");
    /// ```
    pub fn checked_against(mut self, catalog: &ObjectCatalog) -> Self {
        if self.field_signature_hash == catalog.field_signature_hash() {
            return self;
        }
        self.stale = true;
        let mut kept = Vec::with_capacity(self.fields.len());
        for entry in std::mem::take(&mut self.fields) {
            let reason = match catalog.field(&entry.provider_field) {
                None => Some(format!(
                    "{} no longer offers field {}",
                    self.provider, entry.provider_field
                )),
                Some(spec) if spec.field_type != entry.provider_type => Some(format!(
                    "field {} changed type from {} to {}",
                    entry.provider_field, entry.provider_type, spec.field_type
                )),
                Some(_) => None,
            };
            match reason {
                Some(reason) => self.dropped.push(DroppedEntry {
                    host_field: entry.host_field,
                    provider_field: entry.provider_field,
                    reason,
                }),
                None => kept.push(entry),
            }
        }
        self.fields = kept;
        self
    }

    /// Whether a run may use this mapping: a current one fully; a stale one only when
    /// `allow_partial`, with what was dropped (the caller logs a warning and marks the
    /// run partial); otherwise the error a person reads.
    pub fn usable(&self, allow_partial: bool) -> Result<MappingUse> {
        if !self.stale {
            return Ok(MappingUse::Full);
        }
        if allow_partial {
            tracing::warn!(provider = %self.provider, object = %self.object, dropped = self.dropped.len(), "running a stale mapping with its valid subset");
            return Ok(MappingUse::Partial {
                dropped: self.dropped.clone(),
            });
        }
        Err(Error::InvalidConfig {
            pointer: format!("mappings/{}/{}", self.provider, self.object),
            message: format!(
                "Mappings out of date for {}/{}; review and re-save",
                self.provider, self.object
            ),
        })
    }

    /// Saves a reviewed mapping: the new catalog hash, the version bumped, not stale.
    pub fn resaved(mut self, catalog: &ObjectCatalog) -> Self {
        self.field_signature_hash = catalog.field_signature_hash();
        self.version += 1;
        self.stale = false;
        self.dropped.clear();
        self
    }

    /// Sets a host override: the entry for `host_field` is replaced (or added).
    #[must_use]
    pub fn with_override(mut self, entry: FieldMapping) -> Self {
        match self
            .fields
            .iter_mut()
            .find(|f| f.host_field == entry.host_field)
        {
            Some(slot) => *slot = entry,
            None => self.fields.push(entry),
        }
        self
    }

    fn claimed_labels(&self) -> BTreeSet<&str> {
        self.fields
            .iter()
            .flat_map(|f| f.transform.claimed_labels())
            .collect()
    }

    /// Whether `host_field` travels through this mapping (in either direction). Fields
    /// it does not name belong to other bindings of the same item, or to the host alone:
    /// a sync through this mapping leaves them as they are.
    ///
    /// ```
    /// use devflow_sync_core::mapping::{FieldMapping, ObjectMapping};
    /// use devflow_sync_core::model::FieldType;
    /// # let catalog = devflow_sync_core::registry::load_catalog("p.json", r#"{"providerSchemaVersion":1,"key":"demo","displayName":"Demo",
    /// #   "oauth":{"flows":["api_token"]},"rateLimits":{"requestsPerMinute":60,"burst":5,"maxConcurrentPerConnection":2},
    /// #   "objects":[{"key":"issue","label":"Issue","mappingSchemaVersion":1,"fields":[{"name":"summary","type":"text"}],
    /// #   "capabilities":{"list":true,"delta":true,"create":true,"update":true,"delete":false,"webhook":false}}]}"#).unwrap();
    /// let mapping = ObjectMapping::new("demo", &catalog.objects[0], vec![FieldMapping::identity("title", "summary", FieldType::Text)]);
    /// assert!(mapping.covers("title"));
    /// assert!(!mapping.covers("milestone"));
    /// ```
    pub fn covers(&self, host_field: &str) -> bool {
        self.fields.iter().any(|f| f.host_field == host_field)
    }

    /// The host's view of a provider record: each pull-or-both entry's host field (left
    /// out when null, which reads the same).
    pub fn to_host(&self, provider: &Fields) -> Fields {
        let claimed = self.claimed_labels();
        let mut out = Fields::new();
        for entry in self
            .fields
            .iter()
            .filter(|f| f.direction != MappingDirection::Push)
        {
            let value =
                entry
                    .transform
                    .to_host(provider.get(&entry.provider_field), provider, &claimed);
            let value = match (&value, &entry.default) {
                (FieldValue::Null, Some(default)) => default.clone(),
                _ => value,
            };
            // An absent field reads as null; leaving nulls out keeps stored records small.
            if !value.is_null() {
                out.insert(entry.host_field.as_str(), value);
            }
        }
        out.shrink_to_fit();
        out
    }

    /// The provider fields to write for a host record, starting from the provider's
    /// `current` fields so that what the mapping does not own (other labels) stays.
    /// Read-only and pull-only entries are left out.
    pub fn to_provider(&self, host: &Fields, current: &Fields) -> Fields {
        let claimed = self.claimed_labels();
        let mut out = current.clone();
        // Unclaimed labels first, so pick transforms add theirs on top.
        let mut entries: Vec<&FieldMapping> = self
            .fields
            .iter()
            .filter(|f| f.direction != MappingDirection::Pull)
            .collect();
        entries.sort_by_key(|f| !matches!(f.transform, Transform::LabelRest));
        for entry in entries {
            entry.transform.to_provider(
                host.get(&entry.host_field),
                &entry.provider_field,
                &mut out,
                &claimed,
            );
        }
        out
    }
}

#[cfg(test)]
mod tests;
