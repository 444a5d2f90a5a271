//! Connecting: the pool (with limits and a statement timeout on every connection), the
//! migrations, and the tenant every statement is scoped to.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use devflow_sync_core::clock::{Clock, SystemClock};
use devflow_sync_core::{Error, Result};
use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::{Executor, SqlStr};

use crate::codec::{Db, STORE};

/// The schema, one migration per file, applied in order on connect.
fn migrator() -> Migrator {
    Migrator::with_migrations(vec![
        Migration::new(
            1,
            "stores".into(),
            MigrationType::Simple,
            SqlStr::from_static(include_str!("../migrations/0001_stores.sql")),
            false,
        ),
        Migration::new(
            2,
            "events".into(),
            MigrationType::Simple,
            SqlStr::from_static(include_str!("../migrations/0002_events.sql")),
            false,
        ),
        Migration::new(
            3,
            "maintenance".into(),
            MigrationType::Simple,
            SqlStr::from_static(include_str!("../migrations/0003_maintenance.sql")),
            false,
        ),
    ])
}

/// Options for [`PgStore`]; [`PgStoreBuilder::connect`] connects.
#[derive(Clone)]
pub struct PgStoreBuilder {
    url: String,
    tenant: String,
    schema: Option<String>,
    max_connections: u32,
    statement_timeout: Duration,
    acquire_timeout: Duration,
    clock: Arc<dyn Clock>,
}

impl fmt::Debug for PgStoreBuilder {
    /// The URL is left out: it may carry a password.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PgStoreBuilder")
            .field("tenant", &self.tenant)
            .field("schema", &self.schema)
            .field("max_connections", &self.max_connections)
            .field("statement_timeout", &self.statement_timeout)
            .finish_non_exhaustive()
    }
}

impl PgStoreBuilder {
    /// The tenant every statement is scoped to (default `default`).
    #[must_use]
    pub fn tenant(mut self, tenant: impl Into<String>) -> Self {
        self.tenant = tenant.into();
        self
    }

    /// A schema of its own (created when missing), for tests and side-by-side
    /// installations; the default is the connection's `search_path`.
    #[must_use]
    pub fn schema(mut self, schema: impl Into<String>) -> Self {
        self.schema = Some(schema.into());
        self
    }

    /// The most connections the pool opens (default 8; at least 1).
    #[must_use]
    pub fn max_connections(mut self, n: u32) -> Self {
        self.max_connections = n.max(1);
        self
    }

    /// How long one statement may run before the server cancels it (default 30 s); a
    /// cancelled statement is a transient error.
    #[must_use]
    pub fn statement_timeout(mut self, timeout: Duration) -> Self {
        self.statement_timeout = timeout;
        self
    }

    /// How long a caller waits for a free connection (default 10 s).
    #[must_use]
    pub fn acquire_timeout(mut self, timeout: Duration) -> Self {
        self.acquire_timeout = timeout;
        self
    }

    /// The clock that stamps items and judges leases (default the system clock).
    #[must_use]
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Connects, creating the schema when asked, and brings it up to date.
    pub async fn connect(self) -> Result<PgStore> {
        let options = PgConnectOptions::from_str(&self.url).map_err(|e| Error::InvalidConfig {
            pointer: "postgres.url".into(),
            message: format!("not a Postgres URL: {}", redact(&e.to_string())),
        })?;
        if let Some(schema) = &self.schema
            && !valid_schema(schema)
        {
            return Err(Error::InvalidConfig {
                pointer: "postgres.schema".into(),
                message: format!(
                    "{schema:?} is not a schema name (letters, digits and _, at most 63)"
                ),
            });
        }
        let millis = self.statement_timeout.as_millis().max(1);
        let schema = self.schema.clone();
        let pool = PgPoolOptions::new()
            .max_connections(self.max_connections)
            .acquire_timeout(self.acquire_timeout)
            .after_connect(move |conn, _meta| {
                let schema = schema.clone();
                Box::pin(async move {
                    conn.execute(sqlx::AssertSqlSafe(format!(
                        "SET statement_timeout = {millis}"
                    )))
                    .await?;
                    if let Some(schema) = schema {
                        conn.execute(sqlx::AssertSqlSafe(format!(
                            "CREATE SCHEMA IF NOT EXISTS {schema}; SET search_path TO {schema}"
                        )))
                        .await?;
                    }
                    Ok(())
                })
            })
            .connect_with(options)
            .await
            .map_err(|e| Error::InvalidConfig {
                pointer: "postgres.url".into(),
                message: format!("cannot connect: {}", redact(&e.to_string())),
            })?;
        migrator().run(&pool).await.map_err(|e| Error::Other {
            provider: STORE.into(),
            source: Box::new(e),
        })?;
        Ok(PgStore {
            pool,
            tenant: Arc::from(self.tenant.as_str()),
            clock: self.clock,
            ids: Arc::default(),
        })
    }
}

