//! `cargo bench --bench engine_pull_sqlite`: pulls 10,000 records from the in-memory
//! provider into SQLite stores on a file (import mode: every record validated against
//! the hierarchy, created in the host, linked with its base, logged) five times, each
//! on a new file, and prints every run (`runs_seconds=`) and the median; then accepts 2,000 signed webhook deliveries one by one
//! (verify, deduplicate, persist to the inbox) and prints their latency percentiles.
#![allow(clippy::print_stdout)]

mod common;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use devflow_store_sqlite::SqliteStore;
use devflow_sync::clock::ManualClock;
use devflow_sync::engine::{ImportMode, PullBudget, SyncEngine};
use devflow_sync::merge::Manual;
use devflow_sync::model::{ConnectionId, FieldValue, ObjectType, ProviderKey};

const RECORDS: usize = 10_000;
const RUNS: usize = 5;
const DELIVERIES: usize = 2_000;

fn db_path(run: usize) -> PathBuf {
    let path = std::env::temp_dir().join(format!("devflow-bench-{}-{run}.db", std::process::id()));
    remove(&path);
    path
}

fn remove(path: &std::path::Path) {
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn main() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let (conn, object) = (ConnectionId::new("conn"), ObjectType::new("issue"));
    let mut seconds = Vec::with_capacity(RUNS);
    let mut last = None;
    for run in 0..RUNS {
        let clock = Arc::new(ManualClock::starting_at_epoch_secs(1_780_000_000));
        let remote = common::provider(&clock, RECORDS, "bench-secret");
        let path = db_path(run);
        let store = Arc::new(
            runtime
                .block_on(
                    SqliteStore::builder()
                        .path(&path)
                        .clock(clock.clone())
                        .open(),
                )
                .expect("store"),
        );
        let engine = SyncEngine::builder()
            .provider(remote.clone())
            .bind("conn", "memory", "issue")
            .stores(store.clone())
            .clock(clock.clone())
            .policy(Arc::new(Manual))
            .import_mode(ImportMode::Import)
            .build()
            .expect("engine");
        let started = Instant::now();
        let report = runtime
            .block_on(engine.pull(&conn, &object, PullBudget::UNLIMITED))
            .expect("pull");
        seconds.push(started.elapsed().as_secs_f64());
        assert_eq!(report.created, RECORDS, "{}", report.summary());
        // The previous run's store is closed before the next run starts, so its
        // checkpoint (after its writes paused) is not timed in the next run.
        if let Some((engine, _, store, old)) = last.replace((engine, remote, store, path)) {
            drop(engine);
            runtime.block_on(store.close());
            remove(&old);
        }
    }
    println!(
        "runs_seconds={}",
        seconds
            .iter()
            .map(|s| format!("{s:.4}"))
            .collect::<Vec<_>>()
            .join(",")
    );
    seconds.sort_by(f64::total_cmp);
    let median = seconds[RUNS / 2];
    println!(
        "records={RECORDS} seconds={median:.4} records_per_sec={:.0}",
        RECORDS as f64 / median
    );

    // Webhooks on the last run's database: each accepted alone, timed alone.
    let Some((engine, remote, store, path)) = last else {
        return;
    };
    let records = remote.records(&object);
    for r in records.iter().take(DELIVERIES) {
        remote
            .remote_edit(
                &object,
                &r.id,
                [("title", FieldValue::text("edited"))]
                    .into_iter()
                    .collect(),
            )
            .expect("edit");
    }
    let hooks = remote.take_webhooks();
    assert_eq!(hooks.len(), DELIVERIES);
    let provider = ProviderKey::new("memory");
    let mut micros: Vec<f64> = Vec::with_capacity(DELIVERIES);
    runtime.block_on(async {
        for hook in &hooks {
            let started = Instant::now();
            engine
                .accept_webhook(&provider, &conn, &hook.headers, &hook.body)
                .await
                .expect("accept");
            micros.push(started.elapsed().as_secs_f64() * 1e6);
        }
    });
    micros.sort_by(f64::total_cmp);
    println!(
        "webhook_accept p50_us={:.0} p99_us={:.0}",
        percentile(&micros, 0.50),
        percentile(&micros, 0.99)
    );
    drop(engine);
    runtime.block_on(store.close());
    remove(&path);
}
