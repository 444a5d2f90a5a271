//! GitHub's filters, its default mapping both ways, parents removed on either side and
//! renamed PRDs, end to end against the in-process simulator.

use std::sync::Arc;

use devflow_provider_github::{GitHubConfig, GitHubProvider, TokenSource};
use devflow_sync_core::Error;
use devflow_sync_core::auth::{AccessToken, WebhookSecret};
use devflow_sync_core::engine::SyncEngine;
use devflow_sync_core::http::HttpClient;
use devflow_sync_core::model::{ConnectionId, ItemKind, ObjectType, ProviderKey, Record};
use devflow_sync_core::store::memory::MemoryWorkItems;
use devflow_sync_core::store::{MappingStore, WorkItemStore};
use devflow_sync_testkit::github_sim::{GitHubSimulator, WEBHOOK_SECRET};
use serde_json::{Value, json};
use support::{item, setup};

mod support;

use support::REPO;

#[tokio::test]
async fn label_assignee_and_milestone_filters_are_answered_by_github() {
    let s = setup().await;
    let release = s.sim.create_milestone(REPO, "Release 2").unwrap();
    s.sim.open_issue(REPO, &json!({"title": "plain"}));
    let wanted = s.sim.open_issue(
        REPO,
        &json!({"title": "wanted", "labels": ["backend"], "assignees": ["mona"], "milestone": release}),
    );
    s.sim.open_issue(
        REPO,
        &json!({"title": "other person", "labels": ["backend"], "assignees": ["hubot"], "milestone": release}),
    );
    s.sim.open_issue(
        REPO,
        &json!({"title": "no milestone", "labels": ["backend"], "assignees": ["mona"]}),
    );
    let provider = GitHubProvider::new(
        GitHubConfig::new(
            s.sim.url(),
            vec![REPO.into()],
            TokenSource::Static(AccessToken::new("ghp_filter")),
        ),
        HttpClient::builder().build().unwrap(),
    )
    .unwrap();
    s.sim.accept_token("ghp_filter");
    let query = devflow_sync_core::provider::ChangeQuery {
        since: None,
        page_token: None,
        limit: 100,
        filter: devflow_sync_core::provider::RecordFilter {
            labels: vec!["backend".into()],
            assignees: vec!["mona".into()],
            milestones: vec![release.to_string()],
            ..Default::default()
        },
    };
    let before = s.sim.requests();
    let page =
        devflow_sync_core::provider::Provider::list_changed(&provider, &s.conn, &s.object, &query)
            .await
            .unwrap();
    assert_eq!(
        s.sim.requests() - before,
        2,
        "the change probe and one page, filtered by GitHub"
    );
    let numbers: Vec<&str> = page.records.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(numbers, [format!("{REPO}#{wanted}")]);
    assert_eq!(
        page.records[0].record.fields.get("milestone"),
        &devflow_sync_core::model::FieldValue::int(i64::try_from(release).unwrap())
    );
    // A milestone that does not exist is GitHub's validation error, not a panic.
    let err = devflow_sync_core::provider::Provider::create(
        &provider,
        &s.conn,
        &s.object,
        &devflow_sync_core::provider::NewRemote {
            kind: None,
            parent: None,
            fields: devflow_sync_core::model::Fields::new()
                .with("title", "x")
                .with("milestone", devflow_sync_core::model::FieldValue::int(99)),
            marker: devflow_sync_core::model::ItemId::new("item-x"),
            related: Vec::new(),
        },
    )
    .await
    .unwrap_err();
    assert!(matches!(err, Error::InvalidInput { .. }), "{err:?}");
}

