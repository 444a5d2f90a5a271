//! Finding the issue to book time against, for an autocomplete box:
//! [`JiraProvider::search_issues`] (an exact key is looked up, free text goes through
//! Jira's issue picker) and [`JiraProvider::assigned_to_me`]. Each hit carries key,
//! summary, status with its category, assignee, project and issue type.
//!
//! A call costs one request for a key and two for text (the picker, then one search
//! for the hits' fields); call it after the host's debounce.

use devflow_sync_core::http::{Method, percent_encode};
use devflow_sync_core::model::{ConnectionId, UserRef};
use devflow_sync_core::{Error, Result};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::client::JiraProvider;
use crate::listing::quote;
use crate::worklog::is_issue_key;

/// The fields a hit is read from.
const HIT_FIELDS: [&str; 5] = ["summary", "status", "assignee", "project", "issuetype"];

/// The most hits one search returns.
pub const MAX_HITS: usize = 20;

/// One issue found.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssueHit {
    /// `PROJ-123`.
    pub key: String,
    /// The summary.
    pub summary: String,
    /// The status's name (`In Progress`).
    pub status: Option<String>,
    /// The status category's key: `new`, `indeterminate` or `done`.
    pub status_category: Option<String>,
    /// Who it is assigned to.
    pub assignee: Option<UserRef>,
    /// The project's key.
    pub project: Option<String>,
    /// The issue type's name.
    pub issue_type: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct Named {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    key: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct StatusWire {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    status_category: Option<Named>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PersonWire {
    #[serde(default)]
    account_id: Option<String>,
    #[serde(default)]
    display_name: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct HitFields {
    #[serde(default)]
    summary: Option<String>,
    #[serde(default)]
    status: Option<StatusWire>,
    #[serde(default)]
    assignee: Option<PersonWire>,
    #[serde(default)]
    project: Option<Named>,
    #[serde(default)]
    issuetype: Option<Named>,
}

#[derive(Debug, Deserialize)]
struct HitWire {
    key: String,
    #[serde(default)]
    fields: HitFields,
}

#[derive(Debug, Deserialize)]
struct HitsWire {
    #[serde(default)]
    issues: Vec<HitWire>,
}

#[derive(Debug, Deserialize)]
struct PickerWire {
    #[serde(default)]
    sections: Vec<SectionWire>,
}

#[derive(Debug, Deserialize)]
struct SectionWire {
    #[serde(default)]
    issues: Vec<PickedWire>,
}

#[derive(Debug, Deserialize)]
struct PickedWire {
    #[serde(default)]
    key: Option<String>,
}

impl From<HitWire> for IssueHit {
    fn from(w: HitWire) -> Self {
        let f = w.fields;
        IssueHit {
            key: w.key,
            summary: f.summary.unwrap_or_default(),
            status_category: f
                .status
                .as_ref()
                .and_then(|s| s.status_category.as_ref())
                .and_then(|c| c.key.clone()),
            status: f.status.and_then(|s| s.name),
            assignee: f.assignee.and_then(|a| {
                let user = UserRef::new(a.account_id?);
                Some(match a.display_name {
                    Some(name) => user.with_display_name(name),
                    None => user,
                })
            }),
            project: f.project.and_then(|p| p.key),
            issue_type: f.issuetype.and_then(|t| t.name),
        }
    }
}

impl JiraProvider {
    /// Issues for an autocomplete box: an issue key (`proj-12` too) is looked up
    /// exactly; other text goes through Jira's issue picker (key prefixes and words of
    /// the summary), at most [`MAX_HITS`], in the picker's order. Blank text finds
    /// nothing.
    pub async fn search_issues(
        &self,
        connection: &ConnectionId,
        query: &str,
    ) -> Result<Vec<IssueHit>> {
        let text = query.trim();
        if text.is_empty() {
            return Ok(Vec::new());
        }
        if text.len() > 255 {
            return Err(Error::invalid_input(
                "query",
                "an issue search is at most 255 characters",
            ));
        }
        let upper = text.to_ascii_uppercase();
        if is_issue_key(&upper) {
            let path = format!(
                "/rest/api/3/issue/{}?fields={}",
                percent_encode(&upper),
                HIT_FIELDS.join(",")
            );
            return match self.call(connection, Method::GET, &path, None).await {
                Ok(response) => {
                    let hit: HitWire =
                        devflow_sync_core::api::parse_json("Jira issue", &response.body)?;
                    Ok(vec![hit.into()])
                }
                Err(Error::NotFound(_)) => Ok(Vec::new()),
                Err(e) => Err(e),
            };
        }
        let path = format!(
            "/rest/api/3/issue/picker?query={}&showSubTasks=true&showSubTaskParent=true",
            percent_encode(text)
        );
        let response = self.call(connection, Method::GET, &path, None).await?;
        let picked: PickerWire =
            devflow_sync_core::api::parse_json("Jira issue picker", &response.body)?;
        let mut keys: Vec<String> = Vec::new();
        for key in picked
            .sections
            .into_iter()
            .flat_map(|s| s.issues)
            .filter_map(|i| i.key)
        {
            if !keys.contains(&key) && is_issue_key(&key) {
                keys.push(key);
            }
        }
        keys.truncate(MAX_HITS);
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let jql = format!(
            "key in ({})",
            keys.iter().map(|k| quote(k)).collect::<Vec<_>>().join(", ")
        );
        let mut hits = self.hits(connection, &jql).await?;
        hits.sort_by_key(|h| keys.iter().position(|k| *k == h.key).unwrap_or(usize::MAX));
        Ok(hits)
    }

    /// The open issues assigned to the connection's account, most recently updated
    /// first (at most [`MAX_HITS`]).
    pub async fn assigned_to_me(&self, connection: &ConnectionId) -> Result<Vec<IssueHit>> {
        self.hits(
            connection,
            "assignee = currentUser() AND statusCategory != Done ORDER BY updated DESC",
        )
        .await
    }

    async fn hits(&self, connection: &ConnectionId, jql: &str) -> Result<Vec<IssueHit>> {
        let body = json!({"jql": jql, "fields": HIT_FIELDS, "maxResults": MAX_HITS});
        let response = self
            .call(
                connection,
                Method::POST,
                "/rest/api/3/search/jql",
                Some(&body),
            )
            .await?;
        let hits: HitsWire = devflow_sync_core::api::parse_json("Jira search", &response.body)?;
        Ok(hits.issues.into_iter().map(IssueHit::from).collect())
    }
}