/// A schema name safe to write into a statement.
fn valid_schema(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 63
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !name.starts_with(|c: char| c.is_ascii_digit())
}

/// An error text with any `user:password@` of a URL taken out.
fn redact(text: &str) -> String {
    match (text.find("://"), text.find('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            format!("{}://***{}", &text[..scheme], &text[at..])
        }
        _ => text.to_owned(),
    }
}

/// Every store trait of devflow-sync on Postgres, for one tenant. Cheap to clone (one
/// pool); stores of several tenants can share a pool ([`PgStore::for_tenant`]).
///
/// ```no_run
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// use std::sync::Arc;
/// use devflow_store_postgres::PgStore;
/// use devflow_sync_core::engine::SyncEngine;
/// let store = Arc::new(PgStore::builder("postgres://devflow@127.0.0.1/devflow").tenant("acme").connect().await.unwrap());
/// let engine = SyncEngine::builder().stores(store).build().unwrap();
/// # let _ = engine;
/// # });
/// ```
#[derive(Clone)]
pub struct PgStore {
    pub(crate) pool: PgPool,
    pub(crate) tenant: Arc<str>,
    pub(crate) clock: Arc<dyn Clock>,
    /// Item ids reserved in a block and not handed out yet.
    pub(crate) ids: Arc<crate::page::ReservedIds>,
}

impl fmt::Debug for PgStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PgStore")
            .field("tenant", &self.tenant)
            .finish_non_exhaustive()
    }
}

impl PgStore {
    /// Options for the database at `url` (`postgres://user:password@host:port/db`).
    pub fn builder(url: impl Into<String>) -> PgStoreBuilder {
        PgStoreBuilder {
            url: url.into(),
            tenant: "default".into(),
            schema: None,
            max_connections: 8,
            statement_timeout: Duration::from_secs(30),
            acquire_timeout: Duration::from_secs(10),
            clock: Arc::new(SystemClock),
        }
    }

    /// Connects to `url` with the default options.
    pub async fn connect(url: &str) -> Result<Self> {
        Self::builder(url).connect().await
    }

    /// A store of another tenant on the same pool.
    pub fn for_tenant(&self, tenant: impl Into<String>) -> Self {
        Self {
            tenant: Arc::from(tenant.into().as_str()),
            ids: Arc::default(),
            ..self.clone()
        }
    }

    /// The tenant this store's statements are scoped to.
    pub fn tenant(&self) -> &str {
        &self.tenant
    }

    /// The connection pool, for a host that keeps its own tables in the same database.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Closes every connection, waiting for those in use.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// A transaction holding the tenant's lock named `what` until it ends: writers that
    /// must not interleave (change numbers, a conflict found then recorded, the inbox's
    /// ordered claim) take turns per tenant, as one writer at a time would.
    pub(crate) async fn locked(
        &self,
        what: &str,
    ) -> Result<sqlx::Transaction<'static, sqlx::Postgres>> {
        let mut tx = self.pool.begin().await.db()?;
        sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1 || '/' || $2, 0))")
            .bind(&*self.tenant)
            .bind(what)
            .execute(&mut *tx)
            .await
            .db()?;
        Ok(tx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_taken_out_of_errors_and_schemas_are_checked() {
        assert_eq!(
            redact("error connecting to postgres://u:secret@h/db"),
            "error connecting to postgres://***@h/db"
        );
        assert!(valid_schema("devflow_test_1"));
        assert!(!valid_schema("x; DROP TABLE links"));
        assert!(!valid_schema("1abc"));
    }
}
