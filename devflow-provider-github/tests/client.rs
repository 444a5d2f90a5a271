//! The GitHub provider against a mock GitHub: listing, ETags, creates with labels and
//! sub-issues, updates keeping the metadata, marker search.

use std::path::PathBuf;

use devflow_provider_github::{GitHubConfig, GitHubProvider, TokenSource};
use devflow_sync_core::Error;
use devflow_sync_core::auth::AccessToken;
use devflow_sync_core::http::HttpClient;
use devflow_sync_core::model::{
    ConnectionId, ExternalId, FieldChange, FieldValue, Fields, ItemId, ItemKind, ObjectType,
};
use devflow_sync_core::provider::{ChangeQuery, NewRemote, Provider, RecordFilter, RemoteUpdate};
use mockito::Matcher;
use serde_json::{Value, json};

fn recorded_issues() -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/fixtures/github/rest-list-issues.nango-recording.json");
    let v: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    v["api"]["get"]["/repos/viictoo/api-playground2/issues"]["response"].clone()
}

fn provider(server: &mockito::Server, repos: &[&str]) -> GitHubProvider {
    let config = GitHubConfig::new(
        server.url(),
        repos.iter().map(|r| (*r).to_owned()).collect(),
        TokenSource::Static(AccessToken::new("ghp_test")),
    );
    GitHubProvider::new(config, HttpClient::builder().build().unwrap()).unwrap()
}

fn issue() -> ObjectType {
    ObjectType::new("issue")
}

fn conn() -> ConnectionId {
    ConnectionId::new("c")
}

#[tokio::test]
async fn lists_follow_link_urls_verbatim_filter_pull_requests_and_use_etags() {
    let mut server = mockito::Server::new_async().await;
    let next = format!(
        "{}/repositories/99/issues?per_page=100&after=Y3Vyc29y&page=2",
        server.url()
    );
    let first = server
        .mock("GET", "/repos/viictoo/api-playground2/issues")
        .match_query(Matcher::AllOf(vec![
            Matcher::UrlEncoded("state".into(), "all".into()),
            Matcher::UrlEncoded("sort".into(), "updated".into()),
            Matcher::UrlEncoded("direction".into(), "asc".into()),
            Matcher::UrlEncoded("labels".into(), "bug".into()),
        ]))
        .match_header("authorization", "Bearer ghp_test")
        .match_header("x-github-api-version", "2022-11-28")
        .with_header("link", &format!("<{next}>; rel=\"next\""))
        .with_header("etag", "W/\"page-1\"")
        .with_body(recorded_issues().to_string())
        .expect(1)
        .create_async()
        .await;
    let second = server
        .mock("GET", "/repositories/99/issues")
        .match_query(Matcher::UrlEncoded("after".into(), "Y3Vyc29y".into()))
        .with_body("[]")
        .expect(1)
        .create_async()
        .await;
    // The change probe: the most recently updated issue.
    let probe = server
        .mock("GET", "/repos/viictoo/api-playground2/issues")
        .match_query(Matcher::AllOf(vec![
            Matcher::UrlEncoded("direction".into(), "desc".into()),
            Matcher::UrlEncoded("per_page".into(), "1".into()),
        ]))
        .with_header("etag", "W/\"probe-1\"")
        .with_body("[]")
        .expect(1)
        .create_async()
        .await;
    let p = provider(&server, &["viictoo/api-playground2"]);
    let query = ChangeQuery {
        limit: 100,
        since: Some(
            chrono::DateTime::parse_from_rfc3339("2026-04-01T00:00:00Z")
                .unwrap()
                .into(),
        ),
        filter: RecordFilter {
            labels: vec!["bug".into()],
            ..RecordFilter::default()
        },
        ..ChangeQuery::default()
    };
    let page = p.list_changed(&conn(), &issue(), &query).await.unwrap();
    assert_eq!(page.records.len(), 2, "three pull requests left out");
    let page2 = p
        .list_changed(
            &conn(),
            &issue(),
            &ChangeQuery {
                page_token: page.next_page_token.clone(),
                ..query.clone()
            },
        )
        .await
        .unwrap();
    assert!(page2.records.is_empty() && page2.next_page_token.is_none());
    first.assert_async().await;
    second.assert_async().await;
    probe.assert_async().await;

    // The next poll asks the probe first; a 304 there means nothing changed at all.
    let unchanged_probe = server
        .mock("GET", "/repos/viictoo/api-playground2/issues")
        .match_query(Matcher::UrlEncoded("direction".into(), "desc".into()))
        .match_header("if-none-match", "W/\"probe-1\"")
        .with_status(304)
        .expect(1)
        .create_async()
        .await;
    let page = p.list_changed(&conn(), &issue(), &query).await.unwrap();
    assert!(page.records.is_empty() && page.next_page_token.is_none());
    unchanged_probe.assert_async().await;
    unchanged_probe.remove_async().await;
    // After a change the probe answers 200 and the listing runs.
    server
        .mock("GET", "/repos/viictoo/api-playground2/issues")
        .match_query(Matcher::UrlEncoded("direction".into(), "desc".into()))
        .with_header("etag", "W/\"probe-2\"")
        .with_body("[]")
        .expect(1)
        .create_async()
        .await;

    // The same first page again, even from a moved `since`: sent with If-None-Match,
    // answered 304 (no rate limit spent), served from the cache with its next link.
    let unchanged = server
        .mock("GET", "/repos/viictoo/api-playground2/issues")
        .match_query(Matcher::UrlEncoded(
            "since".into(),
            "2026-04-29T10:00:00Z".into(),
        ))
        .match_header("if-none-match", "W/\"page-1\"")
        .with_status(304)
        .expect(1)
        .create_async()
        .await;
    let moved = ChangeQuery {
        since: Some(
            chrono::DateTime::parse_from_rfc3339("2026-04-29T10:00:00Z")
                .unwrap()
                .into(),
        ),
        ..query.clone()
    };
    let page = p.list_changed(&conn(), &issue(), &moved).await.unwrap();
    assert_eq!(page.records.len(), 2);
    assert!(page.next_page_token.unwrap().ends_with(&next));
    unchanged.assert_async().await;
}

