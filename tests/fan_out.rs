//! One item in every system: connections added at run time (the GitHub, Jira and
//! Confluence simulators through their providers), a tree fanned out to each by
//! the levels it carries, per-platform results, a forced re-read, a restart that
//! resumes the connections from the store, and a removed connection.

use std::sync::Arc;

use devflow_provider_confluence::{ConfluenceAuth, ConfluenceConfig, ConfluenceProvider};
use devflow_provider_github::{GitHubConfig, GitHubProvider, TokenSource};
use devflow_provider_jira::{JiraAuth, JiraConfig, JiraProvider};
use devflow_store_sqlite::SqliteStore;
use devflow_sync::auth::AccessToken;
use devflow_sync::engine::{PlatformStatus, ProviderFactory, SyncEngine};
use devflow_sync::http::HttpClient;
use devflow_sync::model::{ConnectionId, ItemId, ItemKind, ObjectType, Record};
use devflow_sync::provider::Provider;
use devflow_sync::store::{BindingRecord, ConnectionRecord};
use devflow_sync::{Error, Result};
use devflow_sync_testkit::confluence_sim::ConfluenceSimulator;
use devflow_sync_testkit::github_sim::GitHubSimulator;
use devflow_sync_testkit::jira_sim::JiraSimulator;
use serde_json::{Value, json};

const REPO: &str = "acme/app";

/// Builds providers from the stored settings, as a host does after a restart.
struct Factory;

impl ProviderFactory for Factory {
    fn build(&self, record: &ConnectionRecord) -> Result<Arc<dyn Provider>> {
        let s = &record.settings;
        let text = |k: &str| s[k].as_str().unwrap_or_default().to_owned();
        let http = HttpClient::builder().build()?;
        match record.provider.as_str() {
            "github" => Ok(Arc::new(GitHubProvider::new(
                GitHubConfig::new(
                    text("baseUrl"),
                    vec![text("repository")],
                    TokenSource::Static(AccessToken::new("ghp_fan")),
                ),
                http,
            )?)),
            "jira" => Ok(Arc::new(JiraProvider::new(
                JiraConfig::new(
                    text("baseUrl"),
                    text("project"),
                    JiraAuth::api_token("fan@acme.test", AccessToken::new("fan")),
                ),
                http,
            )?)),
            "confluence" => {
                let mut config = ConfluenceConfig::new(
                    text("baseUrl"),
                    text("space"),
                    ConfluenceAuth::api_token("fan@acme.test", AccessToken::new("fan")),
                );
                config.webhook_secrets = vec![devflow_sync::auth::WebhookSecret::new(
                    devflow_sync_testkit::confluence_sim::WEBHOOK_SECRET,
                )];
                Ok(Arc::new(ConfluenceProvider::new(config, http)?))
            }
            other => Err(Error::InvalidConfig {
                pointer: "provider".into(),
                message: format!("no {other}"),
            }),
        }
    }
}

/// The three simulators, with what the connections need.
async fn simulators() -> (GitHubSimulator, JiraSimulator, ConfluenceSimulator) {
    let github = GitHubSimulator::start().await.unwrap();
    github.add_repo(REPO);
    github.accept_token("ghp_fan");
    let jira = JiraSimulator::start().await.unwrap();
    jira.add_project("KAN", "DevFlow", false);
    jira.add_api_token("fan@acme.test", "fan", false, None);
    let wiki = ConfluenceSimulator::start().await.unwrap();
    wiki.add_space("DEV", "DevFlow - Acme");
    wiki.add_api_token("fan@acme.test", "fan");
    (github, jira, wiki)
}

/// The pages of the wiki's space DevFlow made (the homepage is people's), by title.
fn wiki_titles(wiki: &ConfluenceSimulator) -> Vec<String> {
    wiki.pages_in("DEV")
        .iter()
        .filter(|p| !p["parentId"].is_null())
        .filter_map(|p| p["title"].as_str().map(str::to_owned))
        .collect()
}

fn page() -> ObjectType {
    ObjectType::new("page")
}

