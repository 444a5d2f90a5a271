//! OAuth 2.0 on the `oauth2` crate, driven through [`HttpClient`]: authorization code
//! with PKCE S256, client credentials and refresh, plus the providers' quirks.

use std::fmt;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use oauth2::basic::{
    BasicErrorResponse, BasicErrorResponseType, BasicRevocationErrorResponse,
    BasicTokenIntrospectionResponse, BasicTokenType,
};
use oauth2::{
    AuthType, AuthUrl, AuthorizationCode, ClientId, CsrfToken, EndpointMaybeSet, EndpointNotSet,
    EndpointSet, ExtraTokenFields, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl,
    RequestTokenError, Scope, StandardRevocableToken, StandardTokenResponse, TokenResponse,
    TokenUrl,
};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};

use super::oauth_http::OAuthHttp;
use super::{ClientSecret, PkceVerifier, RefreshToken, StateSigner};
use crate::clock::{Clock, SystemClock};
use crate::error::{Error, Result};
use crate::http::{HttpClient, KnownSecrets};
use crate::model::{ConnectionId, ProviderKey};
use crate::store::Credentials;

/// The longest lifetime a token response can give a token (`expires_in` beyond it is
/// cut to it).
pub const MAX_TOKEN_LIFETIME: std::time::Duration =
    std::time::Duration::from_secs(10 * 365 * 24 * 3600);

/// Fields some providers add to their token response.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProviderTokenFields {
    /// BQE CORE: the API base URL this grant must call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
}

impl ExtraTokenFields for ProviderTokenFields {}

type TokenResponseOf = StandardTokenResponse<ProviderTokenFields, BasicTokenType>;
type Client = oauth2::Client<
    BasicErrorResponse,
    TokenResponseOf,
    BasicTokenIntrospectionResponse,
    StandardRevocableToken,
    BasicRevocationErrorResponse,
    EndpointMaybeSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointSet,
>;

/// One provider's OAuth settings.
#[derive(Clone)]
pub struct OAuthConfig {
    /// The provider.
    pub provider: ProviderKey,
    /// The client id.
    pub client_id: String,
    /// The client secret (public clients have none).
    pub client_secret: Option<ClientSecret>,
    /// The authorization endpoint (not needed for client credentials).
    pub auth_url: Option<String>,
    /// The token endpoint.
    pub token_url: String,
    /// Where the provider sends the person back.
    pub redirect_url: Option<String>,
    /// The scopes asked for.
    pub scopes: Vec<String>,
    /// Whether the authorization code flow uses PKCE (S256).
    pub pkce: bool,
    /// Extra authorization-request parameters (Atlassian: `audience`, `prompt`).
    pub auth_params: Vec<(String, String)>,
    /// Send the client credentials in the body instead of HTTP basic auth.
    pub credentials_in_body: bool,
    /// Send token requests as JSON instead of a form (Atlassian documents JSON).
    pub json_token_requests: bool,
    /// The provider answers token errors with HTTP 200 and an `error` field (GitHub).
    pub errors_as_200: bool,
}

impl fmt::Debug for OAuthConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuthConfig")
            .field("provider", &self.provider)
            .field("client_id", &self.client_id)
            .field("client_secret", &self.client_secret)
            .field("auth_url", &self.auth_url)
            .field("token_url", &self.token_url)
            .field("scopes", &self.scopes)
            .field("pkce", &self.pkce)
            .finish_non_exhaustive()
    }
}

