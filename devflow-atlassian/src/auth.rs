//! How requests to an Atlassian product authenticate: one type for Jira and
//! Confluence, since one 3LO consent or one API token serves both.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use devflow_sync_core::api::{StaticToken, TokenSource as Tokens};
use devflow_sync_core::auth::{AccessToken, TokenManager};

/// How requests authenticate.
#[derive(Clone, Debug)]
pub enum AtlassianAuth {
    /// OAuth 2.0 (3LO) access tokens (`Bearer`), against the gateway URL
    /// `https://api.atlassian.com/ex/{jira|confluence}/{cloudId}`. One
    /// [`TokenManager`] may serve both products' providers: its refreshes are
    /// compare-and-swap on the stored pair, so two providers never race a rotation.
    OAuth(Arc<dyn Tokens>),
    /// An API token with the account's email (`Basic`), against the site URL or, for a
    /// scoped token, the gateway URL. `expires` (API tokens expire after 1-365 days) lets
    /// a 401 after that date be reported as an expired token.
    ApiToken {
        /// The Atlassian account's email.
        email: String,
        /// The API token.
        token: AccessToken,
        /// When the token expires, if known.
        expires: Option<DateTime<Utc>>,
    },
}

impl AtlassianAuth {
    /// OAuth tokens from a [`TokenManager`] (refreshing, rotating refresh tokens kept).
    pub fn oauth(manager: Arc<TokenManager>) -> Self {
        AtlassianAuth::OAuth(manager)
    }

    /// One OAuth access token for every connection.
    pub fn bearer(token: AccessToken) -> Self {
        AtlassianAuth::OAuth(Arc::new(StaticToken::new(token)))
    }

    /// An API token.
    pub fn api_token(email: impl Into<String>, token: AccessToken) -> Self {
        AtlassianAuth::ApiToken {
            email: email.into(),
            token,
            expires: None,
        }
    }
}