fn records(
    github: &GitHubSimulator,
    jira: &JiraSimulator,
    wiki: &ConfluenceSimulator,
) -> Vec<ConnectionRecord> {
    vec![
        ConnectionRecord::new("gh", "github")
            .with_settings(json!({"baseUrl": github.url(), "repository": REPO}))
            .with_binding(BindingRecord::new("issue").carrying([
                ItemKind::Story,
                ItemKind::Task,
                ItemKind::Subtask,
            ])),
        ConnectionRecord::new("jira", "jira")
            .with_settings(json!({"baseUrl": jira.url(), "project": "KAN"}))
            .with_binding(
                BindingRecord::new("issue")
                    .with_mapping(devflow_provider_jira::mapping::default_mapping().unwrap()),
            ),
        ConnectionRecord::new("wiki", "confluence")
            .with_settings(json!({"baseUrl": wiki.url(), "space": "DEV"}))
            .with_binding(
                BindingRecord::new("page")
                    .with_mapping(devflow_provider_confluence::mapping::default_mapping().unwrap())
                    .carrying([ItemKind::Prd, ItemKind::Epic, ItemKind::Story]),
            ),
    ]
}

async fn engine(path: &std::path::Path) -> SyncEngine {
    let store = Arc::new(SqliteStore::open(path).await.unwrap());
    SyncEngine::builder().stores(store).build().unwrap()
}

async fn item(
    engine: &SyncEngine,
    id: &str,
    kind: ItemKind,
    parent: Option<&ItemId>,
    title: &str,
) -> ItemId {
    let mut record = Record::new("work_item", chrono::Utc::now())
        .with_kind(kind)
        .with_field("title", title);
    record.parent = parent.cloned();
    engine
        .work_items()
        .create(Some(ItemId::new(id)), record)
        .await
        .unwrap()
        .id
}

