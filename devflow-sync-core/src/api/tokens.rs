//! Where a provider's access tokens come from, and what happens after a 401.

use std::fmt;

use async_trait::async_trait;

use crate::auth::{AccessToken, TokenManager};
use crate::error::{Error, Result};
use crate::model::ConnectionId;

/// Hands out a connection's access token, and a fresh one after the provider refused
/// one. [`ApiClient`](super::ApiClient) asks again exactly once after a 401.
#[async_trait]
pub trait TokenSource: Send + Sync + fmt::Debug {
    /// A token for `connection`, refreshed first when it is about to expire.
    async fn token(&self, connection: &ConnectionId) -> Result<AccessToken>;

    /// After the provider refused `rejected` with a 401: a fresh token (refreshed,
    /// minted again, or the one another caller already got), or the error saying none
    /// can be had.
    async fn refused(
        &self,
        connection: &ConnectionId,
        rejected: &AccessToken,
    ) -> Result<AccessToken>;
}

/// One token for every connection (a personal access token, an API token). A refused
/// static token cannot be replaced: [`Error::Unauthenticated`].
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// use devflow_sync_core::api::{StaticToken, TokenSource};
/// use devflow_sync_core::auth::AccessToken;
/// use devflow_sync_core::model::ConnectionId;
/// let source = StaticToken::new(AccessToken::new("ghp_x"));
/// let c = ConnectionId::new("c");
/// assert_eq!(source.token(&c).await.unwrap().secret(), "ghp_x");
/// assert!(source.refused(&c, &AccessToken::new("ghp_x")).await.is_err());
/// # });
/// ```
#[derive(Clone, Debug)]
pub struct StaticToken(AccessToken);

impl StaticToken {
    /// The token.
    pub fn new(token: AccessToken) -> Self {
        Self(token)
    }
}

#[async_trait]
impl TokenSource for StaticToken {
    async fn token(&self, _connection: &ConnectionId) -> Result<AccessToken> {
        Ok(self.0.clone())
    }

    async fn refused(
        &self,
        connection: &ConnectionId,
        _rejected: &AccessToken,
    ) -> Result<AccessToken> {
        Err(Error::Unauthenticated(format!(
            "the provider refused the static token of connection {connection}; give a new one"
        )))
    }
}

#[async_trait]
impl TokenSource for TokenManager {
    async fn token(&self, connection: &ConnectionId) -> Result<AccessToken> {
        self.access_token(connection).await
    }

    async fn refused(
        &self,
        connection: &ConnectionId,
        rejected: &AccessToken,
    ) -> Result<AccessToken> {
        self.after_unauthorized(connection, rejected).await
    }
}
