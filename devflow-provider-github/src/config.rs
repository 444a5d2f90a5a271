//! The provider's settings and where its tokens come from.

use std::sync::Arc;

use devflow_sync_core::api::{StaticToken, TokenSource as Tokens};
use devflow_sync_core::auth::{AccessToken, TokenManager, WebhookSecret};
use devflow_sync_core::{Error, Result};

/// The REST API version sent with every request.
pub const API_VERSION: &str = "2022-11-28";

/// Where the provider's access tokens come from. Every source gets one fresh token
/// after a 401 (an installation token is minted again, an OAuth token refreshed).
#[derive(Clone, Debug)]
pub enum TokenSource {
    /// One token for every connection (a personal access token).
    Static(AccessToken),
    /// Per-connection tokens, refreshed as needed (OAuth apps, GitHub App user tokens).
    Manager(Arc<TokenManager>),
    /// A GitHub App installation's tokens, minted from the app's JWT and cached until
    /// shortly before they expire.
    Installation(Arc<crate::app::InstallationTokens>),
    /// Any other source.
    Custom(Arc<dyn Tokens>),
}

impl TokenSource {
    /// The source as the provider kit takes it.
    pub fn into_source(self) -> Arc<dyn Tokens> {
        match self {
            TokenSource::Static(token) => Arc::new(StaticToken::new(token)),
            TokenSource::Manager(manager) => manager,
            TokenSource::Installation(tokens) => tokens,
            TokenSource::Custom(source) => source,
        }
    }
}

/// The provider's settings.
#[derive(Clone, Debug)]
pub struct GitHubConfig {
    /// `https://api.github.com`, `https://HOST/api/v3`, or a compatible server (plain
    /// `http` only on loopback).
    pub base_url: String,
    /// The repositories synced, as `owner/name`; issues are created in the first.
    pub repositories: Vec<String>,
    /// Where tokens come from.
    pub tokens: TokenSource,
    /// Active webhook secrets.
    pub webhook_secrets: Vec<WebhookSecret>,
    /// The API version header.
    pub api_version: String,
    /// Whether each PRD gets a milestone of its title, which the issues under it
    /// inherit (default `true`). An issue whose fields name a milestone keeps it.
    pub prd_milestones: bool,
}

impl GitHubConfig {
    /// Settings for `repositories` at `base_url` with a token source.
    pub fn new(
        base_url: impl Into<String>,
        repositories: Vec<String>,
        tokens: TokenSource,
    ) -> Self {
        Self {
            base_url: base_url.into().trim_end_matches('/').to_owned(),
            repositories,
            tokens,
            webhook_secrets: Vec::new(),
            api_version: API_VERSION.to_owned(),
            prd_milestones: true,
        }
    }

    /// Checks the repository list: at least one, each `owner/name`.
    pub(crate) fn check_repositories(&self) -> Result<()> {
        let part = |p: Option<&str>| {
            p.is_some_and(|p| {
                !p.is_empty()
                    && p.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
            })
        };
        let well_formed = |r: &String| {
            let mut parts = r.split('/');
            part(parts.next()) && part(parts.next()) && parts.next().is_none()
        };
        if self.repositories.is_empty() || !self.repositories.iter().all(well_formed) {
            return Err(Error::InvalidConfig {
                pointer: "github.repositories".into(),
                message: "give at least one repository as owner/name".into(),
            });
        }
        Ok(())
    }
}
