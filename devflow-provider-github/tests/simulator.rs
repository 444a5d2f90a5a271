//! The GitHub provider and the engine end to end against the in-process simulator.

use devflow_provider_github::{GitHubConfig, GitHubProvider, TokenSource};
use devflow_sync_core::Error;
use devflow_sync_core::auth::{AccessToken, WebhookSecret};
use devflow_sync_core::engine::PullBudget;
use devflow_sync_core::http::HttpClient;
use devflow_sync_core::model::{ConnectionId, ItemKind, ObjectType, ProviderKey};
use devflow_sync_core::store::{ConflictStatus, MappingStore, WorkItemStore};
use devflow_sync_core::store::{ConflictStore, RunLog};
use devflow_sync_testkit::github_sim::{GitHubSimulator, WEBHOOK_SECRET};
use serde_json::json;
use support::{item, setup};

mod support;

use support::REPO;

#[tokio::test]
async fn a_tree_goes_out_edits_come_back_by_webhook_and_orphans_are_refused() {
    let s = setup().await;
    let prd = item(&s, ItemKind::Prd, None, "Checkout").await;
    let epic = item(&s, ItemKind::Epic, Some(&prd), "Saved cards").await;
    let story = item(&s, ItemKind::Story, Some(&epic), "Pay with a saved card").await;
    let task = item(&s, ItemKind::Task, Some(&story), "Card vault API").await;
    item(&s, ItemKind::Subtask, Some(&task), "Contract tests").await;
    let report = s.engine.push_tree(&s.conn, &s.object, &prd).await.unwrap();
    assert_eq!(report.created, 5, "{report:?}");
    let issues = s.sim.issues(REPO);
    assert_eq!(issues.len(), 5);
    let labels = s.sim.labels(REPO);
    assert_eq!(
        labels.get("devflow-epic").map(String::as_str),
        Some("FF6B6B")
    );
    assert_eq!(
        labels.get("devflow-prd").map(String::as_str),
        Some("7B68EE")
    );
    // The story's issue: its level label, its metadata, and its parent linked as a sub-issue.
    let story_ext = s
        .mappings
        .link_by_item(&s.conn, &s.object, &story)
        .await
        .unwrap()
        .unwrap()
        .remote
        .id;
    let number: u64 = story_ext
        .as_str()
        .rsplit('#')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let gh = s.sim.issue(REPO, number).unwrap();
    assert!(
        gh["labels"]
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l["name"] == "devflow-story")
    );
    assert!(
        gh["body"]
            .as_str()
            .unwrap()
            .contains(&format!("devflow-id: {story}"))
    );
    assert_eq!(
        gh["parent_issue_url"],
        json!(format!("{}/repos/{REPO}/issues/2", s.sim.url()))
    );
    // The PRD got a milestone of its title, and every issue under it carries it.
    let milestones = s.sim.milestones(REPO);
    assert_eq!(milestones.len(), 1, "{milestones:?}");
    assert_eq!(milestones[0]["title"], "Checkout");
    for issue in &issues {
        assert_eq!(
            issue["milestone"]["number"], milestones[0]["number"],
            "{}",
            issue["title"]
        );
    }
    // The host items took the milestone in, so it is not pushed away again.
    let host_story = s.items.get(&story).await.unwrap().unwrap();
    assert_eq!(
        host_story.record.fields.get("milestone"),
        &devflow_sync_core::model::FieldValue::int(1)
    );

    // A person renames the story in GitHub; the signed webhook brings it to the host.
    s.sim.take_webhooks();
    s.sim
        .edit_issue(REPO, number, &json!({"title": "Pay with a stored card"}));
    for (headers, body) in s.sim.take_webhooks() {
        let accepted = s
            .engine
            .accept_webhook(&ProviderKey::new("github"), &s.conn, &headers, &body)
            .await
            .unwrap();
        assert!(!accepted.duplicate);
    }
    let report = s.engine.process_inbox(10).await.unwrap();
    assert_eq!(report.updated, 1, "{report:?}");
    let host = s.items.get(&story).await.unwrap().unwrap();
    assert_eq!(
        host.record.fields.get("title").as_str(),
        Some("Pay with a stored card")
    );

    // An orphan story opened in GitHub is a conflict, not an import.
    s.sim.open_issue(
        REPO,
        &json!({"title": "Orphan", "labels": ["devflow-story"]}),
    );
    let report = s
        .engine
        .pull(&s.conn, &s.object, PullBudget::UNLIMITED)
        .await
        .unwrap();
    assert_eq!(report.conflicts, 1, "{report:?}");
    let c = s
        .journal
        .conflicts(&s.conn, Some(ConflictStatus::Pending))
        .await
        .unwrap()
        .remove(0);
    assert_eq!(
        (c.message.as_str(), c.suggested_action.as_str()),
        ("Story requires a parent", "Link to an epic")
    );

    // An immediate second poll is answered 304 and changes nothing.
    let before = s.sim.requests();
    let again = s
        .engine
        .pull(&s.conn, &s.object, PullBudget::UNLIMITED)
        .await
        .unwrap();
    assert_eq!(again.created + again.updated, 0);
    assert!(
        s.sim.requests() - before == 1,
        "{} requests",
        s.sim.requests() - before
    );
}

