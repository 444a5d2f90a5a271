//! The token lifecycle: refresh before expiry and once after a 401, one refresh per
//! connection at a time, compare-and-swap writes of rotated tokens, and care before
//! declaring a connection in need of a new authorization.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use secrecy::ExposeSecret;

use super::{AccessToken, OAuthFlow, RefreshToken};
use crate::clock::{Clock, SystemClock};
use crate::error::{Error, Result};
use crate::model::{ConnectionId, ObjectType, ProviderKey};
use crate::store::{
    ConnectionHealth, ConnectionStatus, Credentials, LeaseManager, StoredToken, SyncJournal,
    TokenStore,
};

/// Exchanges a refresh token for new credentials.
#[async_trait]
pub trait TokenRefresher: Send + Sync + fmt::Debug {
    /// New credentials for `connection`; [`Error::NeedsReauth`] when the grant is gone
    /// (`invalid_grant`).
    async fn refresh(
        &self,
        connection: &ConnectionId,
        refresh_token: &RefreshToken,
    ) -> Result<Credentials>;

    /// Whether [`TokenRefresher::refresh`] needs the stored refresh token (the default).
    /// A refresher that gets new credentials without one (the client-credentials grant)
    /// says `false`, and is then called with an empty refresh token.
    fn needs_refresh_token(&self) -> bool {
        true
    }
}

/// New tokens by the client-credentials grant: a connection made with an app's own
/// credentials has no refresh token, and asks again when its token runs out.
///
/// ```
/// use std::sync::Arc;
/// use devflow_sync_core::auth::{
///     ClientCredentials, ClientSecret, OAuthConfig, OAuthFlow, StateSigner, TokenRefresher,
/// };
/// use devflow_sync_core::http::HttpClient;
/// let config = OAuthConfig::new("bqe", "app", "https://identity.test/connect/token");
/// let signer = Arc::new(StateSigner::new(ClientSecret::new("state-key")));
/// let flow = OAuthFlow::new(config, HttpClient::builder().build().unwrap(), signer).unwrap();
/// assert!(!ClientCredentials::new(Arc::new(flow)).needs_refresh_token());
/// ```
#[derive(Clone, Debug)]
pub struct ClientCredentials(Arc<OAuthFlow>);

impl ClientCredentials {
    /// Grants from `flow` (its client id and secret).
    pub fn new(flow: Arc<OAuthFlow>) -> Self {
        Self(flow)
    }
}

#[async_trait]
impl TokenRefresher for ClientCredentials {
    async fn refresh(
        &self,
        connection: &ConnectionId,
        _refresh_token: &RefreshToken,
    ) -> Result<Credentials> {
        self.0
            .client_credentials(connection)
            .await
            .map(|grant| grant.credentials)
    }

    fn needs_refresh_token(&self) -> bool {
        false
    }
}

#[async_trait]
impl TokenRefresher for OAuthFlow {
    async fn refresh(
        &self,
        connection: &ConnectionId,
        refresh_token: &RefreshToken,
    ) -> Result<Credentials> {
        OAuthFlow::refresh(self, connection, refresh_token)
            .await
            .map(|grant| grant.credentials)
    }
}

/// Hands out valid access tokens.
///
/// - A token expiring within the margin (default 5 minutes) is refreshed first.
/// - After a 401, [`TokenManager::after_unauthorized`] refreshes once.
/// - Callers of one connection share a single refresh call.
/// - The new tokens are written with compare-and-swap before the new access token is
///   handed out; losing the race means another worker rotated, and its tokens are used.
/// - On `invalid_grant` the store is read again: another worker may have rotated the
///   refresh token in between. Only when nobody did is the connection marked
///   `needs_reauth`.
/// - A transient failure never changes the connection's state.
/// - With [`TokenManager::leases`] (a store shared by several workers), one refresh per
///   connection across all of them: the worker holding the refresh lease asks the
///   provider; the others wait for its tokens and use them.
pub struct TokenManager {
    store: Arc<dyn TokenStore>,
    leases: Option<(Arc<dyn LeaseManager>, String)>,
    journal: Arc<dyn SyncJournal>,
    refreshers: HashMap<ProviderKey, Arc<dyn TokenRefresher>>,
    clock: Arc<dyn Clock>,
    margin: Duration,
    locks: Mutex<HashMap<ConnectionId, Arc<tokio::sync::Mutex<()>>>>,
}