#[tokio::test]
async fn create_makes_missing_labels_links_the_parent_and_keeps_the_marker() {
    let mut server = mockito::Server::new_async().await;
    server
        .mock("GET", "/repos/o/r/labels")
        .match_query(Matcher::Any)
        .with_body(r#"[{"name":"devflow-story","color":"4ECDC4"},{"name":"bug","color":"d73a4a"}]"#)
        .expect(1)
        .create_async()
        .await;
    let made = server
        .mock("POST", "/repos/o/r/labels")
        .match_body(Matcher::Regex("devflow-".into()))
        .with_status(201)
        .with_body("{}")
        .expect(6)
        .create_async()
        .await;
    let epic_colour = server
        .mock("POST", "/repos/o/r/labels")
        .match_body(Matcher::Json(
            json!({"name": "devflow-epic", "color": "FF6B6B"}),
        ))
        .with_status(201)
        .with_body("{}")
        .expect(0)
        .create_async()
        .await;
    // The parent's milestone (its PRD's) is inherited.
    let parent_read = server
        .mock("GET", "/repos/o/r/issues/12")
        .with_body(
            json!({"id": 777000, "number": 12, "title": "Cards", "state": "open",
              "milestone": {"number": 4, "title": "Checkout"}, "labels": [], "assignees": [],
              "updated_at": "2026-05-01T09:00:00Z"})
            .to_string(),
        )
        .expect(1)
        .create_async()
        .await;
    let create = server
        .mock("POST", "/repos/o/r/issues")
        .match_body(Matcher::PartialJson(json!({
            "title": "Pay by card",
            "labels": ["backend", "devflow-story", "devflow-synced"],
            "milestone": 4
        })))
        .match_body(Matcher::Regex("<!-- devflow-id: item-9 -->".into()))
        .with_status(201)
        .with_body(
            json!({"id": 777001, "number": 31, "title": "Pay by card",
              "body": "<!-- devflow-id: item-9 -->\n<!-- devflow-type: story -->\n<!-- devflow-parent: o/r#12 -->\n\nOne tap.",
              "state": "open", "labels": [{"name": "backend"}, {"name": "devflow-story"}, {"name": "devflow-synced"}],
              "assignees": [], "html_url": "https://github.com/o/r/issues/31", "updated_at": "2026-05-01T10:00:00Z"})
            .to_string(),
        )
        .expect(1)
        .create_async()
        .await;
    let sub = server
        .mock("POST", "/repos/o/r/issues/12/sub_issues")
        .match_body(Matcher::Json(
            json!({"sub_issue_id": 777001, "replace_parent": true}),
        ))
        .with_status(201)
        .with_body("{}")
        .expect(1)
        .create_async()
        .await;
    let p = provider(&server, &["o/r"]);
    let new = NewRemote {
        kind: Some(ItemKind::Story),
        parent: Some(ExternalId::new("o/r#12")),
        fields: Fields::new()
            .with("title", "Pay by card")
            .with("body", FieldValue::long_text("One tap."))
            .with("labels", FieldValue::set(["backend"])),
        marker: ItemId::new("item-9"),
        related: Vec::new(),
    };
    let record = p.create(&conn(), &issue(), &new).await.unwrap();
    assert_eq!(record.id.as_str(), "o/r#31");
    assert_eq!(record.marker.as_ref().unwrap().as_str(), "item-9");
    assert_eq!(record.record.kind, Some(ItemKind::Story));
    assert_eq!(record.record.fields.get("body").as_str(), Some("One tap."));
    create.assert_async().await;
    parent_read.assert_async().await;
    sub.assert_async().await;
    made.assert_async().await;
    let _ = epic_colour;
    // Labels are checked once per repository.
    server
        .mock("POST", "/repos/o/r/issues")
        .with_status(201)
        .with_body(json!({"id": 2, "number": 32, "title": "x", "state": "open", "labels": [], "assignees": [], "updated_at": "2026-05-01T10:00:01Z"}).to_string())
        .create_async()
        .await;
    let plain = NewRemote {
        kind: None,
        parent: None,
        fields: Fields::new().with("title", "x"),
        marker: ItemId::new("item-10"),
        related: Vec::new(),
    };
    p.create(&conn(), &issue(), &plain).await.unwrap();
}

#[tokio::test]
async fn update_keeps_the_body_metadata_and_get_refuses_pull_requests() {
    let mut server = mockito::Server::new_async().await;
    let current = json!({"id": 5, "number": 7, "title": "Old", "state": "open",
        "body": "<!-- devflow-id: item-1 -->\n<!-- devflow-type: task -->\n\nText",
        "labels": [{"name": "devflow-task"}], "assignees": [], "updated_at": "2026-05-01T10:00:00Z"});
    server
        .mock("GET", "/repos/o/r/issues/7")
        .with_body(current.to_string())
        .create_async()
        .await;
    let patch = server
        .mock("PATCH", "/repos/o/r/issues/7")
        .match_body(Matcher::PartialJson(json!({"title": "New", "state": "closed"})))
        .with_body(
            json!({"id": 5, "number": 7, "title": "New", "state": "closed", "state_reason": "completed",
              "body": current["body"], "labels": [{"name": "devflow-task"}], "assignees": [], "updated_at": "2026-05-01T11:00:00Z"})
            .to_string(),
        )
        .expect(1)
        .create_async()
        .await;
    let p = provider(&server, &["o/r"]);
    let update = RemoteUpdate {
        changes: vec![
            FieldChange::new("title", "Old", "New"),
            FieldChange::new(
                "state",
                FieldValue::enumeration("open"),
                FieldValue::enumeration("closed"),
            ),
        ],
        parent: None,
        related: None,
    };
    let record = p
        .update(&conn(), &issue(), &ExternalId::new("o/r#7"), &update, None)
        .await
        .unwrap();
    assert_eq!(
        record.record.fields.get("state_reason").as_str(),
        Some("completed")
    );
    assert_eq!(record.marker.unwrap().as_str(), "item-1");
    patch.assert_async().await;

    // A reparent writes the new parent into the body and links it.
    server
        .mock("GET", "/repos/o/r/issues/3")
        .with_body(json!({"id": 3, "number": 3, "title": "P", "state": "open", "milestone": null, "labels": [], "assignees": [], "updated_at": "2026-05-01T09:00:00Z"}).to_string())
        .create_async()
        .await;
    server
        .mock("PATCH", "/repos/o/r/issues/7")
        .match_body(Matcher::Regex("devflow-parent: o/r#3".into()))
        .with_body(json!({"id": 5, "number": 7, "title": "New", "state": "open", "body": "<!-- devflow-parent: o/r#3 -->\n\nText", "labels": [], "assignees": [], "updated_at": "2026-05-01T12:00:00Z"}).to_string())
        .expect(1)
        .create_async()
        .await;
    let link = server
        .mock("POST", "/repos/o/r/issues/3/sub_issues")
        .with_status(201)
        .with_body("{}")
        .expect(1)
        .create_async()
        .await;
    let reparent = RemoteUpdate {
        changes: vec![],
        parent: Some(Some(ExternalId::new("o/r#3"))),
        related: None,
    };
    p.update(
        &conn(),
        &issue(),
        &ExternalId::new("o/r#7"),
        &reparent,
        None,
    )
    .await
    .unwrap();
    link.assert_async().await;

    server
        .mock("GET", "/repos/o/r/issues/9")
        .with_body(
            json!({"number": 9, "pull_request": {}, "updated_at": "2026-05-01T10:00:00Z"})
                .to_string(),
        )
        .create_async()
        .await;
    let err = p
        .get(&conn(), &issue(), &ExternalId::new("o/r#9"))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::NotFound(_)), "{err:?}");
    server
        .mock("GET", "/repos/o/r/issues/404")
        .with_status(404)
        .with_body(r#"{"message":"Not Found"}"#)
        .create_async()
        .await;
    assert!(matches!(
        p.get(&conn(), &issue(), &ExternalId::new("o/r#404")).await,
        Err(Error::NotFound(_))
    ));
}

