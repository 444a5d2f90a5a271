//! The provider's settings: where Confluence is, how to authenticate, which space, where
//! the page tree hangs, and the page templates.

use devflow_sync_core::auth::WebhookSecret;
use devflow_sync_core::{Error, Result};

use crate::storage::Templates;

/// How requests authenticate: the Atlassian authentication Confluence shares with Jira.
pub type ConfluenceAuth = devflow_atlassian::AtlassianAuth;

/// Where PRD pages go in the space.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum PageRoot {
    /// Under the space's homepage (Confluence's default for a new page).
    #[default]
    Homepage,
    /// At the space's root level, beside the homepage.
    RootLevel,
    /// Under this page (by id).
    Page(String),
}

/// The provider's settings.
#[derive(Clone, Debug)]
pub struct ConfluenceConfig {
    /// The site URL (`https://acme.atlassian.net`) for API tokens, or the gateway URL
    /// (`https://api.atlassian.com/ex/confluence/{cloudId}`) for OAuth and scoped tokens;
    /// `/wiki/api/v2` and `/wiki/rest/api` are added.
    pub base_url: String,
    /// The space's key.
    pub space: String,
    /// How requests authenticate.
    pub auth: ConfluenceAuth,
    /// Where PRD pages go.
    pub root: PageRoot,
    /// The page templates per kind.
    pub templates: Templates,
    /// How far back each delta search reaches before the cursor (search lags writes;
    /// default two minutes). Records seen twice are told apart by version.
    pub overlap: std::time::Duration,
    /// Secrets of webhooks relayed to the host signed `X-Hub-Signature` (as Data
    /// Center signs); none to refuse webhooks.
    pub webhook_secrets: Vec<WebhookSecret>,
}

impl ConfluenceConfig {
    /// Settings with PRD pages under the homepage, the default templates and a
    /// two-minute search overlap.
    pub fn new(
        base_url: impl Into<String>,
        space: impl Into<String>,
        auth: ConfluenceAuth,
    ) -> Self {
        Self {
            base_url: base_url.into().trim_end_matches('/').to_owned(),
            space: space.into(),
            auth,
            root: PageRoot::default(),
            templates: Templates::default(),
            overlap: std::time::Duration::from_secs(120),
            webhook_secrets: Vec::new(),
        }
    }

    pub(crate) fn check(&self) -> Result<()> {
        let ok = !self.space.is_empty()
            && self.space.len() <= 255
            && self
                .space
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '~' || c == '_');
        if !ok {
            return Err(Error::InvalidConfig {
                pointer: "confluence.space".into(),
                message: format!("{:?} is not a Confluence space key", self.space),
            });
        }
        if !(self.base_url.starts_with("https://") || self.base_url.starts_with("http://")) {
            return Err(Error::InvalidConfig {
                pointer: "confluence.base_url".into(),
                message: format!("{:?} is not an http(s) URL", self.base_url),
            });
        }
        Ok(())
    }
}

/// The OAuth 2.0 (3LO) settings of an Atlassian app for Confluence, from the catalog
/// (`audience=api.atlassian.com`, `prompt=consent`, JSON token requests with the client
/// credentials in the body, Confluence's granular scopes and `offline_access`). For one
/// consent serving Jira and Confluence, add the other product's scopes to `scopes`.
///
/// ```
/// use devflow_sync_core::auth::ClientSecret;
/// let config = devflow_provider_confluence::oauth_config("app-id", ClientSecret::new("s")).unwrap();
/// assert!(config.json_token_requests && config.credentials_in_body);
/// assert!(config.scopes.iter().any(|s| s == "read:page:confluence"));
/// ```
pub fn oauth_config(
    client_id: &str,
    client_secret: devflow_sync_core::auth::ClientSecret,
) -> Result<devflow_sync_core::auth::OAuthConfig> {
    let catalog = crate::catalog().map_err(|e| Error::InvalidConfig {
        pointer: "confluence/provider.json".into(),
        message: e.to_string(),
    })?;
    devflow_sync_core::auth::OAuthConfig::from_catalog(&catalog, client_id, Some(client_secret))
}
