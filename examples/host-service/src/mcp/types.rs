//! The tools' inputs and outputs; their JSON Schemas are derived from these types.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// `sync_entity`'s input.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct SyncEntity {
    /// The host item.
    pub entity_id: String,
    /// The connections to sync to (default: every one carrying the item).
    #[serde(default)]
    pub platforms: Option<Vec<String>>,
    /// Push even when nothing changed.
    #[serde(default)]
    pub force: bool,
}

/// One platform's result.
#[derive(Debug, Serialize, JsonSchema)]
pub struct PlatformOutcome {
    /// The connection.
    pub platform: String,
    /// The provider.
    pub provider: String,
    /// The record there.
    pub external_ref: Option<String>,
    /// Its URL.
    pub url: Option<String>,
    /// `synced`, `skipped`, `conflict`, `deleted` or `failed`.
    pub status: String,
    /// When.
    pub time: String,
}

/// Results per platform.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Outcomes {
    /// One per platform.
    pub platforms: Vec<PlatformOutcome>,
}

/// `create_prd_with_integrations`'s input.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct CreatePrd {
    /// The PRD's title.
    pub title: String,
    /// Its description (Markdown).
    #[serde(default)]
    pub description: String,
    /// The Confluence space of the connection to use.
    pub confluence_space_key: String,
    /// The Jira project of the connection to use.
    pub jira_project_key: String,
    /// The GitHub repository (`owner/name`), if the PRD goes there too.
    #[serde(default)]
    pub github_repo: Option<String>,
}

/// What `create_prd_with_integrations` made.
#[derive(Debug, Serialize, JsonSchema)]
pub struct CreatedPrd {
    /// The host PRD.
    pub prd_id: String,
    /// The Confluence page id.
    pub confluence_page_id: Option<String>,
    /// The Jira epic's key.
    pub jira_epic_key: Option<String>,
    /// The GitHub record (milestone or issue).
    pub github_ref: Option<String>,
}

/// `link_jira_issue`'s input.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct LinkJira {
    /// The Jira issue key.
    pub jira_key: String,
    /// The host parent to import it under.
    pub parent_id: Option<String>,
}

/// What `link_jira_issue` did.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Linked {
    /// The host item now holding the issue.
    pub entity_id: Option<String>,
    /// The conflict it settled.
    pub conflict_id: String,
}

/// An item id.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct Entity {
    /// The host item.
    pub entity_id: String,
}

/// One platform's sync state.
#[derive(Debug, Serialize, JsonSchema)]
pub struct PlatformState {
    /// The connection.
    pub platform: String,
    /// Linked and in step.
    pub synced: bool,
    /// The record there.
    pub external_ref: Option<String>,
    /// When it last synced.
    pub last_synced: Option<String>,
    /// Its pending conflicts' ids.
    pub pending_conflicts: Vec<String>,
}

/// An item's sync state.
#[derive(Debug, Serialize, JsonSchema)]
pub struct SyncStatus {
    /// One per platform.
    pub platforms: Vec<PlatformState>,
}

/// `list_conflicts`'s input.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct ListConflicts {
    /// `pending` (default), `resolved` or `ignored`.
    #[serde(default)]
    pub status: Option<String>,
    /// A provider key or a connection id.
    #[serde(default)]
    pub platform: Option<String>,
}

/// A conflict, briefly.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ConflictBrief {
    /// Its id.
    pub id: String,
    /// `field`, `external_creation` or `hierarchy_violation`.
    pub kind: String,
    /// The platform.
    pub platform: String,
    /// What is wrong.
    pub message: String,
    /// What to do.
    pub suggested_action: String,
    /// The host item, when there is one.
    pub entity_id: Option<String>,
}

/// Conflicts.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Conflicts {
    /// Oldest first.
    pub conflicts: Vec<ConflictBrief>,
}

/// `resolve_sync_conflict`'s input.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct Resolve {
    /// The conflict.
    pub conflict_id: String,
    /// `link_to_parent`, `create_parent`, `keep_external`, `import`, `use_host`,
    /// `use_remote`, `use_side` or `ignore`.
    pub action: String,
    /// The parent (`link_to_parent`).
    #[serde(default)]
    pub parent_id: Option<String>,
    /// The new parent's title (`create_parent`).
    #[serde(default)]
    pub title: Option<String>,
    /// The side (`use_side`).
    #[serde(default)]
    pub side: Option<String>,
}

/// A settled conflict.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Resolved {
    /// Its id.
    pub conflict_id: String,
    /// Records written as a result.
    pub changed: usize,
}

/// `search_jira_issues`'s input.
#[derive(Debug, Deserialize, JsonSchema)]
pub struct Search {
    /// A key or words of a summary.
    pub query: String,
}

/// Issues found.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Issues {
    /// Key, summary, status.
    pub issues: Vec<IssueBrief>,
}

/// An issue found.
#[derive(Debug, Serialize, JsonSchema)]
pub struct IssueBrief {
    /// `PROJ-123`.
    pub key: String,
    /// The summary.
    pub summary: String,
    /// The status.
    pub status: Option<String>,
}
