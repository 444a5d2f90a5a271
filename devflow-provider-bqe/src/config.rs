//! The provider's settings: the company's API base (the token response's `endpoint`),
//! how requests authenticate, and how lists are read.

use std::sync::Arc;

use devflow_sync_core::api::{StaticToken, TokenSource};
use devflow_sync_core::auth::{
    AccessToken, ClientSecret, OAuthConfig, ProviderTokenFields, TokenManager, WebhookSecret,
};
use devflow_sync_core::webhook::SignatureScheme;
use devflow_sync_core::{Error, Result};

/// The hosts of BQE's identity server.
pub const IDENTITY_PRODUCTION: &str = "https://api-identity.bqecore.com/idp";
/// The sandbox identity server.
pub const IDENTITY_SANDBOX: &str = "https://sandbox-api-identity.bqecore.com/idp";

/// BQE's revocation endpoint and the app's credentials for it.
#[derive(Clone, Debug)]
pub struct Revocation {
    /// `{identity}/connect/revocation`.
    pub url: String,
    /// The app's client id.
    pub client_id: String,
    /// The app's secret (web apps).
    pub client_secret: Option<ClientSecret>,
}

/// The provider's settings.
#[derive(Clone, Debug)]
pub struct BqeConfig {
    /// The company's API base: the `endpoint` of its token response (see
    /// [`endpoint_of`]), e.g. `https://api.bqecore.com/api`.
    pub api_base: String,
    /// Where access tokens come from (a [`TokenManager`] refreshing them, or one token).
    pub tokens: Arc<dyn TokenSource>,
    /// Rows per list page (BQE: at most 1,000; default 500).
    pub page_size: usize,
    /// The number of the first page (0 as in BQE's Node sample; some clients use 1).
    pub first_page: usize,
    /// How far back each delta query reaches before the cursor (default five minutes).
    pub overlap: std::time::Duration,
    /// Whether deletions are read from `/deletedhistory` (default on).
    pub deleted_history: bool,
    /// Where and as whom tokens are revoked (`{identity}/connect/revocation`), when the
    /// host wants [`Provider::revoke`](devflow_sync_core::provider::Provider::revoke).
    pub revocation: Option<Revocation>,
    /// Secrets of webhook deliveries; none refuses webhooks.
    pub webhook_secrets: Vec<WebhookSecret>,
    /// How deliveries prove where they come from. BQE documents no scheme, so the host
    /// chooses: by default HMAC-SHA256 of the body as bare hex in `X-BQE-Signature`
    /// ([`crate::webhook::SIGNATURE_HEADER`]); or
    /// [`SignatureScheme::shared_token`] with the header the host put in the
    /// subscription (the secret itself, compared in constant time; weaker: it does not
    /// bind the body).
    pub webhook_scheme: SignatureScheme,
}

impl BqeConfig {
    /// Settings for the API at `api_base` with tokens from `tokens`.
    pub fn new(api_base: impl Into<String>, tokens: Arc<dyn TokenSource>) -> Self {
        Self {
            api_base: api_base.into().trim_end_matches('/').to_owned(),
            tokens,
            page_size: 500,
            first_page: 0,
            overlap: std::time::Duration::from_secs(300),
            deleted_history: true,
            revocation: None,
            webhook_secrets: Vec::new(),
            webhook_scheme: SignatureScheme::hmac_sha256(crate::webhook::SIGNATURE_HEADER, ""),
        }
    }

    /// Settings with one access token for every connection.
    pub fn with_token(api_base: impl Into<String>, token: AccessToken) -> Self {
        Self::new(api_base, Arc::new(StaticToken::new(token)))
    }

    /// Settings with tokens from a [`TokenManager`].
    pub fn with_manager(api_base: impl Into<String>, manager: Arc<TokenManager>) -> Self {
        Self::new(api_base, manager)
    }

    pub(crate) fn check(&self) -> Result<()> {
        if !(1..=1000).contains(&self.page_size) {
            return Err(Error::InvalidConfig {
                pointer: "bqe.page_size".into(),
                message: format!("{} rows per page: BQE takes 1 to 1,000", self.page_size),
            });
        }
        Ok(())
    }
}

/// The API base a grant must call: the token response's `endpoint` (without its
/// trailing `/`), from [`TokenGrant::fields`](devflow_sync_core::auth::TokenGrant::fields). [`Error::InvalidInput`] when the response
/// has none.
///
/// ```
/// use devflow_sync_core::auth::ProviderTokenFields;
/// let fields = ProviderTokenFields { endpoint: Some("https://api.bqecore.com/api/".into()) };
/// assert_eq!(devflow_provider_bqe::endpoint_of(&fields).unwrap(), "https://api.bqecore.com/api");
/// assert!(devflow_provider_bqe::endpoint_of(&ProviderTokenFields::default()).is_err());
/// ```
pub fn endpoint_of(fields: &ProviderTokenFields) -> Result<String> {
    fields
        .endpoint
        .as_deref()
        .map(|e| e.trim().trim_end_matches('/').to_owned())
        .filter(|e| !e.is_empty())
        .ok_or_else(|| {
            Error::invalid_input("/endpoint", "BQE's token response names no API endpoint")
        })
}

/// BQE's OAuth settings from the catalog, for an app with a client secret (a web app)
/// or without one (a public app: PKCE S256). `identity` is [`IDENTITY_PRODUCTION`],
/// [`IDENTITY_SANDBOX`] or a test server's `/idp` base.
pub fn oauth_config(
    identity: &str,
    client_id: &str,
    secret: Option<ClientSecret>,
) -> Result<OAuthConfig> {
    let catalog = crate::catalog().map_err(|e| Error::InvalidConfig {
        pointer: "bqe/provider.json".into(),
        message: e.to_string(),
    })?;
    let public = secret.is_none();
    let mut config = OAuthConfig::from_catalog(&catalog, client_id, secret)?;
    let identity = identity.trim_end_matches('/');
    config.auth_url = Some(format!("{identity}/connect/authorize"));
    config.token_url = format!("{identity}/connect/token");
    config.pkce = public;
    Ok(config)
}
