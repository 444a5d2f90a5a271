//! The BQE collections the provider syncs. An object is its catalog entry (fields,
//! capabilities, filters) plus one module here naming its API collection, the entity
//! name of its deletions and what a listed entity must be to count; the listing,
//! records and deletions are generic. Adding a collection is a catalog entry and a
//! module.

mod client;
mod project;

use chrono::{DateTime, NaiveDateTime, Utc};
use devflow_sync_core::model::{ExternalId, FieldType, FieldValue, Record, Version};
use devflow_sync_core::provider::RemoteRecord;
use devflow_sync_core::registry::ObjectCatalog;
use devflow_sync_core::{Error, Result};
use serde_json::Value;

/// One BQE collection.
pub(crate) trait BqeObject: Send + Sync {
    /// The catalog object's key.
    fn key(&self) -> &'static str;
    /// The API collection (`/project`).
    fn path(&self) -> &'static str;
    /// Its entity name in the deleted history (`Project`).
    fn entity(&self) -> &'static str;
    /// Whether a listed entity counts (a guard against what a filter let through).
    fn keep(&self, _entity: &Value) -> bool {
        true
    }
}

/// Every collection, by catalog key.
pub(crate) fn object(key: &str) -> Option<&'static dyn BqeObject> {
    const ALL: [&dyn BqeObject; 2] = [&project::Project, &client::Client];
    ALL.into_iter().find(|o| o.key() == key)
}

/// A time as BQE writes it (`2026-05-01T10:00:00`, no offset: read as UTC), or with
/// an offset.
pub(crate) fn parse_time(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .ok()
        .or_else(|| {
            NaiveDateTime::parse_from_str(text.trim_end_matches('Z'), "%Y-%m-%dT%H:%M:%S%.f")
                .ok()
                .map(|t| t.and_utc())
        })
}

/// A time as BQE's `where` takes it.
pub(crate) fn where_time(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S").to_string()
}

fn field_value(value: &Value, kind: FieldType) -> FieldValue {
    match (value, kind) {
        (Value::Null, _) => FieldValue::Null,
        (Value::String(s), FieldType::Enum) => FieldValue::enumeration(s.clone()),
        (Value::Number(n), FieldType::Enum) => FieldValue::enumeration(n.to_string()),
        (Value::String(s), FieldType::DateTime) => {
            parse_time(s).map_or_else(|| FieldValue::text(s.clone()), FieldValue::DateTime)
        }
        (Value::String(s), _) => FieldValue::text(s.clone()),
        (Value::Number(n), _) => FieldValue::Number(n.clone()),
        (Value::Bool(b), _) => FieldValue::Bool(*b),
        (other, _) => FieldValue::Json(other.clone()),
    }
}

/// FNV-1a of an entity's JSON (stable: serde_json keeps keys sorted).
fn digest(entity: &Value) -> u64 {
    serde_json::to_vec(entity)
        .unwrap_or_default()
        .iter()
        .fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
            (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3)
        })
}

/// An entity as a record: every catalog field it carries, typed by the catalog; its
/// `lastUpdated` as the change time.
pub(crate) fn record(catalog: &ObjectCatalog, entity: &Value) -> Result<RemoteRecord> {
    let id = entity
        .get("id")
        .and_then(|v| {
            v.as_str()
                .map(str::to_owned)
                .or_else(|| v.as_u64().map(|n| n.to_string()))
        })
        .filter(|id| !id.is_empty())
        .ok_or_else(|| {
            Error::invalid_input("/id", format!("a BQE {} without an id", catalog.key))
        })?;
    let updated_text = entity
        .get("lastUpdated")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let updated = parse_time(updated_text).unwrap_or(DateTime::<Utc>::MIN_UTC);
    let mut record = Record::new(catalog.key.clone(), updated);
    for spec in &catalog.fields {
        if spec.name == "id" {
            continue;
        }
        if let Some(value) = entity.get(&spec.name) {
            record = record.with_field(&spec.name, field_value(value, spec.field_type));
        }
    }
    // `lastUpdated` has whole seconds: two changes in one second would look the same,
    // so the version is the time and a digest of what the entity holds.
    record = record.with_version(Version::new(format!(
        "{updated_text}#{:016x}",
        digest(entity)
    )));
    Ok(RemoteRecord {
        id: ExternalId::new(id),
        url: None,
        record,
        marker: None,
        deleted: false,
    })
}
