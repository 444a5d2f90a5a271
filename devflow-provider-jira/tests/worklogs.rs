//! Time records as worklogs, through the engine and the Jira simulator: create with the
//! marker, refusals before any call, the timeout-after-commit retry, edits in Jira
//! pulled back, deletion, bulk sync with its summary, history, two connections.

use std::sync::Arc;

use chrono::Utc;
use devflow_provider_jira::mapping::worklog_mapping;
use devflow_provider_jira::timecard::{TIME_RECORD, TimecardOptions, history, sync_many};
use devflow_sync_core::Error;
use devflow_sync_core::engine::{BulkOptions, Progress, ProgressObserver, PullBudget};
use devflow_sync_core::model::{FieldValue, ItemId, Record};
use devflow_sync_core::provider::Provider;
use devflow_sync_core::store::{BindingRecord, ConnectionRecord, LogStatus, WorkItemStore};
use devflow_sync_testkit::jira_sim::JiraSimulator;

mod support;
use support::time::*;
use support::{EMAIL, PROJECT, TOKEN};

#[tokio::test]
async fn a_time_record_becomes_one_worklog_with_its_marker_offset_and_comment() {
    let t = time_setup().await;
    let item = record(&t, &t.issues[0], Some(5400), "Wrote the **checkout** tests").await;
    let report = t.engine.push(&conn(), &worklog(), &item).await.unwrap();
    assert_eq!(report.created, 1, "{report:?}");
    let id = worklog_of(&t, &item).await;
    let w = t.sim.worklog(&id).unwrap();
    assert_eq!(w["timeSpentSeconds"], 5400);
    assert_eq!(w["timeSpent"], "1h 30m");
    assert_eq!(w["comment"]["type"], "doc", "the comment goes as ADF");
    let property = &w["properties"][0];
    assert_eq!(property["key"], "devflow");
    assert_eq!(property["value"]["item"], item.as_str());
    assert_eq!(property["value"]["issue"], t.issues[0].as_str());
    // 07:30 UTC written in the record's own offset.
    let worklogs = t.sim.worklogs_of(&t.issues[0]);
    assert_eq!(worklogs.len(), 1);
    // Pushing again changes nothing and makes no second worklog.
    let again = t.engine.push(&conn(), &worklog(), &item).await.unwrap();
    assert_eq!((again.created, again.errors), (0, 0), "{again:?}");
    assert_eq!(t.sim.worklogs_of(&t.issues[0]).len(), 1);
}

#[tokio::test]
async fn durations_jira_cannot_hold_and_bad_keys_are_refused_naming_the_record() {
    let t = time_setup().await;
    for (seconds, why) in [
        (Some(45), "under a minute"),
        (Some(-60), "negative"),
        (None, "still running"),
    ] {
        let item = record(&t, &t.issues[0], seconds, "x").await;
        let err = t.engine.push(&conn(), &worklog(), &item).await;
        let text = match err {
            Err(e) => e.to_string(),
            Ok(r) => format!("{r:?}"),
        };
        assert!(text.contains(why), "{why}: {text}");
        assert!(text.contains(item.as_str()), "names the record: {text}");
    }
    let bad = record(&t, "proj 12", Some(600), "x").await;
    let text = match t.engine.push(&conn(), &worklog(), &bad).await {
        Err(e) => e.to_string(),
        Ok(r) => format!("{r:?}"),
    };
    assert!(text.contains("not a Jira issue key"), "{text}");
    assert!(
        t.sim.worklogs_of(&t.issues[0]).is_empty(),
        "nothing was booked"
    );
}

#[tokio::test]
async fn a_missing_issue_and_a_forbidden_project_are_typed_errors_saying_which() {
    let t = time_setup().await;
    let provider = provider(&t.sim);
    let new = |key: &str| devflow_sync_core::provider::NewRemote {
        kind: None,
        parent: None,
        fields: devflow_sync_core::model::Fields::new()
            .with("issue", key)
            .with("started", FieldValue::DateTime(started()))
            .with("timeSpentSeconds", FieldValue::int(600)),
        marker: ItemId::new("rec-1"),
        related: Vec::new(),
    };
    let missing = provider.create(&conn(), &worklog(), &new("KAN-999")).await;
    match missing {
        Err(Error::NotFound(why)) => assert!(why.contains("KAN-999"), "{why}"),
        other => panic!("expected NotFound: {other:?}"),
    }
    t.sim.deny_worklogs(PROJECT);
    let denied = provider
        .create(&conn(), &worklog(), &new(&t.issues[1]))
        .await;
    match denied {
        Err(Error::PermissionDenied(why)) => {
            assert!(
                why.contains(&t.issues[1]) && why.contains("log time"),
                "{why}"
            );
        }
        other => panic!("expected PermissionDenied: {other:?}"),
    }
}

