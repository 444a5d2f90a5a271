//! The GitHub provider: its state and the requests every part of it sends, on the
//! core's provider kit ([`ApiClient`]). The parts live beside it: `listing`,
//! `labels`, `milestones`, `sub_issues`, `repositories`, and the `Provider` impl in
//! `provider`.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use devflow_sync_core::api::{ApiClient, ApiRequest, EtagCache, parse_json};
use devflow_sync_core::http::{HttpClient, HttpResponse, Method};
use devflow_sync_core::model::{ConnectionId, ExternalId, ObjectType};
use devflow_sync_core::provider::Capabilities;
use devflow_sync_core::webhook::WebhookVerifier;
use devflow_sync_core::{Error, Result};
use serde_json::Value;

pub use crate::config::{API_VERSION, GitHubConfig, TokenSource};
use crate::errors::GitHubErrors;
use crate::listing::{CachedPage, Probe};
pub use crate::repositories::Repository;
use crate::wire::next_link;

/// How many listed first pages are kept with their ETags.
const CACHED_PAGES: usize = 4096;

/// GitHub issues as a [`Provider`](devflow_sync_core::provider::Provider).
#[derive(Debug)]
pub struct GitHubProvider {
    pub(crate) config: GitHubConfig,
    pub(crate) api: ApiClient,
    pub(crate) verifier: WebhookVerifier,
    /// First pages of list requests with their ETags, keyed by the URL without
    /// `since`, so an unchanged page is a 304 (which costs no rate limit).
    pub(crate) pages: EtagCache<CachedPage>,
    /// Per repository, the ETag of "the most recently updated issue" as of the last
    /// complete listing, and one seen by a listing still under way.
    pub(crate) probes: Mutex<HashMap<String, Probe>>,
    /// Repositories whose DevFlow labels exist.
    pub(crate) labelled: tokio::sync::Mutex<HashSet<String>>,
    /// Milestone numbers by repository and title, as found or created.
    pub(crate) milestones: tokio::sync::Mutex<HashMap<(String, String), u64>>,
    /// The milestone of issues this provider wrote, so children inherit it without a read.
    pub(crate) issue_milestones: Mutex<HashMap<ExternalId, Option<u64>>>,
    /// What each object can do, from the catalog.
    pub(crate) capabilities: HashMap<ObjectType, Capabilities>,
}

impl GitHubProvider {
    /// The settings it was built with (repositories, base URL; the token source is
    /// opaque and prints no secret).
    pub fn config(&self) -> &GitHubConfig {
        &self.config
    }

    /// A provider; [`Error::InvalidConfig`](devflow_sync_core::Error::InvalidConfig)
    /// for a wrong base URL or repository list.
    pub fn new(config: GitHubConfig, http: HttpClient) -> Result<Self> {
        config.check_repositories()?;
        let api = ApiClient::new(
            http,
            "github",
            &config.base_url,
            "github.base_url",
            config.tokens.clone().into_source(),
        )?
        .with_header("Accept", "application/vnd.github+json")
        .with_header("X-GitHub-Api-Version", config.api_version.as_str())
        .with_errors(Arc::new(GitHubErrors));
        let mut verifier = WebhookVerifier::new(crate::webhook::signature_scheme())
            .delivery_id_header(crate::webhook::DELIVERY_HEADER);
        for secret in &config.webhook_secrets {
            verifier = verifier.secret(secret.clone());
        }
        let catalog = crate::catalog().map_err(|e| Error::InvalidConfig {
            pointer: "provider.json".into(),
            message: e.to_string(),
        })?;
        let capabilities = catalog
            .objects
            .iter()
            .map(|o| (o.key.clone(), o.capabilities()))
            .collect();
        Ok(Self {
            config,
            api,
            capabilities,
            verifier,
            pages: EtagCache::new(CACHED_PAGES),
            probes: Mutex::new(HashMap::new()),
            labelled: tokio::sync::Mutex::new(HashSet::new()),
            milestones: tokio::sync::Mutex::new(HashMap::new()),
            issue_milestones: Mutex::new(HashMap::new()),
        })
    }

    /// Sends a request with an optional JSON body.
    pub(crate) async fn call(
        &self,
        connection: &ConnectionId,
        method: Method,
        url: String,
        body: Option<Value>,
    ) -> Result<HttpResponse> {
        let mut request = ApiRequest::new(method, url);
        if let Some(body) = body {
            request = request.json(&body)?;
        }
        self.api.send(connection, &request).await
    }

    /// The items of every page of a list, following `link` URLs verbatim.
    pub(crate) async fn every_page(
        &self,
        connection: &ConnectionId,
        url: String,
    ) -> Result<Vec<Value>> {
        self.api
            .every_page(connection, url, |r| {
                r.headers.get("link").and_then(next_link)
            })
            .await
    }

    pub(crate) fn issue_url(&self, repo: &str, number: u64) -> String {
        self.api.url(&format!("/repos/{repo}/issues/{number}"))
    }
}

/// An answer's body as JSON.
pub(crate) fn json(response: &HttpResponse) -> Result<Value> {
    parse_json("GitHub", &response.body)
}
