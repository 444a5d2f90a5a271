//! The GitHub [`Provider`] over the shared [`HttpClient`].

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use devflow_sync_core::auth::{AccessToken, TokenManager, WebhookSecret};
use devflow_sync_core::http::{
    HttpClient, HttpRequest, HttpResponse, Method, Origin, check_api_base, percent_encode,
};
use devflow_sync_core::model::{
    ConnectionId, ExternalId, FieldValue, Fields, ItemId, ItemKind, ObjectType, ProviderKey,
    Version,
};
use devflow_sync_core::provider::{
    Capabilities, ChangeQuery, Headers, NewRemote, Page, Provider, RemoteRecord, RemoteUpdate,
    WebhookDelivery,
};
use devflow_sync_core::webhook::{SignatureScheme, WebhookVerifier};
use devflow_sync_core::{Error, Result};
use serde_json::{Value, json};

use crate::metadata::BodyMetadata;
use crate::paging::{check_page_url, decode_token, encode_token, etag_key};
use crate::wire::{
    CONFLICT_LABEL, KIND_LABELS, SYNCED_LABEL, issue_request, issue_to_record, next_link,
    parent_from_url, split_issue_id,
};

/// The REST API version sent with every request.
pub const API_VERSION: &str = "2022-11-28";

/// Where the provider's access tokens come from.
#[derive(Clone, Debug)]
pub enum TokenSource {
    /// One token for every connection (a personal access token).
    Static(AccessToken),
    /// Per-connection tokens, refreshed as needed (OAuth apps, GitHub App user tokens).
    Manager(Arc<TokenManager>),
    /// A GitHub App installation's tokens, minted from the app's JWT and cached until
    /// shortly before they expire.
    Installation(Arc<crate::app::InstallationTokens>),
}

/// The provider's settings.
#[derive(Clone, Debug)]
pub struct GitHubConfig {
    /// `https://api.github.com`, `https://HOST/api/v3`, or a compatible server (plain
    /// `http` only on loopback).
    pub base_url: String,
    /// The repositories synced, as `owner/name`; issues are created in the first.
    pub repositories: Vec<String>,
    /// Where tokens come from.
    pub tokens: TokenSource,
    /// Active webhook secrets.
    pub webhook_secrets: Vec<WebhookSecret>,
    /// The API version header.
    pub api_version: String,
    /// Whether each PRD gets a milestone of its title, which the issues under it
    /// inherit (default `true`). An issue whose fields name a milestone keeps it.
    pub prd_milestones: bool,
}

impl GitHubConfig {
    /// Settings for `repositories` at `base_url` with a token source.
    pub fn new(
        base_url: impl Into<String>,
        repositories: Vec<String>,
        tokens: TokenSource,
    ) -> Self {
        Self {
            base_url: base_url.into().trim_end_matches('/').to_owned(),
            repositories,
            tokens,
            webhook_secrets: Vec::new(),
            api_version: API_VERSION.to_owned(),
            prd_milestones: true,
        }
    }

    /// Checks the settings; returns the API origin and the base URL's path.
    fn check(&self) -> Result<(Origin, String)> {
        let origin = check_api_base("github.base_url", &self.base_url)?;
        let (_, base_path) = Origin::with_path(&self.base_url)?;
        let well_formed = |r: &String| {
            let mut parts = r.split('/');
            let ok = |p: Option<&str>| {
                p.is_some_and(|p| {
                    !p.is_empty()
                        && p.bytes()
                            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
                })
            };
            ok(parts.next()) && ok(parts.next()) && parts.next().is_none()
        };
        if self.repositories.is_empty() || !self.repositories.iter().all(well_formed) {
            return Err(Error::InvalidConfig {
                pointer: "github.repositories".into(),
                message: "give at least one repository as owner/name".into(),
            });
        }
        Ok((origin, base_path.trim_end_matches('/').to_owned()))
    }
}

