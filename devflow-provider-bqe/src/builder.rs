//! Building the provider from string settings or the environment: the company's API
//! base and a token (a host that connects through OAuth builds [`BqeConfig`] with a
//! [`TokenManager`](devflow_sync_core::auth::TokenManager) instead), with the catalog's
//! rate limits applied.

use devflow_sync_core::auth::{AccessToken, WebhookSecret};
use devflow_sync_core::http::HttpClient;
use devflow_sync_core::{Error, Result};

use crate::client::BqeProvider;
use crate::config::{BqeConfig, IDENTITY_PRODUCTION, IDENTITY_SANDBOX};

/// The environment variables [`BqeBuilder::from_env`] reads (none is shown: the access
/// token and webhook secrets are secret).
pub const ENV_KEYS: [(&str, &str); 6] = [
    ("DEVFLOW_SYNC_BQE_ENVIRONMENT", "environment"),
    ("DEVFLOW_SYNC_BQE_API_BASE", "api_base"),
    ("DEVFLOW_SYNC_BQE_ACCESS_TOKEN", "access_token"),
    ("DEVFLOW_SYNC_BQE_PAGE_SIZE", "page_size"),
    ("DEVFLOW_SYNC_BQE_FIRST_PAGE", "first_page"),
    ("DEVFLOW_SYNC_BQE_WEBHOOK_SECRETS", "webhook_secrets"),
];

/// Builds a [`BqeProvider`] with one access token.
///
/// ```
/// use devflow_provider_bqe::BqeBuilder;
/// let provider = BqeBuilder::new()
///     .set("environment", "sandbox").unwrap()
///     .set("access_token", "eyJ-example").unwrap()
///     .set("page_size", "200").unwrap()
///     .build()
///     .unwrap();
/// assert_eq!(provider.config().api_base, "https://sandbox-api.bqecore.com/api");
/// assert_eq!(provider.config().page_size, 200);
/// assert!(BqeBuilder::new().set("page_size", "5000").is_err(), "BQE takes at most 1,000");
/// assert!(BqeBuilder::new().set("environment", "staging").is_err());
/// assert!(BqeBuilder::new().build().is_err(), "no token");
/// ```
#[derive(Debug)]
pub struct BqeBuilder {
    sandbox: bool,
    api_base: Option<String>,
    token: Option<AccessToken>,
    page_size: usize,
    first_page: usize,
    webhook_secrets: Vec<WebhookSecret>,
    http: Option<HttpClient>,
}

impl Default for BqeBuilder {
    fn default() -> Self {
        Self {
            sandbox: false,
            api_base: None,
            token: None,
            page_size: 500,
            first_page: 0,
            webhook_secrets: Vec::new(),
            http: None,
        }
    }
}

fn invalid(key: &str, message: String) -> Error {
    Error::InvalidConfig {
        pointer: format!("bqe.{key}"),
        message,
    }
}

impl BqeBuilder {
    /// A builder for production with 500 rows a page.
    pub fn new() -> Self {
        Self::default()
    }

    /// The company's API base (the `endpoint` of its token response).
    #[must_use]
    pub fn api_base(mut self, url: impl Into<String>) -> Self {
        self.api_base = Some(url.into());
        self
    }

    /// The access token.
    #[must_use]
    pub fn token(mut self, token: AccessToken) -> Self {
        self.token = Some(token);
        self
    }

    /// The HTTP client to share.
    #[must_use]
    pub fn http(mut self, http: HttpClient) -> Self {
        self.http = Some(http);
        self
    }

    /// Sets one setting by its string key (see [`ENV_KEYS`]; `environment` as
    /// `production` or `sandbox`, choosing the API base from the catalog when
    /// `api_base` is not given). [`Error::InvalidConfig`] names an unknown key or a
    /// bad value, never showing a secret.
    pub fn set(mut self, key: &str, value: &str) -> Result<Self> {
        let v = value.trim();
        let number = |max: usize| {
            v.parse::<usize>()
                .ok()
                .filter(|n| *n <= max)
                .ok_or_else(|| invalid(key, format!("{v:?} is not a number from 0 to {max}")))
        };
        match key {
            "environment" => {
                self.sandbox = match v {
                    "production" | "prod" | "" => false,
                    "sandbox" => true,
                    other => {
                        return Err(invalid(
                            key,
                            format!("{other:?} is not production or sandbox"),
                        ));
                    }
                };
            }
            "api_base" => self.api_base = Some(v.to_owned()),
            "access_token" => self.token = Some(AccessToken::new(v)),
            "page_size" => {
                self.page_size = number(1000)?;
                if self.page_size == 0 {
                    return Err(invalid(key, "BQE takes 1 to 1,000 rows a page".into()));
                }
            }
            "first_page" => self.first_page = number(1)?,
            "webhook_secrets" => self.webhook_secrets.extend(
                v.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(WebhookSecret::new),
            ),
            other => {
                return Err(devflow_sync_core::registry::unknown_setting(
                    "bqe", other, &ENV_KEYS,
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

    /// The identity server of the chosen environment ([`IDENTITY_PRODUCTION`] or
    /// [`IDENTITY_SANDBOX`]), for the host's OAuth app.
    pub fn identity(&self) -> &'static str {
        if self.sandbox {
            IDENTITY_SANDBOX
        } else {
            IDENTITY_PRODUCTION
        }
    }

    /// The provider. [`Error::InvalidConfig`] without an access token.
    pub fn build(self) -> Result<BqeProvider> {
        let token = self.token.ok_or_else(|| {
            invalid(
                "access_token",
                "give an access token (or connect through OAuth with a token manager)".into(),
            )
        })?;
        let api_base = match self.api_base {
            Some(base) => base,
            None => {
                let catalog = crate::catalog()?;
                let variant = if self.sandbox { "sandbox" } else { "prod" };
                catalog
                    .raw
                    .pointer(&format!("/baseUrlVariants/{variant}"))
                    .and_then(|v| v.as_str())
                    .map(str::to_owned)
                    .ok_or_else(|| Error::InvalidConfig {
                        pointer: format!(
                            "devflow_provider_bqe/provider.json#/baseUrlVariants/{variant}"
                        ),
                        message: "missing".into(),
                    })?
            }
        };
        let mut config = BqeConfig::with_token(api_base, token);
        config.page_size = self.page_size;
        config.first_page = self.first_page;
        config.webhook_secrets = self.webhook_secrets;
        let http = match self.http {
            Some(http) => http,
            None => catalog_http(|k| std::env::var(k).ok())?,
        };
        BqeProvider::new(config, http)
    }
}

/// An [`HttpClient`] with the BQE catalog's rate limits, overridden by `lookup`
/// (`DEVFLOW_SYNC_BQE_REQUESTS_PER_MINUTE`, `_BURST`, ...).
pub fn catalog_http(lookup: impl Fn(&str) -> Option<String>) -> Result<HttpClient> {
    crate::catalog()?.http_client(lookup)
}