#[tokio::test]
async fn the_default_mapping_carries_status_priority_tags_and_assignees_both_ways() {
    use devflow_sync_core::engine::BindingOptions;
    use devflow_sync_core::model::{FieldChange, FieldValue};
    let sim = GitHubSimulator::start().await.unwrap();
    sim.add_repo(REPO);
    sim.accept_token("ghp_map");
    let mut config = GitHubConfig::new(
        sim.url(),
        vec![REPO.into()],
        TokenSource::Static(AccessToken::new("ghp_map")),
    );
    config.webhook_secrets = vec![WebhookSecret::new(WEBHOOK_SECRET)];
    let provider =
        Arc::new(GitHubProvider::new(config, HttpClient::builder().build().unwrap()).unwrap());
    let items = Arc::new(MemoryWorkItems::new());
    let options = BindingOptions {
        mapping: Some(devflow_provider_github::mapping::default_mapping().unwrap()),
        ..Default::default()
    };
    let engine = SyncEngine::builder()
        .provider(provider)
        .bind_with("gh", "github", "issue", options)
        .work_items(items.clone())
        .build()
        .unwrap();
    let (conn, object) = (ConnectionId::new("gh"), ObjectType::new("issue"));
    let record = Record::new("work_item", chrono::Utc::now())
        .with_kind(ItemKind::Prd)
        .with_field("title", "Checkout")
        .with_field("description", FieldValue::long_text("Pay faster."))
        .with_field("status", FieldValue::enumeration("in_progress"))
        .with_field("priority", FieldValue::enumeration("high"))
        .with_field("tags", FieldValue::set(["frontend"]))
        .with_field("assignees", FieldValue::set(["mona"]));
    let prd = items.create(None, record).await.unwrap().id;
    engine.push(&conn, &object, &prd).await.unwrap();
    let label_names = |issue: &serde_json::Value| -> Vec<String> {
        let mut names: Vec<String> = issue["labels"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|l| l["name"].as_str().map(str::to_owned))
            .collect();
        names.sort();
        names
    };
    let gh = sim.issue(REPO, 1).unwrap();
    assert_eq!(
        label_names(&gh),
        [
            "devflow-prd",
            "devflow-synced",
            "frontend",
            "priority:high",
            "status:in-progress"
        ]
    );
    assert_eq!(gh["assignees"][0]["login"], "mona");
    assert_eq!(gh["state"], "open");
    assert!(gh["body"].as_str().unwrap().ends_with("Pay faster."));

    // Closed in GitHub: the host's status becomes done, by webhook.
    sim.take_webhooks();
    sim.edit_issue(REPO, 1, &json!({"state": "closed"}));
    for (headers, body) in sim.take_webhooks() {
        engine
            .accept_webhook(&ProviderKey::new("github"), &conn, &headers, &body)
            .await
            .unwrap();
    }
    engine.process_inbox(10).await.unwrap();
    let host = items.get(&prd).await.unwrap().unwrap();
    assert_eq!(host.record.fields.get("status").as_str(), Some("done"));
    assert_eq!(host.record.fields.get("priority").as_str(), Some("high"));
    assert_eq!(
        host.record.fields.get("tags"),
        &FieldValue::set(["frontend"])
    );

    // The host reopens it at a lower priority: the state and the priority label change,
    // the tags stay.
    let update = devflow_sync_core::store::ItemUpdate {
        changes: vec![
            FieldChange::new(
                "status",
                FieldValue::enumeration("done"),
                FieldValue::enumeration("in_review"),
            ),
            FieldChange::new(
                "priority",
                FieldValue::enumeration("high"),
                FieldValue::enumeration("low"),
            ),
        ],
        ..Default::default()
    };
    items.update(&prd, &update, None).await.unwrap();
    let report = engine.push(&conn, &object, &prd).await.unwrap();
    assert_eq!(report.updated, 1, "{report:?}");
    let gh = sim.issue(REPO, 1).unwrap();
    assert_eq!(gh["state"], "open");
    assert_eq!(
        label_names(&gh),
        [
            "devflow-prd",
            "devflow-synced",
            "frontend",
            "priority:low",
            "status:in-review"
        ]
    );
}

