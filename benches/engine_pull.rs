//! `cargo bench --bench engine_pull`: pulls 10,000 records from the in-memory provider
//! into in-memory stores through the engine (import mode: every record is validated
//! against the hierarchy, created in the host, linked, logged), several times, and
//! prints the median run.
#![allow(clippy::print_stdout)]

mod common;

use std::sync::Arc;
use std::time::Instant;

use devflow_sync::clock::ManualClock;
use devflow_sync::engine::{ImportMode, PullBudget, SyncEngine};
use devflow_sync::merge::Manual;
use devflow_sync::model::{ConnectionId, ObjectType};

const RECORDS: usize = 10_000;
const RUNS: usize = 5;

fn main() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    let mut seconds = Vec::with_capacity(RUNS);
    for _ in 0..RUNS {
        let clock = Arc::new(ManualClock::starting_at_epoch_secs(1_780_000_000));
        let remote = common::provider(&clock, RECORDS, "bench");
        let engine = SyncEngine::builder()
            .provider(remote)
            .bind("conn", "memory", "issue")
            .clock(clock.clone())
            .policy(Arc::new(Manual))
            .import_mode(ImportMode::Import)
            .build()
            .expect("engine");
        let (conn, object) = (ConnectionId::new("conn"), ObjectType::new("issue"));
        let started = Instant::now();
        let report = runtime
            .block_on(engine.pull(&conn, &object, PullBudget::UNLIMITED))
            .expect("pull");
        let elapsed = started.elapsed().as_secs_f64();
        assert_eq!(
            report.created,
            RECORDS,
            "every record imported: {}",
            report.summary()
        );
        seconds.push(elapsed);
    }
    seconds.sort_by(f64::total_cmp);
    let median = seconds[RUNS / 2];
    println!(
        "runs={RUNS} min_seconds={:.4} max_seconds={:.4}",
        seconds[0],
        seconds[RUNS - 1]
    );
    println!(
        "records={RECORDS} seconds={median:.4} records_per_sec={:.0}",
        RECORDS as f64 / median
    );
}
