//! Listing issues: every configured repository in turn, page by page from `link`
//! headers, with a change probe and ETags so an unchanged poll is one 304.

use devflow_sync_core::api::ApiRequest;
use devflow_sync_core::model::ConnectionId;
use devflow_sync_core::provider::{ChangeQuery, Page, RemoteRecord};
use devflow_sync_core::{Error, Result};

use crate::client::GitHubProvider;
use crate::paging::{check_page_url, decode_token, encode_token, etag_key};
use crate::wire::{issues_from_page, next_link};

/// The change probe of one repository.
#[derive(Clone, Debug, Default)]
pub(crate) struct Probe {
    committed: Option<String>,
    pending: Option<String>,
}

/// A listed page kept with its ETag.
#[derive(Clone, Debug)]
pub(crate) struct CachedPage {
    records: Vec<RemoteRecord>,
    next: Option<String>,
}

impl GitHubProvider {
    fn is_first_page(&self, url: &str) -> bool {
        url.starts_with(&format!("{}/repos/", self.api.base_url()))
            && !url.contains("after=")
            && !url.contains("&page=")
            && !url.contains("?page=")
    }

    /// Asks for the most recently updated issue with the ETag of the last complete
    /// listing. Every edit makes its issue the most recent one, so a 304 means nothing
    /// changed since; it costs one request and no rate limit.
    async fn changed_since_last_listing(
        &self,
        connection: &ConnectionId,
        index: usize,
    ) -> Result<bool> {
        let repo = self.repository(index)?;
        let url = format!(
            "{}/repos/{repo}/issues?state=all&sort=updated&direction=desc&per_page=1",
            self.api.base_url()
        );
        let committed = self
            .probes
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(repo)
            .and_then(|p| p.committed.clone());
        let mut request = ApiRequest::get(url);
        if let Some(etag) = committed {
            request = request.if_none_match(etag);
        }
        let response = self.api.send(connection, &request).await?;
        if response.status == 304 {
            return Ok(false);
        }
        if let Some(etag) = response.headers.get("etag") {
            self.probes
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .entry(repo.clone())
                .or_default()
                .pending = Some(etag.to_owned());
        }
        Ok(true)
    }

    /// The configured repository at `index`.
    pub(crate) fn repository(&self, index: usize) -> Result<&String> {
        self.config
            .repositories
            .get(index)
            .ok_or_else(|| Error::StalePageToken(format!("no repository is configured at {index}")))
    }

    /// The token of the next repository's first page, if there is one.
    fn next_repository_token(&self, index: usize, query: &ChangeQuery) -> Option<String> {
        let next = index.checked_add(1)?;
        let repo = self.config.repositories.get(next)?;
        Some(encode_token(next, repo, &self.list_url(repo, query)))
    }

    fn list_url(&self, repo: &str, query: &ChangeQuery) -> String {
        let mut url = format!(
            "{}/repos/{repo}/issues?state=all&sort=updated&direction=asc&per_page={}",
            self.api.base_url(),
            query.limit.clamp(1, 100)
        );
        if let Some(since) = query.since {
            url.push_str(&format!(
                "&since={}",
                since.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            ));
        }
        if !query.filter.labels.is_empty() {
            url.push_str(&format!("&labels={}", query.filter.labels.join(",")));
        }
        if let [one] = query.filter.assignees.as_slice() {
            url.push_str(&format!("&assignee={one}"));
        }
        if let [one] = query.filter.milestones.as_slice() {
            url.push_str(&format!("&milestone={one}"));
        }
        url
    }

    /// One page of the issues listing (see [`Provider::list_changed`](devflow_sync_core::provider::Provider::list_changed)).
    pub(crate) async fn list_issues(
        &self,
        connection: &ConnectionId,
        query: &ChangeQuery,
    ) -> Result<Page> {
        let (index, url) = match &query.page_token {
            Some(token) => decode_token(
                token,
                &self.config.repositories,
                self.api.origin(),
                self.api.base_path(),
            )?,
            None => (0, self.list_url(self.repository(0)?, query)),
        };
        // At the start of a repository's listing: has anything changed at all since the
        // last complete listing? A listing of changes stops here when not; a full listing
        // (without `since`) always runs, and only notes where the repository stands.
        let unchanged =
            self.is_first_page(&url) && !self.changed_since_last_listing(connection, index).await?;
        if unchanged && query.since.is_some() {
            return Ok(Page {
                records: Vec::new(),
                next_page_token: self.next_repository_token(index, query),
            });
        }
        let repo = self.repository(index)?.clone();
        let key = etag_key(&url);
        let cached = self.pages.get(&key);
        let mut request = ApiRequest::get(url.clone());
        if let Some((etag, _)) = &cached {
            request = request.if_none_match(etag.as_str());
        }
        let response = self.api.send(connection, &request).await?;
        let next_repo = |page: Vec<RemoteRecord>| -> Page {
            Page {
                records: page,
                next_page_token: self.next_repository_token(index, query),
            }
        };
        let (records, next) = match (response.status, cached) {
            // Unchanged: the page as it was, and where it led.
            (304, Some((_, page))) => (page.records, page.next),
            _ => {
                let records = issues_from_page(&repo, &response.body)?;
                let next = response.headers.get("link").and_then(next_link);
                // A link elsewhere is refused now, before it is saved as a cursor.
                if let Some(next) = &next {
                    check_page_url(next, &repo, self.api.origin(), self.api.base_path())?;
                }
                // Only first pages are kept, so memory does not grow with the
                // repository while a large listing streams through.
                let first = self.is_first_page(&url);
                if let Some(etag) = response.headers.get("etag").filter(|_| first) {
                    let page = CachedPage {
                        records: records.clone(),
                        next: next.clone(),
                    };
                    self.pages.put(key, etag, page);
                }
                (records, next)
            }
        };
        match next {
            Some(next) => Ok(Page {
                records,
                next_page_token: Some(encode_token(index, &repo, &next)),
            }),
            None => {
                // The repository's listing is complete: its probe now stands for it.
                let mut probes = self.probes.lock().unwrap_or_else(|e| e.into_inner());
                let probe = probes.entry(repo.clone()).or_default();
                if let Some(pending) = probe.pending.take() {
                    probe.committed = Some(pending);
                }
                Ok(next_repo(records))
            }
        }
    }
}
