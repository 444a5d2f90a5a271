//! What every handler shares: the engine (SQLite stores), the admin token, the
//! providers by connection (for what only a provider can do: catalogs, issue search),
//! sync jobs, and the webhook intake limits.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use devflow_provider_jira::JiraProvider;
use devflow_sync_core::engine::{PlatformResult, SyncEngine};
use devflow_sync_core::model::ConnectionId;
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use subtle::ConstantTimeEq;

/// A sync started by `POST /api/integrations/sync/trigger`.
#[derive(Clone, Debug, Serialize)]
pub struct SyncJob {
    /// The job id.
    pub id: String,
    /// The host item.
    pub entity_id: String,
    /// `running`, `done` or `failed`.
    pub status: String,
    /// One result per platform, once done.
    pub results: Vec<PlatformResult>,
    /// Why it failed, when it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// A connection's provider, for what only it can do (a connection test, setup steps,
/// issue search).
#[derive(Clone, Debug)]
pub enum Handle {
    /// Jira Cloud.
    Jira(Arc<JiraProvider>),
    /// GitHub.
    GitHub(Arc<devflow_provider_github::GitHubProvider>),
    /// Confluence Cloud.
    Confluence(Arc<devflow_provider_confluence::ConfluenceProvider>),
    /// BQE CORE.
    Bqe(Arc<devflow_provider_bqe::BqeProvider>),
}

impl Handle {
    /// As the engine's provider.
    pub fn provider(&self) -> Arc<dyn devflow_sync_core::provider::Provider> {
        match self {
            Handle::Jira(p) => p.clone(),
            Handle::GitHub(p) => p.clone(),
            Handle::Confluence(p) => p.clone(),
            Handle::Bqe(p) => p.clone(),
        }
    }
}

/// The providers by connection.
pub type Handles = HashMap<ConnectionId, Handle>;

/// Webhook deliveries allowed per connection and minute before `429`.
pub const WEBHOOKS_PER_MINUTE: u32 = 6_000;

/// The shared state.
pub struct AppState {
    /// The engine.
    pub engine: SyncEngine,
    admin_token: SecretString,
    /// Every connection's provider (connections come and go at run time).
    handles: std::sync::RwLock<Handles>,
    /// Where connections and webhook registrations are kept (the scheduler refreshes
    /// expiring registrations from it).
    pub connection_store: Option<Arc<dyn devflow_sync_core::store::ConnectionStore>>,
    /// The host's OAuth apps (GitHub, BQE) and the flows started with them.
    pub oauth: crate::api::oauth::OAuthApps,
    /// Cancelled when the service stops: ends the MCP transport's open streams.
    pub mcp_stop: tokio_util::sync::CancellationToken,
    /// The durable store's retention, run by the scheduler's rounds.
    pub maintenance: Option<Arc<dyn devflow_sync_core::store::Maintenance>>,
    /// How long history is kept.
    pub retention: devflow_sync_core::store::Retention,
    /// Sync jobs by id.
    pub jobs: Mutex<HashMap<String, SyncJob>>,
    intake: Mutex<HashMap<String, (Instant, u32)>>,
    /// The notifications' read markers.
    pub reads: crate::reads::ReadMarkers,
    next_job: std::sync::atomic::AtomicU64,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState").finish_non_exhaustive()
    }
}

impl AppState {
    /// The state over `engine`, guarded by `admin_token`.
    pub fn new(engine: SyncEngine, admin_token: SecretString, handles: Handles) -> Self {
        Self {
            engine,
            admin_token,
            handles: std::sync::RwLock::new(handles),
            oauth: crate::api::oauth::OAuthApps::default(),
            maintenance: None,
            mcp_stop: tokio_util::sync::CancellationToken::new(),
            retention: devflow_sync_core::store::Retention::default(),
            connection_store: None,
            jobs: Mutex::new(HashMap::new()),
            intake: Mutex::new(HashMap::new()),
            reads: crate::reads::ReadMarkers::default(),
            next_job: std::sync::atomic::AtomicU64::new(1),
        }
    }

    /// With the store connections and webhook registrations are kept in.
    #[must_use]
    pub fn with_connection_store(
        mut self,
        store: Arc<dyn devflow_sync_core::store::ConnectionStore>,
    ) -> Self {
        self.connection_store = Some(store);
        self
    }

    /// With the store's retention (pruned in the scheduler's rounds) kept as `retention`
    /// says.
    #[must_use]
    pub fn with_maintenance(
        mut self,
        store: Arc<dyn devflow_sync_core::store::Maintenance>,
        retention: devflow_sync_core::store::Retention,
    ) -> Self {
        self.maintenance = Some(store);
        self.retention = retention;
        self
    }

    /// With the host's OAuth apps.
    #[must_use]
    pub fn with_oauth(mut self, apps: crate::api::oauth::OAuthApps) -> Self {
        self.oauth = apps;
        self
    }

    /// The provider of connection `id`.
    pub fn handle(&self, id: &ConnectionId) -> Option<Handle> {
        self.handles
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(id)
            .cloned()
    }

    /// Adds (or replaces) a connection's provider.
    pub fn set_handle(&self, id: ConnectionId, handle: Handle) {
        self.handles
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(id, handle);
    }

    /// Forgets a connection's provider.
    pub fn drop_handle(&self, id: &ConnectionId) {
        self.handles
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .remove(id);
    }

    /// The Jira connections with their providers.
    pub fn jira(&self) -> Vec<(ConnectionId, Arc<JiraProvider>)> {
        let mut out: Vec<(ConnectionId, Arc<JiraProvider>)> = self
            .handles
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .filter_map(|(c, h)| match h {
                Handle::Jira(p) => Some((c.clone(), p.clone())),
                _ => None,
            })
            .collect();
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out
    }

    /// Whether `presented` is the admin token (compared in constant time).
    pub fn is_admin(&self, presented: &str) -> bool {
        let expected = self.admin_token.expose_secret().as_bytes();
        !expected.is_empty() && bool::from(expected.ct_eq(presented.as_bytes()))
    }

    /// A new job id.
    pub fn job_id(&self) -> String {
        let n = self
            .next_job
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        format!("job-{n}")
    }

    /// Keeps the notifications' read markers in `pool` (the service's SQLite file), so
    /// they survive a restart.
    pub async fn persist_reads(
        mut self,
        pool: sqlx::SqlitePool,
    ) -> devflow_sync_core::Result<Self> {
        self.reads = crate::reads::ReadMarkers::in_database(pool).await?;
        Ok(self)
    }

    /// Counts a delivery for `connection`; `false` when its minute's allowance is used.
    pub fn allow_webhook(&self, connection: &str) -> bool {
        let mut intake = self.intake.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        let slot = intake.entry(connection.to_owned()).or_insert((now, 0));
        if now.duration_since(slot.0) >= Duration::from_secs(60) {
            *slot = (now, 0);
        }
        slot.1 += 1;
        slot.1 <= WEBHOOKS_PER_MINUTE
    }
}
