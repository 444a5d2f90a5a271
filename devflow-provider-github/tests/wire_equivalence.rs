//! The typed wire structs read every recorded GitHub payload to the same records as
//! the generic-value conversion they replaced (kept as an oracle in tests/oracle), on
//! the recorded objects, on whole listing pages, on the simulator's seeded pages, and
//! on recorded issues with hostile values put in.

mod oracle;

use std::path::PathBuf;

use devflow_provider_github::wire::{issue_from_json, issue_to_record, issues_from_page};
use devflow_sync_core::Result;
use devflow_sync_core::provider::RemoteRecord;
use devflow_sync_testkit::fuzz::strategies::thousand_cases;
use devflow_sync_testkit::fuzz::{hostile_values, node_count, replace_nth};
use proptest::prelude::*;
use serde_json::Value;

const REPO: &str = "octo-org/app";

fn fixtures() -> Vec<(String, Value)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/fixtures/github");
    let mut out = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "json") {
            let value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
            out.push((path.display().to_string(), value));
        }
    }
    assert!(out.len() >= 10, "fixtures missing from {}", dir.display());
    out
}

fn looks_like_issue(v: &Value) -> bool {
    v.get("number").is_some() && v.get("updated_at").is_some() && v.get("title").is_some()
}

/// Every issue-like object (issues, pull requests, milestones) anywhere in `v`, and
/// every array of them (listing pages).
fn walk<'v>(v: &'v Value, objects: &mut Vec<&'v Value>, pages: &mut Vec<&'v Value>) {
    match v {
        Value::Object(map) => {
            if looks_like_issue(v) {
                objects.push(v);
            }
            map.values().for_each(|c| walk(c, objects, pages));
        }
        Value::Array(items) => {
            if !items.is_empty() && items.iter().all(looks_like_issue) {
                pages.push(v);
            }
            items.iter().for_each(|c| walk(c, objects, pages));
        }
        _ => {}
    }
}

/// A record with its version cut to the change time. The version's fingerprint
/// changed on purpose with the typed structs (a fixed encoding instead of the fields'
/// JSON); [`versions_tell_apart_what_they_told_apart`] checks it still separates what
/// the old one did.
fn dated(record: &RemoteRecord) -> RemoteRecord {
    let mut r = record.clone();
    let version = r
        .record
        .version
        .as_ref()
        .map(|v| v.as_str().split('#').next().unwrap_or("").to_owned());
    r.record.version = version.map(devflow_sync_core::model::Version::new);
    r
}

fn same(what: &str, old: &Result<Option<RemoteRecord>>, new: &Result<Option<RemoteRecord>>) {
    match (old, new) {
        (Ok(a), Ok(b)) => assert_eq!(a.as_ref().map(dated), b.as_ref().map(dated), "{what}"),
        (Err(_), Err(_)) => {}
        _ => panic!("{what}: old {old:?} new {new:?}"),
    }
}

/// Two records have equal old versions exactly when they have equal new versions.
fn versions_tell_apart_what_they_told_apart(pairs: &[(RemoteRecord, RemoteRecord)]) {
    for (a_old, a_new) in pairs {
        for (b_old, b_new) in pairs {
            assert_eq!(
                a_old.record.version == b_old.record.version,
                a_new.record.version == b_new.record.version,
                "{} / {}",
                a_old.id,
                b_old.id
            );
        }
    }
}

#[test]
fn every_recorded_issue_reads_to_the_same_record() {
    let all = fixtures();
    let (mut objects, mut pages) = (Vec::new(), Vec::new());
    for (_, value) in &all {
        walk(value, &mut objects, &mut pages);
    }
    assert!(objects.len() >= 20, "only {} issue objects", objects.len());
    let mut pairs = Vec::new();
    for object in &objects {
        let old = oracle::issue_to_record(REPO, object);
        let bytes = serde_json::to_vec(object).unwrap();
        let new = issue_from_json(REPO, &bytes);
        same("from a value", &old, &issue_to_record(REPO, object));
        same("from bytes", &old, &new);
        if let (Ok(Some(old)), Ok(Some(new))) = (old, new) {
            pairs.push((old, new));
        }
    }
    assert!(pairs.len() >= 15, "only {} records compared", pairs.len());
    versions_tell_apart_what_they_told_apart(&pairs);

    assert!(!pages.is_empty());
    for page in pages {
        let old: Result<Vec<RemoteRecord>> = page
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|i| oracle::issue_to_record(REPO, i).transpose())
            .collect();
        let new = issues_from_page(REPO, &serde_json::to_vec(page).unwrap());
        let dated_all = |r: Vec<RemoteRecord>| r.iter().map(dated).collect::<Vec<_>>();
        assert_eq!(old.ok().map(dated_all), new.ok().map(dated_all));
    }
}

#[tokio::test]
async fn the_simulators_seeded_pages_read_to_the_same_records() {
    let sim = devflow_sync_testkit::github_sim::GitHubSimulator::start()
        .await
        .unwrap();
    sim.add_repo(REPO);
    sim.seed_issues(REPO, 60);
    let issues = sim.issues(REPO);
    assert_eq!(issues.len(), 60);
    let old: Vec<RemoteRecord> = issues
        .iter()
        .filter_map(|i| oracle::issue_to_record(REPO, i).unwrap())
        .collect();
    let new = issues_from_page(REPO, &serde_json::to_vec(&issues).unwrap()).unwrap();
    assert_eq!(
        old.iter().map(dated).collect::<Vec<_>>(),
        new.iter().map(dated).collect::<Vec<_>>()
    );
    let pairs: Vec<_> = old.into_iter().zip(new.iter().cloned()).collect();
    versions_tell_apart_what_they_told_apart(&pairs);
    assert!(new.iter().any(|r| r.record.fields.contains("milestone")));
}

/// A recorded issue with one node replaced by a hostile value.
fn hostile_issue() -> impl Strategy<Value = Value> {
    let (_, opened) = fixtures()
        .into_iter()
        .find(|(name, _)| name.ends_with("webhook-issues-opened.json"))
        .unwrap();
    let issue = opened["issue"].clone();
    let nodes = node_count(&issue);
    let values = hostile_values();
    (0..nodes, 0..values.len()).prop_map(move |(n, v)| replace_nth(&issue, n, &values[v]))
}

proptest! {
    #![proptest_config(thousand_cases())]

    #[test]
    fn hostile_issues_read_the_same_both_ways(issue in hostile_issue()) {
        let old = oracle::issue_to_record(REPO, &issue);
        same("from a value", &old, &issue_to_record(REPO, &issue));
        same("from bytes", &old, &issue_from_json(REPO, &serde_json::to_vec(&issue).unwrap()));
    }
}
