//! The Jira provider: its state and the requests every part of it sends, on the core's
//! provider kit ([`ApiClient`]). The parts live beside it: `listing`, `write`,
//! `fields`, `connection`, and the `Provider` impl in `provider`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chrono::FixedOffset;
use devflow_sync_core::api::{ApiClient, ApiRequest, AuthScheme, StaticToken};
use devflow_sync_core::http::{HttpClient, HttpResponse, Method};
use devflow_sync_core::model::{ConnectionId, ItemKind, ObjectType};
use devflow_sync_core::provider::Capabilities;
use devflow_sync_core::webhook::{SignatureScheme, WebhookVerifier};
use devflow_sync_core::{Error, Result};
use serde::Deserialize;
use serde_json::Value;

use crate::config::{JiraAuth, JiraConfig};
use crate::errors::JiraErrors;

/// A project's issue types and style, as `GET /project/{key}` describes them.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProjectInfo {
    /// The numeric id.
    pub id: String,
    /// The key.
    pub key: String,
    /// Team-managed (`true`) or company-managed.
    #[serde(default)]
    pub simplified: bool,
    /// The issue types.
    #[serde(default)]
    pub issue_types: Vec<IssueTypeInfo>,
}

/// An issue type of a project.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IssueTypeInfo {
    /// Its id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// -1 sub-task, 0 standard, 1 epic.
    #[serde(default)]
    pub hierarchy_level: i64,
}

/// Jira issues as a [`Provider`](devflow_sync_core::provider::Provider).
#[derive(Debug)]
pub struct JiraProvider {
    pub(crate) config: JiraConfig,
    pub(crate) api: ApiClient,
    pub(crate) verifier: WebhookVerifier,
    pub(crate) capabilities: HashMap<ObjectType, Capabilities>,
    /// The project's types, once read.
    pub(crate) project: tokio::sync::Mutex<Option<ProjectInfo>>,
    /// The user's zone, as the times Jira writes show it.
    pub(crate) zone: Mutex<Option<FixedOffset>>,
    /// The DevFlow custom fields in use, by name.
    pub(crate) fields: Mutex<std::collections::BTreeMap<String, String>>,
    /// The issues this provider wrote last, named in `reconcileIssues` so listings
    /// read them fresh from the eventually consistent search index.
    pub(crate) recent: Mutex<std::collections::VecDeque<String>>,
    /// Host ids of issues seen with the `devflow` property, by issue id: a child's
    /// property names its parent's host id without another read.
    pub(crate) markers: Mutex<HashMap<String, String>>,
    pub(crate) worklogs: Mutex<crate::worklog::WorklogCache>,
}

/// How many written issues listings reconcile (Jira takes at most 50).
pub(crate) const RECONCILE: usize = 50;

impl JiraProvider {
    /// A provider; [`Error::InvalidConfig`] for a wrong base URL or project key.
    pub fn new(config: JiraConfig, http: HttpClient) -> Result<Self> {
        config.check()?;
        let (tokens, scheme, expires): (Arc<dyn devflow_sync_core::api::TokenSource>, _, _) =
            match &config.auth {
                JiraAuth::OAuth(source) => (source.clone(), AuthScheme::Bearer, None),
                JiraAuth::ApiToken {
                    email,
                    token,
                    expires,
                } => (
                    Arc::new(StaticToken::new(token.clone())),
                    AuthScheme::Basic {
                        user: email.clone(),
                    },
                    *expires,
                ),
            };
        let api = ApiClient::new(http, "jira", &config.base_url, "jira.base_url", tokens)?
            .with_scheme(scheme)
            .with_header("Accept", "application/json")
            .with_errors(Arc::new(JiraErrors {
                token_expires: expires,
            }));
        let mut verifier = WebhookVerifier::new(SignatureScheme::hmac_sha256(
            crate::webhook::SIGNATURE_HEADER,
            "sha256=",
        ))
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
        let zone = Mutex::new(config.time_zone);
        let fields = Mutex::new(config.custom_fields.clone());
        Ok(Self {
            fields,
            recent: Mutex::new(std::collections::VecDeque::new()),
            markers: Mutex::new(HashMap::new()),
            worklogs: Mutex::new(crate::worklog::WorklogCache::default()),
            config,
            api,
            verifier,
            capabilities,
            project: tokio::sync::Mutex::new(None),
            zone,
        })
    }

    /// The settings.
    pub fn config(&self) -> &JiraConfig {
        &self.config
    }

    /// Sends a request with an optional JSON body to `path` (under the base URL).
    pub(crate) async fn call(
        &self,
        connection: &ConnectionId,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<HttpResponse> {
        let mut request = ApiRequest::new(method, self.api.url(path));
        if let Some(body) = body {
            request = request.json(body)?;
        }
        self.api.send(connection, &request).await
    }

    /// The site URL for browse links (none on the gateway, whose host is not the site).
    pub(crate) fn site(&self) -> Option<&str> {
        (!self.config.base_url.contains("/ex/jira/")).then_some(self.config.base_url.as_str())
    }

    /// The project's issue types, read once.
    pub async fn project_info(&self, connection: &ConnectionId) -> Result<ProjectInfo> {
        let mut cached = self.project.lock().await;
        if let Some(info) = cached.as_ref() {
            return Ok(info.clone());
        }
        let response = self
            .call(
                connection,
                Method::GET,
                &format!("/rest/api/3/project/{}", self.config.project),
                None,
            )
            .await?;
        let info: ProjectInfo = devflow_sync_core::api::parse_json("Jira project", &response.body)?;
        *cached = Some(info.clone());
        Ok(info)
    }

    /// The issue type for `kind` in the project: by configured name, the sub-task type
    /// by its level. [`Error::InvalidConfig`] names the types the project has.
    pub(crate) fn type_for(&self, info: &ProjectInfo, kind: ItemKind) -> Result<IssueTypeInfo> {
        let found = match self.config.issue_types.name(kind) {
            Some(name) => info
                .issue_types
                .iter()
                .find(|t| t.name.eq_ignore_ascii_case(name)),
            None => info.issue_types.iter().find(|t| t.hierarchy_level == -1),
        };
        found.cloned().ok_or_else(|| Error::InvalidConfig {
            pointer: format!("jira.issue_types.{}", kind.as_str()),
            message: format!(
                "project {} has no issue type for {} (it has: {})",
                info.key,
                kind.with_article(),
                info.issue_types
                    .iter()
                    .map(|t| t.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        })
    }

    /// Learns the user's zone from a time Jira wrote.
    pub(crate) fn learn_zone(&self, time: &str) {
        if let Some(t) = crate::wire::parse_time(time) {
            *self.zone.lock().unwrap_or_else(|e| e.into_inner()) = Some(*t.offset());
        }
    }

    /// Remembers an issue this provider wrote.
    pub(crate) fn wrote(&self, id: &str) {
        if id.is_empty() || !id.bytes().all(|b| b.is_ascii_digit()) {
            return;
        }
        let mut recent = self.recent.lock().unwrap_or_else(|e| e.into_inner());
        recent.retain(|r| r != id);
        recent.push_back(id.to_owned());
        while recent.len() > RECONCILE {
            recent.pop_front();
        }
    }

    /// The issues to reconcile, comma-separated (empty for none).
    pub(crate) fn reconcile(&self) -> String {
        let recent = self.recent.lock().unwrap_or_else(|e| e.into_inner());
        recent
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>()
            .join(",")
    }

    pub(crate) fn zone(&self) -> Option<FixedOffset> {
        *self.zone.lock().unwrap_or_else(|e| e.into_inner())
    }
}
