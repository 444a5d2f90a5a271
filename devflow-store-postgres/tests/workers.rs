//! Many workers on one Postgres database: four engines (four pools) process 10,000
//! webhook deliveries of 1,000 records, each applied exactly once and each record's in
//! order, while a fifth worker dies holding claims that the others take over after the
//! visibility timeout; two workers refreshing one rotating token at the same moment
//! cause one refresh at the provider and both use its tokens.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use chrono::Utc;
use devflow_store_postgres::PgStore;
use devflow_sync_core::auth::{AccessToken, RefreshToken, TokenManager, TokenRefresher};
use devflow_sync_core::clock::SystemClock;
use devflow_sync_core::engine::{EngineConfig, ImportMode, SyncEngine};
use devflow_sync_core::memory_provider::MemoryProvider;
use devflow_sync_core::model::{ConnectionId, FieldValue, Fields, ObjectType, ProviderKey};
use devflow_sync_core::store::{Credentials, TokenStore, WebhookInbox};
use devflow_sync_core::{Error, Result};
use futures_util::StreamExt;
use secrecy::SecretString;

mod support;

const RECORDS: usize = 1_000;
const VERSIONS: i64 = 10;
const WORKERS: usize = 4;

fn engine(store: PgStore, provider: Arc<MemoryProvider>, worker: &str) -> SyncEngine {
    let config = EngineConfig {
        worker_id: worker.to_owned(),
        inbox_visibility: Duration::from_secs(60),
        ..EngineConfig::default()
    };
    SyncEngine::builder()
        .provider(provider)
        .bind("c", "memory", "issue")
        .stores(Arc::new(store))
        .config(config)
        .import_mode(ImportMode::Import)
        .build()
        .unwrap()
}

/// Every record's deliveries, a round at a time (version 1 of every record, then 2,
/// ...), accepted by `engine` (within a round in parallel: one delivery per record).
async fn deliveries(engine: &SyncEngine, provider: &MemoryProvider) {
    let object = ObjectType::new("issue");
    let mut ids = Vec::new();
    for version in 1..=VERSIONS {
        if version == 1 {
            for n in 0..RECORDS {
                let fields = Fields::new()
                    .with("title", format!("record {n}"))
                    .with("n", FieldValue::int(1));
                ids.push(provider.remote_create(&object, None, None, fields).id);
            }
        } else {
            for id in &ids {
                let fields = Fields::new().with("n", FieldValue::int(version));
                provider.remote_edit(&object, id, fields).unwrap();
            }
        }
        let hooks = provider.take_webhooks();
        assert_eq!(hooks.len(), RECORDS, "one delivery per record a round");
        let (provider_key, conn) = (ProviderKey::new("memory"), ConnectionId::new("c"));
        futures_util::stream::iter(hooks)
            .map(|hook| {
                let (p, c) = (&provider_key, &conn);
                async move { engine.accept_webhook(p, c, &hook.headers, &hook.body).await }
            })
            .buffer_unordered(16)
            .for_each(|accepted| async move {
                accepted.unwrap();
            })
            .await;
    }
}

const DEAD_SCHEMA: &str = "DEVFLOW_PG_DEAD_SCHEMA";
const DEAD_SIGNAL: &str = "DEVFLOW_PG_DEAD_SIGNAL";