/// GitHub issues as a [`Provider`].
#[derive(Debug)]
pub struct GitHubProvider {
    config: GitHubConfig,
    /// The API origin: the only one credentials are sent to.
    origin: Origin,
    /// The path of the base URL (`/api/v3` on GitHub Enterprise Server, else empty).
    base_path: String,
    http: HttpClient,
    verifier: WebhookVerifier,
    /// ETags and pages of list requests, keyed by the URL without `since`, so an
    /// unchanged page is a 304 (which costs no rate limit) and is served from here.
    etags: Mutex<HashMap<String, CachedPage>>,
    /// Per repository, the ETag of "the most recently updated issue" as of the last
    /// complete listing, and one seen by a listing still under way.
    probes: Mutex<HashMap<String, Probe>>,
    /// Repositories whose DevFlow labels exist.
    labelled: tokio::sync::Mutex<std::collections::HashSet<String>>,
    /// Milestone numbers by repository and title, as found or created.
    milestones: tokio::sync::Mutex<HashMap<(String, String), u64>>,
    /// The milestone of issues this provider wrote, so children inherit it without a read.
    issue_milestones: Mutex<HashMap<ExternalId, Option<u64>>>,
}

impl GitHubProvider {
    /// A provider; [`Error::InvalidConfig`] for a wrong base URL or repository list.
    pub fn new(config: GitHubConfig, http: HttpClient) -> Result<Self> {
        let (origin, base_path) = config.check()?;
        let mut verifier = WebhookVerifier::new(SignatureScheme::github())
            .delivery_id_header(crate::webhook::DELIVERY_HEADER);
        for secret in &config.webhook_secrets {
            verifier = verifier.secret(secret.clone());
        }
        Ok(Self {
            config,
            origin,
            base_path,
            http,
            verifier,
            etags: Mutex::new(HashMap::new()),
            probes: Mutex::new(HashMap::new()),
            labelled: tokio::sync::Mutex::new(Default::default()),
            milestones: tokio::sync::Mutex::new(HashMap::new()),
            issue_milestones: Mutex::new(HashMap::new()),
        })
    }

    async fn token(&self, connection: &ConnectionId) -> Result<AccessToken> {
        match &self.config.tokens {
            TokenSource::Static(token) => Ok(token.clone()),
            TokenSource::Manager(manager) => manager.access_token(connection).await,
            TokenSource::Installation(tokens) => tokens.token(connection).await,
        }
    }

    fn request_with(
        &self,
        token: &AccessToken,
        connection: &ConnectionId,
        method: Method,
        url: String,
    ) -> HttpRequest {
        HttpRequest::new(method, url, "github", connection.clone())
            .bound_to(&self.origin)
            .header("Authorization", format!("Bearer {}", token.secret()))
            .header("Accept", "application/vnd.github+json")
            .header("X-GitHub-Api-Version", self.config.api_version.as_str())
    }

    async fn send_json(
        &self,
        connection: &ConnectionId,
        method: Method,
        url: String,
        body: Option<Value>,
    ) -> Result<HttpResponse> {
        let bytes = body
            .map(|b| serde_json::to_vec(&b))
            .transpose()
            .map_err(|e| Error::invalid_input("body", e.to_string()))?;
        self.send(connection, method, url, None, bytes).await
    }

    /// Sends a request (with `If-None-Match` when given). A token GitHub refuses with
    /// a 401 is replaced once, whatever its source (an installation token is minted
    /// again, an OAuth token refreshed), and the request sent once more.
    async fn send(
        &self,
        connection: &ConnectionId,
        method: Method,
        url: String,
        if_none_match: Option<&str>,
        body: Option<Vec<u8>>,
    ) -> Result<HttpResponse> {
        let mut token = self.token(connection).await?;
        for attempt in 0..2 {
            let mut request = self.request_with(&token, connection, method.clone(), url.clone());
            if let Some(etag) = if_none_match {
                request = request.header("If-None-Match", etag);
            }
            if let Some(bytes) = &body {
                request = request
                    .header("Content-Type", "application/json")
                    .body(bytes.clone());
            }
            match (self.http.send(request).await, &self.config.tokens) {
                // An installation token revoked or expired early: mint another, once.
                (Err(Error::Unauthenticated(_)), TokenSource::Installation(tokens))
                    if attempt == 0 =>
                {
                    tokens.invalidate().await;
                    token = tokens.token(connection).await?;
                }
                // An OAuth token refused: refreshed once (or the one another caller
                // already got), then the request goes again.
                (Err(Error::Unauthenticated(_)), TokenSource::Manager(manager)) if attempt == 0 => {
                    token = manager.after_unauthorized(connection, &token).await?;
                }
                (result, _) => return result,
            }
        }
        Err(Error::Unauthenticated(
            "GitHub refused a freshly issued token".into(),
        ))
    }

