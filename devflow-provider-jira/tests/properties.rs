//! The Jira provider's part of the property suite: every parser of what Jira (or anyone
//! posing as it) sends: search pages, issues, webhook deliveries (signed and not), error
//! bodies, ADF documents, and our own page tokens. At least 1,000 cases each, arbitrary
//! and truncated/mutated recorded payloads (../shared/fixtures/jira); never a panic.

use devflow_provider_jira::adf::{from_markdown, to_markdown};
use devflow_provider_jira::webhook::parse_verified;
use devflow_provider_jira::wire::{issue_from_json, parse_time, search_page};
use devflow_provider_jira::{IssueTypeNames, JiraAuth, JiraConfig, JiraErrors, JiraProvider};
use devflow_sync_core::Error;
use devflow_sync_core::api::ErrorMapper;
use devflow_sync_core::auth::{AccessToken, WebhookSecret};
use devflow_sync_core::http::HttpClient;
use devflow_sync_core::model::{ConnectionId, ObjectType};
use devflow_sync_core::provider::{ChangeQuery, Headers, Provider};
use devflow_sync_core::webhook::sign_hmac_sha256;
use devflow_sync_testkit::fuzz::strategies::{mutated, mutation, thousand_cases};
use devflow_sync_testkit::fuzz::{hostile_values, node_count, replace_nth};
use proptest::prelude::*;
use serde_json::Value;

#[path = "support/fixtures.rs"]
mod fixtures;
use fixtures::{WEBHOOKS, fixture, recorded_response};

fn provider() -> JiraProvider {
    let mut config = JiraConfig::new(
        "http://127.0.0.1:9",
        "KAN",
        JiraAuth::api_token("a@b.test", AccessToken::new("t")),
    );
    config.webhook_secrets = vec![WebhookSecret::new("s3cret")];
    JiraProvider::new(config, HttpClient::builder().build().unwrap()).unwrap()
}

fn hostile_issue() -> impl Strategy<Value = Value> {
    let page: Value =
        serde_json::from_slice(&recorded_response("rest-v3-get-issue.nango-recording.json"))
            .unwrap();
    let nodes = node_count(&page);
    let values = hostile_values();
    (0..nodes, 0..values.len()).prop_map(move |(n, v)| replace_nth(&page, n, &values[v]))
}

/// Markdown of the nodes the provider round-trips: paragraphs of words with marks and
/// links and mentions, headings, lists, code blocks.
fn supported_markdown() -> impl Strategy<Value = String> {
    let word = "[a-z]{1,8}";
    let inline = prop_oneof![
        word.prop_map(|w| w),
        word.prop_map(|w| format!("**{w}**")),
        word.prop_map(|w| format!("*{w}*")),
        word.prop_map(|w| format!("`{w}`")),
        word.prop_map(|w| format!("~~{w}~~")),
        word.prop_map(|w| format!("[{w}](https://x.test/{w})")),
        word.prop_map(|w| format!("[@{w}](jira-mention:712020:{w})")),
    ];
    let line = prop::collection::vec(inline, 1..8).prop_map(|w| w.join(" "));
    let block = prop_oneof![
        line.clone(),
        (1usize..4, line.clone()).prop_map(|(l, t)| format!("{} {t}", "#".repeat(l))),
        prop::collection::vec(line.clone(), 1..4).prop_map(|items| items
            .iter()
            .map(|i| format!("- {i}"))
            .collect::<Vec<_>>()
            .join("\n")),
        prop::collection::vec(line.clone(), 1..4).prop_map(|items| items
            .iter()
            .enumerate()
            .map(|(n, i)| format!("{}. {i}", n + 1))
            .collect::<Vec<_>>()
            .join("\n")),
        "[a-z ;(){}]{1,40}".prop_map(|code| format!("```rust\n{code}\n```")),
    ];
    prop::collection::vec(block, 1..5).prop_map(|b| b.join("\n\n"))
}

