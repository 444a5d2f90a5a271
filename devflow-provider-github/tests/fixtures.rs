//! The GitHub wire format and webhooks against recorded payloads in shared/fixtures.

use std::path::PathBuf;

use devflow_provider_github::metadata::BodyMetadata;
use devflow_provider_github::webhook::parse_delivery;
use devflow_provider_github::wire::{issue_id, issue_request, issue_to_record, next_link};
use devflow_sync_core::Error;
use devflow_sync_core::auth::WebhookSecret;
use devflow_sync_core::model::{FieldValue, Fields, ItemId, ItemKind};
use devflow_sync_core::provider::{Headers, WebhookAction};
use devflow_sync_core::webhook::{WebhookVerifier, sign_hmac_sha256};
use serde_json::{Value, json};

fn fixture(name: &str) -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/fixtures/github")
        .join(name);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("fixture {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap()
}

#[test]
fn listed_issues_become_records_and_pull_requests_are_left_out() {
    let recording = fixture("rest-list-issues.nango-recording.json");
    let items = recording["api"]["get"]["/repos/viictoo/api-playground2/issues"]["response"]
        .as_array()
        .unwrap();
    assert_eq!(items.len(), 5);
    let records: Vec<_> = items
        .iter()
        .filter_map(|i| issue_to_record("viictoo/api-playground2", i).unwrap())
        .collect();
    assert_eq!(
        records.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(),
        ["viictoo/api-playground2#12", "viictoo/api-playground2#11"]
    );
    let r = &records[0];
    assert_eq!(
        r.record.fields.get("labels"),
        &FieldValue::set(["bug", "test"])
    );
    assert_eq!(r.record.fields.get("state").as_str(), Some("open"));
    assert!(
        r.record
            .fields
            .get("body")
            .as_str()
            .unwrap()
            .starts_with("This is a test issue")
    );
    assert_eq!(
        r.url.as_deref(),
        Some("https://github.com/viictoo/api-playground2/issues/12")
    );
    assert_eq!(r.record.kind, None);
    let version = r.record.version.as_ref().unwrap().as_str();
    assert!(
        version.starts_with(&r.record.updated_at.to_rfc3339()),
        "{version}"
    );
    // The same issue with another title in the same second is another version.
    let mut edited = items[2].clone();
    edited["title"] = serde_json::json!("Renamed");
    let other = issue_to_record("viictoo/api-playground2", &edited)
        .unwrap()
        .unwrap();
    assert_eq!(other.record.updated_at, r.record.updated_at);
    assert_ne!(other.record.version, r.record.version);
}

#[test]
fn link_headers_are_followed_verbatim_page_after_page() {
    let pages = fixture("rest-paginate-issues.recorded.json");
    let pages = pages.as_array().unwrap();
    for pair in pages.windows(2) {
        let link = pair[0]["headers"]["link"].as_str().unwrap();
        let next = next_link(link).unwrap();
        let path = pair[1]["path"].as_str().unwrap();
        assert!(next.ends_with(path), "{next} vs {path}");
    }
    let last = pages.last().unwrap()["headers"]["link"]
        .as_str()
        .unwrap_or("");
    assert_eq!(next_link(last), None, "the last page has no next");
}

fn verifier() -> WebhookVerifier {
    WebhookVerifier::new(devflow_provider_github::webhook::signature_scheme())
        .secret(WebhookSecret::new("hook-secret"))
        .delivery_id_header("X-GitHub-Delivery")
}

fn signed(event: &str, payload: &Value) -> (Headers, Vec<u8>) {
    let body = serde_json::to_vec(payload).unwrap();
    let headers = Headers::new()
        .with("X-GitHub-Event", event)
        .with("X-GitHub-Delivery", "72d3162e-cc78-11e3-81ab-4c9367dc0958")
        .with(
            "X-Hub-Signature-256",
            sign_hmac_sha256(&WebhookSecret::new("hook-secret"), &body),
        );
    (headers, body)
}

#[test]
fn every_recorded_issues_webhook_parses() {
    for (file, action, labels) in [
        ("webhook-issues-opened.json", WebhookAction::Upsert, vec![]),
        (
            "webhook-issues-edited.json",
            WebhookAction::Upsert,
            vec!["bug"],
        ),
        (
            "webhook-issues-labeled.json",
            WebhookAction::Upsert,
            vec!["bug"],
        ),
        (
            "webhook-issues-reopened.json",
            WebhookAction::Upsert,
            vec![],
        ),
        (
            "webhook-issues-deleted.json",
            WebhookAction::Deleted,
            vec![],
        ),
        (
            "webhook-issues-transferred.json",
            WebhookAction::Deleted,
            vec![],
        ),
    ] {
        let payload = fixture(file);
        let (headers, body) = signed("issues", &payload);
        let delivery =
            parse_delivery(&verifier(), &headers, &body).unwrap_or_else(|e| panic!("{file}: {e}"));
        assert_eq!(delivery.delivery_id, "72d3162e-cc78-11e3-81ab-4c9367dc0958");
        assert_eq!(delivery.events.len(), 1, "{file}");
        let event = &delivery.events[0];
        assert_eq!(event.action, action, "{file}");
        let repo = payload["repository"]["full_name"].as_str().unwrap();
        let number = payload["issue"]["number"].as_u64().unwrap();
        assert_eq!(event.id, issue_id(repo, number));
        match &event.record {
            Some(record) => {
                let got = record
                    .record
                    .fields
                    .get("labels")
                    .as_set()
                    .cloned()
                    .unwrap_or_default();
                for l in &labels {
                    assert!(got.contains(*l), "{file}: {got:?}");
                }
                assert_eq!(event.occurred_at, record.record.updated_at);
            }
            None => assert_eq!(action, WebhookAction::Deleted, "{file}"),
        }
        if let Some(record) = &event.record {
            if let Some(m) = payload["issue"]["milestone"]["number"].as_i64() {
                assert_eq!(
                    record.record.fields.get("milestone"),
                    &FieldValue::int(m),
                    "{file}"
                );
            }
        }
    }
}

