//! The provider's settings: where Jira is, how to authenticate, which project, and
//! which issue types stand for which level of the hierarchy.

use std::collections::BTreeMap;

use chrono::FixedOffset;
use devflow_sync_core::auth::WebhookSecret;
use devflow_sync_core::model::ItemKind;
use devflow_sync_core::{Error, Result};

/// How requests authenticate: the Atlassian authentication Jira shares with
/// Confluence (OAuth 2.0 (3LO) against the gateway, or an API token).
pub type JiraAuth = devflow_atlassian::AtlassianAuth;

/// The issue type names that stand for each level (matched case-insensitively against
/// the project's types). Defaults: PRD and Epic -> `Epic`, Story -> `Story`, Task ->
/// `Task`, Subtask -> the project's sub-task type (`hierarchyLevel` -1, whatever its
/// name: `Sub-task` in company-managed projects, `Subtask` in team-managed ones).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IssueTypeNames {
    /// By level; a level missing here uses the default.
    pub names: BTreeMap<ItemKind, String>,
}

impl Default for IssueTypeNames {
    fn default() -> Self {
        let names = [
            (ItemKind::Prd, "Epic"),
            (ItemKind::Epic, "Epic"),
            (ItemKind::Story, "Story"),
            (ItemKind::Task, "Task"),
        ]
        .into_iter()
        .map(|(k, n)| (k, n.to_owned()))
        .collect();
        Self { names }
    }
}

impl IssueTypeNames {
    /// The name configured for `kind` (`None` for Subtask unless set: the project's
    /// sub-task type is used).
    pub fn name(&self, kind: ItemKind) -> Option<&str> {
        self.names.get(&kind).map(String::as_str)
    }
}

/// The provider's settings.
#[derive(Clone, Debug)]
pub struct JiraConfig {
    /// The site URL (`https://acme.atlassian.net`) or the gateway URL
    /// (`https://api.atlassian.com/ex/jira/{cloudId}`); plain `http` only on loopback.
    pub base_url: String,
    /// The project synced (its key).
    pub project: String,
    /// How requests authenticate.
    pub auth: JiraAuth,
    /// Secrets of admin webhooks (`X-Hub-Signature`).
    pub webhook_secrets: Vec<WebhookSecret>,
    /// The OAuth app's client secret, which signs the JWT of dynamic webhooks.
    pub webhook_jwt_secret: Option<WebhookSecret>,
    /// Which issue types stand for which level.
    pub issue_types: IssueTypeNames,
    /// The user's time zone, if known; otherwise learned from the times Jira returns
    /// (which are written in it), and until then delta queries overlap by 14 hours.
    pub time_zone: Option<FixedOffset>,
    /// How far a delta query reaches back before its cursor (JQL has minute precision;
    /// the search index lags). Default two minutes.
    pub overlap: std::time::Duration,
    /// The DevFlow custom fields found or created by `setup_custom_fields`, by name.
    pub custom_fields: BTreeMap<String, String>,
    /// How far back `find_by_marker` scans recently created issues when no DevFlow ID
    /// field is set up. Default 24 hours.
    pub marker_scan_window: std::time::Duration,
}

impl JiraConfig {
    /// Settings for `project` at `base_url`.
    pub fn new(base_url: impl Into<String>, project: impl Into<String>, auth: JiraAuth) -> Self {
        Self {
            base_url: base_url.into().trim_end_matches('/').to_owned(),
            project: project.into(),
            auth,
            webhook_secrets: Vec::new(),
            webhook_jwt_secret: None,
            issue_types: IssueTypeNames::default(),
            time_zone: None,
            overlap: std::time::Duration::from_secs(120),
            custom_fields: BTreeMap::new(),
            marker_scan_window: std::time::Duration::from_secs(24 * 3600),
        }
    }

    /// Checks the project key: Jira's `[A-Z][A-Z0-9_]+`.
    pub(crate) fn check(&self) -> Result<()> {
        let ok = self.project.len() >= 2
            && self.project.len() <= 255
            && self.project.starts_with(|c: char| c.is_ascii_uppercase())
            && self
                .project
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_');
        if ok {
            Ok(())
        } else {
            Err(Error::InvalidConfig {
                pointer: "jira.project".into(),
                message: format!(
                    "{:?} is not a Jira project key (capital letters, digits and _, starting with a letter)",
                    self.project
                ),
            })
        }
    }
}
