//! The sides of a field conflict that spans several systems: the host's value and each
//! system's, with when each was changed, and which one is recommended.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::model::{ConnectionId, ExternalId, FieldValue, ObjectType, ProviderKey};

/// The label of the host's side.
pub const HOST_SIDE: &str = "host";

/// One side of a field conflict: the host (`connection` is `None`) or one connection's
/// record.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConflictSide {
    /// `host`, or the connection's id.
    pub side: String,
    /// The connection, for a system's side.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connection: Option<ConnectionId>,
    /// Its provider.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<ProviderKey>,
    /// The provider object of the binding (`issue`, `page`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object: Option<ObjectType>,
    /// The record there.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external: Option<ExternalId>,
    /// The value on this side.
    pub value: FieldValue,
    /// When this side's record last changed (the field's own time where a system
    /// keeps none).
    pub changed_at: DateTime<Utc>,
    /// Whether this is the side recommended: the most recent change.
    #[serde(default)]
    pub recommended: bool,
}

impl ConflictSide {
    /// The host's side.
    pub fn host(value: FieldValue, changed_at: DateTime<Utc>) -> Self {
        Self {
            side: HOST_SIDE.into(),
            connection: None,
            provider: None,
            object: None,
            external: None,
            value,
            changed_at,
            recommended: false,
        }
    }

    /// A system's side: the record `external` of `connection`'s binding of `object`.
    pub fn system(
        (connection, provider, object): (ConnectionId, ProviderKey, ObjectType),
        external: ExternalId,
        value: FieldValue,
        changed_at: DateTime<Utc>,
    ) -> Self {
        Self {
            side: connection.to_string(),
            connection: Some(connection),
            provider: Some(provider),
            object: Some(object),
            external: Some(external),
            value,
            changed_at,
            recommended: false,
        }
    }
}

/// Puts `side` in `sides` (replacing the same side) and marks the most recent change as
/// recommended (the host on a tie).
///
/// ```
/// use chrono::{TimeZone, Utc};
/// use devflow_sync_core::model::{FieldValue, ConnectionId, ProviderKey, ExternalId, ObjectType};
/// use devflow_sync_core::store::{ConflictSide, upsert_side};
/// let t = |s| Utc.timestamp_opt(s, 0).unwrap();
/// let binding = |c: &str, p: &str| (ConnectionId::new(c), ProviderKey::new(p), ObjectType::new("issue"));
/// let mut sides = vec![ConflictSide::host(FieldValue::text("A"), t(10))];
/// upsert_side(&mut sides, ConflictSide::system(binding("jira", "jira"), ExternalId::new("KAN-1"), FieldValue::text("B"), t(30)));
/// upsert_side(&mut sides, ConflictSide::system(binding("gh", "github"), ExternalId::new("a/b#1"), FieldValue::text("C"), t(20)));
/// assert_eq!(sides.len(), 3);
/// assert_eq!(sides.iter().find(|s| s.recommended).unwrap().side, "jira");
/// upsert_side(&mut sides, ConflictSide::host(FieldValue::text("D"), t(40)));
/// assert_eq!(sides.len(), 3);
/// assert_eq!(sides.iter().find(|s| s.recommended).unwrap().side, "host");
/// ```
pub fn upsert_side(sides: &mut Vec<ConflictSide>, side: ConflictSide) {
    match sides.iter_mut().find(|s| s.side == side.side) {
        Some(existing) => *existing = side,
        None => sides.push(side),
    }
    recommend_newest(sides);
}

/// Marks the side with the most recent change as recommended (the host on a tie, then
/// the first listed).
pub fn recommend_newest(sides: &mut [ConflictSide]) {
    let newest = sides
        .iter()
        .enumerate()
        .max_by(|(ia, a), (ib, b)| {
            a.changed_at
                .cmp(&b.changed_at)
                .then_with(|| (a.side == HOST_SIDE).cmp(&(b.side == HOST_SIDE)))
                .then_with(|| ib.cmp(ia))
        })
        .map(|(i, _)| i);
    for (i, s) in sides.iter_mut().enumerate() {
        s.recommended = Some(i) == newest;
    }
}
