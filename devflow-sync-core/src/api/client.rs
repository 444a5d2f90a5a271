//! An API client for one provider on the shared [`HttpClient`].

use std::collections::HashSet;
use std::fmt;
use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::parse_json;

use super::TokenSource;
use crate::auth::AccessToken;
use crate::error::{Error, Result};
use crate::http::{
    Disposition, HttpClient, HttpRequest, HttpResponse, KnownSecrets, Method, Origin,
    check_api_base, classify,
};
use crate::model::{ConnectionId, ProviderKey};

/// How the token goes in the `Authorization` header.
#[derive(Clone, PartialEq, Eq)]
pub enum AuthScheme {
    /// `Bearer <token>` (OAuth, GitHub tokens, BQE).
    Bearer,
    /// `Basic base64(<user>:<token>)` (Atlassian API tokens with the account's email).
    Basic {
        /// The user (an email); not secret.
        user: String,
    },
}

impl fmt::Debug for AuthScheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AuthScheme::Bearer => f.write_str("Bearer"),
            AuthScheme::Basic { user } => write!(f, "Basic({user})"),
        }
    }
}

impl AuthScheme {
    fn header(&self, token: &AccessToken) -> String {
        match self {
            AuthScheme::Bearer => format!("Bearer {}", token.secret()),
            AuthScheme::Basic { user } => {
                format!(
                    "Basic {}",
                    STANDARD.encode(format!("{user}:{}", token.secret()))
                )
            }
        }
    }
}

/// A provider's own reading of a refused request: its error codes mapped to error
/// kinds (GitHub's 422 `already_exists` as [`Error::AlreadyExists`], say). `None`
/// leaves the common classification.
pub trait ErrorMapper: Send + Sync + fmt::Debug {
    /// The error for a response with `status` (400 or more) and `body`, when the
    /// provider knows better than the common classification.
    fn map(&self, status: u16, body: &[u8]) -> Option<Error>;
}

/// One request to the provider's API.
#[derive(Clone, Debug)]
pub struct ApiRequest {
    /// The method.
    pub method: Method,
    /// The full URL (from [`ApiClient::url`] or a `link` header).
    pub url: String,
    /// A JSON body.
    pub body: Option<Vec<u8>>,
    /// An ETag to send as `If-None-Match`.
    pub if_none_match: Option<String>,
}

impl ApiRequest {
    /// A request without a body.
    pub fn new(method: Method, url: impl Into<String>) -> Self {
        Self {
            method,
            url: url.into(),
            body: None,
            if_none_match: None,
        }
    }

    /// A `GET`.
    pub fn get(url: impl Into<String>) -> Self {
        Self::new(Method::GET, url)
    }

    /// With `body` as JSON.
    pub fn json(mut self, body: &impl Serialize) -> Result<Self> {
        self.body = Some(
            serde_json::to_vec(body).map_err(|e| Error::invalid_input("body", e.to_string()))?,
        );
        Ok(self)
    }

    /// With `If-None-Match`.
    #[must_use]
    pub fn if_none_match(mut self, etag: impl Into<String>) -> Self {
        self.if_none_match = Some(etag.into());
        self
    }
}

/// The most pages [`ApiClient::every_page`] follows before it gives up.
const MAX_PAGES: usize = 10_000;

/// Requests to one provider's API: the base URL checked and its origin pinned, the
/// token in the provider's auth scheme, fixed headers, one fresh token and one more
/// try after a 401, typed JSON, the provider's error codes, and page following.
/// Cheap to clone.
///
/// ```
/// use std::sync::Arc;
/// use devflow_sync_core::api::{ApiClient, StaticToken};
/// use devflow_sync_core::auth::AccessToken;
/// use devflow_sync_core::http::HttpClient;
/// let api = ApiClient::new(
///     HttpClient::builder().build().unwrap(),
///     "github",
///     "https://ghe.acme.test/api/v3/",
///     "github.base_url",
///     Arc::new(StaticToken::new(AccessToken::new("ghp_x"))),
/// )
/// .unwrap()
/// .with_header("Accept", "application/vnd.github+json");
/// assert_eq!(api.url("/repos/a/b"), "https://ghe.acme.test/api/v3/repos/a/b");
/// assert_eq!(api.base_path(), "/api/v3");
/// assert!(ApiClient::new(
///     HttpClient::builder().build().unwrap(), "github", "http://localhost.attacker.test",
///     "github.base_url", Arc::new(StaticToken::new(AccessToken::new("x"))),
/// ).is_err());
/// ```
#[derive(Clone)]
pub struct ApiClient {
    http: HttpClient,
    provider: ProviderKey,
    base_url: String,
    origin: Origin,
    base_path: String,
    tokens: Arc<dyn TokenSource>,
    scheme: AuthScheme,
    headers: Vec<(String, String)>,
    errors: Option<Arc<dyn ErrorMapper>>,
}

impl fmt::Debug for ApiClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiClient")
            .field("provider", &self.provider)
            .field("base_url", &self.base_url)
            .field("tokens", &self.tokens)
            .field("scheme", &self.scheme)
            .finish_non_exhaustive()
    }
}

