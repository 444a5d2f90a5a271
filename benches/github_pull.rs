//! `cargo bench --bench github_pull`: an initial sync of 10,000 issues from the GitHub
//! simulator (zero latency) through the GitHub provider and the engine into in-memory
//! stores, then an immediate second poll. Prints the median of three runs.
#![allow(clippy::print_stdout)]

use std::sync::Arc;
use std::time::Instant;

use devflow_provider_github::mapping::default_mapping;
use devflow_provider_github::{GitHubConfig, GitHubProvider, TokenSource};
use devflow_sync::auth::AccessToken;
use devflow_sync::engine::{BindingOptions, ImportMode, PullBudget, SyncEngine};
use devflow_sync::http::{HttpClient, HttpConfig, RateLimitConfig};
use devflow_sync::model::{ConnectionId, ObjectType, ProviderKey};
use devflow_sync_testkit::github_sim::GitHubSimulator;

const ISSUES: usize = 10_000;
const RUNS: usize = 3;
const REPO: &str = "acme/big";

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
    let (requests, seconds, second_poll) = results[RUNS / 2];
    println!("second_poll_requests={second_poll} (answered 304)");
    println!(
        "items={ISSUES} requests={requests} seconds={seconds:.4} items_per_sec={:.0}",
        ISSUES as f64 / seconds
    );
}

async fn run() -> (u64, f64, u64) {
    let sim = GitHubSimulator::start().await.expect("simulator");
    sim.add_repo(REPO);
    sim.accept_token("ghp_bench");
    sim.seed_issues(REPO, ISSUES);
    // The simulator answers as fast as it can: no budget in the way.
    let mut config = HttpConfig::default();
    config.rate_limits.insert(
        ProviderKey::new("github"),
        RateLimitConfig {
            requests_per_minute: 1_000_000,
            burst: 10_000,
            max_concurrent_per_connection: 4,
            writes_per_minute: None,
            writes_per_hour: None,
        },
    );
    let http = HttpClient::builder().config(config).build().expect("http");
    let provider = GitHubProvider::new(
        GitHubConfig::new(
            sim.url(),
            vec![REPO.into()],
            TokenSource::Static(AccessToken::new("ghp_bench")),
        ),
        http,
    )
    .expect("provider");
    let engine = SyncEngine::builder()
        .provider(Arc::new(provider))
        .bind_with(
            "gh",
            "github",
            "issue",
            // GitHub's shipped mapping: state and labels -> status, priority, tags.
            BindingOptions {
                mapping: Some(default_mapping().expect("mapping")),
                ..BindingOptions::default()
            },
        )
        .import_mode(ImportMode::Import)
        .build()
        .expect("engine");
    let (conn, object) = (ConnectionId::new("gh"), ObjectType::new("issue"));
    let before = sim.requests();
    let started = Instant::now();
    let report = engine
        .pull(&conn, &object, PullBudget::UNLIMITED)
        .await
        .expect("pull");
    let seconds = started.elapsed().as_secs_f64();
    assert_eq!(report.created, ISSUES, "{}", report.summary());
    let requests = sim.requests() - before;
    let before = sim.requests();
    let again = engine
        .pull(&conn, &object, PullBudget::UNLIMITED)
        .await
        .expect("second pull");
    assert_eq!(again.created + again.updated, 0);
    (requests, seconds, sim.requests() - before)
}
