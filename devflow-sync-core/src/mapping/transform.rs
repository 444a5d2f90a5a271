//! Value transforms between a host field and a provider field.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::model::{FieldValue, Fields, UserRef};

/// How a value changes on its way between the host and the provider.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Transform {
    /// The value as it is.
    Identity,
    /// A value map both ways (Jira status -> status category, a provider enum -> a host
    /// enum). Values missing from a map take the default, or pass through.
    ValueMap {
        /// Provider value -> host value.
        to_host: BTreeMap<String, String>,
        /// Host value -> provider value; when empty, the inverse of `to_host`.
        #[serde(default)]
        to_provider: BTreeMap<String, String>,
        /// The host value for provider values not in the map.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        host_default: Option<String>,
    },
    /// Provider users (logins, account ids) <-> host team member ids. Unknown users map
    /// to nothing rather than to a wrong person.
    Users {
        /// Provider user id -> host member id.
        members: BTreeMap<String, String>,
    },
    /// One value picked from the provider's labels (labels -> priority). Pushing
    /// replaces whichever of these labels the record had with the one for the value.
    LabelPick {
        /// Label -> host value.
        labels: BTreeMap<String, String>,
    },
    /// The labels other transforms do not claim (labels -> tags).
    LabelRest,
    /// GitHub's open/closed state plus status labels -> one host status.
    StateAndLabels {
        /// The host status of a closed issue.
        closed: String,
        /// Host statuses that close the issue when pushed.
        #[serde(default)]
        closing: BTreeSet<String>,
        /// Status label -> host status, for open issues.
        labels: BTreeMap<String, String>,
        /// The host status of an open issue without a status label.
        open_default: String,
    },
}

fn text(v: &FieldValue) -> Option<&str> {
    v.as_str()
}

fn labels_of(v: &FieldValue) -> BTreeSet<String> {
    v.as_set().cloned().unwrap_or_default()
}

/// The labels of a set value, borrowed (reading needs no copy).
fn labels_in(v: &FieldValue) -> impl Iterator<Item = &String> {
    v.as_set().into_iter().flatten()
}

impl Transform {
    /// The labels this transform claims (for [`Transform::LabelRest`] to leave alone).
    pub(crate) fn claimed_labels(&self) -> Vec<&str> {
        match self {
            Transform::LabelPick { labels } | Transform::StateAndLabels { labels, .. } => {
                labels.keys().map(String::as_str).collect()
            }
            _ => Vec::new(),
        }
    }

    /// The host value from the provider's value of `provider_field` (and, for composite
    /// transforms, the provider's other fields).
    pub(crate) fn to_host(
        &self,
        value: &FieldValue,
        provider: &Fields,
        claimed: &BTreeSet<&str>,
    ) -> FieldValue {
        match self {
            Transform::Identity => value.clone(),
            Transform::ValueMap {
                to_host,
                host_default,
                ..
            } => match text(value) {
                Some(v) => match to_host.get(v).or(host_default.as_ref()) {
                    Some(mapped) => FieldValue::Enum(mapped.clone()),
                    None => value.clone(),
                },
                None => value.clone(),
            },
            Transform::Users { members } => {
                let map_one = |id: &str| members.get(id).cloned();
                match value {
                    FieldValue::User(u) => map_one(&u.id)
                        .map_or(FieldValue::Null, |m| FieldValue::from(UserRef::new(m))),
                    FieldValue::Text(id) | FieldValue::Enum(id) => {
                        map_one(id).map_or(FieldValue::Null, FieldValue::Text)
                    }
                    FieldValue::Set(ids) => {
                        FieldValue::Set(ids.iter().filter_map(|i| map_one(i)).collect())
                    }
                    _ => FieldValue::Null,
                }
            }
            Transform::LabelPick { labels } => labels_in(value)
                .find_map(|l| labels.get(l))
                .map_or(FieldValue::Null, |v| FieldValue::Enum(v.clone())),
            Transform::LabelRest => FieldValue::Set(
                labels_in(value)
                    .filter(|l| !claimed.contains(l.as_str()))
                    .cloned()
                    .collect(),
            ),
            Transform::StateAndLabels {
                closed,
                labels,
                open_default,
                ..
            } => {
                if text(value) == Some("closed") {
                    return FieldValue::Enum(closed.clone());
                }
                labels_in(provider.get("labels"))
                    .find_map(|l| labels.get(l))
                    .map_or_else(
                        || FieldValue::Enum(open_default.clone()),
                        |s| FieldValue::Enum(s.clone()),
                    )
            }
        }
    }

    /// Writes the host's `value` into the provider's fields (`provider_field` and, for
    /// label transforms, `labels`), keeping what the transform does not own.
    pub(crate) fn to_provider(
        &self,
        value: &FieldValue,
        provider_field: &str,
        out: &mut Fields,
        claimed: &BTreeSet<&str>,
    ) {
        match self {
            Transform::Identity => {
                out.insert(provider_field, value.clone());
            }
            Transform::ValueMap {
                to_host,
                to_provider,
                ..
            } => {
                let mapped = text(value).and_then(|v| {
                    to_provider.get(v).cloned().or_else(|| {
                        to_host
                            .iter()
                            .find(|(_, h)| h.as_str() == v)
                            .map(|(p, _)| p.clone())
                    })
                });
                out.insert(
                    provider_field,
                    mapped.map_or_else(|| value.clone(), FieldValue::Enum),
                );
            }
            Transform::Users { members } => {
                let back = |m: &str| {
                    members
                        .iter()
                        .find(|(_, h)| h.as_str() == m)
                        .map(|(p, _)| p.clone())
                };
                let mapped = match value {
                    FieldValue::User(u) => {
                        back(&u.id).map_or(FieldValue::Null, |p| FieldValue::from(UserRef::new(p)))
                    }
                    FieldValue::Text(m) | FieldValue::Enum(m) => {
                        back(m).map_or(FieldValue::Null, FieldValue::Text)
                    }
                    FieldValue::Set(ms) => {
                        FieldValue::Set(ms.iter().filter_map(|m| back(m)).collect())
                    }
                    _ => FieldValue::Null,
                };
                out.insert(provider_field, mapped);
            }
            Transform::LabelPick { labels } => {
                let mut set = labels_of(out.get(provider_field));
                set.retain(|l| !labels.contains_key(l));
                if let Some(v) = text(value) {
                    if let Some((label, _)) = labels.iter().find(|(_, h)| h.as_str() == v) {
                        set.insert(label.clone());
                    }
                }
                out.insert(provider_field, FieldValue::Set(set));
            }
            Transform::LabelRest => {
                let mut set: BTreeSet<String> = labels_of(out.get(provider_field))
                    .into_iter()
                    .filter(|l| claimed.contains(l.as_str()))
                    .collect();
                set.extend(
                    labels_of(value)
                        .into_iter()
                        .filter(|l| !claimed.contains(l.as_str())),
                );
                out.insert(provider_field, FieldValue::Set(set));
            }
            Transform::StateAndLabels {
                closed,
                closing,
                labels,
                ..
            } => {
                let status = text(value).unwrap_or_default();
                let closes = status == closed || closing.contains(status);
                out.insert(
                    provider_field,
                    FieldValue::Enum(if closes { "closed" } else { "open" }.into()),
                );
                let mut set = labels_of(out.get("labels"));
                set.retain(|l| !labels.contains_key(l));
                if !closes {
                    if let Some((label, _)) = labels.iter().find(|(_, h)| h.as_str() == status) {
                        set.insert(label.clone());
                    }
                }
                out.insert("labels", FieldValue::Set(set));
            }
        }
    }
}