#[tokio::test]
async fn one_tree_in_every_system_through_connections_made_at_run_time() {
    let (github, jira, wiki) = simulators().await;
    let factory = Factory;
    let dir = std::env::temp_dir().join(format!("devflow-fan-out-{}.db", std::process::id()));
    let e = engine(&dir).await;
    assert!(e.bindings().is_empty(), "built without any binding");
    for record in records(&github, &jira, &wiki) {
        let provider = factory.build(&record).unwrap();
        e.add_connection(record, provider).await.unwrap();
    }
    assert_eq!(e.bindings().len(), 3);

    let prd = item(&e, "prd", ItemKind::Prd, None, "Checkout").await;
    let epic = item(&e, "epic", ItemKind::Epic, Some(&prd), "Saved cards").await;
    let story = item(
        &e,
        "story",
        ItemKind::Story,
        Some(&epic),
        "Pay with a saved card",
    )
    .await;
    let task = item(&e, "task", ItemKind::Task, Some(&story), "Card vault API").await;
    item(&e, "sub", ItemKind::Subtask, Some(&task), "Contract tests").await;

    let results = e.push_tree_everywhere(&prd, None).await.unwrap();
    assert_eq!(results.len(), 3);
    let by = |c: &str| results.iter().find(|r| r.connection.as_str() == c).unwrap();
    assert_eq!(
        by("gh").status,
        PlatformStatus::Skipped,
        "GitHub does not carry PRDs"
    );
    assert_eq!(
        (
            by("gh").report.created,
            by("jira").report.created,
            by("wiki").report.created
        ),
        (3, 5, 3)
    );
    assert_eq!(github.issues(REPO).len(), 3, "story, task, subtask");
    assert_eq!(jira.issues("KAN").len(), 5);
    let titles = wiki_titles(&wiki);
    assert_eq!(titles.len(), 3, "PRD, epic and story pages: {titles:?}");
    // In GitHub the story is a root (epics live elsewhere), the task its sub-issue.
    let gh_story = github
        .issues(REPO)
        .into_iter()
        .find(|i| i["title"] == "Pay with a saved card")
        .unwrap();
    assert_eq!(gh_story["parent_issue_url"], Value::Null);
    let gh_task = github
        .issues(REPO)
        .into_iter()
        .find(|i| i["title"] == "Card vault API")
        .unwrap();
    assert!(
        gh_task["parent_issue_url"]
            .as_str()
            .is_some_and(|u| u.ends_with(&format!("/issues/{}", gh_story["number"])))
    );

    // Each system's record names the item's records in the others.
    let wiki_story = e
        .mappings()
        .link_by_item(&ConnectionId::new("wiki"), &page(), &story)
        .await
        .unwrap()
        .unwrap();
    let property = wiki
        .property(wiki_story.remote.id.as_str(), "devflow")
        .unwrap();
    let refs: Vec<String> = property["links"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|l| l["connection"].as_str().map(str::to_owned))
        .collect();
    assert!(
        refs.contains(&"jira".to_owned()) && refs.contains(&"gh".to_owned()),
        "{refs:?}"
    );
    let jira_story = e
        .mappings()
        .link_by_item(
            &ConnectionId::new("jira"),
            &ObjectType::new("issue"),
            &story,
        )
        .await
        .unwrap()
        .unwrap();
    let property = jira
        .property(jira_story.remote.id.as_str(), "devflow")
        .unwrap();
    assert!(
        property["metadata"]["confluencePageId"].is_string(),
        "the Confluence page named in Jira: {property}"
    );
    assert!(
        property["metadata"]["githubIssueNumber"].is_number(),
        "{property}"
    );
    let gh_story_body = github
        .issues(REPO)
        .into_iter()
        .find(|i| i["title"] == "Pay with a saved card")
        .unwrap()["body"]
        .as_str()
        .unwrap_or("")
        .to_owned();
    assert!(
        gh_story_body.contains("Related links")
            && gh_story_body.contains(jira_story.remote.id.as_str()),
        "{gh_story_body}"
    );

    // One item, every system that carries it: one result per platform, with its link.
    let story_results = e.sync_item(&story, None, false).await.unwrap();
    assert_eq!(story_results.len(), 3);
    assert!(
        story_results
            .iter()
            .all(|r| r.status == PlatformStatus::Synced && r.external.is_some()),
        "{story_results:#?}"
    );
    assert!(
        story_results
            .iter()
            .find(|r| r.connection.as_str() == "jira")
            .unwrap()
            .external
            .as_ref()
            .is_some_and(|x| !x.id.as_str().is_empty())
    );
    let task_results = e.sync_item(&task, None, false).await.unwrap();
    assert_eq!(task_results.len(), 2, "the wiki does not carry tasks");
    let only = e
        .sync_item(&story, Some(&[ConnectionId::new("jira")]), false)
        .await
        .unwrap();
    assert_eq!(only.len(), 1);

    // "Sync now": an edit made in Jira (no webhook) is read back when forced.
    let link = e
        .mappings()
        .link_by_item(
            &ConnectionId::new("jira"),
            &ObjectType::new("issue"),
            &story,
        )
        .await
        .unwrap()
        .unwrap();
    jira.edit_issue(
        link.remote.id.as_str(),
        &json!({"summary": "Pay with a stored card"}),
    )
    .unwrap();
    let forced = e
        .sync_item(&story, Some(&[ConnectionId::new("jira")]), true)
        .await
        .unwrap();
    assert_eq!(forced[0].status, PlatformStatus::Synced, "{forced:?}");
    let host = e.work_items().get(&story).await.unwrap().unwrap();
    assert_eq!(
        host.record.fields.get("title").as_str(),
        Some("Pay with a stored card")
    );

    // A restart: the connections come back from the store, nothing is created twice.
    drop(e);
    let e = engine(&dir).await;
    assert!(e.bindings().is_empty());
    let (resumed, failed) = e.resume(&factory).await.unwrap();
    assert_eq!((resumed, failed.len()), (3, 0));
    let again = e.push_tree_everywhere(&prd, None).await.unwrap();
    assert_eq!(
        again.iter().map(|r| r.report.created).sum::<usize>(),
        0,
        "{again:#?}"
    );
    assert_eq!(github.issues(REPO).len(), 3);

    // Removing a connection stops its syncs and, with purge, forgets its links.
    e.remove_connection(&ConnectionId::new("wiki"), true)
        .await
        .unwrap();
    assert_eq!(e.bindings().len(), 2);
    assert_eq!(e.sync_item(&story, None, false).await.unwrap().len(), 2);
    assert!(
        e.mappings()
            .links(&ConnectionId::new("wiki"), &page())
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(e.connections().await.unwrap().len(), 2);
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", dir.display()));
    }
}