impl fmt::Debug for TokenManager {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenManager")
            .field("providers", &self.refreshers.keys().collect::<Vec<_>>())
            .field("margin", &self.margin)
            .finish_non_exhaustive()
    }
}

impl TokenManager {
    /// The default refresh margin.
    pub const DEFAULT_MARGIN: Duration = Duration::from_secs(300);

    /// A manager over `store`, recording health in `journal`.
    pub fn new(store: Arc<dyn TokenStore>, journal: Arc<dyn SyncJournal>) -> Self {
        Self {
            store,
            leases: None,
            journal,
            refreshers: HashMap::new(),
            clock: Arc::new(SystemClock),
            margin: Self::DEFAULT_MARGIN,
            locks: Mutex::new(HashMap::new()),
        }
    }

    /// The refresher of `provider`.
    #[must_use]
    pub fn refresher(
        mut self,
        provider: impl Into<ProviderKey>,
        refresher: Arc<dyn TokenRefresher>,
    ) -> Self {
        self.refreshers.insert(provider.into(), refresher);
        self
    }

    /// Workers sharing `leases` (the same database) refresh a connection's token one at
    /// a time: only the holder of the connection's refresh lease calls the provider;
    /// the others wait (up to [`TokenManager::REFRESH_LEASE`]) for the tokens it stores.
    /// `holder` names this worker.
    #[must_use]
    pub fn leases(mut self, leases: Arc<dyn LeaseManager>, holder: impl Into<String>) -> Self {
        self.leases = Some((leases, holder.into()));
        self
    }

    /// How long a worker may hold a connection's refresh lease.
    pub const REFRESH_LEASE: Duration = Duration::from_secs(30);

    /// How long before expiry a token is refreshed.
    #[must_use]
    pub fn margin(mut self, margin: Duration) -> Self {
        self.margin = margin;
        self
    }

    /// The clock.
    #[must_use]
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    fn expiring(&self, stored: &StoredToken) -> bool {
        let soon = crate::clock::after(self.clock.now(), self.margin);
        stored.credentials.expires_at.is_some_and(|at| at <= soon)
    }

    async fn load(&self, connection: &ConnectionId) -> Result<StoredToken> {
        self.store
            .get(connection)
            .await?
            .ok_or_else(|| Error::NeedsReauth {
                connection: connection.to_string(),
                message: "no credentials are stored".into(),
            })
    }

    fn access(stored: &StoredToken) -> AccessToken {
        AccessToken::new(stored.credentials.access_token.expose_secret().to_owned())
    }

    /// A valid access token for `connection`, refreshing first when it expires within
    /// the margin.
    pub async fn access_token(&self, connection: &ConnectionId) -> Result<AccessToken> {
        let stored = self.load(connection).await?;
        if !self.expiring(&stored) {
            return Ok(Self::access(&stored));
        }
        self.refresh(connection, stored.version).await
    }

    /// After the provider refused `rejected` with a 401: a fresh token (refreshed once,
    /// or the one another caller already got).
    pub async fn after_unauthorized(
        &self,
        connection: &ConnectionId,
        rejected: &AccessToken,
    ) -> Result<AccessToken> {
        let stored = self.load(connection).await?;
        if Self::access(&stored) != *rejected {
            return Ok(Self::access(&stored));
        }
        self.refresh(connection, stored.version).await
    }

    fn lock_for(&self, connection: &ConnectionId) -> Arc<tokio::sync::Mutex<()>> {
        self.locks
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(connection.clone())
            .or_default()
            .clone()
    }

