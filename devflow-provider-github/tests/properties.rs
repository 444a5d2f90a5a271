//! The GitHub provider's part of the property suite: every parser of what GitHub (or
//! anyone posing as it) sends: webhook deliveries, `link` headers, page tokens, issue
//! objects (as values, single answers and whole listing pages), body metadata, issue ids and URLs, app keys and installation-token answers.
//! At least 1,000 cases each, arbitrary and truncated/mutated recorded payloads
//! (../shared/fixtures/github); never a panic.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use devflow_provider_github::app::{AppPrivateKey, GitHubApp, InstallationTokens};
use devflow_provider_github::metadata::BodyMetadata;
use devflow_provider_github::webhook::parse_delivery;
use devflow_provider_github::wire::{
    issue_from_json, issue_to_record, issues_from_page, next_link, parent_from_url, split_issue_id,
};
use devflow_provider_github::{GitHubConfig, GitHubProvider, TokenSource};
use devflow_sync_core::Error;
use devflow_sync_core::auth::{AccessToken, WebhookSecret};
use devflow_sync_core::http::HttpClient;
use devflow_sync_core::model::{ConnectionId, ExternalId, ItemId, ItemKind, ObjectType};
use devflow_sync_core::provider::{ChangeQuery, Headers, Provider};
use devflow_sync_core::webhook::{WebhookVerifier, sign_hmac_sha256};
use devflow_sync_testkit::fuzz::strategies::{mutated, mutation, thousand_cases};
use devflow_sync_testkit::fuzz::{hostile_values, mutate, node_count, replace_nth};
use devflow_sync_testkit::hostile::{HostileServer, one_shot_client};
use proptest::prelude::*;
use serde_json::Value;

fn config() -> ProptestConfig {
    thousand_cases()
}

fn fixture(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/fixtures/github")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

const WEBHOOKS: [(&str, &str); 9] = [
    ("issues", "webhook-issues-opened.json"),
    ("issues", "webhook-issues-edited.json"),
    ("issues", "webhook-issues-labeled.json"),
    ("issues", "webhook-issues-reopened.json"),
    ("issues", "webhook-issues-deleted.json"),
    ("issues", "webhook-issues-transferred.json"),
    ("issues", "webhook-issues-milestoned.json"),
    ("issue_comment", "webhook-issue_comment-created.json"),
    ("projects_v2_item", "webhook-projects_v2_item-edited.json"),
];

/// The recorded listing page (five issues and pull requests) as bytes.
fn recorded_page() -> Vec<u8> {
    let recording: Value =
        serde_json::from_slice(&fixture("rest-list-issues.nango-recording.json")).unwrap();
    serde_json::to_vec(
        &recording["api"]["get"]["/repos/viictoo/api-playground2/issues"]["response"],
    )
    .unwrap()
}

/// A recorded issue object with one node replaced by a hostile value.
fn hostile_issue() -> impl Strategy<Value = Value> {
    let issue: Value = serde_json::from_slice::<Value>(&fixture("webhook-issues-opened.json"))
        .unwrap()["issue"]
        .clone();
    let nodes = node_count(&issue);
    let values = hostile_values();
    (0..nodes, 0..values.len()).prop_map(move |(n, v)| replace_nth(&issue, n, &values[v]))
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn signed_webhook_deliveries_parse_or_fail_typed(
        which in 0..WEBHOOKS.len(),
        mutations in prop::collection::vec(mutation(), 0..6),
        event in prop_oneof![Just("issues".to_owned()), Just("sub_issues".to_owned()), Just("milestone".to_owned()), ".{0,12}"],
        delivery in prop_oneof![Just("d-1".to_owned()), ".{0,8}"],
    ) {
        let (_, file) = WEBHOOKS[which];
        let body = mutate(&fixture(file), &mutations);
        let secret = WebhookSecret::new("hook-secret");
        let headers = Headers::new()
            .with("X-GitHub-Event", event)
            .with("X-GitHub-Delivery", delivery)
            .with("X-Hub-Signature-256", sign_hmac_sha256(&secret, &body));
        let verifier = WebhookVerifier::new(devflow_provider_github::webhook::signature_scheme())
            .secret(secret)
            .delivery_id_header("X-GitHub-Delivery");
        if let Ok(delivery) = parse_delivery(&verifier, &headers, &body) {
            prop_assert!(!delivery.delivery_id.trim().is_empty());
        }
    }

    #[test]
    fn issue_objects_with_hostile_values_convert_or_fail_typed(issue in hostile_issue()) {
        let _ = issue_to_record("octo-org/app", &issue);
    }

    #[test]
    fn issue_objects_from_arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        if let Ok(value) = serde_json::from_slice::<Value>(&bytes) {
            let _ = issue_to_record("octo-org/app", &value);
        }
    }

    #[test]
    fn listing_pages_from_mutated_recordings_read_or_fail_typed(bytes in mutated(recorded_page())) {
        match issues_from_page("octo-org/app", &bytes) {
            Ok(records) => prop_assert!(records.len() <= 5),
            Err(e) => prop_assert!(matches!(e, Error::InvalidInput { pointer: Some(_), .. }), "{e:?}"),
        }
    }

    #[test]
    fn typed_issues_from_arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        let _ = issue_from_json("octo-org/app", &bytes);
        let _ = issues_from_page("octo-org/app", &bytes);
    }

    #[test]
    fn link_headers_never_panic(header in prop_oneof![
        ".{0,120}",
        "(<[ -~]{0,40}>; rel=\"?(next|last|prev)\"?,? ?){0,4}",
    ]) {
        let _ = next_link(&header);
    }

    #[test]
    fn body_metadata_splits_any_text_and_round_trips(
        text in ".{0,300}",
        kind in prop::option::of(prop_oneof![Just(ItemKind::Prd), Just(ItemKind::Story), Just(ItemKind::Subtask)]),
        id in "[a-z0-9-]{1,20}",
    ) {
        let _ = BodyMetadata::split(&text);
        let meta = BodyMetadata { id: Some(ItemId::new(id.as_str())), kind, parent: None, synced: None, links: Vec::new() };
        let (back, _) = BodyMetadata::split(&meta.join(&text));
        prop_assert_eq!(back.id, meta.id);
    }

    #[test]
    fn issue_ids_and_urls_never_panic(text in ".{0,80}", url in "https?://[a-z.]{0,12}(/[a-zA-Z0-9#._-]{0,12}){0,7}") {
        let _ = split_issue_id(&ExternalId::new(text.as_str()));
        let _ = parent_from_url(&url);
        let _ = parent_from_url(&text);
    }

    #[test]
    fn app_keys_from_any_pem(
        text in prop_oneof![
            ".{0,200}".prop_map(String::into_bytes),
            prop::collection::vec(mutation(), 1..5)
                .prop_map(|m| mutate(include_bytes!("data/test-app-key.pem"), &m)),
        ],
    ) {
        let _ = AppPrivateKey::from_pem(&String::from_utf8_lossy(&text));
    }
}

