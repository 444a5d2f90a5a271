//! GitHub App authentication: an RS256 JSON Web Token signed with the app's private key,
//! exchanged for an installation access token that is cached until shortly before it
//! expires.
//!
//! Installation tokens are opaque strings of any length (GitHub's stateless
//! `ghs_<APPID>_<JWT>` format is about 520 characters); nothing here assumes a length or
//! an alphabet.

use std::fmt;
use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use chrono::{DateTime, Duration, Utc};
use devflow_sync_core::auth::AccessToken;
use devflow_sync_core::clock::{Clock, SystemClock};
use devflow_sync_core::http::{HttpClient, HttpRequest, Method, check_api_base};
use devflow_sync_core::model::ConnectionId;
use devflow_sync_core::{Error, Result};
use ring::rand::SystemRandom;
use ring::signature::{RSA_PKCS1_SHA256, RsaKeyPair};
use serde_json::{Value, json};

/// How long before its expiry a cached installation token is replaced.
pub const REFRESH_MARGIN: Duration = Duration::minutes(5);

/// A GitHub App's private key (PEM, `RSA PRIVATE KEY` as GitHub issues it, or PKCS#8
/// `PRIVATE KEY`). Its `Debug` shows no key material.
pub struct AppPrivateKey {
    key: RsaKeyPair,
}

impl fmt::Debug for AppPrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AppPrivateKey([redacted])")
    }
}

impl AppPrivateKey {
    /// Reads a PEM key. The error names what is wrong, never the key.
    ///
    /// ```
    /// use devflow_provider_github::app::AppPrivateKey;
    /// let err = AppPrivateKey::from_pem("not a key").unwrap_err();
    /// assert!(err.to_string().contains("PEM"));
    /// ```
    pub fn from_pem(pem: &str) -> Result<Self> {
        let bad = |what: &str| Error::InvalidConfig {
            pointer: "github.app.private_key".into(),
            message: what.to_owned(),
        };
        let pem = pem.trim();
        let (label, rest) = pem
            .strip_prefix("-----BEGIN ")
            .and_then(|r| r.split_once("-----"))
            .ok_or_else(|| bad("not a PEM key: no -----BEGIN line"))?;
        let end = format!("-----END {label}-----");
        let body = rest
            .trim()
            .strip_suffix(end.as_str())
            .ok_or_else(|| bad("the PEM key has no matching -----END line"))?;
        let der = STANDARD
            .decode(body.split_whitespace().collect::<String>())
            .map_err(|_| bad("the PEM key's body is not base64"))?;
        let key = match label {
            "RSA PRIVATE KEY" => RsaKeyPair::from_der(&der),
            "PRIVATE KEY" => RsaKeyPair::from_pkcs8(&der),
            _ => return Err(bad("not an RSA private key (expected RSA PRIVATE KEY)")),
        }
        .map_err(|e| bad(&format!("the RSA key was refused: {e}")))?;
        Ok(Self { key })
    }

    /// The public half (DER `RSAPublicKey`), which is what GitHub keeps.
    pub fn public_key_der(&self) -> Vec<u8> {
        use ring::signature::KeyPair as _;
        self.key.public_key().as_ref().to_vec()
    }

    fn sign(&self, message: &[u8]) -> Result<Vec<u8>> {
        let mut signature = vec![0; self.key.public().modulus_len()];
        self.key
            .sign(
                &RSA_PKCS1_SHA256,
                &SystemRandom::new(),
                message,
                &mut signature,
            )
            .map_err(|_| Error::InvalidConfig {
                pointer: "github.app.private_key".into(),
                message: "the key could not sign the GitHub App JWT".into(),
            })?;
        Ok(signature)
    }
}

/// A GitHub App: its issuer (the client ID, as GitHub recommends, or the app ID) and
/// its private key.
#[derive(Debug)]
pub struct GitHubApp {
    issuer: String,
    key: AppPrivateKey,
    clock: Arc<dyn Clock>,
}

impl GitHubApp {
    /// An app identified by `issuer` (client ID or app ID).
    pub fn new(issuer: impl Into<String>, key: AppPrivateKey) -> Self {
        Self {
            issuer: issuer.into(),
            key,
            clock: Arc::new(SystemClock),
        }
    }

    /// Takes times from `clock` (tests).
    #[must_use]
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// The app's JWT: RS256, `iat` 60 s in the past (clock drift), `exp` 9 minutes
    /// ahead (GitHub allows at most 10), `iss` the issuer.
    pub fn jwt(&self) -> Result<AccessToken> {
        let now = self.clock.now().timestamp();
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"RS256","typ":"JWT"}"#);
        let claims = URL_SAFE_NO_PAD
            .encode(json!({"iat": now - 60, "exp": now + 540, "iss": self.issuer}).to_string());
        let signing_input = format!("{header}.{claims}");
        let signature = URL_SAFE_NO_PAD.encode(self.key.sign(signing_input.as_bytes())?);
        Ok(AccessToken::new(format!("{signing_input}.{signature}")))
    }
}

