//! What the Postgres test files share: the server (`DATABASE_URL`, which `scripts/test`
//! sets, starting a throwaway server when none is given) and a fresh schema per store.

#![allow(dead_code)]

use std::sync::atomic::{AtomicU32, Ordering};

use devflow_store_postgres::{PgStore, PgStoreBuilder};

static NEXT: AtomicU32 = AtomicU32::new(0);

/// The server's URL. Without `DATABASE_URL` the tests fail, saying how to run them,
/// unless `DEVFLOW_SKIP_POSTGRES=1` says to leave them out on purpose.
pub(crate) fn url() -> Option<String> {
    match std::env::var("DATABASE_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ if std::env::var("DEVFLOW_SKIP_POSTGRES").as_deref() == Ok("1") => None,
        _ => panic!(
            "the Postgres store's tests need a server: run scripts/test (it starts one), \
             set DATABASE_URL, or set DEVFLOW_SKIP_POSTGRES=1 to leave them out"
        ),
    }
}

/// A schema no other test uses.
pub(crate) fn fresh_schema(name: &str) -> String {
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!("t_{name}_{}_{n}_{nanos}", std::process::id())
}

/// Options for a store in `schema`.
pub(crate) fn builder(url: &str, schema: &str) -> PgStoreBuilder {
    PgStore::builder(url).schema(schema).max_connections(4)
}

/// A store in a fresh schema.
pub(crate) async fn store(name: &str) -> Option<PgStore> {
    let url = url()?;
    Some(builder(&url, &fresh_schema(name)).connect().await.unwrap())
}
