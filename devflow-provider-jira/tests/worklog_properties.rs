//! The worklog parsers in the property suite: worklog bodies (the recorded REST v3
//! answer and the REST v2 worklog of a webhook, mutated), issue keys, offsets and
//! times of any text, and worklog page tokens of any shape. Never a panic.

use chrono::{TimeZone, Utc};
use devflow_provider_jira::worklog::{
    WorklogWire, is_issue_key, parse_offset, parse_time, record_of,
};
use devflow_provider_jira::{JiraAuth, JiraConfig, JiraProvider};
use devflow_sync_core::Error;
use devflow_sync_core::auth::AccessToken;
use devflow_sync_core::http::HttpClient;
use devflow_sync_core::model::{ConnectionId, ObjectType};
use devflow_sync_core::provider::{ChangeQuery, Provider};
use devflow_sync_testkit::fuzz::strategies::{mutated, thousand_cases};
use proptest::prelude::*;
use serde_json::Value;

#[path = "support/fixtures.rs"]
mod fixtures;
use fixtures::{fixture, recorded_response};

fn webhook_worklog() -> Vec<u8> {
    let delivery: Value = serde_json::from_slice(&fixture("webhook-worklog_created.json")).unwrap();
    serde_json::to_vec(&delivery["worklog"]).unwrap()
}

fn read(bytes: &[u8]) -> Option<devflow_sync_core::provider::RemoteRecord> {
    serde_json::from_slice::<WorklogWire>(bytes)
        .ok()
        .and_then(|w| record_of(&w, Some("https://acme.atlassian.net")))
}

#[test]
fn the_recorded_worklogs_read_as_records() {
    let created = read(&recorded_response(
        "rest-v3-add-worklog.nango-recording.json",
    ))
    .unwrap();
    assert_eq!(created.id.as_str(), "10009");
    let f = &created.record.fields;
    assert_eq!(f.get("timeSpentSeconds").as_f64(), Some(3600.0));
    assert_eq!(f.get("issueId").as_str(), Some("10002"));
    // `2024-01-15T10:00:00.000+0100` is 09:00 UTC.
    assert_eq!(
        f.get("started"),
        &devflow_sync_core::model::FieldValue::DateTime(
            Utc.with_ymd_and_hms(2024, 1, 15, 9, 0, 0).unwrap()
        )
    );
    assert_eq!(
        f.get("comment").as_str(),
        Some("Test worklog entry via Nango action")
    );
    assert!(created.marker.is_none(), "made elsewhere: no marker");
    // REST v2 (webhooks): the comment is plain text.
    let hooked = read(&webhook_worklog()).unwrap();
    assert_eq!(hooked.id.as_str(), "10066");
    assert_eq!(
        hooked.record.fields.get("timeSpentSeconds").as_f64(),
        Some(144_000.0)
    );
}

proptest! {
    #![proptest_config(thousand_cases())]

    #[test]
    fn recorded_worklogs_mutated_read_or_not_without_panic(bytes in mutated(recorded_response("rest-v3-add-worklog.nango-recording.json"))) {
        let _ = read(&bytes);
    }

    #[test]
    fn webhook_worklogs_mutated_read_or_not_without_panic(bytes in mutated(webhook_worklog())) {
        let _ = read(&bytes);
    }

    #[test]
    fn keys_offsets_and_times_of_any_text_parse_or_not(text in ".{0,40}") {
        let key = is_issue_key(&text);
        if key {
            prop_assert!(text.contains('-') && text.chars().next().is_some_and(|c| c.is_ascii_uppercase()));
        }
        let _ = parse_offset(&text);
        let _ = parse_time(&text);
    }

    #[test]
    fn well_formed_keys_are_keys(project in "[A-Z][A-Z0-9_]{1,9}", n in 1u64..10_000_000) {
        let key = format!("{project}-{n}");
        prop_assert!(is_issue_key(&key));
        let lower = key.to_lowercase();
        prop_assert!(!is_issue_key(&lower) || lower == key);
    }
}

#[tokio::test]
async fn worklog_page_tokens_of_any_shape_are_stale_not_a_crash() {
    let config = JiraConfig::new(
        "http://127.0.0.1:9",
        "KAN",
        JiraAuth::api_token("a@b.test", AccessToken::new("t")),
    );
    let p = JiraProvider::new(config, HttpClient::builder().build().unwrap()).unwrap();
    for token in [
        "",
        "u",
        "u:",
        "u:x:1",
        "u:1",
        "d:",
        "d:y",
        "x:1",
        "\u{0}",
        "u:1:2:3:zz",
    ] {
        let result = p
            .list_changed(
                &ConnectionId::new("c"),
                &ObjectType::new("worklog"),
                &ChangeQuery {
                    page_token: Some(token.into()),
                    limit: 10,
                    ..ChangeQuery::default()
                },
            )
            .await;
        match result {
            Err(Error::StalePageToken(_)) => {}
            // A token of the right shape goes to the (absent) server.
            Err(e) if token.starts_with("u:1:2") => assert!(!matches!(e, Error::StalePageToken(_))),
            other => panic!("{token:?}: {other:?}"),
        }
    }
}