#[derive(Clone)]
struct Cached {
    token: AccessToken,
    expires_at: DateTime<Utc>,
}

/// Installation access tokens of one installation of a [`GitHubApp`], minted with
/// `POST /app/installations/{id}/access_tokens` and reused until [`REFRESH_MARGIN`]
/// before they expire.
#[derive(Debug)]
pub struct InstallationTokens {
    app: GitHubApp,
    installation_id: u64,
    base_url: String,
    repositories: Vec<String>,
    http: HttpClient,
    cached: tokio::sync::Mutex<Option<Cached>>,
}

impl fmt::Debug for Cached {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Cached")
            .field("token", &self.token)
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

impl InstallationTokens {
    /// Tokens of `installation_id` from the API at `base_url`.
    pub fn new(
        app: GitHubApp,
        installation_id: u64,
        base_url: impl Into<String>,
        http: HttpClient,
    ) -> Self {
        Self {
            app,
            installation_id,
            base_url: base_url.into().trim_end_matches('/').to_owned(),
            repositories: Vec::new(),
            http,
            cached: tokio::sync::Mutex::new(None),
        }
    }

    /// Narrows the tokens to these repositories (names without the owner).
    #[must_use]
    pub fn repositories(mut self, names: Vec<String>) -> Self {
        self.repositories = names;
        self
    }

    /// The installation's id.
    pub fn installation_id(&self) -> u64 {
        self.installation_id
    }

    /// A token valid for at least [`REFRESH_MARGIN`], from the cache or newly minted.
    pub async fn token(&self, connection: &ConnectionId) -> Result<AccessToken> {
        let mut cached = self.cached.lock().await;
        let now = self.app.clock.now();
        if let Some(c) = cached
            .as_ref()
            .filter(|c| c.expires_at - REFRESH_MARGIN > now)
        {
            return Ok(c.token.clone());
        }
        let fresh = self.mint(connection).await?;
        let token = fresh.token.clone();
        *cached = Some(fresh);
        Ok(token)
    }

    /// Forgets the cached token (after GitHub refused it).
    ///
    /// (Through [`TokenSource::refused`](devflow_sync_core::api::TokenSource::refused)
    /// the provider does this and mints again after a 401.)
    pub async fn invalidate(&self) {
        *self.cached.lock().await = None;
    }

    async fn mint(&self, connection: &ConnectionId) -> Result<Cached> {
        let jwt = self.app.jwt()?;
        // The app's JWT goes only to the configured API (https, or http on loopback).
        let origin = check_api_base("github.app.base_url", &self.base_url)?;
        let url = format!(
            "{}/app/installations/{}/access_tokens",
            self.base_url, self.installation_id
        );
        let mut request = HttpRequest::new(Method::POST, url, "github", connection.clone())
            .bound_to(&origin)
            .header("Authorization", format!("Bearer {}", jwt.secret()))
            .header("Accept", "application/vnd.github+json")
            .header("X-GitHub-Api-Version", crate::client::API_VERSION);
        if !self.repositories.is_empty() {
            request = request.header("Content-Type", "application/json").body(
                json!({"repositories": self.repositories})
                    .to_string()
                    .into_bytes(),
            );
        }
        let response = self.http.send(request).await?;
        let body: Value = serde_json::from_slice(&response.body).map_err(|e| {
            Error::invalid_input(
                "installation token response",
                format!("GitHub's answer is not JSON: {e}"),
            )
        })?;
        let token = body
            .get("token")
            .and_then(Value::as_str)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| {
                Error::invalid_input("/token", "GitHub's answer carries no installation token")
            })?;
        let expires_at = body
            .get("expires_at")
            .and_then(Value::as_str)
            .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
            .map(|t| t.with_timezone(&Utc))
            .ok_or_else(|| {
                Error::invalid_input("/expires_at", "GitHub's answer has no valid expiry time")
            })?;
        Ok(Cached {
            token: AccessToken::new(token),
            expires_at,
        })
    }
}

#[async_trait::async_trait]
impl devflow_sync_core::api::TokenSource for InstallationTokens {
    async fn token(&self, connection: &ConnectionId) -> Result<AccessToken> {
        InstallationTokens::token(self, connection).await
    }

    /// The installation token was revoked or expired early: mint another.
    async fn refused(
        &self,
        connection: &ConnectionId,
        rejected: &AccessToken,
    ) -> Result<AccessToken> {
        {
            let mut cached = self.cached.lock().await;
            if cached.as_ref().is_some_and(|c| c.token == *rejected) {
                *cached = None;
            }
        }
        InstallationTokens::token(self, connection).await
    }
}