#[tokio::test]
async fn an_edit_in_one_system_reaches_the_others_once_and_nothing_loops() {
    let (github, jira, wiki) = simulators().await;
    let factory = Factory;
    let dir = std::env::temp_dir().join(format!("devflow-propagate-{}.db", std::process::id()));
    let e = engine(&dir).await;
    let mut secrets = records(&github, &jira, &wiki);
    for record in secrets.drain(..) {
        let provider: Arc<dyn Provider> = match record.provider.as_str() {
            "github" => {
                let mut config = GitHubConfig::new(
                    github.url(),
                    vec![REPO.into()],
                    TokenSource::Static(AccessToken::new("ghp_fan")),
                );
                config.webhook_secrets = vec![devflow_sync::auth::WebhookSecret::new(
                    devflow_sync_testkit::github_sim::WEBHOOK_SECRET,
                )];
                Arc::new(
                    GitHubProvider::new(config, HttpClient::builder().build().unwrap()).unwrap(),
                )
            }
            "jira" => {
                let mut config = JiraConfig::new(
                    jira.url(),
                    "KAN",
                    JiraAuth::api_token("fan@acme.test", AccessToken::new("fan")),
                );
                config.webhook_secrets = vec![devflow_sync::auth::WebhookSecret::new(
                    devflow_sync_testkit::jira_sim::WEBHOOK_SECRET,
                )];
                Arc::new(JiraProvider::new(config, HttpClient::builder().build().unwrap()).unwrap())
            }
            _ => factory.build(&record).unwrap(),
        };
        e.add_connection(record, provider).await.unwrap();
    }
    let epic = item(&e, "epic", ItemKind::Epic, None, "Saved cards").await;
    let story = item(
        &e,
        "story",
        ItemKind::Story,
        Some(&epic),
        "Pay with a saved card",
    )
    .await;
    e.push_tree_everywhere(&epic, None).await.unwrap();
    github.take_webhooks();
    jira.take_webhooks();
    wiki.take_webhooks();

    // A person renames the story in Jira: the webhook brings it to the host, and the
    // host carries it on to GitHub and the wiki.
    let jira_link = e
        .mappings()
        .link_by_item(
            &ConnectionId::new("jira"),
            &ObjectType::new("issue"),
            &story,
        )
        .await
        .unwrap()
        .unwrap();
    jira.edit_issue(
        jira_link.remote.id.as_str(),
        &json!({"summary": "Pay with a stored card"}),
    )
    .unwrap();
    for (headers, body) in jira.take_webhooks() {
        e.accept_webhook(&"jira".into(), &ConnectionId::new("jira"), &headers, &body)
            .await
            .unwrap();
    }
    let report = e.process_inbox(10).await.unwrap();
    assert_eq!(report.updated, 1, "{report:?}");
    let gh_story = github
        .issues(REPO)
        .into_iter()
        .find(|i| i["title"] == "Pay with a stored card");
    assert!(
        gh_story.is_some(),
        "propagated to GitHub: {:?}",
        github.issues(REPO)
    );
    let titles = wiki_titles(&wiki);
    assert!(
        titles.contains(&"Pay with a stored card".to_owned()),
        "{titles:?}"
    );

    // The echoes of those writes come back and write nothing anywhere.
    let jira_writes = jira.requests();
    for (headers, body) in github.take_webhooks() {
        e.accept_webhook(&"github".into(), &ConnectionId::new("gh"), &headers, &body)
            .await
            .unwrap();
    }
    for hook in wiki.take_webhooks() {
        e.accept_webhook(
            &"confluence".into(),
            &ConnectionId::new("wiki"),
            &hook.headers,
            &hook.body,
        )
        .await
        .unwrap();
    }
    let echo = e.process_inbox(50).await.unwrap();
    assert_eq!(echo.updated + echo.created, 0, "{echo:?}");
    assert!(
        jira.take_webhooks().is_empty(),
        "nothing was written to Jira"
    );
    assert_eq!(jira.requests(), jira_writes, "Jira was not even asked");
    assert!(github.take_webhooks().is_empty() && wiki.take_webhooks().is_empty());

    // An edit made in the host goes everywhere from the change feed, once.
    let current = e.work_items().get(&story).await.unwrap().unwrap();
    let update = devflow_sync::store::ItemUpdate {
        changes: vec![devflow_sync::model::FieldChange::new(
            "title",
            current.record.fields.get("title").clone(),
            "Pay by card",
        )],
        ..Default::default()
    };
    e.work_items().update(&story, &update, None).await.unwrap();
    let out = e.propagate(100).await.unwrap();
    let story_writes = out
        .outcomes_of_item(&story)
        .filter(|o| o.outcome == devflow_sync::engine::Outcome::Updated)
        .count();
    assert_eq!(story_writes, 3, "{out:?}");
    assert_eq!(
        jira.issue(jira_link.remote.id.as_str()).unwrap()["fields"]["summary"],
        "Pay by card"
    );
    assert!(
        github
            .issues(REPO)
            .iter()
            .any(|i| i["title"] == "Pay by card")
    );
    let again = e.propagate(100).await.unwrap();
    assert_eq!(again.updated + again.created, 0, "{again:?}");
    // After a restart the feed resumes where it stopped: nothing to do.
    drop(e);
    let e = engine(&dir).await;
    e.resume(&factory).await.unwrap();
    assert_eq!(e.propagate(100).await.unwrap().updated, 0);
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", dir.display()));
    }
}
