//! The default mapping between a host work item and a Jira issue.
//!
//! | host field | Jira | how |
//! |---|---|---|
//! | `title` | `summary` | as is |
//! | `description` | `description` | Markdown <-> ADF ([`crate::adf`]) |
//! | `status` | `status` | `todo` <-> To Do, `in_progress` <-> In Progress, `in_review` <-> In Review, `done` <-> Done; moved by transition |
//! | `priority` | `priority` | `critical` <-> Highest, `high` <-> High, `medium` <-> Medium, `low` <-> Low |
//! | `tags` | `labels` | as is |
//! | `assignee` | `assignee` | the account id |
//! | `due_date` | `duedate` | the date |
//!
//! ```
//! use devflow_provider_jira::mapping::default_mapping;
//! use devflow_sync_core::model::{FieldValue, Fields};
//! let mapping = default_mapping().unwrap();
//! let issue = Fields::new()
//!     .with("summary", "Fix login")
//!     .with("status", FieldValue::enumeration("In Progress"))
//!     .with("priority", FieldValue::enumeration("Highest"));
//! let host = mapping.to_host(&issue);
//! assert_eq!(host.get("title").as_str(), Some("Fix login"));
//! assert_eq!(host.get("status").as_str(), Some("in_progress"));
//! assert_eq!(host.get("priority").as_str(), Some("critical"));
//! ```

use std::collections::BTreeMap;

use devflow_sync_core::mapping::{FieldMapping, MappingDirection, ObjectMapping, Transform};
use devflow_sync_core::model::FieldType;
use devflow_sync_core::{Error, Result};

/// Jira statuses and the host statuses they stand for.
pub const STATUSES: [(&str, &str); 4] = [
    ("To Do", "todo"),
    ("In Progress", "in_progress"),
    ("In Review", "in_review"),
    ("Done", "done"),
];

/// Jira priorities and the host priorities they stand for.
pub const PRIORITIES: [(&str, &str); 4] = [
    ("Highest", "critical"),
    ("High", "high"),
    ("Medium", "medium"),
    ("Low", "low"),
];

fn value_map(pairs: &[(&str, &str)]) -> Transform {
    Transform::ValueMap {
        to_host: pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
        to_provider: BTreeMap::new(),
        host_default: None,
    }
}

/// The default mapping of the `issue` object (see the module docs).
pub fn default_mapping() -> Result<ObjectMapping> {
    let catalog = crate::catalog()?;
    let issue = catalog
        .objects
        .into_iter()
        .find(|o| o.key.as_str() == "issue")
        .ok_or_else(|| Error::InvalidConfig {
            pointer: "jira/provider.json/objects".into(),
            message: "the Jira catalog has no issue object".into(),
        })?;
    Ok(ObjectMapping::new(
        "jira",
        &issue,
        vec![
            FieldMapping::identity("title", "summary", FieldType::Text),
            FieldMapping::identity("description", "description", FieldType::LongText),
            FieldMapping::identity("status", "status", FieldType::Enum)
                .with_transform(value_map(&STATUSES)),
            FieldMapping::identity("priority", "priority", FieldType::Enum)
                .with_transform(value_map(&PRIORITIES)),
            FieldMapping::identity("tags", "labels", FieldType::Set),
            FieldMapping::identity("assignee", "assignee", FieldType::User),
            FieldMapping::identity("due_date", "duedate", FieldType::Date),
        ],
    ))
}

/// The default mapping of the `worklog` object: a host time record (object
/// `time_record`) and its worklog ([`crate::worklog`]).
///
/// | host field | Jira | how |
/// |---|---|---|
/// | `issue_key` | `issue` | the issue key (`PROJ-123`); a worklog cannot move |
/// | `started` | `started` | the instant |
/// | `utc_offset` | `startedOffset` | the offset the start is written in (`+02:00`) |
/// | `duration_seconds` | `timeSpentSeconds` | whole seconds, at least 60 |
/// | `comment` | `comment` | Markdown <-> ADF |
/// | `author` | `author` | the account id, from Jira only |
///
/// ```
/// use devflow_provider_jira::mapping::worklog_mapping;
/// use devflow_sync_core::model::{FieldValue, Fields};
/// let mapping = worklog_mapping().unwrap();
/// let host = Fields::new()
///     .with("issue_key", "PROJ-7")
///     .with("duration_seconds", FieldValue::int(5400));
/// let jira = mapping.to_provider(&host, &Fields::new());
/// assert_eq!(jira.get("issue").as_str(), Some("PROJ-7"));
/// assert_eq!(jira.get("timeSpentSeconds").as_f64(), Some(5400.0));
/// ```
pub fn worklog_mapping() -> Result<ObjectMapping> {
    let catalog = crate::catalog()?;
    let worklog = catalog
        .objects
        .into_iter()
        .find(|o| o.key.as_str() == crate::worklog::OBJECT)
        .ok_or_else(|| Error::InvalidConfig {
            pointer: "jira/provider.json/objects".into(),
            message: "the Jira catalog has no worklog object".into(),
        })?;
    Ok(ObjectMapping::new(
        "jira",
        &worklog,
        vec![
            FieldMapping::identity("issue_key", "issue", FieldType::Text),
            FieldMapping::identity("started", "started", FieldType::DateTime),
            FieldMapping::identity("utc_offset", "startedOffset", FieldType::Text),
            FieldMapping::identity("duration_seconds", "timeSpentSeconds", FieldType::Number),
            FieldMapping::identity("comment", "comment", FieldType::LongText),
            FieldMapping::identity("author", "author", FieldType::User)
                .with_direction(MappingDirection::Pull),
        ],
    ))
}