impl OAuthConfig {
    /// The provider's settings as its catalog (`provider.json`) declares them: the
    /// endpoints, scopes, PKCE, and quirks such as GitHub's errors answered with 200, so
    /// no host sets them by hand. Give the client's secret (none for public clients).
    /// [`Error::InvalidConfig`] when the catalog names no token endpoint.
    ///
    /// ```
    /// use devflow_sync_core::auth::{ClientSecret, OAuthConfig};
    /// use devflow_sync_core::registry::load_catalog;
    /// let catalog = load_catalog("p.json", r#"{"providerSchemaVersion":1,"key":"demo","displayName":"Demo",
    ///   "oauth":{"flows":["authorization_code"],"authUrl":"https://demo.test/authorize",
    ///     "tokenUrl":"https://demo.test/token","scopes":["read"],"pkce":true,"errorsAs200":true,
    ///     "authParams":{"prompt":"consent"}},
    ///   "rateLimits":{"requestsPerMinute":60,"burst":5,"maxConcurrentPerConnection":2},
    ///   "objects":[{"key":"issue","label":"Issue","mappingSchemaVersion":1,
    ///     "fields":[{"name":"id","type":"text","identifier":true}],
    ///     "capabilities":{"list":true,"delta":true,"create":true,"update":true,"delete":false,"webhook":false}}]}"#).unwrap();
    /// let config = OAuthConfig::from_catalog(&catalog, "client-1", Some(ClientSecret::new("s"))).unwrap();
    /// assert_eq!(config.token_url, "https://demo.test/token");
    /// assert!(config.pkce && config.errors_as_200 && !config.credentials_in_body);
    /// assert_eq!(config.auth_params, [("prompt".to_owned(), "consent".to_owned())]);
    /// ```
    pub fn from_catalog(
        catalog: &crate::registry::ProviderCatalog,
        client_id: impl Into<String>,
        client_secret: Option<ClientSecret>,
    ) -> Result<Self> {
        let spec = &catalog.oauth;
        let token_url = spec.token_url.clone().ok_or_else(|| Error::InvalidConfig {
            pointer: format!("{}/oauth/tokenUrl", catalog.key),
            message: "the catalog names no token endpoint".into(),
        })?;
        Ok(Self {
            provider: catalog.key.clone(),
            client_id: client_id.into(),
            client_secret,
            auth_url: spec.auth_url.clone(),
            token_url,
            redirect_url: None,
            scopes: spec.scopes.clone(),
            pkce: spec.pkce,
            auth_params: spec
                .auth_params
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            credentials_in_body: spec.credentials_in_body,
            json_token_requests: spec.json_token_requests,
            errors_as_200: spec.errors_as_200,
        })
    }

    /// Settings for `provider` with a token endpoint; everything else off.
    pub fn new(
        provider: impl Into<ProviderKey>,
        client_id: impl Into<String>,
        token_url: impl Into<String>,
    ) -> Self {
        Self {
            provider: provider.into(),
            client_id: client_id.into(),
            client_secret: None,
            auth_url: None,
            token_url: token_url.into(),
            redirect_url: None,
            scopes: Vec::new(),
            pkce: true,
            auth_params: Vec::new(),
            credentials_in_body: false,
            json_token_requests: false,
            errors_as_200: false,
        }
    }
}

/// Where to send the person, and what to keep until they come back.
#[derive(Debug)]
pub struct AuthorizationStart {
    /// The provider's authorization URL with every parameter.
    pub url: String,
    /// The signed state in the URL.
    pub state: String,
    /// The PKCE verifier to keep for the callback (single use).
    pub pkce_verifier: Option<PkceVerifier>,
}

/// Tokens from a grant.
#[derive(Debug)]
pub struct TokenGrant {
    /// The tokens, ready for a [`TokenStore`](crate::store::TokenStore).
    pub credentials: Credentials,
    /// The provider's extra fields (BQE's `endpoint`).
    pub fields: ProviderTokenFields,
}

/// Runs OAuth flows for one provider through the shared [`HttpClient`].
pub struct OAuthFlow {
    config: OAuthConfig,
    client: Client,
    http: HttpClient,
    signer: Arc<StateSigner>,
    clock: Arc<dyn Clock>,
}

impl fmt::Debug for OAuthFlow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuthFlow")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

fn config_error(pointer: &str, e: impl fmt::Display) -> Error {
    Error::InvalidConfig {
        pointer: pointer.into(),
        message: e.to_string(),
    }
}