#[tokio::test]
async fn a_create_retried_after_timeout_after_commit_makes_exactly_one_worklog() {
    use devflow_sync_testkit::faulty::FaultyProvider;
    use devflow_sync_testkit::memory_provider::{FaultKind, Op};
    let mut handle = None;
    let t = time_setup_with(|p| {
        let faulty = Arc::new(FaultyProvider::wrap(p, 5));
        handle = Some(faulty.clone());
        faulty
    })
    .await;
    let faulty = handle.unwrap();
    let item = record(&t, &t.issues[1], Some(3600), "retry me").await;
    faulty.fail_next(Op::Create, FaultKind::TimeoutAfterCommit);
    let first = t.engine.push(&conn(), &worklog(), &item).await;
    assert!(first.as_ref().map_or(true, |r| r.errors > 0), "{first:?}");
    assert_eq!(t.sim.worklogs_of(&t.issues[1]).len(), 1, "Jira booked it");
    let second = t.engine.push(&conn(), &worklog(), &item).await.unwrap();
    assert_eq!(second.errors, 0, "{second:?}");
    assert_eq!(
        t.sim.worklogs_of(&t.issues[1]).len(),
        1,
        "exactly one worklog"
    );
    let id = worklog_of(&t, &item).await;
    assert_eq!(t.sim.worklogs_of(&t.issues[1])[0]["id"], id.as_str());
}

#[tokio::test]
async fn an_edit_made_in_jira_arrives_in_the_host_and_a_deleted_record_deletes_its_worklog() {
    let t = time_setup().await;
    let item = record(&t, &t.issues[2], Some(1800), "first draft").await;
    t.engine.push(&conn(), &worklog(), &item).await.unwrap();
    let id = worklog_of(&t, &item).await;
    // A person books more time in Jira and rewrites the comment.
    t.sim
        .edit_worklog(
            &id,
            &serde_json::json!({"timeSpentSeconds": 2700, "comment": {"type": "doc", "version": 1,
                "content": [{"type": "paragraph", "content": [{"type": "text", "text": "reviewed too"}]}]}}),
        )
        .unwrap();
    let report = t
        .engine
        .pull(&conn(), &worklog(), PullBudget::default())
        .await
        .unwrap();
    assert_eq!(report.errors, 0, "{report:?}");
    let host = t.items.get(&item).await.unwrap().unwrap();
    assert_eq!(
        host.record.fields.get("duration_seconds").as_f64(),
        Some(2700.0)
    );
    assert_eq!(
        host.record.fields.get("comment").as_str(),
        Some("reviewed too")
    );
    assert_eq!(
        host.record.fields.get("issue_key").as_str(),
        Some(t.issues[2].as_str())
    );
    // The host changes the duration: the worklog follows.
    set(&t, &item, "duration_seconds", FieldValue::int(3600)).await;
    t.engine.push(&conn(), &worklog(), &item).await.unwrap();
    assert_eq!(t.sim.worklog(&id).unwrap()["timeSpentSeconds"], 3600);
    // The record is deleted: so is its worklog (the deletion policy propagates).
    t.engine.delete_item(&item, None).await.unwrap();
    assert!(t.sim.worklog(&id).is_none(), "the worklog is gone");
}

#[derive(Debug, Default)]
struct Seen(std::sync::Mutex<Vec<usize>>);

impl ProgressObserver for Seen {
    fn progress(&self, p: &Progress) {
        self.0.lock().unwrap().push(p.done);
    }
}