#[test]
fn issues_events_about_pull_requests_are_left_out() {
    // The recorded `milestoned` payload is about a pull request (it has `pull_request`).
    let payload = fixture("webhook-issues-milestoned.json");
    assert!(payload["issue"].get("pull_request").is_some());
    let (headers, body) = signed("issues", &payload);
    let delivery = parse_delivery(&verifier(), &headers, &body).unwrap();
    assert!(delivery.events.is_empty());
}

#[test]
fn other_events_carry_nothing_and_bad_deliveries_are_refused() {
    for (event, file) in [
        ("issue_comment", "webhook-issue_comment-created.json"),
        ("projects_v2_item", "webhook-projects_v2_item-edited.json"),
    ] {
        let (headers, body) = signed(event, &fixture(file));
        assert!(
            parse_delivery(&verifier(), &headers, &body)
                .unwrap()
                .events
                .is_empty(),
            "{event}"
        );
    }
    let (headers, body) = signed(
        "ping",
        &json!({"zen": "Keep it logically awesome.", "hook_id": 1}),
    );
    assert!(
        parse_delivery(&verifier(), &headers, &body)
            .unwrap()
            .events
            .is_empty()
    );

    let payload = fixture("webhook-issues-opened.json");
    let (headers, mut body) = signed("issues", &payload);
    body.push(b' ');
    assert!(matches!(
        parse_delivery(&verifier(), &headers, &body),
        Err(Error::Unauthenticated(_))
    ));
    let (headers, body) = signed("issues", &payload);
    let without_id: Headers = headers
        .iter()
        .filter(|(n, _)| *n != "X-GitHub-Delivery")
        .collect();
    assert!(matches!(
        parse_delivery(&verifier(), &without_id, &body),
        Err(Error::InvalidInput { .. })
    ));

    // A sub-issue event names the child; the engine fetches it.
    let sub = json!({"action": "sub_issue_added", "parent_issue_id": 1, "sub_issue_id": 2,
        "sub_issue": {"number": 7, "updated_at": "2026-05-01T10:00:00Z"},
        "repository": {"full_name": "octo-org/app"}});
    let (headers, body) = signed("sub_issues", &sub);
    let delivery = parse_delivery(&verifier(), &headers, &body).unwrap();
    assert_eq!(delivery.events[0].id.as_str(), "octo-org/app#7");
    assert!(delivery.events[0].record.is_none());
}

#[test]
fn a_record_written_and_read_back_keeps_level_parent_marker_and_text() {
    let fields = Fields::new()
        .with("title", "Pay by card")
        .with("body", FieldValue::long_text("## Goal\nOne tap.\n"))
        .with("state", FieldValue::enumeration("open"))
        .with("labels", FieldValue::set(["backend"]))
        .with("assignees", FieldValue::set(["octocat"]))
        .with("milestone", 3);
    let meta = BodyMetadata {
        id: Some(ItemId::new("item-42")),
        kind: Some(ItemKind::Story),
        parent: Some("octo-org/app#12".into()),
        synced: None,
        links: Vec::new(),
    };
    let request = issue_request(&fields, &meta, Some(ItemKind::Story));
    assert_eq!(
        request["labels"],
        json!(["backend", "devflow-story", "devflow-synced"])
    );
    assert_eq!(request["assignees"], json!(["octocat"]));
    assert!(
        request["body"]
            .as_str()
            .unwrap()
            .starts_with("<!-- devflow-id: item-42 -->")
    );
    // What GitHub would answer.
    let answer = json!({
        "id": 1, "number": 13, "title": request["title"], "body": request["body"], "state": "open",
        "labels": request["labels"].as_array().unwrap().iter().map(|l| json!({"name": l})).collect::<Vec<_>>(),
        "assignees": [{"login": "octocat"}], "milestone": {"number": 3},
        "html_url": "https://github.com/octo-org/app/issues/13", "updated_at": "2026-05-01T10:00:00Z"
    });
    let record = issue_to_record("octo-org/app", &answer).unwrap().unwrap();
    assert_eq!(
        record.record.fields, fields,
        "the host sees exactly its own fields"
    );
    assert_eq!(record.record.kind, Some(ItemKind::Story));
    assert_eq!(
        record.record.parent.as_ref().unwrap().as_str(),
        "octo-org/app#12"
    );
    assert_eq!(record.marker.as_ref().unwrap().as_str(), "item-42");

    // A server with sub-issues says where the issue sits; its word wins over the body's.
    let parent_of = |link: Value| {
        let mut answer = answer.clone();
        answer["parent_issue_url"] = link;
        issue_to_record("octo-org/app", &answer)
            .unwrap()
            .unwrap()
            .record
            .parent
            .map(|p| p.to_string())
    };
    assert_eq!(
        parent_of(json!("https://api.github.com/repos/octo-org/web/issues/7")).as_deref(),
        Some("octo-org/web#7"),
        "moved in GitHub"
    );
    assert_eq!(parent_of(Value::Null), None, "link removed in GitHub");
}
