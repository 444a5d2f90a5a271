//! Building the provider: from code, from string settings, or from the environment,
//! with the catalog's rate limits and OAuth settings applied.

use devflow_atlassian::AtlassianSettings;
use devflow_sync_core::auth::{ClientSecret, OAuthConfig, WebhookSecret};
use devflow_sync_core::http::HttpClient;
use devflow_sync_core::model::ItemKind;
use devflow_sync_core::{Error, Result};

use crate::client::JiraProvider;
use crate::config::{IssueTypeNames, JiraAuth, JiraConfig};

/// The environment variables [`JiraBuilder::from_env`] reads (none is shown: the API
/// token and webhook secrets are secret).
pub const ENV_KEYS: [(&str, &str); 8] = [
    ("DEVFLOW_SYNC_JIRA_BASE_URL", "base_url"),
    ("DEVFLOW_SYNC_JIRA_PROJECT", "project"),
    ("DEVFLOW_SYNC_JIRA_EMAIL", "email"),
    ("DEVFLOW_SYNC_JIRA_API_TOKEN", "api_token"),
    ("DEVFLOW_SYNC_JIRA_API_TOKEN_EXPIRES", "api_token_expires"),
    ("DEVFLOW_SYNC_JIRA_ACCESS_TOKEN", "access_token"),
    ("DEVFLOW_SYNC_JIRA_WEBHOOK_SECRETS", "webhook_secrets"),
    ("DEVFLOW_SYNC_JIRA_ISSUE_TYPES", "issue_types"),
];

/// Builds a [`JiraProvider`].
///
/// ```
/// use devflow_provider_jira::JiraBuilder;
/// let provider = JiraBuilder::new()
///     .set("base_url", "https://acme.atlassian.net").unwrap()
///     .set("project", "KAN").unwrap()
///     .set("email", "me@acme.test").unwrap()
///     .set("api_token", "ATATT-example").unwrap()
///     .set("issue_types", "subtask=Sub-task, story=User Story").unwrap()
///     .build()
///     .unwrap();
/// assert_eq!(provider.config().issue_types.name(devflow_sync_core::model::ItemKind::Story), Some("User Story"));
/// assert!(JiraBuilder::new().set("colour", "blue").is_err());
/// assert!(JiraBuilder::new().set("project", "KAN").unwrap().build().is_err(), "no site, no credentials");
/// ```
#[derive(Debug, Default)]
pub struct JiraBuilder {
    shared: AtlassianSettings,
    project: Option<String>,
    issue_types: IssueTypeNames,
    http: Option<HttpClient>,
}

fn invalid(key: &str, message: String) -> Error {
    devflow_atlassian::invalid("jira", key, message)
}

impl JiraBuilder {
    /// A builder with the defaults.
    pub fn new() -> Self {
        Self::default()
    }

