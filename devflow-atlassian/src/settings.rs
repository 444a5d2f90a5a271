//! The settings Jira's and Confluence's builders share, by string key (a host's settings
//! store, the environment): the site, the credentials and the webhook secrets.

use chrono::{DateTime, NaiveDate, Utc};
use devflow_sync_core::auth::{AccessToken, WebhookSecret};
use devflow_sync_core::{Error, Result};

use crate::AtlassianAuth;

/// The keys [`AtlassianSettings::set`] takes.
pub const SHARED_KEYS: [&str; 6] = [
    "base_url",
    "email",
    "api_token",
    "api_token_expires",
    "access_token",
    "webhook_secrets",
];

/// The site, the credentials and the webhook secrets of one product's connection.
///
/// ```
/// use devflow_atlassian::{AtlassianAuth, AtlassianSettings};
/// let mut s = AtlassianSettings::default();
/// assert!(s.set("confluence", "email", "me@acme.test").unwrap());
/// assert!(s.set("confluence", "api_token", "ATATT-x").unwrap());
/// assert!(s.set("confluence", "api_token_expires", "2027-01-31").unwrap());
/// assert!(!s.set("confluence", "space", "ENG").unwrap(), "not a shared key");
/// assert!(s.set("confluence", "api_token_expires", "soon").is_err());
/// assert!(matches!(s.auth("confluence").unwrap(), AtlassianAuth::ApiToken { expires: Some(_), .. }));
/// ```
#[derive(Debug, Default)]
pub struct AtlassianSettings {
    /// The site URL or the gateway URL.
    pub base_url: Option<String>,
    /// The account's email (with an API token).
    pub email: Option<String>,
    /// The API token.
    pub api_token: Option<AccessToken>,
    /// When the API token expires.
    pub expires: Option<DateTime<Utc>>,
    /// Credentials given whole (OAuth), taking precedence over the API token.
    pub auth: Option<AtlassianAuth>,
    /// The webhook secrets.
    pub webhook_secrets: Vec<WebhookSecret>,
}

/// An [`Error::InvalidConfig`] at `{product}.{key}`.
pub fn invalid(product: &str, key: &str, message: String) -> Error {
    Error::InvalidConfig {
        pointer: format!("{product}.{key}"),
        message,
    }
}

impl AtlassianSettings {
    /// Takes `key` if it is one of [`SHARED_KEYS`] (`false` when it is not);
    /// `api_token_expires` as `yyyy-MM-dd` or RFC 3339, `webhook_secrets` comma
    /// separated. [`Error::InvalidConfig`] at `{product}.{key}` for a bad value, never
    /// showing a secret.
    pub fn set(&mut self, product: &str, key: &str, value: &str) -> Result<bool> {
        let v = value.trim();
        match key {
            "base_url" => self.base_url = Some(v.to_owned()),
            "email" => self.email = Some(v.to_owned()),
            "api_token" => self.api_token = Some(AccessToken::new(v)),
            "api_token_expires" => {
                let at = DateTime::parse_from_rfc3339(v)
                    .map(|t| t.with_timezone(&Utc))
                    .ok()
                    .or_else(|| {
                        NaiveDate::parse_from_str(v, "%Y-%m-%d")
                            .ok()
                            .and_then(|d| d.and_hms_opt(0, 0, 0))
                            .map(|t| t.and_utc())
                    })
                    .ok_or_else(|| {
                        invalid(product, key, format!("{v:?} is not a date (yyyy-MM-dd)"))
                    })?;
                self.expires = Some(at);
            }
            "access_token" => self.auth = Some(AtlassianAuth::bearer(AccessToken::new(v))),
            "webhook_secrets" => self.webhook_secrets.extend(
                v.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(WebhookSecret::new),
            ),
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// The site URL; [`Error::InvalidConfig`] when it was not given.
    pub fn base_url(&self, product: &str) -> Result<String> {
        self.base_url.clone().ok_or_else(|| {
            invalid(
                product,
                "base_url",
                "give the site URL (https://SITE.atlassian.net) or the gateway URL".into(),
            )
        })
    }

    /// The credentials: given whole, or an API token with its email.
    /// [`Error::InvalidConfig`] for none, or an API token without its email.
    pub fn auth(&self, product: &str) -> Result<AtlassianAuth> {
        match (&self.auth, &self.api_token, &self.email) {
            (Some(auth), _, _) => Ok(auth.clone()),
            (None, Some(token), Some(email)) => Ok(AtlassianAuth::ApiToken {
                email: email.clone(),
                token: token.clone(),
                expires: self.expires,
            }),
            (None, Some(_), None) => Err(invalid(
                product,
                "email",
                "an API token needs the account's email".into(),
            )),
            (None, None, _) => Err(invalid(
                product,
                "api_token",
                "give an API token with its email, or OAuth tokens".into(),
            )),
        }
    }
}
