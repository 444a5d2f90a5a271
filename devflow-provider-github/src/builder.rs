//! Building the provider: from code, from string settings, or from the environment,
//! with the catalog's rate limits and OAuth settings applied.

use devflow_sync_core::auth::{AccessToken, ClientSecret, OAuthConfig, WebhookSecret};
use devflow_sync_core::http::HttpClient;
use devflow_sync_core::{Error, Result};

use crate::client::GitHubProvider;
use crate::config::{API_VERSION, GitHubConfig, TokenSource};

/// The default API base URL.
pub const DEFAULT_BASE_URL: &str = "https://api.github.com";

/// The environment variables [`GitHubBuilder::from_env`] reads (none holds a secret
/// but `DEVFLOW_SYNC_GITHUB_TOKEN` and `DEVFLOW_SYNC_GITHUB_WEBHOOK_SECRETS`, which are
/// never shown).
pub const ENV_KEYS: [(&str, &str); 6] = [
    ("DEVFLOW_SYNC_GITHUB_BASE_URL", "base_url"),
    ("DEVFLOW_SYNC_GITHUB_REPOSITORIES", "repositories"),
    ("DEVFLOW_SYNC_GITHUB_TOKEN", "token"),
    ("DEVFLOW_SYNC_GITHUB_WEBHOOK_SECRETS", "webhook_secrets"),
    ("DEVFLOW_SYNC_GITHUB_API_VERSION", "api_version"),
    ("DEVFLOW_SYNC_GITHUB_PRD_MILESTONES", "prd_milestones"),
];

/// Builds a [`GitHubProvider`]. Defaults: `https://api.github.com`, API version
/// `2022-11-28`, PRD milestones on, and an [`HttpClient`] with the catalog's rate
/// limits (overridable with `DEVFLOW_SYNC_GITHUB_REQUESTS_PER_MINUTE` and friends)
/// unless one is given.
///
/// ```
/// use devflow_provider_github::GitHubBuilder;
/// let provider = GitHubBuilder::new()
///     .set("repositories", "acme/app, acme/web").unwrap()
///     .set("token", "ghp_example").unwrap()
///     .build()
///     .unwrap();
/// # let _ = provider;
/// assert!(GitHubBuilder::new().set("colour", "blue").is_err());
/// assert!(GitHubBuilder::new().build().is_err(), "no repository, no token");
/// ```
#[derive(Debug, Default)]
pub struct GitHubBuilder {
    base_url: Option<String>,
    repositories: Vec<String>,
    tokens: Option<TokenSource>,
    webhook_secrets: Vec<WebhookSecret>,
    api_version: Option<String>,
    prd_milestones: Option<bool>,
    http: Option<HttpClient>,
}

impl GitHubBuilder {
    /// A builder with the defaults.
    pub fn new() -> Self {
        Self::default()
    }

    /// The API base URL set so far ([`DEFAULT_BASE_URL`] when none was).
    pub fn api_url(&self) -> &str {
        self.base_url.as_deref().unwrap_or(DEFAULT_BASE_URL)
    }

    /// The repositories set so far (`owner/name`).
    pub fn repositories(&self) -> &[String] {
        &self.repositories
    }