fn quick_http() -> HttpClient {
    one_shot_client().unwrap()
}

/// Stored page tokens of any shape, and list pages of any shape, through the provider.
#[test]
fn page_tokens_and_list_pages_never_panic() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let server = runtime.block_on(HostileServer::start());
    let provider = GitHubProvider::new(
        GitHubConfig::new(
            server.url.clone(),
            vec!["octo-org/app".into(), "octo-org/web".into()],
            TokenSource::Static(AccessToken::new("ghp_props")),
        ),
        quick_http(),
    )
    .unwrap();
    let page = fixture("rest-paginate-issues.recorded.json");
    let url = server.url.clone();
    let strategy = (
        prop_oneof![
            Just(None),
            ".{0,60}".prop_map(Some),
            (0usize..4, "[a-z/-]{0,16}", "[ -~]{0,40}")
                .prop_map(move |(i, r, tail)| Some(format!("{i} {r} {url}{tail}"))),
        ],
        prop::collection::vec(mutation(), 0..5),
        prop_oneof![Just(String::new()), ".{0,80}".prop_map(|l| l)],
    );
    let mut runner = proptest::test_runner::TestRunner::new(config());
    runner
        .run(&strategy, |(token, mutations, link)| {
            server.reset();
            let body = mutate(&page, &mutations);
            server.answer(200, &[("link", link.as_str()), ("etag", "W/\"x\"")], &body);
            let query = ChangeQuery {
                page_token: token,
                ..ChangeQuery::default()
            };
            let result = runtime.block_on(async {
                tokio::time::timeout(
                    Duration::from_secs(10),
                    provider.list_changed(
                        &ConnectionId::new("c"),
                        &ObjectType::new("issue"),
                        &query,
                    ),
                )
                .await
            });
            prop_assert!(result.is_ok(), "listing hung");
            if let Ok(Err(e)) = result {
                prop_assert!(!e.to_string().contains("ghp_props"));
                prop_assert!(!matches!(e, Error::Other { .. }), "{e:?}");
            }
            Ok(())
        })
        .unwrap();
}

/// Installation-token answers of any shape.
#[test]
fn installation_token_answers_never_panic() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let server = runtime.block_on(HostileServer::start());
    let key = AppPrivateKey::from_pem(include_str!("data/test-app-key.pem")).unwrap();
    let good = r#"{"token":"ghs_16C7e42F292c6912E7710c838347Ae178B4a","expires_at":"2026-11-22T10:00:00Z","permissions":{"issues":"write"},"repository_selection":"all"}"#;
    let strategy = (
        prop_oneof![Just(201u16), Just(401), Just(404), Just(422), 200u16..600],
        prop_oneof![
            prop::collection::vec(any::<u8>(), 0..120),
            prop::collection::vec(mutation(), 0..5).prop_map(move |m| mutate(good.as_bytes(), &m)),
        ],
    );
    let tokens = Arc::new(InstallationTokens::new(
        GitHubApp::new("Iv23li", key),
        42,
        server.url.clone(),
        quick_http(),
    ));
    let mut runner = proptest::test_runner::TestRunner::new(config());
    runner
        .run(&strategy, |(status, body)| {
            server.reset();
            server.answer(status, &[("content-type", "application/json")], &body);
            let result = runtime.block_on(async {
                tokens.invalidate().await;
                tokio::time::timeout(
                    Duration::from_secs(10),
                    tokens.token(&ConnectionId::new("c")),
                )
                .await
            });
            prop_assert!(result.is_ok(), "minting hung");
            Ok(())
        })
        .unwrap();
}