#[tokio::test]
async fn a_spent_rate_limit_is_a_rate_limit_error() {
    let s = setup().await;
    s.sim.set_rate_limit(0);
    let err = s
        .engine
        .pull(&s.conn, &s.object, PullBudget::UNLIMITED)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::RateLimited { .. }), "{err:?}");
}

#[tokio::test]
async fn the_provider_conformance_suite_passes_against_the_simulator() {
    let sim = GitHubSimulator::start().await.unwrap();
    sim.add_repo(REPO);
    sim.accept_token("ghp_conformance");
    sim.seed_issues(REPO, 7);
    let mut config = GitHubConfig::new(
        sim.url(),
        vec![REPO.into()],
        TokenSource::Static(AccessToken::new("ghp_conformance")),
    );
    config.webhook_secrets = vec![WebhookSecret::new(WEBHOOK_SECRET)];
    let provider = GitHubProvider::new(config, HttpClient::builder().build().unwrap()).unwrap();
    let setup = devflow_sync_testkit::conformance::ProviderSetup {
        connection: ConnectionId::new("gh"),
        object: ObjectType::new("issue"),
        fields: devflow_sync_core::model::Fields::new()
            .with("title", "Conformance")
            .with(
                "labels",
                devflow_sync_core::model::FieldValue::set(["a", "b"]),
            ),
        edit: (
            "title".into(),
            devflow_sync_core::model::FieldValue::text("Edited"),
        ),
        // The simulator stamps changes with the system clock at one-second precision.
        tick: Box::new(|| std::thread::sleep(std::time::Duration::from_millis(1100))),
    };
    devflow_sync_testkit::conformance::provider(&provider, &setup).await;
}

#[tokio::test]
async fn an_edit_in_the_host_is_pushed_to_github() {
    let s = setup().await;
    let epic = item(&s, ItemKind::Epic, None, "Payments").await;
    s.engine.push(&s.conn, &s.object, &epic).await.unwrap();
    let current = s.items.get(&epic).await.unwrap().unwrap();
    let update = devflow_sync_core::store::ItemUpdate {
        changes: vec![
            devflow_sync_core::model::FieldChange::new(
                "title",
                current.record.fields.get("title").clone(),
                "Payments v2",
            ),
            devflow_sync_core::model::FieldChange::new(
                "labels",
                devflow_sync_core::model::FieldValue::Null,
                devflow_sync_core::model::FieldValue::set(["backend"]),
            ),
        ],
        ..Default::default()
    };
    s.items.update(&epic, &update, None).await.unwrap();
    let report = s.engine.push(&s.conn, &s.object, &epic).await.unwrap();
    assert_eq!(report.updated, 1, "{report:?}");
    let gh = s.sim.issue(REPO, 1).unwrap();
    assert_eq!(gh["title"], "Payments v2");
    let labels: Vec<&str> = gh["labels"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|l| l["name"].as_str())
        .collect();
    assert!(
        labels.contains(&"backend") && labels.contains(&"devflow-epic"),
        "{labels:?}"
    );
    assert!(
        gh["body"]
            .as_str()
            .unwrap()
            .contains(&format!("devflow-id: {epic}")),
        "the metadata stays"
    );
    // The echo of that write changes nothing.
    for (headers, body) in s.sim.take_webhooks() {
        s.engine
            .accept_webhook(&ProviderKey::new("github"), &s.conn, &headers, &body)
            .await
            .unwrap();
    }
    let echo = s.engine.process_inbox(10).await.unwrap();
    let logs = s.journal.logs_of_run(&echo.run_id).await.unwrap();
    assert_eq!(echo.updated, 0, "{echo:?}\n{logs:#?}");
}

#[tokio::test]
async fn the_repositories_a_token_reaches_are_listed() {
    let s = setup().await;
    s.sim.add_repo("octo-org/second");
    let provider = GitHubProvider::new(
        GitHubConfig::new(
            s.sim.url(),
            vec![REPO.into()],
            TokenSource::Static(AccessToken::new("ghp_list")),
        ),
        HttpClient::builder().build().unwrap(),
    )
    .unwrap();
    s.sim.accept_token("ghp_list");
    let repos = provider.list_repositories(&s.conn).await.unwrap();
    let names: Vec<&str> = repos.iter().map(|r| r.full_name.as_str()).collect();
    assert_eq!(names, ["octo-org/app", "octo-org/second"]);
    assert!(repos[0].private);
}
