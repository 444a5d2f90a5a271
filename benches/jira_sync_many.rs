//! `cargo bench --bench jira_sync_many`: 1,000 host time records booked as Jira
//! worklogs by `timecard::sync_many` against the Jira simulator answering each request
//! 50 ms late, with the catalog's four requests in flight per connection and the
//! per-minute budget lifted (Jira's own 300 a minute would make it a 3.5-minute wait,
//! which measures the budget, not the library). Prints the median of three runs:
//! wall seconds and requests, which are one create per record plus a constant.
#![allow(clippy::print_stdout)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use devflow_provider_jira::mapping::worklog_mapping;
use devflow_provider_jira::timecard::{TIME_RECORD, TimecardOptions, sync_many};
use devflow_provider_jira::{JiraAuth, JiraConfig, JiraProvider};
use devflow_sync::auth::AccessToken;
use devflow_sync::engine::{BindingOptions, BulkOptions, SyncEngine};
use devflow_sync::http::{HttpClient, HttpConfig, RateLimitConfig};
use devflow_sync::model::{FieldValue, ProviderKey, Record};
use devflow_sync_testkit::jira_sim::JiraSimulator;

const RECORDS: usize = 1_000;
const LATENCY: Duration = Duration::from_millis(50);
const RUNS: usize = 3;

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let mut results: Vec<(u64, f64)> = (0..RUNS).map(|_| runtime.block_on(run())).collect();
    println!(
        "runs_seconds={}",
        results
            .iter()
            .map(|(_, s)| format!("{s:.3}"))
            .collect::<Vec<_>>()
            .join(",")
    );
    results.sort_by(|a, b| a.1.total_cmp(&b.1));
    let (requests, seconds) = results[RUNS / 2];
    println!(
        "records={RECORDS} latency_ms={} seconds={seconds:.3} requests={requests} extra_requests={} records_per_sec={:.0}",
        LATENCY.as_millis(),
        requests.saturating_sub(RECORDS as u64),
        RECORDS as f64 / seconds
    );
}

async fn run() -> (u64, f64) {
    let sim = JiraSimulator::start().await.expect("simulator");
    sim.add_project("TIME", "Time", false);
    sim.add_api_token("bench@acme.test", "bench", false, None);
    let mut keys = Vec::new();
    for n in 0..20 {
        let fields =
            serde_json::json!({"summary": format!("Issue {n}"), "issuetype": {"name": "Task"}});
        keys.push(sim.create_issue("TIME", &fields).expect("issue"));
    }
    let mut config = HttpConfig::default();
    config.rate_limits.insert(
        ProviderKey::new("jira"),
        RateLimitConfig {
            requests_per_minute: 1_000_000,
            burst: 10_000,
            max_concurrent_per_connection: 4,
            writes_per_minute: None,
            writes_per_hour: None,
        },
    );
    let provider = JiraProvider::new(
        JiraConfig::new(
            sim.url(),
            "TIME",
            JiraAuth::api_token("bench@acme.test", AccessToken::new("bench")),
        ),
        HttpClient::builder().config(config).build().expect("http"),
    )
    .expect("provider");
    let engine = SyncEngine::builder()
        .provider(Arc::new(provider))
        .bind_with(
            "jira",
            "jira",
            "worklog",
            BindingOptions {
                mapping: Some(worklog_mapping().expect("mapping")),
                ..BindingOptions::default()
            },
        )
        .build()
        .expect("engine");
    let mut records = Vec::with_capacity(RECORDS);
    for n in 0..RECORDS {
        let record = Record::new(TIME_RECORD, Utc::now())
            .with_field("issue_key", keys[n % keys.len()].as_str())
            .with_field("started", FieldValue::DateTime(Utc::now()))
            .with_field("duration_seconds", FieldValue::int(900))
            .with_field("connection", "jira");
        records.push(
            engine
                .work_items()
                .create(None, record)
                .await
                .expect("record")
                .id,
        );
    }
    sim.set_latency(LATENCY);
    let before = sim.requests();
    let started = Instant::now();
    let summary = sync_many(
        &engine,
        &records,
        &TimecardOptions::default().bulk(BulkOptions::default().concurrency(8)),
    )
    .await;
    let seconds = started.elapsed().as_secs_f64();
    assert_eq!(summary.succeeded, RECORDS, "{:?}", summary.errors.first());
    (sim.requests() - before, seconds)
}
