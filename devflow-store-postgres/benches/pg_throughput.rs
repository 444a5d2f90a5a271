//! `scripts/with-postgres cargo bench -p devflow-store-postgres --bench pg_throughput`
//! (or with `DATABASE_URL` set): on Postgres, webhook deliveries applied per second by
//! one and by four workers (10,000 deliveries of 1,000 records, each worker an engine
//! with a pool of its own), and an engine pull of 10,000 records (a 2 KB description
//! each) into Postgres. Each figure in a fresh schema.
#![allow(clippy::print_stdout)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use devflow_store_postgres::PgStore;
use devflow_sync_core::clock::SystemClock;
use devflow_sync_core::engine::{EngineConfig, ImportMode, PullBudget, SyncEngine};
use devflow_sync_core::memory_provider::MemoryProvider;
use devflow_sync_core::model::{ConnectionId, FieldValue, Fields, ObjectType, ProviderKey};
use devflow_sync_core::store::WebhookInbox;
use futures_util::StreamExt;

const RECORDS: usize = 1_000;
const VERSIONS: i64 = 10;
const PULLED: usize = 10_000;

fn schema(name: &str) -> String {
    format!(
        "bench_{name}_{}_{}",
        std::process::id(),
        Utc::now().timestamp_micros()
    )
}

async fn store(url: &str, schema: &str) -> PgStore {
    PgStore::builder(url)
        .schema(schema)
        .max_connections(4)
        .connect()
        .await
        .expect("connect")
}

fn engine(store: PgStore, provider: Arc<MemoryProvider>, worker: &str) -> SyncEngine {
    let config = EngineConfig {
        worker_id: worker.to_owned(),
        ..EngineConfig::default()
    };
    SyncEngine::builder()
        .provider(provider)
        .bind("c", "memory", "issue")
        .stores(Arc::new(store))
        .config(config)
        .import_mode(ImportMode::Import)
        .build()
        .expect("engine")
}

/// Deliveries per second applied by `workers` engines.
async fn inbox(url: &str, workers: usize) -> f64 {
    let schema = schema("inbox");
    let first = store(url, &schema).await;
    let provider = Arc::new(
        MemoryProvider::new("memory", Arc::new(SystemClock)).with_webhook_secret("s3cret"),
    );
    let acceptor = engine(first.clone(), provider.clone(), "acceptor");
    let object = ObjectType::new("issue");
    let mut ids = Vec::new();
    for version in 1..=VERSIONS {
        for n in 0..RECORDS {
            if version == 1 {
                let fields = Fields::new()
                    .with("title", format!("record {n}"))
                    .with("n", FieldValue::int(1));
                ids.push(provider.remote_create(&object, None, None, fields).id);
            } else {
                let fields = Fields::new().with("n", FieldValue::int(version));
                provider
                    .remote_edit(&object, &ids[n], fields)
                    .expect("edit");
            }
        }
        let (key, conn) = (ProviderKey::new("memory"), ConnectionId::new("c"));
        futures_util::stream::iter(provider.take_webhooks())
            .map(|hook| {
                let (acceptor, key, conn) = (&acceptor, &key, &conn);
                async move {
                    acceptor
                        .accept_webhook(key, conn, &hook.headers, &hook.body)
                        .await
                }
            })
            .buffer_unordered(16)
            .for_each(|accepted| async move {
                accepted.expect("accepted");
            })
            .await;
    }
    let started = Instant::now();
    let mut tasks = Vec::new();
    for w in 0..workers {
        let engine = engine(
            store(url, &schema).await,
            provider.clone(),
            &format!("w{w}"),
        );
        let first = first.clone();
        tasks.push(tokio::spawn(async move {
            loop {
                engine.process_inbox(100).await.expect("process");
                let left = first
                    .due_inbox(Utc::now() + chrono::Duration::days(1), 1)
                    .await
                    .expect("due");
                if left.is_empty() {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        }));
    }
    for t in tasks {
        t.await.expect("worker");
    }
    (RECORDS as f64 * VERSIONS as f64) / started.elapsed().as_secs_f64()
}

/// Seconds of an engine pull of `PULLED` records into Postgres.
async fn pull(url: &str) -> f64 {
    let provider = Arc::new(MemoryProvider::new("memory", Arc::new(SystemClock)));
    let object = ObjectType::new("issue");
    let fields = devflow_sync_testkit::items::typical_fields();
    for n in 0..PULLED {
        let mut f = fields.clone();
        f.insert("title", format!("record {n}"));
        provider.remote_create(&object, None, None, f);
    }
    let engine = engine(store(url, &schema("pull")).await, provider, "puller");
    let started = Instant::now();
    let report = engine
        .pull(&ConnectionId::new("c"), &object, PullBudget::UNLIMITED)
        .await
        .expect("pull");
    assert_eq!(report.created, PULLED, "{}", report.summary());
    started.elapsed().as_secs_f64()
}

fn main() {
    let Ok(url) = std::env::var("DATABASE_URL") else {
        println!(
            "pg_throughput needs a server: scripts/with-postgres cargo bench -p devflow-store-postgres --bench pg_throughput"
        );
        std::process::exit(2);
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let one = runtime.block_on(inbox(&url, 1));
    let four = runtime.block_on(inbox(&url, 4));
    let seconds = runtime.block_on(pull(&url));
    println!(
        "inbox_workers=1 deliveries={} deliveries_per_sec={one:.0}",
        RECORDS as i64 * VERSIONS
    );
    println!(
        "inbox_workers=4 deliveries={} deliveries_per_sec={four:.0}",
        RECORDS as i64 * VERSIONS
    );
    println!(
        "pull records={PULLED} seconds={seconds:.3} records_per_sec={:.0}",
        PULLED as f64 / seconds
    );
}
