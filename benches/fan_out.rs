//! `cargo bench --bench fan_out`: one item in every system, at a network's pace.
//!
//! - `push`: a PRD, an epic and 100 stories pushed to three providers at 50 ms per call
//!   (`push_tree_everywhere`: the bindings concurrently, each tree level's items ten at
//!   a time, each new record announced to the other systems), median of three runs;
//!   then the same without cross-references;
//! - `pull`: 10,000 records in pages of 100 at 50 ms per page request (the minimum is
//!   100 x 50 ms = 5.0 s), one run;
//! - `inbox`: 10,000 pending deliveries applied by `process_inbox(100)` calls, median of
//!   three runs.
#![allow(clippy::print_stdout)]

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use devflow_sync::clock::ManualClock;
use devflow_sync::engine::{EngineConfig, ImportMode, PullBudget, SyncEngine};
use devflow_sync::model::{
    ConnectionId, FieldValue, ItemId, ItemKind, ObjectType, ProviderKey, Record,
};
use devflow_sync_testkit::faulty::{CallFaults, FaultyProvider};
use devflow_sync_testkit::memory_provider::MemoryProvider;

const LATENCY: Duration = Duration::from_millis(50);

fn slow(key: &str, clock: &Arc<ManualClock>) -> Arc<FaultyProvider<MemoryProvider>> {
    let p = Arc::new(FaultyProvider::wrap(
        Arc::new(MemoryProvider::new(key, clock.clone())),
        1,
    ));
    p.set_call_faults(CallFaults {
        error_rate: 0.0,
        latency: LATENCY,
    });
    p
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

async fn push_run(cross_references: bool) -> f64 {
    let clock = Arc::new(ManualClock::starting_at_epoch_secs(1_780_000_000));
    let config = EngineConfig {
        cross_references,
        ..EngineConfig::default()
    };
    let mut builder = SyncEngine::builder().clock(clock.clone()).config(config);
    for key in ["jira", "github", "confluence"] {
        builder = builder
            .provider(slow(key, &clock))
            .bind(format!("{key}-1"), key, "issue");
    }
    let engine = builder.build().expect("engine");
    let items = engine.work_items().clone();
    let new = |kind: ItemKind, parent: Option<&ItemId>, title: String| {
        let mut r = Record::new("work_item", chrono::Utc::now())
            .with_kind(kind)
            .with_field("title", title);
        r.parent = parent.cloned();
        r
    };
    let prd = items
        .create(None, new(ItemKind::Prd, None, "PRD".into()))
        .await
        .expect("prd")
        .id;
    let epic = items
        .create(None, new(ItemKind::Epic, Some(&prd), "Epic".into()))
        .await
        .expect("epic")
        .id;
    for i in 0..100 {
        items
            .create(
                None,
                new(ItemKind::Story, Some(&epic), format!("Story {i}")),
            )
            .await
            .expect("story");
    }
    let started = Instant::now();
    let results = engine.push_tree_everywhere(&prd, None).await.expect("push");
    let seconds = started.elapsed().as_secs_f64();
    assert!(
        results.iter().all(|r| r.report.created == 102),
        "{results:#?}"
    );
    seconds
}

async fn pull_run() -> f64 {
    let clock = Arc::new(ManualClock::starting_at_epoch_secs(1_780_000_000));
    let remote = common::provider(&clock, 10_000, "bench");
    let slow = Arc::new(FaultyProvider::wrap(remote, 1));
    slow.set_call_faults(CallFaults {
        error_rate: 0.0,
        latency: LATENCY,
    });
    let engine = SyncEngine::builder()
        .provider(slow)
        .bind("conn", "memory", "issue")
        .clock(clock)
        .import_mode(ImportMode::Import)
        .build()
        .expect("engine");
    let started = Instant::now();
    let report = engine
        .pull(
            &ConnectionId::new("conn"),
            &ObjectType::new("issue"),
            PullBudget::UNLIMITED,
        )
        .await
        .expect("pull");
    assert_eq!(report.created, 10_000);
    started.elapsed().as_secs_f64()
}

async fn inbox_run() -> f64 {
    let clock = Arc::new(ManualClock::starting_at_epoch_secs(1_780_000_000));
    let remote = common::provider(&clock, 10_000, "bench");
    let config = EngineConfig {
        import_mode: ImportMode::Import,
        ..EngineConfig::default()
    };
    let engine = SyncEngine::builder()
        .provider(remote.clone())
        .bind("conn", "memory", "issue")
        .clock(clock.clone())
        .config(config)
        .build()
        .expect("engine");
    let (conn, object) = (ConnectionId::new("conn"), ObjectType::new("issue"));
    engine
        .pull(&conn, &object, PullBudget::UNLIMITED)
        .await
        .expect("pull");
    clock.advance(Duration::from_secs(5));
    for r in remote.records(&object) {
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
    let provider = ProviderKey::new("memory");
    for hook in remote.take_webhooks() {
        engine
            .accept_webhook(&provider, &conn, &hook.headers, &hook.body)
            .await
            .expect("accept");
    }
    let started = Instant::now();
    let mut applied = 0;
    loop {
        let report = engine.process_inbox(100).await.expect("process");
        let done =
            report.updated + report.unchanged + report.skipped + report.conflicts + report.errors;
        if done == 0 {
            break;
        }
        applied += report.updated;
    }
    let seconds = started.elapsed().as_secs_f64();
    assert_eq!(applied, 10_000);
    seconds
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let push = median((0..3).map(|_| runtime.block_on(push_run(true))).collect());
    println!("push items=102 providers=3 latency_ms=50 seconds={push:.3}");
    // Without the cross-reference writes (one per new record to each other system).
    let bare = median((0..3).map(|_| runtime.block_on(push_run(false))).collect());
    println!("push_without_cross_references items=102 providers=3 latency_ms=50 seconds={bare:.3}");
    let pull = runtime.block_on(pull_run());
    // What 100 sequential 50 ms waits take on this runtime (the timer rounds each up).
    let floor = runtime.block_on(async {
        let started = Instant::now();
        for _ in 0..100 {
            tokio::time::sleep(LATENCY).await;
        }
        started.elapsed().as_secs_f64()
    });
    println!(
        "pull records=10000 latency_ms=50 seconds={pull:.3} minimum_seconds=5.0 timer_floor_seconds={floor:.3}"
    );
    let inbox = median((0..3).map(|_| runtime.block_on(inbox_run())).collect());
    println!(
        "inbox deliveries=10000 batch=100 per_sec={:.0}",
        10_000.0 / inbox
    );
}
