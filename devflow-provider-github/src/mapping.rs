//! The default mapping between a host work item and a GitHub issue.
//!
//! | host field | GitHub | how |
//! |---|---|---|
//! | `title` | `title` | as is |
//! | `description` | `body` | as is (the DevFlow metadata never reaches the host) |
//! | `status` | `state` + `status:*` labels | closed -> `done`; open -> the status label's value, else `todo`; pushing `done` or `cancelled` closes the issue |
//! | `priority` | `priority:*` labels | one label picked; pushing a priority swaps the label |
//! | `tags` | the other labels | every label no transform above claims |
//! | `assignees` | `assignees` | logins as is; [`with_members`] maps them to host member ids |
//! | `milestone` | `milestone` | the number (a PRD's milestone, inherited by its descendants) |
//!
//! ```
//! use devflow_provider_github::mapping::default_mapping;
//! use devflow_sync_core::model::{FieldValue, Fields};
//! let mapping = default_mapping().unwrap();
//! let issue = Fields::new()
//!     .with("title", "Fix login")
//!     .with("state", FieldValue::enumeration("open"))
//!     .with("labels", FieldValue::set(["status:in-progress", "priority:high", "frontend"]))
//!     .with("assignees", FieldValue::set(["mona"]));
//! let host = mapping.to_host(&issue);
//! assert_eq!(host.get("status").as_str(), Some("in_progress"));
//! assert_eq!(host.get("priority").as_str(), Some("high"));
//! assert_eq!(host.get("tags"), &FieldValue::set(["frontend"]));
//! assert_eq!(host.get("assignees"), &FieldValue::set(["mona"]));
//! ```

use std::collections::BTreeMap;

use devflow_sync_core::mapping::{FieldMapping, ObjectMapping, Transform};
use devflow_sync_core::model::FieldType;
use devflow_sync_core::{Error, Result};

/// The status labels of open issues and the host statuses they stand for.
pub const STATUS_LABELS: [(&str, &str); 3] = [
    ("status:in-progress", "in_progress"),
    ("status:in-review", "in_review"),
    ("status:blocked", "blocked"),
];

/// The priority labels and the host priorities they stand for.
pub const PRIORITY_LABELS: [(&str, &str); 4] = [
    ("priority:critical", "critical"),
    ("priority:high", "high"),
    ("priority:medium", "medium"),
    ("priority:low", "low"),
];

fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// The default mapping of the `issue` object (see the module docs), at version 1 with
/// the shipped catalog's field signature. The error is the catalog's, should the
/// embedded `provider.json` not load (its tests prove it does).
pub fn default_mapping() -> Result<ObjectMapping> {
    let catalog = crate::catalog()?;
    let issue = catalog
        .objects
        .into_iter()
        .find(|o| o.key.as_str() == "issue")
        .ok_or_else(|| Error::InvalidConfig {
            pointer: "github/provider.json/objects".into(),
            message: "the GitHub catalog has no issue object".into(),
        })?;
    Ok(ObjectMapping::new(
        "github",
        &issue,
        vec![
            FieldMapping::identity("title", "title", FieldType::Text),
            FieldMapping::identity("description", "body", FieldType::LongText),
            FieldMapping::identity("status", "state", FieldType::Enum).with_transform(
                Transform::StateAndLabels {
                    closed: "done".into(),
                    closing: ["done".to_owned(), "cancelled".to_owned()].into(),
                    labels: map(&STATUS_LABELS),
                    open_default: "todo".into(),
                },
            ),
            FieldMapping::identity("priority", "labels", FieldType::Set).with_transform(
                Transform::LabelPick {
                    labels: map(&PRIORITY_LABELS),
                },
            ),
            FieldMapping::identity("tags", "labels", FieldType::Set)
                .with_transform(Transform::LabelRest),
            FieldMapping::identity("assignees", "assignees", FieldType::Set),
            FieldMapping::identity("milestone", "milestone", FieldType::Number),
        ],
    ))
}

/// The default mapping with GitHub logins mapped to host member ids (`login -> id`);
/// logins not in the map map to nobody rather than to a wrong person.
pub fn with_members(members: BTreeMap<String, String>) -> Result<ObjectMapping> {
    Ok(default_mapping()?.with_override(
        FieldMapping::identity("assignees", "assignees", FieldType::Set)
            .with_transform(Transform::Users { members }),
    ))
}
