//! `cargo run --example timecard [-- --db PATH]`
//!
//! A time-tracking host, offline against an in-process Jira simulator: three time
//! records are linked to issues found by search (a key, free text, "assigned to me"),
//! bulk-synced as worklogs (a fourth, still running, is refused with its reason),
//! then the summary and each record's history are shown; a person edits one worklog
//! in Jira and the pull brings the change back into the host record. The engine's
//! state is in a SQLite file (`--db PATH`, else a temporary file removed at the end).
//! Exits non-zero when a step does not hold.
#![allow(clippy::print_stdout)]

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use chrono::{TimeZone, Utc};
use devflow_provider_jira::mapping::worklog_mapping;
use devflow_provider_jira::timecard::{TIME_RECORD, TimecardOptions, history, sync_many};
use devflow_provider_jira::{JiraAuth, JiraConfig, JiraProvider};
use devflow_store_sqlite::SqliteStore;
use devflow_sync::auth::AccessToken;
use devflow_sync::engine::{
    BindingOptions, BulkOptions, Progress, ProgressObserver, PullBudget, SyncEngine,
};
use devflow_sync::http::HttpClient;
use devflow_sync::model::{ConnectionId, FieldValue, ItemId, ObjectType, Record};
use devflow_sync_testkit::jira_sim::{ACCOUNT_ID, JiraSimulator};
use serde_json::json;

const PROJECT: &str = "TIME";
const EMAIL: &str = "timecard@acme.test";
const TOKEN: &str = "timecard-api-token";

/// Prints the bulk sync's progress as it goes.
#[derive(Debug)]
struct Printed;

impl ProgressObserver for Printed {
    fn progress(&self, p: &Progress) {
        if let Some(total) = p.total {
            println!("  pushed {}/{total}", p.done);
        }
    }
}

struct Steps {
    n: usize,
    failed: usize,
}