    /// The items of every page of a list, following `link` URLs verbatim.
    async fn every_page(&self, connection: &ConnectionId, url: String) -> Result<Vec<Value>> {
        let mut url = Some(url);
        let mut out = Vec::new();
        while let Some(next) = url.take() {
            let response = self.send_json(connection, Method::GET, next, None).await?;
            if let Value::Array(items) = Self::json(&response)? {
                out.extend(items);
            }
            url = response.headers.get("link").and_then(next_link);
        }
        Ok(out)
    }

    fn json(response: &HttpResponse) -> Result<Value> {
        serde_json::from_slice(&response.body).map_err(|e| Error::InvalidInput {
            pointer: Some(format!(
                "GitHub response (line {}, column {})",
                e.line(),
                e.column()
            )),
            message: format!("not JSON: {e}"),
        })
    }

    fn issue_url(&self, repo: &str, number: u64) -> String {
        format!("{}/repos/{repo}/issues/{number}", self.config.base_url)
    }

    /// Creates the DevFlow labels a repository lacks, with their colours.
    async fn ensure_labels(&self, connection: &ConnectionId, repo: &str) -> Result<()> {
        let mut done = self.labelled.lock().await;
        if done.contains(repo) {
            return Ok(());
        }
        let url = format!("{}/repos/{repo}/labels?per_page=100", self.config.base_url);
        let existing = Self::json(&self.send_json(connection, Method::GET, url, None).await?)?;
        let names: Vec<&str> = existing
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|l| l.get("name").and_then(Value::as_str))
                    .collect()
            })
            .unwrap_or_default();
        let wanted = KIND_LABELS
            .iter()
            .map(|(_, name, colour)| (*name, *colour))
            .chain([SYNCED_LABEL, CONFLICT_LABEL]);
        for (name, colour) in wanted {
            if names.contains(&name) {
                continue;
            }
            let url = format!("{}/repos/{repo}/labels", self.config.base_url);
            match self
                .send_json(
                    connection,
                    Method::POST,
                    url,
                    Some(json!({"name": name, "color": colour})),
                )
                .await
            {
                // Created meanwhile by someone else: fine.
                Ok(_) | Err(Error::InvalidInput { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        done.insert(repo.to_owned());
        Ok(())
    }

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
                self.config.base_url
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
            let url = format!("{}/repos/{repo}/milestones", self.config.base_url);
            let body = json!({"title": title, "description": "A DevFlow PRD."});
            match self
                .send_json(connection, Method::POST, url, Some(body))
                .await
            {
                Ok(response) => {
                    let created = Self::json(&response)?;
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
                Err(Error::InvalidInput { .. }) => {}
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
    async fn rename_prd_milestone(
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
        let url = format!("{}/repos/{repo}/milestones/{number}", self.config.base_url);
        let mut known = self.milestones.lock().await;
        match self
            .send_json(
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
            Err(e @ (Error::InvalidInput { .. } | Error::NotFound(_))) => {
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
    async fn milestone_of(
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
        let issue = Self::json(
            &self
                .send_json(connection, Method::GET, self.issue_url(&repo, number), None)
                .await?,
        )?;
        let m = issue.pointer("/milestone/number").and_then(Value::as_u64);
        self.remember_milestone(id, m);
        Ok(m)
    }

    fn remember_milestone(&self, id: &ExternalId, milestone: Option<u64>) {
        self.issue_milestones
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(id.clone(), milestone);
    }

    /// The milestone a new or re-parented issue gets when its fields name none: a PRD's
    /// own, or its parent's.
    async fn milestone_for(
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

    /// The repositories the connection's token reaches (`GET /user/repos`, every page),
    /// for a person to choose which to sync.
    pub async fn list_repositories(&self, connection: &ConnectionId) -> Result<Vec<Repository>> {
        let url = format!(
            "{}/user/repos?per_page=100&sort=full_name",
            self.config.base_url
        );
        let mut out = Vec::new();
        for repo in self.every_page(connection, url).await? {
            if let Some(full_name) = repo.get("full_name").and_then(Value::as_str) {
                out.push(Repository {
                    full_name: full_name.to_owned(),
                    private: repo
                        .get("private")
                        .and_then(Value::as_bool)
                        .unwrap_or(false),
                });
            }
        }
        Ok(out)
    }

    fn is_first_page(&self, url: &str) -> bool {
        url.starts_with(&format!("{}/repos/", self.config.base_url))
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
            self.config.base_url
        );
        let committed = self
            .probes
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(repo)
            .and_then(|p| p.committed.clone());
        let response = self
            .send(connection, Method::GET, url, committed.as_deref(), None)
            .await?;
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
    fn repository(&self, index: usize) -> Result<&String> {
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
            self.config.base_url,
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

    /// Adds `child` (by its REST id) under `parent` with the sub-issues API.
    async fn link_parent(
        &self,
        connection: &ConnectionId,
        parent: &ExternalId,
        child_rest_id: u64,
    ) -> Result<()> {
        let (repo, number) = split_issue_id(parent)?;
        let url = format!("{}/sub_issues", self.issue_url(&repo, number));
        self.send_json(
            connection,
            Method::POST,
            url,
            Some(json!({"sub_issue_id": child_rest_id, "replace_parent": true})),
        )
        .await
        .map(|_| ())
    }

    /// `issue` as GitHub answered a write, with the sub-issue link made after that answer.
    fn with_parent_link(&self, mut issue: Value, parent: Option<&ExternalId>) -> Result<Value> {
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
    async fn unlink_parent(
        &self,
        connection: &ConnectionId,
        parent: &ExternalId,
        child_rest_id: u64,
    ) -> Result<()> {
        let (repo, number) = split_issue_id(parent)?;
        let url = format!("{}/sub_issue", self.issue_url(&repo, number));
        match self
            .send_json(
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

/// A repository a token reaches.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Repository {
    /// `owner/name`.
    pub full_name: String,
    /// Whether it is private.
    pub private: bool,
}

/// The change probe of one repository.
#[derive(Clone, Debug, Default)]
struct Probe {
    committed: Option<String>,
    pending: Option<String>,
}

/// A listed page kept with its ETag.
#[derive(Clone, Debug)]
struct CachedPage {
    etag: String,
    records: Vec<RemoteRecord>,
    next: Option<String>,
}

#[async_trait]
impl Provider for GitHubProvider {
    fn key(&self) -> ProviderKey {
        ProviderKey::new("github")
    }

    fn capabilities(&self, object: &ObjectType) -> Capabilities {
        match object.as_str() {
            "issue" => Capabilities {
                list: true,
                delta: true,
                create: true,
                update: true,
                conditional_update: false,
                delete: false,
                webhook: true,
                markers: true,
                hierarchy: true,
            },
            _ => Capabilities::default(),
        }
    }

    async fn list_changed(
        &self,
        connection: &ConnectionId,
        object: &ObjectType,
        query: &ChangeQuery,
    ) -> Result<Page> {
        if object.as_str() != "issue" {
            return Err(Error::not_supported(format!("listing GitHub {object}")));
        }
        let (index, url) = match &query.page_token {
            Some(token) => decode_token(
                token,
                &self.config.repositories,
                &self.origin,
                &self.base_path,
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
        let cached = self
            .etags
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&key)
            .cloned();
        let response = self
            .send(
                connection,
                Method::GET,
                url.clone(),
                cached.as_ref().map(|p| p.etag.as_str()),
                None,
            )
            .await?;
        let next_repo = |page: Vec<RemoteRecord>| -> Page {
            Page {
                records: page,
                next_page_token: self.next_repository_token(index, query),
            }
        };
        let (records, next) = match (response.status, cached) {
            // Unchanged: the page as it was, and where it led.
            (304, Some(page)) => (page.records, page.next),
            _ => {
                let items = Self::json(&response)?;
                let mut records = Vec::new();
                for item in items.as_array().map(Vec::as_slice).unwrap_or_default() {
                    if let Some(record) = issue_to_record(&repo, item)? {
                        records.push(record);
                    }
                }
                let next = response.headers.get("link").and_then(next_link);
                // A link elsewhere is refused now, before it is saved as a cursor.
                if let Some(next) = &next {
                    check_page_url(next, &repo, &self.origin, &self.base_path)?;
                }
                // Only first pages are kept, so memory does not grow with the
                // repository while a large listing streams through.
                let first = self.is_first_page(&url);
                if let Some(etag) = response.headers.get("etag").filter(|_| first) {
                    let page = CachedPage {
                        etag: etag.to_owned(),
                        records: records.clone(),
                        next: next.clone(),
                    };
                    self.etags
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .insert(key, page);
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

    async fn get(
        &self,
        connection: &ConnectionId,
        _object: &ObjectType,
        id: &ExternalId,
    ) -> Result<RemoteRecord> {
        let (repo, number) = split_issue_id(id)?;
        let response = self
            .send_json(connection, Method::GET, self.issue_url(&repo, number), None)
            .await?;
        issue_to_record(&repo, &Self::json(&response)?)?
            .ok_or_else(|| Error::not_found(format!("{id} is a pull request")))
    }

    async fn create(
        &self,
        connection: &ConnectionId,
        _object: &ObjectType,
        new: &NewRemote,
    ) -> Result<RemoteRecord> {
        let repo = self.repository(0)?.clone();
        self.ensure_labels(connection, &repo).await?;
        let meta = BodyMetadata {
            id: Some(new.marker.clone()),
            kind: new.kind,
            parent: new.parent.as_ref().map(ToString::to_string),
            synced: None,
        };
        let url = format!("{}/repos/{repo}/issues", self.config.base_url);
        let mut fields = new.fields.clone();
        if let Some(m) = self
            .milestone_for(
                connection,
                &repo,
                &new.fields,
                new.kind,
                new.parent.as_ref(),
            )
            .await?
        {
            fields.insert(
                "milestone",
                FieldValue::int(i64::try_from(m).unwrap_or(i64::MAX)),
            );
        }
        // Not idempotent: a retried create is recovered by its marker instead.
        let body = issue_request(&fields, &meta, new.kind);
        let created = Self::json(
            &self
                .send_json(connection, Method::POST, url, Some(body))
                .await?,
        )?;
        if let (Some(parent), Some(rest_id)) =
            (&new.parent, created.get("id").and_then(Value::as_u64))
        {
            self.link_parent(connection, parent, rest_id).await?;
        }
        let created = match &new.parent {
            Some(parent) => self.with_parent_link(created, Some(parent))?,
            None => created,
        };
        let record = issue_to_record(&repo, &created)?
            .ok_or_else(|| Error::transient("GitHub answered a create with a pull request"))?;
        self.remember_milestone(
            &record.id,
            created.pointer("/milestone/number").and_then(Value::as_u64),
        );
        Ok(record)
    }

    async fn update(
        &self,
        connection: &ConnectionId,
        _object: &ObjectType,
        id: &ExternalId,
        update: &RemoteUpdate,
        _expected: Option<&Version>,
    ) -> Result<RemoteRecord> {
        let (repo, number) = split_issue_id(id)?;
        // The body's metadata is kept: read it first.
        let current = Self::json(
            &self
                .send_json(connection, Method::GET, self.issue_url(&repo, number), None)
                .await?,
        )?;
        let (mut meta, _) =
            BodyMetadata::split(current.get("body").and_then(Value::as_str).unwrap_or(""));
        if let Some(parent) = &update.parent {
            meta.parent = parent.as_ref().map(ToString::to_string);
        }
        let mut fields = Fields::new();
        fields.apply(&update.changes);
        if meta.kind == Some(ItemKind::Prd) {
            if let Some(title) = fields.get("title").as_str() {
                self.rename_prd_milestone(connection, &repo, &current, title)
                    .await?;
            }
        }
        if update.parent.is_some() && !fields.contains("body") {
            let (_, text) =
                BodyMetadata::split(current.get("body").and_then(Value::as_str).unwrap_or(""));
            fields.insert("body", FieldValue::long_text(text));
        }
        if let Some(Some(parent)) = &update.parent {
            if let Some(m) = self
                .milestone_for(
                    connection,
                    &repo,
                    &fields,
                    meta.kind.filter(|k| *k != ItemKind::Prd),
                    Some(parent),
                )
                .await?
            {
                fields.insert(
                    "milestone",
                    FieldValue::int(i64::try_from(m).unwrap_or(i64::MAX)),
                );
            }
        }
        let kind = meta.kind.filter(|_| fields.contains("labels"));
        let body = issue_request(&fields, &meta, kind);
        let updated = Self::json(
            &self
                .send_json(
                    connection,
                    Method::PATCH,
                    self.issue_url(&repo, number),
                    Some(body),
                )
                .await?,
        )?;
        match (&update.parent, updated.get("id").and_then(Value::as_u64)) {
            (Some(Some(parent)), Some(rest_id)) => {
                self.link_parent(connection, parent, rest_id).await?;
            }
            (Some(None), Some(rest_id)) => {
                let linked = current
                    .get("parent_issue_url")
                    .and_then(Value::as_str)
                    .and_then(parent_from_url);
                if let Some(parent) = linked {
                    self.unlink_parent(connection, &parent, rest_id).await?;
                }
            }
            _ => {}
        }
        let updated = match &update.parent {
            Some(parent) => self.with_parent_link(updated, parent.as_ref())?,
            None => updated,
        };
        self.remember_milestone(
            id,
            updated.pointer("/milestone/number").and_then(Value::as_u64),
        );
        issue_to_record(&repo, &updated)?
            .ok_or_else(|| Error::not_found(format!("{id} is a pull request")))
    }

    async fn delete(
        &self,
        _connection: &ConnectionId,
        _object: &ObjectType,
        id: &ExternalId,
    ) -> Result<()> {
        Err(Error::not_supported(format!(
            "deleting GitHub issue {id}: the REST API cannot; close it instead"
        )))
    }

    async fn find_by_marker(
        &self,
        connection: &ConnectionId,
        _object: &ObjectType,
        marker: &ItemId,
    ) -> Result<Option<RemoteRecord>> {
        for repo in &self.config.repositories {
            let url = format!(
                "{}/search/issues?q=repo:{repo}+is:issue+in:body+%22devflow-id:+{}%22",
                self.config.base_url,
                percent_encode(&crate::metadata::escape_value(marker.as_str()))
            );
            let found = Self::json(&self.send_json(connection, Method::GET, url, None).await?)?;
            for item in found
                .get("items")
                .and_then(Value::as_array)
                .map(Vec::as_slice)
                .unwrap_or_default()
            {
                if let Some(record) = issue_to_record(repo, item)? {
                    if record.marker.as_ref() == Some(marker) {
                        return Ok(Some(record));
                    }
                }
            }
        }
        Ok(None)
    }

    fn parse_webhook(
        &self,
        connection: &ConnectionId,
        headers: &Headers,
        body: &[u8],
    ) -> Result<WebhookDelivery> {
        self.verifier.verify(headers, body)?;
        self.parse_verified_webhook(connection, headers, body)
    }

    fn parse_verified_webhook(
        &self,
        _connection: &ConnectionId,
        headers: &Headers,
        body: &[u8],
    ) -> Result<WebhookDelivery> {
        crate::webhook::parse_verified(headers, body, Some(&self.config.repositories))
    }

    fn webhook_headers(&self) -> Vec<String> {
        vec![
            crate::webhook::EVENT_HEADER.to_owned(),
            crate::webhook::DELIVERY_HEADER.to_owned(),
        ]
    }

    async fn revoke(&self, _connection: &ConnectionId) -> Result<()> {
        Err(Error::not_supported(
            "revoking GitHub grants needs the app's client credentials",
        ))
    }
}