    /// The API base URL (`https://HOST/api/v3` for GitHub Enterprise Server).
    #[must_use]
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = Some(url.into());
        self
    }

    /// Adds a repository (`owner/name`); issues are created in the first.
    #[must_use]
    pub fn repository(mut self, full_name: impl Into<String>) -> Self {
        self.repositories.push(full_name.into());
        self
    }

    /// Where tokens come from.
    #[must_use]
    pub fn tokens(mut self, tokens: TokenSource) -> Self {
        self.tokens = Some(tokens);
        self
    }

    /// A personal access token for every connection.
    #[must_use]
    pub fn token(self, token: AccessToken) -> Self {
        self.tokens(TokenSource::Static(token))
    }

    /// Adds an active webhook secret.
    #[must_use]
    pub fn webhook_secret(mut self, secret: WebhookSecret) -> Self {
        self.webhook_secrets.push(secret);
        self
    }

    /// The `X-GitHub-Api-Version` sent.
    #[must_use]
    pub fn api_version(mut self, version: impl Into<String>) -> Self {
        self.api_version = Some(version.into());
        self
    }

    /// Whether PRDs get milestones (default on).
    #[must_use]
    pub fn prd_milestones(mut self, on: bool) -> Self {
        self.prd_milestones = Some(on);
        self
    }

    /// The HTTP client to share (its limits are the host's).
    #[must_use]
    pub fn http(mut self, http: HttpClient) -> Self {
        self.http = Some(http);
        self
    }

    /// Sets one setting by its string key (`base_url`, `repositories` as a
    /// comma-separated list, `token`, `webhook_secrets` comma-separated, `api_version`,
    /// `prd_milestones` as `true`/`false`). [`Error::InvalidConfig`] names an unknown
    /// key or a bad value, never showing a secret.
    pub fn set(mut self, key: &str, value: &str) -> Result<Self> {
        let list = |v: &str| -> Vec<String> {
            v.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect()
        };
        match key {
            "base_url" => self.base_url = Some(value.trim().to_owned()),
            "repositories" => self.repositories.extend(list(value)),
            "token" => self.tokens = Some(TokenSource::Static(AccessToken::new(value.trim()))),
            "webhook_secrets" => self
                .webhook_secrets
                .extend(list(value).into_iter().map(WebhookSecret::new)),
            "api_version" => self.api_version = Some(value.trim().to_owned()),
            "prd_milestones" => {
                self.prd_milestones =
                    Some(value.trim().parse().map_err(|_| Error::InvalidConfig {
                        pointer: "github.prd_milestones".into(),
                        message: format!("{value:?} is not true or false"),
                    })?);
            }
            other => {
                return Err(devflow_sync_core::registry::unknown_setting(
                    "github", other, &ENV_KEYS,
                ));
            }
        }
        Ok(self)
    }

    /// The settings `lookup` has for the [`ENV_KEYS`] (a host's settings store).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self> {
        devflow_sync_core::registry::settings_from_lookup(Self::new(), &ENV_KEYS, lookup, Self::set)
    }

    /// The settings from the environment ([`ENV_KEYS`]).
    pub fn from_env() -> Result<Self> {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    /// The provider. [`Error::InvalidConfig`] for a missing token source or
    /// repository, a wrong base URL, or rate-limit overrides that do not parse.
    pub fn build(self) -> Result<GitHubProvider> {
        let tokens = self.tokens.ok_or_else(|| Error::InvalidConfig {
            pointer: "github.token".into(),
            message: "give a token source (a token, OAuth, or a GitHub App installation)".into(),
        })?;
        let mut config = GitHubConfig::new(
            self.base_url.unwrap_or_else(|| DEFAULT_BASE_URL.to_owned()),
            self.repositories,
            tokens,
        );
        config.webhook_secrets = self.webhook_secrets;
        config.api_version = self.api_version.unwrap_or_else(|| API_VERSION.to_owned());
        config.prd_milestones = self.prd_milestones.unwrap_or(true);
        let http = match self.http {
            Some(http) => http,
            None => catalog_http(|k| std::env::var(k).ok())?,
        };
        GitHubProvider::new(config, http)
    }
}

/// An [`HttpClient`] with the GitHub catalog's rate limits, overridden by `lookup`
/// (`DEVFLOW_SYNC_GITHUB_REQUESTS_PER_MINUTE`, `_BURST`, ...).
pub fn catalog_http(lookup: impl Fn(&str) -> Option<String>) -> Result<HttpClient> {
    crate::catalog()?.http_client(lookup)
}

/// GitHub's OAuth settings from its catalog (endpoints, scopes, PKCE, token errors
/// answered with 200, credentials in the body) for an OAuth app's `client_id`.
///
/// ```
/// use devflow_sync_core::auth::ClientSecret;
/// let config = devflow_provider_github::oauth_config("Iv1.app", Some(ClientSecret::new("s"))).unwrap();
/// assert_eq!(config.token_url, "https://github.com/login/oauth/access_token");
/// assert!(config.errors_as_200 && config.credentials_in_body && config.pkce);
/// ```
pub fn oauth_config(client_id: &str, client_secret: Option<ClientSecret>) -> Result<OAuthConfig> {
    let catalog = crate::catalog()?;
    OAuthConfig::from_catalog(&catalog, client_id, client_secret)
}