impl OAuthFlow {
    /// A flow; `signer` signs and checks `state`.
    pub fn new(config: OAuthConfig, http: HttpClient, signer: Arc<StateSigner>) -> Result<Self> {
        let auth_url = config
            .auth_url
            .as_ref()
            .map(|u| AuthUrl::new(u.clone()).map_err(|e| config_error("oauth.authUrl", e)))
            .transpose()?;
        let token_url = TokenUrl::new(config.token_url.clone())
            .map_err(|e| config_error("oauth.tokenUrl", e))?;
        let mut client = oauth2::Client::new(ClientId::new(config.client_id.clone()))
            .set_auth_uri_option(auth_url)
            .set_token_uri(token_url);
        if let Some(secret) = &config.client_secret {
            client =
                client.set_client_secret(oauth2::ClientSecret::new(secret.secret().to_owned()));
        }
        if let Some(redirect) = &config.redirect_url {
            client = client.set_redirect_uri(
                RedirectUrl::new(redirect.clone())
                    .map_err(|e| config_error("oauth.redirectUrl", e))?,
            );
        }
        if config.credentials_in_body {
            client = client.set_auth_type(AuthType::RequestBody);
        }
        Ok(Self {
            config,
            client,
            http,
            signer,
            clock: Arc::new(SystemClock),
        })
    }

    /// Sets the clock (token expiry times).
    #[must_use]
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// The signer of this flow's states (to share with another flow of the same host,
    /// e.g. one made for an app a person typed in).
    pub fn signer(&self) -> &Arc<StateSigner> {
        &self.signer
    }

    /// The settings.
    pub fn config(&self) -> &OAuthConfig {
        &self.config
    }

    /// Starts the authorization code flow for `tenant`'s `connection`, on behalf of
    /// `actor`.
    pub fn authorize(
        &self,
        tenant: &str,
        connection: &ConnectionId,
        actor: &str,
    ) -> Result<AuthorizationStart> {
        let state = self.signer.sign(tenant, connection, actor)?;
        let signed = state.clone();
        let mut request = self
            .client
            .authorize_url(move || CsrfToken::new(signed))
            .map_err(|e| config_error("oauth.authUrl", e))?
            .add_scopes(self.config.scopes.iter().cloned().map(Scope::new));
        for (k, v) in &self.config.auth_params {
            request = request.add_extra_param(k.clone(), v.clone());
        }
        let pkce_verifier = if self.config.pkce {
            let (verifier, _) = PkceVerifier::generate()?;
            let challenge = PkceCodeChallenge::from_code_verifier_sha256(&PkceCodeVerifier::new(
                verifier.secret().to_owned(),
            ));
            request = request.set_pkce_challenge(challenge);
            Some(verifier)
        } else {
            None
        };
        let (url, _) = request.url();
        Ok(AuthorizationStart {
            url: url.to_string(),
            state,
            pkce_verifier,
        })
    }

    /// Finishes the flow: checks `state` (signature, expiry, tenant, connection, single
    /// use) and exchanges the code, using up the PKCE verifier. With PKCE on, a missing
    /// verifier is refused before anything is sent (and before the state is used up).
    pub async fn exchange_code(
        &self,
        tenant: &str,
        connection: &ConnectionId,
        code: &str,
        state: &str,
        pkce_verifier: Option<PkceVerifier>,
    ) -> Result<TokenGrant> {
        if self.config.pkce && pkce_verifier.is_none() {
            return Err(Error::invalid_input(
                "pkce_verifier",
                "PKCE is on for this provider: give the verifier kept from authorize()",
            ));
        }
        self.signer.verify(state, tenant, connection)?;
        let mut known = self.known_secrets().with(code);
        let mut request = self
            .client
            .exchange_code(AuthorizationCode::new(code.to_owned()));
        if let Some(verifier) = pkce_verifier {
            known.add(verifier.secret());
            request = request.set_pkce_verifier(PkceCodeVerifier::new(verifier.into_secret()));
        }
        let http = self.adapter(connection);
        let response = request.request_async(&http).await;
        self.grant(connection, response, &known)
    }

    /// The secrets of this flow's configuration (the client secret).
    fn known_secrets(&self) -> KnownSecrets {
        let mut known = KnownSecrets::new();
        if let Some(secret) = &self.config.client_secret {
            known.add(secret.secret());
        }
        known
    }

