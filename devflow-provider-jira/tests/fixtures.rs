//! Every recorded Jira payload reads, into what the provider makes of it.

use devflow_provider_jira::IssueTypeNames;
use devflow_provider_jira::webhook::parse_verified;
use devflow_provider_jira::wire::{issue_from_json, search_page};
use devflow_sync_core::model::{FieldValue, ItemKind};
use devflow_sync_core::provider::{Headers, WebhookAction};
use serde_json::Value;

#[path = "support/fixtures.rs"]
mod fixtures;
use fixtures::{WEBHOOKS, fixture, recorded_response};

#[test]
fn the_recorded_search_page_reads_every_issue() {
    let body = recorded_response("rest-v3-search-jql.nango-recording.json");
    let (records, next) = search_page(
        &body,
        &IssueTypeNames::default(),
        Some("https://nango-team-test.atlassian.net"),
    )
    .unwrap();
    assert_eq!(records.len(), 16);
    assert_eq!(next, None, "isLast: true and no token");
    let first = &records[0];
    assert_eq!(first.id.as_str(), "10006");
    assert_eq!(
        first.url.as_deref(),
        Some("https://nango-team-test.atlassian.net/browse/KAN-5")
    );
    assert_eq!(
        first.record.fields.get("summary").as_str(),
        Some("Test issue for add-watcher action")
    );
    assert_eq!(first.record.fields.get("status").as_str(), Some("To Do"));
    assert_eq!(first.record.fields.get("priority").as_str(), Some("Medium"));
    assert_eq!(first.record.kind, Some(ItemKind::Task));
    assert_eq!(
        first.record.version.as_ref().map(|v| v.as_str()),
        Some("2026-04-28T15:33:15.492+0200")
    );
    assert_eq!(
        first.record.updated_at.to_rfc3339(),
        "2026-04-28T13:33:15.492+00:00"
    );
    assert!(
        records
            .windows(2)
            .all(|w| w[0].record.updated_at <= w[1].record.updated_at),
        "ORDER BY updated ASC"
    );
}

#[test]
fn the_recorded_issue_reads_with_its_adf_description() {
    let body = recorded_response("rest-v3-get-issue.nango-recording.json");
    let record = issue_from_json(&body, &IssueTypeNames::default(), None).unwrap();
    assert_eq!(
        record.record.fields.get("description"),
        &FieldValue::long_text(
            "This is a test issue created for testing the delete-comment action"
        )
    );
    assert_eq!(
        record.record.fields.get("status").as_str(),
        Some("In Review")
    );
    assert_eq!(record.record.parent, None);
    assert_eq!(record.url, None, "no site URL on the gateway");
}

#[test]
fn the_recorded_create_transitions_and_changelog_have_the_shapes_used() {
    let created: Value = serde_json::from_slice(&recorded_response(
        "rest-v3-create-issue.nango-recording.json",
    ))
    .unwrap();
    assert!(created["id"].is_string() && created["key"].is_string());
    let transitions: Value = serde_json::from_slice(&recorded_response(
        "rest-v3-list-transitions.nango-recording.json",
    ))
    .unwrap();
    let targets: Vec<&str> = transitions["transitions"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|t| t["to"]["name"].as_str())
        .collect();
    assert!(
        targets.contains(&"In Progress") && targets.contains(&"In Review"),
        "{targets:?}"
    );
    let changelog: Value = serde_json::from_slice(&recorded_response(
        "rest-v3-get-issue-changelog.nango-recording.json",
    ))
    .unwrap();
    assert!(changelog["values"][0]["items"][0]["field"].is_string());
    let worklog: Value = serde_json::from_slice(&recorded_response(
        "rest-v3-add-worklog.nango-recording.json",
    ))
    .unwrap();
    assert!(
        worklog["started"]
            .as_str()
            .is_some_and(|s| devflow_provider_jira::wire::parse_time(s).is_some())
    );
}

#[test]
fn every_recorded_webhook_parses() {
    let headers = Headers::new().with("X-Atlassian-Webhook-Identifier", "delivery-1");
    for name in WEBHOOKS {
        let delivery = parse_verified(&headers, &fixture(name), None)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(delivery.delivery_id, "delivery-1");
        match name {
            "webhook-issue_updated-status.json" | "webhook-issue_updated-issue_moved.json" => {
                assert_eq!(delivery.events.len(), 1, "{name}");
                assert_eq!(delivery.events[0].action, WebhookAction::Upsert);
                assert!(
                    delivery.events[0].record.is_none(),
                    "v2 bodies are fetched again"
                );
            }
            "webhook-worklog_created.json" => {
                assert_eq!(delivery.events.len(), 1, "{name}");
                assert_eq!(delivery.events[0].object.as_str(), "worklog");
                assert_eq!(delivery.events[0].id.as_str(), "10066");
                assert!(delivery.events[0].record.is_none(), "read again");
            }
            _ => assert!(
                delivery.events.is_empty(),
                "{name} carries nothing for issues or worklogs"
            ),
        }
    }
    let moved = parse_verified(
        &headers,
        &fixture("webhook-issue_updated-issue_moved.json"),
        None,
    )
    .unwrap();
    let raw: Value =
        serde_json::from_slice(&fixture("webhook-issue_updated-issue_moved.json")).unwrap();
    assert_eq!(
        moved.events[0].id.as_str(),
        raw["issue"]["id"].as_str().unwrap(),
        "keyed on the stable id, not the key"
    );
}
