//! `cargo bench -p host-service --bench webhook_load`: 1,000 signed webhook
//! deliveries posted to the host service at once (100 in flight), on loopback; prints
//! the intake latency (p50, p95, p99) and how long until the inbox worker applied
//! them all, each once.
#![allow(clippy::print_stdout)]

use std::time::Duration;

use host_service::load::{quantile_us, run};

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let dir = std::env::temp_dir();
    let report = runtime
        .block_on(run(&dir, 1_000, 100, Duration::from_secs(120)))
        .expect("load run");
    let accepted = report.posted.iter().filter(|p| p.status == 202).count();
    assert_eq!(accepted, report.posted.len(), "every delivery answered 202");
    assert_eq!(
        (report.left, report.twice),
        (0, 0),
        "all applied, none twice"
    );
    println!(
        "deliveries={} accepted={accepted} intake_p50_us={} intake_p95_us={} intake_p99_us={}",
        report.posted.len(),
        quantile_us(&report.posted, 0.50),
        quantile_us(&report.posted, 0.95),
        quantile_us(&report.posted, 0.99),
    );
    println!(
        "applied={} applied_after_seconds={:.3}",
        report.processed,
        report.applied_after.as_secs_f64()
    );
    assert!(
        report.api.iter().all(|p| p.status == 200),
        "every API call answered 200"
    );
    println!(
        "api_calls={} api_p50_us={} api_p95_us={}",
        report.api.len(),
        quantile_us(&report.api, 0.50),
        quantile_us(&report.api, 0.95),
    );
}