    /// Exchanges a refresh token for new tokens.
    pub async fn refresh(
        &self,
        connection: &ConnectionId,
        refresh_token: &RefreshToken,
    ) -> Result<TokenGrant> {
        let token = oauth2::RefreshToken::new(refresh_token.secret().to_owned());
        let http = self.adapter(connection);
        let response = self
            .client
            .exchange_refresh_token(&token)
            .request_async(&http)
            .await;
        let known = self.known_secrets().with(refresh_token.secret());
        let mut grant = self.grant(connection, response, &known)?;
        // Providers that do not rotate answer without a refresh token: keep the old one.
        if grant.credentials.refresh_token.is_none() {
            grant.credentials.refresh_token =
                Some(SecretString::from(refresh_token.secret().to_owned()));
        }
        Ok(grant)
    }

    /// The client credentials grant.
    pub async fn client_credentials(&self, connection: &ConnectionId) -> Result<TokenGrant> {
        let http = self.adapter(connection);
        let response = self
            .client
            .exchange_client_credentials()
            .add_scopes(self.config.scopes.iter().cloned().map(Scope::new))
            .request_async(&http)
            .await;
        self.grant(connection, response, &self.known_secrets())
    }

    fn adapter(&self, connection: &ConnectionId) -> OAuthHttp {
        OAuthHttp {
            http: self.http.clone(),
            provider: self.config.provider.clone(),
            connection: connection.clone(),
            errors_as_200: self.config.errors_as_200,
            json_body: self.config.json_token_requests,
        }
    }

    fn grant(
        &self,
        connection: &ConnectionId,
        response: std::result::Result<
            TokenResponseOf,
            RequestTokenError<Error, BasicErrorResponse>,
        >,
        known: &KnownSecrets,
    ) -> Result<TokenGrant> {
        let token = response.map_err(|e| known.scrub_error(token_error(connection, e)))?;
        // `expires_in` comes from outside: clamped, never overflowed.
        let expires_at: Option<DateTime<Utc>> = token
            .expires_in()
            .map(|d| crate::clock::after(self.clock.now(), d.min(MAX_TOKEN_LIFETIME)));
        Ok(TokenGrant {
            credentials: Credentials {
                access_token: SecretString::from(token.access_token().secret().to_owned()),
                refresh_token: token
                    .refresh_token()
                    .map(|t| SecretString::from(t.secret().to_owned())),
                expires_at,
                scopes: token
                    .scopes()
                    .map(|s| s.iter().map(|s| s.to_string()).collect())
                    .unwrap_or_else(|| self.config.scopes.clone()),
            },
            fields: token.extra_fields().clone(),
        })
    }
}

/// An OAuth error as a core error: a refused grant means a person must authorize
/// again; transport failures keep their kind. No token appears in the message.
fn token_error(
    connection: &ConnectionId,
    e: RequestTokenError<Error, BasicErrorResponse>,
) -> Error {
    match e {
        RequestTokenError::ServerResponse(r) => {
            let kind = r.error();
            let description = r
                .error_description()
                .map(|d| format!(": {d}"))
                .unwrap_or_default();
            let message = format!(
                "{}{}",
                kind.as_ref(),
                crate::http::redact_body(&description)
            );
            match kind {
                BasicErrorResponseType::InvalidGrant
                | BasicErrorResponseType::UnauthorizedClient => Error::NeedsReauth {
                    connection: connection.to_string(),
                    message,
                },
                // GitHub's codes for a used or expired code or refresh token.
                BasicErrorResponseType::Extension(code)
                    if matches!(
                        code.as_str(),
                        "bad_refresh_token" | "bad_verification_code" | "expired_token"
                    ) =>
                {
                    Error::NeedsReauth {
                        connection: connection.to_string(),
                        message,
                    }
                }
                BasicErrorResponseType::InvalidClient => Error::Unauthenticated(message),
                _ => Error::InvalidInput {
                    pointer: Some("oauth".into()),
                    message,
                },
            }
        }
        RequestTokenError::Request(e) => e,
        RequestTokenError::Parse(e, body) => Error::InvalidInput {
            pointer: Some(format!("token response {}", e.path())),
            message: format!(
                "the token response does not parse: {}",
                crate::http::redact_body(&String::from_utf8_lossy(&body))
            ),
        },
        RequestTokenError::Other(m) => Error::transient(m),
    }
}