proptest! {
    #![proptest_config(thousand_cases())]

    #[test]
    fn search_pages_read_or_fail_typed(bytes in mutated(recorded_response("rest-v3-search-jql.nango-recording.json"))) {
        match search_page(&bytes, &IssueTypeNames::default(), Some("https://x.atlassian.net")) {
            Ok((records, _)) => prop_assert!(records.iter().all(|r| !r.id.as_str().is_empty() || r.id.as_str().is_empty())),
            Err(e) => prop_assert!(matches!(e, Error::InvalidInput { .. }), "{e:?}"),
        }
    }

    #[test]
    fn issues_with_a_hostile_value_read_or_fail_typed(issue in hostile_issue()) {
        let bytes = serde_json::to_vec(&issue).unwrap();
        if let Err(e) = issue_from_json(&bytes, &IssueTypeNames::default(), None) {
            prop_assert!(matches!(e, Error::InvalidInput { .. }), "{e:?}");
        }
    }

    #[test]
    fn arbitrary_bytes_are_no_issue_and_no_page(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        prop_assert!(issue_from_json(&bytes, &IssueTypeNames::default(), None).is_err() || !bytes.is_empty());
        let _ = search_page(&bytes, &IssueTypeNames::default(), None);
    }

    #[test]
    fn webhook_deliveries_parse_or_fail_typed(which in 0..WEBHOOKS.len(), mutations in prop::collection::vec(mutation(), 0..6)) {
        let real = fixture(WEBHOOKS[which]);
        let bytes = devflow_sync_testkit::fuzz::mutate(&real, &mutations);
        let headers = Headers::new().with("X-Atlassian-Webhook-Identifier", "d");
        if let Err(e) = parse_verified(&headers, &bytes, Some("KAN")) {
            prop_assert!(matches!(e, Error::InvalidInput { .. }), "{e:?}");
        }
        // Signed with the right secret, the provider parses it the same way; unsigned, it refuses.
        let p = provider();
        let signed = headers.clone().with("X-Hub-Signature", sign_hmac_sha256(&WebhookSecret::new("s3cret"), &bytes));
        let conn = ConnectionId::new("c");
        prop_assert_eq!(p.parse_webhook(&conn, &signed, &bytes).is_ok(), parse_verified(&headers, &bytes, Some("KAN")).is_ok());
        prop_assert!(matches!(p.parse_webhook(&conn, &headers, &bytes), Err(Error::Unauthenticated(_))));
    }

    #[test]
    fn error_bodies_map_to_typed_errors(status in 400u16..600, body in prop::collection::vec(any::<u8>(), 0..200)) {
        let _ = JiraErrors::default().map(status, &body);
    }

    #[test]
    fn adf_of_any_shape_reads_as_markdown(doc in hostile_issue()) {
        let md = to_markdown(&doc["fields"]["description"]);
        let again = from_markdown(&md);
        prop_assert_eq!(again["type"].as_str(), Some("doc"));
    }

    #[test]
    fn any_markdown_makes_a_document(md in ".{0,300}") {
        let adf = from_markdown(&md);
        prop_assert_eq!(adf["type"].as_str(), Some("doc"));
        let again = from_markdown(&to_markdown(&adf));
        prop_assert_eq!(again["type"].as_str(), Some("doc"));
    }

    #[test]
    fn descriptions_of_the_supported_nodes_round_trip(md in supported_markdown()) {
        let adf = from_markdown(&md);
        let once = to_markdown(&adf);
        prop_assert_eq!(&from_markdown(&once), &adf, "{}", once);
        prop_assert_eq!(to_markdown(&from_markdown(&once)), once);
    }

    #[test]
    fn times_parse_or_not_without_panic(text in ".{0,40}") {
        let _ = parse_time(&text);
    }
}

#[tokio::test]
async fn page_tokens_of_any_shape_are_stale_not_a_crash() {
    let p = provider();
    let runner_cases = [
        "",
        " ",
        "jira1",
        "jira1 x - y",
        "jira1 0000000000000000 - t",
        "\u{0}",
        "jira1 a b c d e",
    ];
    for token in runner_cases {
        let err = p
            .list_changed(
                &ConnectionId::new("c"),
                &ObjectType::new("issue"),
                &ChangeQuery {
                    page_token: Some(token.into()),
                    limit: 10,
                    ..ChangeQuery::default()
                },
            )
            .await
            .unwrap_err();
        assert!(
            matches!(err, Error::StalePageToken(_)),
            "{token:?}: {err:?}"
        );
    }
}
