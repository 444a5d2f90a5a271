//! Milestones: each PRD gets one of its title, the issues under it inherit it, and a
//! renamed PRD renames it.

use devflow_sync_core::http::Method;
use devflow_sync_core::model::{ConnectionId, ExternalId, Fields, ItemKind};
use devflow_sync_core::{Error, Result};
use serde_json::{Value, json};

use crate::client::{GitHubProvider, json};
use crate::wire::split_issue_id;

impl GitHubProvider {
    /// The number of the milestone titled `title` in `repo`, created when missing
    /// (with every page of the repository's milestones searched first).
    pub async fn ensure_milestone(
        &self,
        connection: &ConnectionId,
        repo: &str,
        title: &str,
    ) -> Result<u64> {
        let key = (repo.to_owned(), title.to_owned());
        let mut known = self.milestones.lock().await;
        if let Some(number) = known.get(&key) {
            return Ok(*number);
        }
        for attempt in 0..2 {
            let url = format!(
                "{}/repos/{repo}/milestones?state=all&per_page=100",
                self.api.base_url()
            );
            for m in self.every_page(connection, url).await? {
                if let (Some(t), Some(n)) = (
                    m.get("title").and_then(Value::as_str),
                    m.get("number").and_then(Value::as_u64),
                ) {
                    known.insert((repo.to_owned(), t.to_owned()), n);
                }
            }
            if let Some(number) = known.get(&key) {
                return Ok(*number);
            }
            if attempt == 1 {
                break;
            }
            let url = format!("{}/repos/{repo}/milestones", self.api.base_url());
            let body = json!({"title": title, "description": "A DevFlow PRD."});
            match self.call(connection, Method::POST, url, Some(body)).await {
                Ok(response) => {
                    let created = json(&response)?;
                    let number =
                        created
                            .get("number")
                            .and_then(Value::as_u64)
                            .ok_or_else(|| {
                                Error::invalid_input(
                                    "/number",
                                    "GitHub created a milestone without a number",
                                )
                            })?;
                    known.insert(key, number);
                    return Ok(number);
                }
                // Created meanwhile by someone else: read it back.
                Err(Error::AlreadyExists(_)) => {}
                Err(e) => return Err(e),
            }
        }
        Err(Error::invalid_input(
            "milestone",
            format!("GitHub refused to create milestone {title:?} in {repo}"),
        ))
    }

    /// A PRD renamed to `title`: its milestone, when it still bears the PRD's old title,
    /// takes the new one. Done before the issue's own update, so a retried update that
    /// finds the milestone renamed already leaves it be. A title another milestone has
    /// already (GitHub answers 422), or a milestone deleted meanwhile, is left as it is,
    /// with a warning: the PRD's own update goes on.
    pub(crate) async fn rename_prd_milestone(
        &self,
        connection: &ConnectionId,
        repo: &str,
        prd: &Value,
        title: &str,
    ) -> Result<()> {
        let old = prd.get("title").and_then(Value::as_str).unwrap_or("");
        let Some(number) = prd.pointer("/milestone/number").and_then(Value::as_u64) else {
            return Ok(());
        };
        let named_after_prd = prd.pointer("/milestone/title").and_then(Value::as_str) == Some(old);
        if !self.config.prd_milestones || !named_after_prd || old == title {
            return Ok(());
        }
        let url = format!("{}/repos/{repo}/milestones/{number}", self.api.base_url());
        let mut known = self.milestones.lock().await;
        match self
            .call(
                connection,
                Method::PATCH,
                url,
                Some(json!({ "title": title })),
            )
            .await
        {
            Ok(_) => {
                known.remove(&(repo.to_owned(), old.to_owned()));
                known.insert((repo.to_owned(), title.to_owned()), number);
                Ok(())
            }
            Err(
                e @ (Error::AlreadyExists(_) | Error::InvalidInput { .. } | Error::NotFound(_)),
            ) => {
                tracing::warn!(
                    repo,
                    milestone = number,
                    error = %e,
                    "milestone not renamed after its PRD"
                );
                Ok(())
            }
            Err(e) => Err(e),
        }
    }

    /// The milestone an issue carries (from what this provider wrote, else read).
    pub(crate) async fn milestone_of(
        &self,
        connection: &ConnectionId,
        id: &ExternalId,
    ) -> Result<Option<u64>> {
        let known = self
            .issue_milestones
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(id)
            .copied();
        if let Some(m) = known {
            return Ok(m);
        }
        let (repo, number) = split_issue_id(id)?;
        let issue = json(
            &self
                .call(connection, Method::GET, self.issue_url(&repo, number), None)
                .await?,
        )?;
        let m = issue.pointer("/milestone/number").and_then(Value::as_u64);
        self.remember_milestone(id, m);
        Ok(m)
    }

    pub(crate) fn remember_milestone(&self, id: &ExternalId, milestone: Option<u64>) {
        self.issue_milestones
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(id.clone(), milestone);
    }

    /// The milestone a new or re-parented issue gets when its fields name none: a PRD's
    /// own, or its parent's.
    pub(crate) async fn milestone_for(
        &self,
        connection: &ConnectionId,
        repo: &str,
        fields: &Fields,
        kind: Option<ItemKind>,
        parent: Option<&ExternalId>,
    ) -> Result<Option<u64>> {
        if !self.config.prd_milestones || fields.contains("milestone") {
            return Ok(None);
        }
        match (kind, parent) {
            (Some(ItemKind::Prd), _) => {
                let title = fields.get("title").as_str().unwrap_or("PRD").to_owned();
                Ok(Some(self.ensure_milestone(connection, repo, &title).await?))
            }
            (_, Some(parent)) if split_issue_id(parent)?.0 == repo => {
                self.milestone_of(connection, parent).await
            }
            _ => Ok(None),
        }
    }
}
