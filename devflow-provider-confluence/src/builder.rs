//! Building the provider: from code, from string settings, or from the environment,
//! with the catalog's rate limits applied.

use devflow_atlassian::AtlassianSettings;
use devflow_sync_core::auth::WebhookSecret;
use devflow_sync_core::http::HttpClient;
use devflow_sync_core::{Error, Result};

use crate::client::ConfluenceProvider;
use crate::config::{ConfluenceAuth, ConfluenceConfig, PageRoot};

/// The environment variables [`ConfluenceBuilder::from_env`] reads (none is shown: the
/// API token, the access token and webhook secrets are secret).
pub const ENV_KEYS: [(&str, &str); 8] = [
    ("DEVFLOW_SYNC_CONFLUENCE_BASE_URL", "base_url"),
    ("DEVFLOW_SYNC_CONFLUENCE_SPACE", "space"),
    ("DEVFLOW_SYNC_CONFLUENCE_ROOT", "root"),
    ("DEVFLOW_SYNC_CONFLUENCE_EMAIL", "email"),
    ("DEVFLOW_SYNC_CONFLUENCE_API_TOKEN", "api_token"),
    (
        "DEVFLOW_SYNC_CONFLUENCE_API_TOKEN_EXPIRES",
        "api_token_expires",
    ),
    ("DEVFLOW_SYNC_CONFLUENCE_ACCESS_TOKEN", "access_token"),
    ("DEVFLOW_SYNC_CONFLUENCE_WEBHOOK_SECRETS", "webhook_secrets"),
];

/// Builds a [`ConfluenceProvider`].
///
/// ```
/// use devflow_provider_confluence::{ConfluenceBuilder, PageRoot};
/// let provider = ConfluenceBuilder::new()
///     .set("base_url", "https://acme.atlassian.net").unwrap()
///     .set("space", "ENG").unwrap()
///     .set("root", "98305").unwrap()
///     .set("email", "me@acme.test").unwrap()
///     .set("api_token", "ATATT-example").unwrap()
///     .build()
///     .unwrap();
/// assert_eq!(provider.config().root, PageRoot::Page("98305".into()));
/// assert!(ConfluenceBuilder::new().set("colour", "blue").is_err());
/// assert!(ConfluenceBuilder::new().set("root", "../x").is_err());
/// assert!(ConfluenceBuilder::new().set("space", "ENG").unwrap().build().is_err(), "no site, no credentials");
/// ```
#[derive(Debug, Default)]
pub struct ConfluenceBuilder {
    shared: AtlassianSettings,
    space: Option<String>,
    root: PageRoot,
    http: Option<HttpClient>,
}

fn invalid(key: &str, message: String) -> Error {
    devflow_atlassian::invalid("confluence", key, message)
}

impl ConfluenceBuilder {
    /// A builder with the defaults (PRD pages under the space's homepage).
    pub fn new() -> Self {
        Self::default()
    }

    /// The site URL or the gateway URL.
    #[must_use]
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.shared.base_url = Some(url.into());
        self
    }

    /// The space synced (its key).
    #[must_use]
    pub fn space(mut self, key: impl Into<String>) -> Self {
        self.space = Some(key.into());
        self
    }

    /// Where PRD pages go.
    #[must_use]
    pub fn root(mut self, root: PageRoot) -> Self {
        self.root = root;
        self
    }

    /// How requests authenticate.
    #[must_use]
    pub fn auth(mut self, auth: ConfluenceAuth) -> Self {
        self.shared.auth = Some(auth);
        self
    }

    /// Adds a webhook secret.
    #[must_use]
    pub fn webhook_secret(mut self, secret: WebhookSecret) -> Self {
        self.shared.webhook_secrets.push(secret);
        self
    }

    /// The HTTP client to share.
    #[must_use]
    pub fn http(mut self, http: HttpClient) -> Self {
        self.http = Some(http);
        self
    }

    /// Sets one setting by its string key (see [`ENV_KEYS`]; `root` as `homepage`,
    /// `root` (the space's root level) or a page id). [`Error::InvalidConfig`] names an
    /// unknown key or a bad value, never showing a secret.
    pub fn set(mut self, key: &str, value: &str) -> Result<Self> {
        if self.shared.set("confluence", key, value)? {
            return Ok(self);
        }
        let v = value.trim();
        match key {
            "space" => self.space = Some(v.to_owned()),
            "root" => {
                self.root = match v {
                    "" | "homepage" => PageRoot::Homepage,
                    "root" => PageRoot::RootLevel,
                    id if id.chars().all(|c| c.is_ascii_digit()) => PageRoot::Page(id.to_owned()),
                    other => {
                        return Err(invalid(
                            key,
                            format!("{other:?} is not homepage, root or a page id"),
                        ));
                    }
                };
            }
            other => {
                return Err(devflow_sync_core::registry::unknown_setting(
                    "confluence",
                    other,
                    &ENV_KEYS,
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

    /// The provider. [`Error::InvalidConfig`] for a missing site, space or credentials,
    /// a wrong URL or space key, or an API token without its email.
    pub fn build(self) -> Result<ConfluenceProvider> {
        let base_url = self.shared.base_url("confluence")?;
        let space = self
            .space
            .ok_or_else(|| invalid("space", "give the space key".into()))?;
        let auth = self.shared.auth("confluence")?;
        let mut config = ConfluenceConfig::new(base_url, space, auth);
        config.root = self.root;
        config.webhook_secrets = self.shared.webhook_secrets;
        let http = match self.http {
            Some(http) => http,
            None => catalog_http(|k| std::env::var(k).ok())?,
        };
        ConfluenceProvider::new(config, http)
    }
}

/// An [`HttpClient`] with the Confluence catalog's rate limits, overridden by `lookup`
/// (`DEVFLOW_SYNC_CONFLUENCE_REQUESTS_PER_MINUTE`, `_BURST`, ...).
pub fn catalog_http(lookup: impl Fn(&str) -> Option<String>) -> Result<HttpClient> {
    crate::catalog()?.http_client(lookup)
}
