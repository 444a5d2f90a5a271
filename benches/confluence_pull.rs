//! `cargo bench --bench confluence_pull`: an initial sync of 5,000 pages from the
//! Confluence simulator (zero latency) through the Confluence provider (CQL search pages
//! of 100, each page read through v2 with its body and properties, the DevFlow section
//! read into Markdown) and the engine into in-memory stores. Prints the median of three
//! runs.
#![allow(clippy::print_stdout)]

use std::sync::Arc;
use std::time::Instant;

use devflow_provider_confluence::mapping::default_mapping;
use devflow_provider_confluence::{ConfluenceAuth, ConfluenceConfig, ConfluenceProvider, MAX_PAGE};
use devflow_sync::auth::AccessToken;
use devflow_sync::engine::{BindingOptions, ImportMode, PullBudget, SyncEngine};
use devflow_sync::http::{HttpClient, HttpConfig, RateLimitConfig};
use devflow_sync::model::{ConnectionId, ObjectType, ProviderKey};
use devflow_sync_testkit::confluence_sim::ConfluenceSimulator;

const PAGES: usize = 5_000;
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
    // One search per 100 pages and one read per page, plus the space, the deletion pass
    // and the last (empty) search page.
    let bound = PAGES + PAGES.div_ceil(MAX_PAGE) + 4;
    assert!(
        requests as usize <= bound,
        "{requests} requests, more than {bound}"
    );
    println!(
        "items={PAGES} requests={requests} seconds={seconds:.4} items_per_sec={:.0}",
        PAGES as f64 / seconds
    );
}

async fn run() -> (u64, f64) {
    let sim = ConfluenceSimulator::start().await.expect("simulator");
    sim.add_space("BIG", "Big space");
    sim.add_api_token("bench@acme.test", "bench");
    sim.seed_pages("BIG", PAGES);
    // The simulator answers as fast as it can: no budget in the way.
    let mut config = HttpConfig::default();
    config.rate_limits.insert(
        ProviderKey::new("confluence"),
        RateLimitConfig {
            requests_per_minute: 1_000_000,
            burst: 10_000,
            max_concurrent_per_connection: 8,
            writes_per_minute: None,
            writes_per_hour: None,
        },
    );
    let http = HttpClient::builder().config(config).build().expect("http");
    let provider = ConfluenceProvider::new(
        ConfluenceConfig::new(
            sim.url(),
            "BIG",
            ConfluenceAuth::api_token("bench@acme.test", AccessToken::new("bench")),
        ),
        http,
    )
    .expect("provider");
    let engine = SyncEngine::builder()
        .provider(Arc::new(provider))
        .bind_with(
            "wiki",
            "confluence",
            "page",
            BindingOptions {
                mapping: Some(default_mapping().expect("mapping")),
                ..BindingOptions::default()
            },
        )
        .import_mode(ImportMode::Import)
        .build()
        .expect("engine");
    let (conn, object) = (ConnectionId::new("wiki"), ObjectType::new("page"));
    let before = sim.requests();
    let started = Instant::now();
    let report = engine
        .pull(&conn, &object, PullBudget::UNLIMITED)
        .await
        .expect("pull");
    let seconds = started.elapsed().as_secs_f64();
    assert_eq!(report.created, PAGES, "{}", report.summary());
    (sim.requests() - before, seconds)
}
