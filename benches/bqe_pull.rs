//! `cargo bench --bench bqe_pull`: an initial import of 10,000 BQE parent projects (and
//! 2,000 sub-projects the server's filter keeps out) from the BQE simulator (zero
//! latency) through the BQE provider (pages of 500) and the engine into in-memory stores.
//! Prints the median of three runs.
#![allow(clippy::print_stdout)]

use std::sync::Arc;
use std::time::Instant;

use devflow_provider_bqe::mapping::{ClientPolicy, project_mapping};
use devflow_provider_bqe::{BqeConfig, BqeProvider};
use devflow_sync::auth::AccessToken;
use devflow_sync::engine::{BindingOptions, ImportMode, PullBudget, SyncEngine};
use devflow_sync::http::{HttpClient, HttpConfig, RateLimitConfig};
use devflow_sync::model::{ConnectionId, ObjectType, ProviderKey};
use devflow_sync_testkit::bqe_sim::BqeSimulator;

const PROJECTS: usize = 10_000;
const RUNS: usize = 3;

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let mut results = Vec::new();
    for _ in 0..RUNS {
        results.push(runtime.block_on(run()));
    }
    results.sort_by(|a, b| a.1.total_cmp(&b.1));
    let (requests, seconds) = results[RUNS / 2];
    println!(
        "items={PROJECTS} requests={requests} seconds={seconds:.4} items_per_sec={:.0}",
        PROJECTS as f64 / seconds
    );
}

async fn run() -> (u64, f64) {
    let sim = BqeSimulator::start().await.expect("simulator");
    sim.accept_token("bench", &["read:core"]);
    sim.seed_projects(PROJECTS, 2_000);
    let mut config = HttpConfig::default();
    config.rate_limits.insert(
        ProviderKey::new("bqe"),
        RateLimitConfig {
            requests_per_minute: 1_000_000,
            burst: 10_000,
            max_concurrent_per_connection: 4,
            writes_per_minute: None,
            writes_per_hour: None,
        },
    );
    let http = HttpClient::builder().config(config).build().expect("http");
    let provider = BqeProvider::new(
        BqeConfig::with_token(sim.api_url(), AccessToken::new("bench")),
        http,
    )
    .expect("provider");
    let engine = SyncEngine::builder()
        .provider(Arc::new(provider))
        .bind_with(
            "bqe",
            "bqe",
            "project",
            BindingOptions {
                mapping: Some(project_mapping(ClientPolicy::FollowBqe).expect("mapping")),
                ..BindingOptions::default()
            },
        )
        .import_mode(ImportMode::Import)
        .build()
        .expect("engine");
    let (conn, object) = (ConnectionId::new("bqe"), ObjectType::new("project"));
    let before = sim.requests();
    let started = Instant::now();
    let report = engine
        .pull(&conn, &object, PullBudget::UNLIMITED)
        .await
        .expect("pull");
    let seconds = started.elapsed().as_secs_f64();
    assert_eq!(report.created, PROJECTS, "{}", report.summary());
    (sim.requests() - before, seconds)
}