impl Steps {
    fn check(&mut self, what: &str, holds: bool) {
        self.n += 1;
        if !holds {
            self.failed += 1;
        }
        println!(
            "{:>2}. [{}] {what}",
            self.n,
            if holds { "ok" } else { "FAILED" }
        );
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let kept = args
        .iter()
        .position(|a| a == "--db")
        .and_then(|i| args.get(i + 1))
        .map(std::path::PathBuf::from);
    let db = kept.clone().unwrap_or_else(|| {
        std::env::temp_dir().join(format!("devflow-timecard-{}.db", std::process::id()))
    });
    let mut steps = Steps { n: 0, failed: 0 };
    if let Err(e) = run(&mut steps, &db).await {
        println!("stopped: {e}");
        steps.failed += 1;
    }
    if kept.is_none() {
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
        }
    }
    println!("\n{} of {} steps hold.", steps.n - steps.failed, steps.n);
    if steps.failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

fn transient(e: impl std::fmt::Display) -> devflow_sync::Error {
    devflow_sync::Error::transient(e.to_string())
}

async fn run(steps: &mut Steps, db: &std::path::Path) -> devflow_sync::Result<()> {
    let sim = JiraSimulator::start().await.map_err(transient)?;
    sim.add_project(PROJECT, "Time tracking demo", false);
    sim.add_api_token(EMAIL, TOKEN, false, None);
    // Jira's worklog delta leaves out the last minute's changes; the simulator does
    // too unless told otherwise, which a demo that edits and pulls at once needs.
    sim.set_worklog_quiet_period(Duration::ZERO);
    for (summary, mine) in [
        ("Checkout page redesign", true),
        ("Payment retries", false),
        ("Weekly planning", true),
    ] {
        let mut fields = json!({"summary": summary, "issuetype": {"name": "Task"}});
        if mine {
            fields["assignee"] = json!({"accountId": ACCOUNT_ID});
        }
        sim.create_issue(PROJECT, &fields).map_err(transient)?;
    }
    let provider = Arc::new(JiraProvider::new(
        JiraConfig::new(
            sim.url(),
            PROJECT,
            JiraAuth::api_token(EMAIL, AccessToken::new(TOKEN)),
        ),
        HttpClient::builder().build()?,
    )?);
    let store = Arc::new(SqliteStore::open(db).await?);
    let conn = ConnectionId::new("jira-acme");
    let engine = SyncEngine::builder()
        .provider(provider.clone())
        .bind_with(
            conn.clone(),
            "jira",
            "worklog",
            BindingOptions {
                mapping: Some(worklog_mapping()?),
                ..BindingOptions::default()
            },
        )
        .stores(store.clone())
        .build()?;

    println!("Finding the issues to book against:");
    let by_key = provider.search_issues(&conn, "time-1").await?;
    let by_text = provider.search_issues(&conn, "payment").await?;
    let mine = provider.assigned_to_me(&conn).await?;
    for hit in by_key.iter().chain(&by_text).chain(&mine) {
        println!(
            "  {} {:<24} {} ({}) {}",
            hit.key,
            hit.summary,
            hit.status.as_deref().unwrap_or("?"),
            hit.status_category.as_deref().unwrap_or("?"),
            hit.issue_type.as_deref().unwrap_or("?"),
        );
    }
    steps.check(
        "search by key, by text and \"assigned to me\" found the issues",
        by_key.first().map(|h| h.key.as_str()) == Some("TIME-1")
            && by_text.first().map(|h| h.key.as_str()) == Some("TIME-2")
            && mine.len() == 2,
    );

    let day = Utc
        .with_ymd_and_hms(2026, 12, 1, 7, 0, 0)
        .single()
        .unwrap_or_default();
    let mut records = Vec::new();
    let keys = [
        by_key.first().map(|h| h.key.clone()),
        by_text.first().map(|h| h.key.clone()),
        mine.last().map(|h| h.key.clone()),
    ];
    for (n, key) in keys.iter().enumerate() {
        let record = Record::new(TIME_RECORD, Utc::now())
            .with_field("issue_key", key.clone().unwrap_or_default())
            .with_field(
                "started",
                FieldValue::DateTime(day + chrono::Duration::hours(n as i64 * 2)),
            )
            .with_field("utc_offset", "+01:00")
            .with_field("duration_seconds", FieldValue::int(3600 + 900 * n as i64))
            .with_field("comment", FieldValue::long_text(format!("Block {}", n + 1)))
            .with_field("connection", conn.as_str());
        records.push(engine.work_items().create(None, record).await?.id);
    }
    // A timer still running cannot be booked yet.
    let running = Record::new(TIME_RECORD, Utc::now())
        .with_field("issue_key", "TIME-1")
        .with_field("started", FieldValue::DateTime(day))
        .with_field("connection", conn.as_str());
    let running = engine.work_items().create(None, running).await?.id;
    records.push(running.clone());

    println!("\nBooking {} time records:", records.len());
    let options =
        TimecardOptions::default().bulk(BulkOptions::default().progress(Arc::new(Printed)));
    let summary = sync_many(&engine, &records, &options).await;
    println!(
        "  total {} succeeded {} failed {}",
        summary.total, summary.succeeded, summary.failed
    );
    for e in &summary.errors {
        println!("  {}: {}", e.record_id, e.error);
    }
    steps.check(
        "three booked, the running one refused with its reason",
        summary.succeeded == 3
            && summary.failed == 1
            && summary
                .errors
                .first()
                .is_some_and(|e| e.record_id == running && e.error.contains("still running")),
    );
    let booked: usize = ["TIME-1", "TIME-2", "TIME-3"]
        .iter()
        .map(|k| sim.worklogs_of(k).len())
        .sum();
    steps.check("Jira holds exactly three worklogs", booked == 3);

    println!("\nHistory:");
    for record in &records {
        for line in history(&engine, record, 5).await? {
            println!(
                "  {record} {:?} {} worklog={} {}",
                line.status,
                line.operation,
                line.external.as_ref().map_or("-", |e| e.as_str()),
                line.error.as_deref().unwrap_or(""),
            );
        }
    }
    let again = sync_many(&engine, &records[..3], &options).await;
    steps.check(
        "syncing the same records again books nothing twice",
        again.succeeded == 3
            && ["TIME-1", "TIME-2", "TIME-3"]
                .iter()
                .map(|k| sim.worklogs_of(k).len())
                .sum::<usize>()
                == 3,
    );

    // A person corrects the first worklog in Jira; the pull brings it home.
    let first: &ItemId = &records[0];
    let worklog = summary
        .results
        .first()
        .and_then(|r| r.external.clone())
        .ok_or_else(|| transient("the first record has no worklog"))?;
    sim.edit_worklog(worklog.as_str(), &json!({"timeSpentSeconds": 5400}))
        .map_err(transient)?;
    engine
        .pull(&conn, &ObjectType::new("worklog"), PullBudget::default())
        .await?;
    let host = engine
        .work_items()
        .get(first)
        .await?
        .ok_or_else(|| transient("the first record is gone"))?;
    let seconds = host.record.fields.get("duration_seconds").as_f64();
    println!("\nAfter the edit in Jira, record {first} holds {seconds:?} seconds.");
    steps.check(
        "the edit made in Jira arrived in the host record",
        seconds == Some(5400.0),
    );
    Ok(())
}