    /// The site URL or the gateway URL.
    #[must_use]
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.shared.base_url = Some(url.into());
        self
    }

    /// The project synced (its key).
    #[must_use]
    pub fn project(mut self, key: impl Into<String>) -> Self {
        self.project = Some(key.into());
        self
    }

    /// How requests authenticate.
    #[must_use]
    pub fn auth(mut self, auth: JiraAuth) -> Self {
        self.shared.auth = Some(auth);
        self
    }

    /// Adds an admin webhook secret.
    #[must_use]
    pub fn webhook_secret(mut self, secret: WebhookSecret) -> Self {
        self.shared.webhook_secrets.push(secret);
        self
    }

    /// The issue type standing for `kind`.
    #[must_use]
    pub fn issue_type(mut self, kind: ItemKind, name: impl Into<String>) -> Self {
        self.issue_types.names.insert(kind, name.into());
        self
    }

    /// The HTTP client to share.
    #[must_use]
    pub fn http(mut self, http: HttpClient) -> Self {
        self.http = Some(http);
        self
    }

    /// Sets one setting by its string key (see [`ENV_KEYS`]; `issue_types` as
    /// `story=User Story, subtask=Sub-task`; `api_token_expires` as `yyyy-MM-dd` or RFC
    /// 3339). [`Error::InvalidConfig`] names an unknown key or a bad value, never showing
    /// a secret.
    pub fn set(mut self, key: &str, value: &str) -> Result<Self> {
        if self.shared.set("jira", key, value)? {
            return Ok(self);
        }
        let v = value.trim();
        match key {
            "project" => self.project = Some(v.to_owned()),
            "issue_types" => {
                for pair in v.split(',').map(str::trim).filter(|p| !p.is_empty()) {
                    let (kind, name) = pair
                        .split_once('=')
                        .ok_or_else(|| invalid(key, format!("{pair:?} is not level=Type Name")))?;
                    let kind: ItemKind =
                        serde_json::from_value(serde_json::json!(kind.trim().to_ascii_lowercase()))
                            .map_err(|_| {
                                invalid(
                                    key,
                                    format!("{kind:?} is not prd, epic, story, task or subtask"),
                                )
                            })?;
                    self.issue_types.names.insert(kind, name.trim().to_owned());
                }
            }
            other => {
                return Err(devflow_sync_core::registry::unknown_setting(
                    "jira", other, &ENV_KEYS,
                ));
            }
        }
        Ok(self)
    }

    /// The settings `lookup` has for the [`ENV_KEYS`].
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self> {
        devflow_sync_core::registry::settings_from_lookup(Self::new(), &ENV_KEYS, lookup, Self::set)
    }

    /// The settings from the environment ([`ENV_KEYS`]).
    pub fn from_env() -> Result<Self> {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    /// The provider. [`Error::InvalidConfig`] for a missing site, project or
    /// credentials, a wrong URL, or an API token without its email.
    pub fn build(self) -> Result<JiraProvider> {
        let base_url = self.shared.base_url("jira")?;
        let project = self
            .project
            .ok_or_else(|| invalid("project", "give the project key".into()))?;
        let auth = self.shared.auth("jira")?;
        let mut config = JiraConfig::new(base_url, project, auth);
        config.webhook_secrets = self.shared.webhook_secrets;
        config.issue_types = self.issue_types;
        let http = match self.http {
            Some(http) => http,
            None => catalog_http(|k| std::env::var(k).ok())?,
        };
        JiraProvider::new(config, http)
    }
}

/// Jira's 429s that hold one endpoint (`jira-burst-based`) or one issue
/// (`jira-per-issue-on-write`): retried after their wait without pausing other calls.
/// The quota reasons (`jira-quota-global-based`, `jira-quota-tenant-based`) pause every
/// call until the reset.
pub const REQUEST_SCOPED_LIMITS: [(&str, &str); 2] = [
    ("RateLimit-Reason", "jira-burst-based"),
    ("RateLimit-Reason", "jira-per-issue-on-write"),
];

/// An [`HttpClient`] with the Jira catalog's rate limits and [`REQUEST_SCOPED_LIMITS`], overridden by `lookup`
/// (`DEVFLOW_SYNC_JIRA_REQUESTS_PER_MINUTE`, `_BURST`, ...).
pub fn catalog_http(lookup: impl Fn(&str) -> Option<String>) -> Result<HttpClient> {
    let catalog = crate::catalog()?;
    let mut config = catalog.http_config(lookup)?;
    config.request_scoped_limits = REQUEST_SCOPED_LIMITS
        .iter()
        .map(|(h, v)| ((*h).to_owned(), (*v).to_owned()))
        .collect();
    HttpClient::builder().config(config).build()
}

/// Atlassian's OAuth 2.0 (3LO) settings from the catalog: `audience=api.atlassian.com`
/// and `prompt=consent` on the authorization URL, JSON token requests with the client
/// credentials in the body, the scopes (with `offline_access` for a rotating refresh
/// token).
///
/// ```
/// use devflow_sync_core::auth::ClientSecret;
/// let config = devflow_provider_jira::oauth_config("app-id", ClientSecret::new("s")).unwrap();
/// assert_eq!(config.token_url, "https://auth.atlassian.com/oauth/token");
/// assert!(config.json_token_requests && config.credentials_in_body && !config.pkce);
/// assert!(config.auth_params.contains(&("audience".into(), "api.atlassian.com".into())));
/// assert!(config.scopes.iter().any(|s| s == "offline_access"));
/// ```
pub fn oauth_config(client_id: &str, client_secret: ClientSecret) -> Result<OAuthConfig> {
    let catalog = crate::catalog()?;
    OAuthConfig::from_catalog(&catalog, client_id, Some(client_secret))
}