/// The worker the test below kills: claims 200 deliveries for three seconds, says so,
/// and waits to be killed. Does nothing unless started by that test.
#[tokio::test]
async fn dead_worker_child() {
    let (Ok(schema), Ok(signal), Some(url)) = (
        std::env::var(DEAD_SCHEMA),
        std::env::var(DEAD_SIGNAL),
        std::env::var("DATABASE_URL").ok(),
    ) else {
        return;
    };
    let store = support::builder(&url, &schema).connect().await.unwrap();
    let held = store
        .claim_due(Utc::now(), 200, "dead", Duration::from_secs(3))
        .await
        .unwrap();
    std::fs::write(&signal, held.len().to_string()).unwrap();
    tokio::time::sleep(Duration::from_secs(120)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn four_workers_apply_each_delivery_once_in_order_and_take_over_a_dead_workers_claims() {
    let Some(url) = support::url() else { return };
    let schema = support::fresh_schema("workers");
    let first = support::builder(&url, &schema).connect().await.unwrap();
    // Every time a delivery is marked processed, a row: twice for one delivery would
    // mean it was applied twice.
    sqlx::raw_sql(
        "CREATE TABLE applied (seq BIGINT NOT NULL, worker TEXT);
         CREATE FUNCTION note_applied() RETURNS trigger AS $$
         BEGIN
           INSERT INTO applied (seq, worker) VALUES (NEW.seq, OLD.claimed_by);
           RETURN NEW;
         END $$ LANGUAGE plpgsql;
         CREATE TRIGGER note_applied AFTER UPDATE ON inbox
           FOR EACH ROW WHEN (NEW.status = 'processed') EXECUTE FUNCTION note_applied();",
    )
    .execute(first.pool())
    .await
    .unwrap();
    let provider = Arc::new(
        MemoryProvider::new("memory", Arc::new(SystemClock)).with_webhook_secret("s3cret"),
    );
    let acceptor = engine(first.clone(), provider.clone(), "acceptor");
    deliveries(&acceptor, &provider).await;

    // A worker process claims a batch and is killed (SIGKILL) before applying any of it.
    let signal = std::env::temp_dir().join(format!("{schema}.claimed"));
    let _ = std::fs::remove_file(&signal);
    let mut child = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "dead_worker_child",
            "--nocapture",
            "--test-threads",
            "1",
        ])
        .env(DEAD_SCHEMA, &schema)
        .env(DEAD_SIGNAL, &signal)
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    while !signal.exists() {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the worker never claimed"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let _ = std::fs::remove_file(&signal);
    let held: i64 = sqlx::query_scalar("SELECT count(*) FROM inbox WHERE claimed_by = 'dead'")
        .fetch_one(first.pool())
        .await
        .unwrap();
    assert_eq!(held, 200, "the killed worker holds its claims");

    let mut tasks = Vec::new();
    for w in 0..WORKERS {
        let store = support::builder(&url, &schema).connect().await.unwrap();
        let (engine, first) = (
            engine(store, provider.clone(), &format!("w{w}")),
            first.clone(),
        );
        tasks.push(tokio::spawn(async move {
            loop {
                engine.process_inbox(100).await.unwrap();
                let left = first
                    .due_inbox(Utc::now() + chrono::Duration::days(1), 1)
                    .await
                    .unwrap();
                if left.is_empty() {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }

    // Each delivery processed exactly once, the dead worker's ones by the others.
    let applied: Vec<(i64, Option<String>)> = sqlx::query_as("SELECT seq, worker FROM applied")
        .fetch_all(first.pool())
        .await
        .unwrap();
    assert_eq!(applied.len(), RECORDS * VERSIONS as usize);
    let mut per_delivery: HashMap<i64, usize> = HashMap::new();
    for (seq, worker) in &applied {
        *per_delivery.entry(*seq).or_default() += 1;
        assert_ne!(
            worker.as_deref(),
            Some("dead"),
            "the dead worker applied nothing"
        );
    }
    assert!(
        per_delivery.values().all(|n| *n == 1),
        "no delivery applied twice"
    );
    let workers: std::collections::HashSet<_> =
        applied.iter().filter_map(|(_, w)| w.clone()).collect();
    assert!(workers.len() > 1, "the work was shared: {workers:?}");

    // Each record's versions reached the host in order: its log shows n = 2, 3, ... 10
    // written one after another, each once, after its import.
    let lines: Vec<(String, String)> = sqlx::query_as(
        "SELECT item, data FROM sync_log WHERE item IS NOT NULL AND data::jsonb ->> 'direction' = 'pull' ORDER BY seq",
    )
    .fetch_all(first.pool())
    .await
    .unwrap();
    let mut seen: HashMap<String, Vec<i64>> = HashMap::new();
    for (item, data) in &lines {
        let entry: serde_json::Value = serde_json::from_str(data).unwrap();
        let ns = seen.entry(item.clone()).or_default();
        if entry["operation"] == "import" {
            ns.push(1);
        }
        for change in entry["changes"].as_array().into_iter().flatten() {
            if change["field"] == "n" {
                ns.push(change["new"]["value"].as_i64().unwrap_or(-1));
            }
        }
    }
    assert_eq!(seen.len(), RECORDS, "every record imported");
    let expected: Vec<i64> = (1..=VERSIONS).collect();
    for (item, ns) in &seen {
        assert_eq!(
            ns, &expected,
            "record {item}: versions applied out of order or twice"
        );
    }
}

/// A refresh that takes a while, rotating `rt-1` into `rt-2` once.
#[derive(Debug, Default)]
struct SlowRotation {
    calls: AtomicUsize,
}

#[async_trait]
impl TokenRefresher for SlowRotation {
    async fn refresh(
        &self,
        connection: &ConnectionId,
        token: &RefreshToken,
    ) -> Result<Credentials> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        tokio::time::sleep(Duration::from_millis(300)).await;
        if token.secret() != "rt-1" {
            return Err(Error::NeedsReauth {
                connection: connection.to_string(),
                message: "invalid_grant: the refresh token was already used".into(),
            });
        }
        Ok(Credentials {
            access_token: SecretString::from("at-2".to_owned()),
            refresh_token: Some(SecretString::from("rt-2".to_owned())),
            expires_at: Some(Utc::now() + chrono::Duration::hours(1)),
            scopes: vec![],
        })
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_workers_refreshing_one_rotating_token_cause_one_refresh() {
    let Some(url) = support::url() else { return };
    let schema = support::fresh_schema("refresh");
    let a = support::builder(&url, &schema).connect().await.unwrap();
    let b = support::builder(&url, &schema).connect().await.unwrap();
    let conn = ConnectionId::new("jira-acme");
    a.put(
        &conn,
        &ProviderKey::new("jira"),
        &Credentials {
            access_token: SecretString::from("at-1".to_owned()),
            refresh_token: Some(SecretString::from("rt-1".to_owned())),
            // Inside the refresh margin.
            expires_at: Some(Utc::now() + chrono::Duration::seconds(60)),
            scopes: vec![],
        },
        None,
    )
    .await
    .unwrap();
    let provider = Arc::new(SlowRotation::default());
    let manager = |store: &PgStore, worker: &str| {
        let shared = Arc::new(store.clone());
        TokenManager::new(shared.clone(), shared.clone())
            .refresher("jira", provider.clone())
            .leases(shared, worker)
    };
    let (one, two) = (manager(&a, "w1"), manager(&b, "w2"));
    let (x, y) = tokio::join!(one.access_token(&conn), two.access_token(&conn));
    assert_eq!(x.unwrap(), AccessToken::new("at-2"));
    assert_eq!(y.unwrap(), AccessToken::new("at-2"));
    assert_eq!(
        provider.calls.load(Ordering::SeqCst),
        1,
        "one refresh at the provider"
    );
    let stored = b.get(&conn).await.unwrap().unwrap();
    assert_eq!(stored.version, 2);
}