impl ApiClient {
    /// A client for `provider` at `base_url` (checked by
    /// [`check_api_base`]; `pointer` names the setting in errors), with bearer tokens
    /// from `tokens`.
    pub fn new(
        http: HttpClient,
        provider: impl Into<ProviderKey>,
        base_url: &str,
        pointer: &str,
        tokens: Arc<dyn TokenSource>,
    ) -> Result<Self> {
        let base_url = base_url.trim_end_matches('/').to_owned();
        let origin = check_api_base(pointer, &base_url)?;
        let (_, path) = Origin::with_path(&base_url)?;
        Ok(Self {
            http,
            provider: provider.into(),
            base_path: path.trim_end_matches('/').to_owned(),
            base_url,
            origin,
            tokens,
            scheme: AuthScheme::Bearer,
            headers: Vec::new(),
            errors: None,
        })
    }

    /// Sends tokens in `scheme`.
    #[must_use]
    pub fn with_scheme(mut self, scheme: AuthScheme) -> Self {
        self.scheme = scheme;
        self
    }

    /// Sends this header with every request.
    #[must_use]
    pub fn with_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Reads refused requests with the provider's own error codes.
    #[must_use]
    pub fn with_errors(mut self, errors: Arc<dyn ErrorMapper>) -> Self {
        self.errors = Some(errors);
        self
    }

    /// The base URL, without a trailing `/`.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The API origin: the only one credentials go to.
    pub fn origin(&self) -> &Origin {
        &self.origin
    }

    /// The base URL's path (`/api/v3` on GitHub Enterprise Server, else empty).
    pub fn base_path(&self) -> &str {
        &self.base_path
    }

    /// The provider.
    pub fn provider(&self) -> &ProviderKey {
        &self.provider
    }

    /// `path` (starting with `/`) under the base URL.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    fn build(
        &self,
        token: &AccessToken,
        connection: &ConnectionId,
        request: &ApiRequest,
    ) -> HttpRequest {
        let mut out = HttpRequest::new(
            request.method.clone(),
            request.url.clone(),
            self.provider.clone(),
            connection.clone(),
        )
        .bound_to(&self.origin)
        .header("Authorization", self.scheme.header(token));
        for (name, value) in &self.headers {
            out = out.header(name.as_str(), value.as_str());
        }
        if let Some(etag) = &request.if_none_match {
            out = out.header("If-None-Match", etag.as_str());
        }
        if let Some(body) = &request.body {
            out = out
                .header("Content-Type", "application/json")
                .body(body.clone());
        }
        // Refused requests come back as answers, for the provider's error codes.
        out.error_responses = self.errors.is_some();
        out
    }

    /// The error a refused answer stands for.
    fn refused(&self, response: &HttpResponse, known: &KnownSecrets) -> Error {
        let mapped = self
            .errors
            .as_ref()
            .and_then(|m| m.map(response.status, &response.body));
        let error = mapped.unwrap_or_else(|| {
            match classify(
                response.status,
                &response.headers,
                &response.body,
                chrono::Utc::now(),
            ) {
                Disposition::Fail(e) | Disposition::Retry { error: e, .. } => e,
                Disposition::Success => Error::transient(format!("HTTP {}", response.status)),
            }
        });
        known.scrub_error(error)
    }

    /// Sends `request` for `connection`. A 401 gets one fresh token from the
    /// [`TokenSource`] and one more try.
    pub async fn send(
        &self,
        connection: &ConnectionId,
        request: &ApiRequest,
    ) -> Result<HttpResponse> {
        let mut token = self.tokens.token(connection).await?;
        let mut refreshed = false;
        loop {
            let http_request = self.build(&token, connection, request);
            let known = http_request.known_secrets();
            let result = match self.http.send(http_request).await {
                Ok(response) if response.status >= 400 => Err(self.refused(&response, &known)),
                other => other,
            };
            match result {
                Err(refused @ Error::Unauthenticated(_)) if !refreshed => {
                    refreshed = true;
                    token = match self.tokens.refused(connection, &token).await {
                        Ok(fresh) => fresh,
                        // No other token can be had (a static one): the provider's
                        // own answer says most.
                        Err(Error::Unauthenticated(_)) => return Err(refused),
                        Err(other) => return Err(other),
                    };
                }
                other => return other,
            }
        }
    }

    /// Sends `request` and reads the answer as `T`.
    pub async fn json<T: DeserializeOwned>(
        &self,
        connection: &ConnectionId,
        request: &ApiRequest,
    ) -> Result<T> {
        let response = self.send(connection, request).await?;
        parse_json(self.provider.as_str(), &response.body)
    }

    /// The items of every page of a list from `url` on, each page a JSON array, the
    /// next page's URL read from an answer by `next` (a `link` header, a token in the
    /// body). Stops with [`Error::InvalidInput`] when a page leads back to one already
    /// read or after 10,000 pages.
    pub async fn every_page<T: DeserializeOwned>(
        &self,
        connection: &ConnectionId,
        url: String,
        next: impl Fn(&HttpResponse) -> Option<String> + Send + Sync,
    ) -> Result<Vec<T>> {
        let mut out = Vec::new();
        let mut seen = HashSet::new();
        let mut url = Some(url);
        while let Some(current) = url.take() {
            if !seen.insert(current.clone()) || seen.len() > MAX_PAGES {
                return Err(Error::invalid_input(
                    "next page",
                    format!("{} pages lead in a circle or never end", self.provider),
                ));
            }
            let response = self.send(connection, &ApiRequest::get(current)).await?;
            let items: Vec<T> = parse_json(self.provider.as_str(), &response.body)?;
            out.extend(items);
            url = next(&response);
        }
        Ok(out)
    }
}
