//! Parent and child as GitHub sub-issues.

use devflow_sync_core::http::Method;
use devflow_sync_core::model::{ConnectionId, ExternalId};
use devflow_sync_core::{Error, Result};
use serde_json::{Value, json};

use crate::client::GitHubProvider;
use crate::wire::split_issue_id;

impl GitHubProvider {
    /// Adds `child` (by its REST id) under `parent` with the sub-issues API.
    pub(crate) async fn link_parent(
        &self,
        connection: &ConnectionId,
        parent: &ExternalId,
        child_rest_id: u64,
    ) -> Result<()> {
        let (repo, number) = split_issue_id(parent)?;
        let url = format!("{}/sub_issues", self.issue_url(&repo, number));
        self.call(
            connection,
            Method::POST,
            url,
            Some(json!({"sub_issue_id": child_rest_id, "replace_parent": true})),
        )
        .await
        .map(|_| ())
    }

    /// `issue` as GitHub answered a write, with the sub-issue link made after that answer.
    pub(crate) fn with_parent_link(
        &self,
        mut issue: Value,
        parent: Option<&ExternalId>,
    ) -> Result<Value> {
        let link = match parent {
            Some(p) => {
                let (repo, number) = split_issue_id(p)?;
                Value::String(self.issue_url(&repo, number))
            }
            None => Value::Null,
        };
        // Not an object: issue_to_record reports what is wrong with it.
        if let Some(fields) = issue.as_object_mut() {
            fields.insert("parent_issue_url".into(), link);
        }
        Ok(issue)
    }

    /// Removes `child` (by its REST id) from under `parent` with the sub-issues API.
    pub(crate) async fn unlink_parent(
        &self,
        connection: &ConnectionId,
        parent: &ExternalId,
        child_rest_id: u64,
    ) -> Result<()> {
        let (repo, number) = split_issue_id(parent)?;
        let url = format!("{}/sub_issue", self.issue_url(&repo, number));
        match self
            .call(
                connection,
                Method::DELETE,
                url,
                Some(json!({"sub_issue_id": child_rest_id})),
            )
            .await
        {
            // Already gone (removed in GitHub meanwhile): the goal holds.
            Err(Error::NotFound(_)) => Ok(()),
            other => other.map(|_| ()),
        }
    }
}