#[tokio::test]
async fn bulk_sync_of_200_records_with_5_invalid_reports_195_and_5_then_retries() {
    let t = time_setup().await;
    let mut records = Vec::new();
    let mut invalid = Vec::new();
    for n in 0..200 {
        let (key, seconds) = match n % 40 {
            7 => ("KAN-0", Some(600)),
            _ => (t.issues[n % 3].as_str(), Some(60 * (1 + n as i64 % 90))),
        };
        let id = record(&t, key, seconds, &format!("block {n}")).await;
        if n % 40 == 7 {
            invalid.push(id.clone());
        }
        records.push(id);
    }
    let seen = Arc::new(Seen::default());
    let options = TimecardOptions::default()
        .bulk(BulkOptions::default().concurrency(8).progress(seen.clone()));
    let summary = sync_many(&t.engine, &records, &options).await;
    assert_eq!(summary.total, 200);
    assert_eq!(
        (summary.succeeded, summary.failed),
        (195, 5),
        "{:?}",
        summary.errors
    );
    assert_eq!(
        summary.failed_items(),
        invalid,
        "each failure names its record"
    );
    assert!(
        summary
            .errors
            .iter()
            .all(|e| e.error.contains("not a Jira issue key"))
    );
    let booked: usize = t.issues.iter().map(|k| t.sim.worklogs_of(k).len()).sum();
    assert_eq!(booked, 195);
    assert_eq!(
        seen.0.lock().unwrap().len(),
        195,
        "progress after each push"
    );
    // Fixed, the failed ones go through on a retry; the others are not booked again.
    for id in &invalid {
        set(&t, id, "issue_key", FieldValue::text(t.issues[0].clone())).await;
    }
    let retry = sync_many(&t.engine, &summary.failed_items(), &options).await;
    assert_eq!(
        (retry.succeeded, retry.failed),
        (5, 0),
        "{:?}",
        retry.errors
    );
    let booked: usize = t.issues.iter().map(|k| t.sim.worklogs_of(k).len()).sum();
    assert_eq!(booked, 200);
    // History per record, from the journal.
    let lines = history(&t.engine, &records[0], 10).await.unwrap();
    let created = lines
        .iter()
        .find(|l| l.operation == "create")
        .expect("create line");
    assert_eq!(created.status, LogStatus::Ok);
    let id = worklog_of(&t, &records[0]).await;
    assert_eq!(
        created.external.as_ref().map(|e| e.as_str()),
        Some(id.as_str())
    );
    // A refused record's history says why, newest first: refused, then booked.
    let lines = history(&t.engine, &invalid[0], 10).await.unwrap();
    assert_eq!(lines.last().unwrap().status, LogStatus::Failed, "{lines:?}");
    assert!(
        lines
            .last()
            .unwrap()
            .error
            .as_deref()
            .unwrap_or("")
            .contains("issue key")
    );
    assert!(
        lines
            .iter()
            .any(|l| l.operation == "create" && l.status == LogStatus::Ok)
    );
}

#[tokio::test]
async fn records_book_to_the_connection_they_name() {
    let t = time_setup().await;
    let second = JiraSimulator::start().await.unwrap();
    second.add_project(PROJECT, "Other site", false);
    second.add_api_token(EMAIL, TOKEN, true, None);
    let other_issue = second
        .create_issue(
            PROJECT,
            &serde_json::json!({"summary": "Elsewhere", "issuetype": {"name": "Task"}}),
        )
        .unwrap();
    let connection = ConnectionRecord::new("jira-2", "jira")
        .with_binding(BindingRecord::new("worklog").with_mapping(worklog_mapping().unwrap()));
    t.engine
        .add_connection(connection, Arc::new(provider(&second)))
        .await
        .unwrap();
    let here = record(&t, &t.issues[0], Some(600), "here").await;
    let there = {
        let r = Record::new(TIME_RECORD, Utc::now())
            .with_field("issue_key", other_issue.as_str())
            .with_field("started", FieldValue::DateTime(started()))
            .with_field("duration_seconds", FieldValue::int(900))
            .with_field("connection", "jira-2");
        t.items.create(None, r).await.unwrap().id
    };
    let summary = sync_many(&t.engine, &[here, there], &TimecardOptions::default()).await;
    assert_eq!(summary.succeeded, 2, "{:?}", summary.errors);
    assert_eq!(t.sim.worklogs_of(&t.issues[0]).len(), 1);
    assert_eq!(second.worklogs_of(&other_issue).len(), 1);
    assert_eq!(second.worklogs_of(&other_issue)[0]["timeSpentSeconds"], 900);
}