#[tokio::test]
async fn a_parent_removed_on_either_side_is_removed_on_the_other() {
    let s = setup().await;
    let prd = item(&s, ItemKind::Prd, None, "Checkout").await;
    let epic = item(&s, ItemKind::Epic, Some(&prd), "Saved cards").await;
    s.engine.push_tree(&s.conn, &s.object, &prd).await.unwrap();
    let (prd_number, epic_number) = (1, 2);
    let prd_url = json!(format!("{}/repos/{REPO}/issues/{prd_number}", s.sim.url()));
    assert_eq!(
        s.sim.issue(REPO, epic_number).unwrap()["parent_issue_url"],
        prd_url
    );
    let reparent =
        |parent: Option<&devflow_sync_core::model::ItemId>| devflow_sync_core::store::ItemUpdate {
            parent: Some(parent.cloned()),
            ..Default::default()
        };

    // The host takes the epic out from under the PRD: GitHub's sub-issue link goes too.
    s.items.update(&epic, &reparent(None), None).await.unwrap();
    let report = s.engine.push(&s.conn, &s.object, &epic).await.unwrap();
    assert_eq!(report.errors, 0, "{report:?}");
    let gh = s.sim.issue(REPO, epic_number).unwrap();
    assert_eq!(gh["parent_issue_url"], Value::Null);
    assert!(!gh["body"].as_str().unwrap_or("").contains("devflow-parent"));
    let link = s
        .mappings
        .link_by_item(&s.conn, &s.object, &epic)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(link.base.parent, None, "the agreed parent is none");

    // And back under it.
    s.items
        .update(&epic, &reparent(Some(&prd)), None)
        .await
        .unwrap();
    s.engine.push(&s.conn, &s.object, &epic).await.unwrap();
    assert_eq!(
        s.sim.issue(REPO, epic_number).unwrap()["parent_issue_url"],
        prd_url
    );

    // A person removes it in GitHub: the sub_issues delivery brings that to the host.
    s.sim.take_webhooks();
    assert!(s.sim.remove_parent(REPO, epic_number));
    let deliveries = s.sim.take_webhooks();
    assert_eq!(deliveries.len(), 1);
    assert_eq!(deliveries[0].0.get("x-github-event"), Some("sub_issues"));
    for (headers, body) in deliveries {
        s.engine
            .accept_webhook(&ProviderKey::new("github"), &s.conn, &headers, &body)
            .await
            .unwrap();
    }
    let report = s.engine.process_inbox(10).await.unwrap();
    assert_eq!(report.updated, 1, "{report:?}");
    let host = s.items.get(&epic).await.unwrap().unwrap();
    assert_eq!(host.record.parent, None);
    // Nothing left to say either way.
    let again = s.engine.push(&s.conn, &s.object, &epic).await.unwrap();
    assert_eq!(again.updated, 0, "{again:?}");
    assert_eq!(
        s.sim.issue(REPO, epic_number).unwrap()["parent_issue_url"],
        Value::Null
    );
}

#[tokio::test]
async fn a_renamed_prd_renames_its_milestone() {
    let s = setup().await;
    let prd = item(&s, ItemKind::Prd, None, "Checkout").await;
    item(&s, ItemKind::Epic, Some(&prd), "Saved cards").await;
    s.engine.push_tree(&s.conn, &s.object, &prd).await.unwrap();
    let rename = |from: &str, to: &str| devflow_sync_core::store::ItemUpdate {
        changes: vec![devflow_sync_core::model::FieldChange::new(
            "title", from, to,
        )],
        ..Default::default()
    };

    s.items
        .update(&prd, &rename("Checkout", "Checkout v2"), None)
        .await
        .unwrap();
    let report = s.engine.push(&s.conn, &s.object, &prd).await.unwrap();
    assert_eq!((report.updated, report.errors), (1, 0), "{report:?}");
    let milestones = s.sim.milestones(REPO);
    assert_eq!(milestones.len(), 1, "{milestones:?}");
    assert_eq!(milestones[0]["title"], "Checkout v2");
    for number in [1, 2] {
        let issue = s.sim.issue(REPO, number).unwrap();
        assert_eq!(issue["milestone"]["title"], "Checkout v2", "#{number}");
    }

    // A title another milestone holds already: the PRD is renamed, its milestone stays.
    s.sim.create_milestone(REPO, "Payments");
    s.items
        .update(&prd, &rename("Checkout v2", "Payments"), None)
        .await
        .unwrap();
    let report = s.engine.push(&s.conn, &s.object, &prd).await.unwrap();
    assert_eq!((report.updated, report.errors), (1, 0), "{report:?}");
    assert_eq!(s.sim.issue(REPO, 1).unwrap()["title"], "Payments");
    assert_eq!(
        s.sim.issue(REPO, 1).unwrap()["milestone"]["title"],
        "Checkout v2"
    );

    // A milestone someone else named is not the PRD's to rename.
    s.items
        .update(&prd, &rename("Payments", "Checkout v3"), None)
        .await
        .unwrap();
    s.engine.push(&s.conn, &s.object, &prd).await.unwrap();
    let titles: Vec<Value> = s
        .sim
        .milestones(REPO)
        .iter()
        .map(|m| m["title"].clone())
        .collect();
    assert_eq!(titles, [json!("Checkout v2"), json!("Payments")]);
}
