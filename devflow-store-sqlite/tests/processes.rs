//! Two processes on one database file: the inbox claim hands each delivery to exactly
//! one of them, and a lease is held by one of them at a time. The test runs its own
//! binary twice more as the workers (`DEVFLOW_SQLITE_WORKER` set).

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use chrono::Utc;
use devflow_store_sqlite::SqliteStore;
use devflow_sync_core::model::{ConnectionId, ObjectType, ProviderKey};
use devflow_sync_core::provider::Headers;
use devflow_sync_core::store::{InboxEntry, InboxStatus, LeaseManager, WebhookInbox};

const DELIVERIES: usize = 1_000;
const WORKER_ENV: &str = "DEVFLOW_SQLITE_WORKER";
const DB_ENV: &str = "DEVFLOW_SQLITE_DB";

fn db_file(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("sqlite-processes");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("{name}.db"));
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    path
}

/// The worker's side: claims deliveries until none is left, noting each claim in a
/// table of its own, then takes and gives back a lease many times, noting when it
/// held it. Does nothing unless started by the test below.
#[tokio::test]
async fn worker() {
    let (Ok(name), Ok(db)) = (std::env::var(WORKER_ENV), std::env::var(DB_ENV)) else {
        return;
    };
    let store = SqliteStore::open(&db).await.unwrap();
    let pool = store.pool();
    let mut idle = 0;
    while idle < 20 {
        let claimed = store
            .claim_due(Utc::now(), 25, &name, Duration::from_secs(60))
            .await
            .unwrap();
        if claimed.is_empty() {
            idle += 1;
            tokio::time::sleep(Duration::from_millis(5)).await;
            continue;
        }
        idle = 0;
        for mut entry in claimed {
            sqlx::query("INSERT INTO test_claims (worker, delivery) VALUES (?, ?)")
                .bind(&name)
                .bind(&entry.id)
                .execute(pool)
                .await
                .unwrap();
            entry.status = InboxStatus::Processed;
            store.update_inbox(&entry).await.unwrap();
        }
    }
    let (conn, object) = (ConnectionId::new("gh"), ObjectType::new("issue"));
    let deadline = Instant::now() + Duration::from_secs(2);
    while Instant::now() < deadline {
        if let Some(lease) = store
            .acquire(&conn, &object, &name, Duration::from_secs(30))
            .await
            .unwrap()
        {
            let start = Utc::now().timestamp_nanos_opt().unwrap_or(0);
            tokio::time::sleep(Duration::from_millis(3)).await;
            let end = Utc::now().timestamp_nanos_opt().unwrap_or(0);
            sqlx::query("INSERT INTO test_leases (worker, start_ns, end_ns) VALUES (?, ?, ?)")
                .bind(&name)
                .bind(start)
                .bind(end)
                .execute(pool)
                .await
                .unwrap();
            store.release(&lease).await.unwrap();
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    store.close().await;
}

#[tokio::test]
async fn two_processes_share_the_inbox_and_take_turns_on_leases() {
    if std::env::var(WORKER_ENV).is_ok() {
        return;
    }
    let path = db_file("two-workers");
    let store = SqliteStore::open(&path).await.unwrap();
    let pool = store.pool();
    sqlx::query("CREATE TABLE test_claims (worker TEXT NOT NULL, delivery TEXT NOT NULL)")
        .execute(pool)
        .await
        .unwrap();
    sqlx::query(
        "CREATE TABLE test_leases (worker TEXT NOT NULL, start_ns INTEGER, end_ns INTEGER)",
    )
    .execute(pool)
    .await
    .unwrap();
    let now = Utc::now();
    for i in 0..DELIVERIES {
        store
            .insert_inbox(&InboxEntry {
                id: String::new(),
                provider: ProviderKey::new("github"),
                connection: ConnectionId::new("gh"),
                delivery_id: format!("d-{i}"),
                headers: Headers::new(),
                body: br#"{"action":"edited"}"#.to_vec(),
                received_at: now,
                status: InboxStatus::Pending,
                attempts: 0,
                last_error: None,
                next_attempt_at: now,
                claimed_by: None,
                claimed_until: None,
                entity: None,
            })
            .await
            .unwrap();
    }
    let exe = std::env::current_exe().unwrap();
    let workers: Vec<_> = ["w1", "w2"]
        .iter()
        .map(|name| {
            Command::new(&exe)
                .args(["--exact", "worker", "--nocapture", "--test-threads", "1"])
                .env(WORKER_ENV, name)
                .env(DB_ENV, &path)
                .spawn()
                .unwrap()
        })
        .collect();
    for mut w in workers {
        assert!(w.wait().unwrap().success(), "a worker failed");
    }

    // Every delivery claimed exactly once, by one of the two, and processed.
    let claims: Vec<(String, String)> = sqlx::query_as("SELECT worker, delivery FROM test_claims")
        .fetch_all(pool)
        .await
        .unwrap();
    assert_eq!(claims.len(), DELIVERIES, "each delivery claimed once");
    let mut ids: Vec<&str> = claims.iter().map(|(_, d)| d.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), DELIVERIES);
    let by_w1 = claims.iter().filter(|(w, _)| w == "w1").count();
    assert!(
        by_w1 > 0 && by_w1 < DELIVERIES,
        "both workers took part: w1 {by_w1}"
    );
    let pending: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM inbox WHERE status = 'pending'")
        .fetch_one(pool)
        .await
        .unwrap();
    assert_eq!(pending, 0);

    // Lease holdings never overlap, and both held it.
    let mut held: Vec<(String, i64, i64)> =
        sqlx::query_as("SELECT worker, start_ns, end_ns FROM test_leases ORDER BY start_ns")
            .fetch_all(pool)
            .await
            .unwrap();
    assert!(held.iter().any(|h| h.0 == "w1") && held.iter().any(|h| h.0 == "w2"));
    held.sort_by_key(|h| h.1);
    for pair in held.windows(2) {
        assert!(
            pair[0].2 <= pair[1].1,
            "{} held until {} but {} from {}",
            pair[0].0,
            pair[0].2,
            pair[1].0,
            pair[1].1
        );
    }
}