    async fn refresh(&self, connection: &ConnectionId, seen_version: u64) -> Result<AccessToken> {
        let lock = self.lock_for(connection);
        let _guard = lock.lock().await;
        let stored = self.load(connection).await?;
        if stored.version != seen_version && !self.expiring(&stored) {
            // Refreshed by another caller while this one waited.
            return Ok(Self::access(&stored));
        }
        let Some((leases, holder)) = &self.leases else {
            return self.refresh_now(connection, stored).await;
        };
        let scope = ObjectType::new("@token-refresh");
        let started = std::time::Instant::now();
        let lease = loop {
            if let Some(lease) = leases
                .acquire(connection, &scope, holder, Self::REFRESH_LEASE)
                .await?
            {
                break lease;
            }
            // Another worker is refreshing: its tokens, once stored, are the ones.
            tokio::time::sleep(Duration::from_millis(20)).await;
            let current = self.load(connection).await?;
            if current.version != stored.version && !self.expiring(&current) {
                return Ok(Self::access(&current));
            }
            if started.elapsed() > Self::REFRESH_LEASE {
                return Err(Error::transient(format!(
                    "another worker has been refreshing the token of {connection} for too long"
                )));
            }
        };
        // It may have finished just before this worker got the lease.
        let current = self.load(connection).await?;
        let result = if current.version != stored.version && !self.expiring(&current) {
            Ok(Self::access(&current))
        } else {
            self.refresh_now(connection, current).await
        };
        if let Err(e) = leases.release(&lease).await {
            tracing::warn!(connection = %connection, error = %e, "the refresh lease was not released; it lapses by itself");
        }
        result
    }

    /// Asks the provider for new tokens over `stored` and stores them.
    async fn refresh_now(
        &self,
        connection: &ConnectionId,
        stored: StoredToken,
    ) -> Result<AccessToken> {
        let refresher = self.refreshers.get(&stored.provider).ok_or_else(|| {
            Error::not_supported(format!("refreshing tokens of {}", stored.provider))
        })?;
        let refresh_token = match stored.credentials.refresh_token.as_ref() {
            Some(t) => RefreshToken::new(t.expose_secret().to_owned()),
            None if !refresher.needs_refresh_token() => RefreshToken::new(String::new()),
            None => {
                return Err(Error::NeedsReauth {
                    connection: connection.to_string(),
                    message: "the token expired and there is no refresh token".into(),
                });
            }
        };
        tracing::debug!(connection = %connection, "refreshing the access token");
        match refresher.refresh(connection, &refresh_token).await {
            Ok(credentials) => {
                match self
                    .store
                    .put(
                        connection,
                        &stored.provider,
                        &credentials,
                        Some(stored.version),
                    )
                    .await
                {
                    Ok(_) => Ok(AccessToken::new(
                        credentials.access_token.expose_secret().to_owned(),
                    )),
                    // Another worker wrote first: its tokens are the valid ones.
                    Err(Error::Precondition(_) | Error::AlreadyExists(_)) => {
                        Ok(Self::access(&self.load(connection).await?))
                    }
                    Err(e) => Err(e),
                }
            }
            Err(Error::NeedsReauth {
                connection: c,
                message,
            }) => {
                let current = self.load(connection).await?;
                if current.version != stored.version {
                    // The refresh token was rotated by another worker meanwhile.
                    tracing::debug!(connection = %connection, "invalid_grant after a concurrent rotation; using the new tokens");
                    return Ok(Self::access(&current));
                }
                let mut health = self
                    .journal
                    .health(connection)
                    .await?
                    .unwrap_or_else(|| ConnectionHealth::new(connection.clone()));
                health.status = ConnectionStatus::NeedsReauth;
                health.last_error = Some(message.clone());
                health.error_count += 1;
                self.journal.put_health(&health).await?;
                Err(Error::NeedsReauth {
                    connection: c,
                    message,
                })
            }
            Err(e) => Err(e),
        }
    }
}