#[tokio::test]
async fn a_retried_create_is_found_by_its_marker() {
    let mut server = mockito::Server::new_async().await;
    server
        .mock("GET", "/search/issues")
        .match_query(Matcher::Regex("devflow-id".into()))
        .with_body(
            json!({"total_count": 2, "items": [
                {"number": 1, "title": "other", "state": "open", "body": "<!-- devflow-id: item-90 -->", "labels": [], "assignees": [], "updated_at": "2026-05-01T10:00:00Z"},
                {"number": 2, "title": "mine", "state": "open", "body": "<!-- devflow-id: item-9 -->", "labels": [], "assignees": [], "updated_at": "2026-05-01T10:00:00Z"}
            ]})
            .to_string(),
        )
        .create_async()
        .await;
    let p = provider(&server, &["o/r"]);
    let found = p
        .find_by_marker(&conn(), &issue(), &ItemId::new("item-9"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.id.as_str(), "o/r#2", "only an exact marker counts");
}

#[test]
fn plain_http_is_for_loopback_only() {
    let config = |url: &str| {
        GitHubConfig::new(
            url,
            vec!["o/r".into()],
            TokenSource::Static(AccessToken::new("t")),
        )
    };
    let http = HttpClient::builder().build().unwrap();
    assert!(GitHubProvider::new(config("http://example.com"), http.clone()).is_err());
    assert!(GitHubProvider::new(config("https://ghe.example.com/api/v3"), http.clone()).is_ok());
    assert!(GitHubProvider::new(config("http://127.0.0.1:9"), http.clone()).is_ok());
    let mut bad = config("https://api.github.com");
    bad.repositories = vec!["no-slash".into()];
    assert!(GitHubProvider::new(bad, http).is_err());
}

#[test]
fn capabilities_are_the_catalogs() {
    let catalog = devflow_provider_github::catalog().unwrap();
    let p = GitHubProvider::new(
        GitHubConfig::new(
            "https://api.github.com",
            vec!["a/b".into()],
            TokenSource::Static(AccessToken::new("t")),
        ),
        HttpClient::builder().build().unwrap(),
    )
    .unwrap();
    for object in &catalog.objects {
        assert_eq!(
            p.capabilities(&object.key),
            object.capabilities(),
            "{}",
            object.key
        );
    }
    let issue = p.capabilities(&issue());
    assert!(issue.list && issue.delta && issue.create && issue.update && issue.webhook);
    assert!(issue.markers && issue.hierarchy && !issue.delete && !issue.conditional_update);
    assert_eq!(
        p.capabilities(&ObjectType::new("pull_request")),
        devflow_sync_core::provider::Capabilities::default()
    );
}

#[tokio::test]
async fn the_builder_takes_string_settings_and_applies_the_catalogs_limits() {
    use std::collections::HashMap;
    let settings = HashMap::from([
        ("DEVFLOW_SYNC_GITHUB_BASE_URL", "http://127.0.0.1:9"),
        ("DEVFLOW_SYNC_GITHUB_REPOSITORIES", "acme/app, acme/web"),
        ("DEVFLOW_SYNC_GITHUB_TOKEN", "ghp_builder_secret_value"),
        ("DEVFLOW_SYNC_GITHUB_PRD_MILESTONES", "false"),
    ]);
    let builder = devflow_provider_github::GitHubBuilder::from_lookup(|k| {
        settings.get(k).map(|v| (*v).to_owned())
    })
    .unwrap();
    assert!(!format!("{builder:?}").contains("ghp_builder_secret_value"));
    builder.build().unwrap();
    let err = devflow_provider_github::GitHubBuilder::new()
        .set("prd_milestones", "ghp_builder_secret_value")
        .unwrap_err();
    assert!(matches!(err, Error::InvalidConfig { .. }));
    let err = devflow_provider_github::GitHubBuilder::new()
        .set("token", "t")
        .unwrap()
        .set("base_url", "http://localhost.attacker.test")
        .unwrap()
        .set("repositories", "a/b")
        .unwrap()
        .build()
        .unwrap_err();
    assert!(err.to_string().contains("github.base_url"), "{err}");
    // The catalog's limits, overridable by name.
    let catalog = devflow_provider_github::catalog().unwrap();
    assert_eq!(catalog.rate_limits.requests_per_minute, 80);
    devflow_provider_github::catalog_http(|k| {
        (k == "DEVFLOW_SYNC_GITHUB_BURST").then(|| "7".to_owned())
    })
    .unwrap();
    assert!(devflow_provider_github::catalog_http(|_| Some("lots".into())).is_err());
}

#[test]
fn the_catalog_carries_the_content_creation_limit() {
    let limits = devflow_provider_github::catalog()
        .unwrap()
        .rate_limits
        .to_http();
    assert_eq!(
        (limits.writes_per_minute, limits.writes_per_hour),
        (Some(80), Some(500))
    );
}
