//! The recorded Jira payloads under `../shared/fixtures/jira`.

#![allow(dead_code)]

use std::path::PathBuf;

use serde_json::Value;

pub(crate) fn fixture(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/fixtures/jira")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The response body of the one call a recording holds.
pub(crate) fn recorded_response(name: &str) -> Vec<u8> {
    let recording: Value = serde_json::from_slice(&fixture(name)).unwrap();
    let calls = recording["api"].as_object().unwrap();
    let (_, by_path) = calls.iter().next().unwrap();
    let (_, call) = by_path.as_object().unwrap().iter().next().unwrap();
    serde_json::to_vec(&call["response"]).unwrap()
}

pub(crate) const WEBHOOKS: [&str; 4] = [
    "webhook-issue_updated-status.json",
    "webhook-issue_updated-issue_moved.json",
    "webhook-issuelink_created.json",
    "webhook-worklog_created.json",
];
