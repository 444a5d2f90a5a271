//! The quickstart's last steps: an edit made in one system reaching the other, and a
//! backfill with a progress bar.

use std::sync::Arc;

use devflow_provider_jira::{JiraAuth, JiraConfig, JiraProvider};
use devflow_sync::auth::AccessToken;
use devflow_sync::engine::{ImportMode, Progress, ProgressObserver, PullBudget, SyncEngine};
use devflow_sync::http::HttpClient;
use devflow_sync::model::{ConnectionId, ItemId, ObjectType, ProviderKey};
use devflow_sync_testkit::github_sim::GitHubSimulator;
use devflow_sync_testkit::jira_sim::JiraSimulator;
use serde_json::json;

use crate::Steps;

/// Step 17: a person renames the story in Jira; the webhook brings it to the host and
/// the host carries it on to GitHub.
pub(crate) async fn edit_travels(
    steps: &mut Steps,
    engine: &SyncEngine,
    jira: &JiraSimulator,
    github: &GitHubSimulator,
    (jira_conn, github_conn, story): (&ConnectionId, &ConnectionId, &ItemId),
    github_repo: &str,
) -> devflow_sync::Result<()> {
    github.take_webhooks();
    let object = ObjectType::new("issue");
    let link = engine
        .mappings()
        .link_by_item(jira_conn, &object, story)
        .await?;
    let Some(link) = link else {
        steps.check("the story is linked in Jira", false);
        return Ok(());
    };
    let title = format!(
        "Pay with a saved card ({} in GitHub)",
        github.issues(github_repo).len()
    );
    jira.edit_issue(link.remote.id.as_str(), &json!({ "summary": title }))
        .map_err(devflow_sync::Error::transient)?;
    for (headers, body) in jira.take_webhooks() {
        engine
            .accept_webhook(&ProviderKey::new("jira"), jira_conn, &headers, &body)
            .await?;
    }
    engine.process_inbox(100).await?;
    let in_github = github
        .issues(github_repo)
        .iter()
        .any(|i| i["title"] == title.as_str());
    println!("    renamed in Jira to {title:?}; GitHub now says so too: {in_github}");
    // GitHub's webhook of that write comes back and writes nothing anywhere.
    for (headers, body) in github.take_webhooks() {
        engine
            .accept_webhook(&ProviderKey::new("github"), github_conn, &headers, &body)
            .await?;
    }
    let echo = engine.process_inbox(100).await?;
    steps.check(
        "an edit made in Jira reaches the host by webhook and goes on to GitHub; GitHub's echo writes nothing",
        in_github && echo.updated + echo.created == 0 && jira.take_webhooks().is_empty(),
    );
    Ok(())
}

/// Draws a progress bar on the terminal (nothing when the output is not one).
#[derive(Debug)]
struct Bar(indicatif::ProgressBar);

impl ProgressObserver for Bar {
    fn progress(&self, p: &Progress) {
        self.0.set_position(p.done as u64);
        self.0.set_message(format!("{} pages", p.pages));
        if p.finished {
            self.0.finish();
        }
    }
}

/// Step 18: a backfill of a project of 1,000 issues (on a simulator of its own, not
/// kept), with a progress bar.
pub(crate) async fn backfill(steps: &mut Steps) -> devflow_sync::Result<()> {
    let jira = JiraSimulator::start()
        .await
        .map_err(|e| devflow_sync::Error::transient(e.to_string()))?;
    jira.add_project("OPS", "Operations", false);
    jira.seed_issues("OPS", 1000);
    jira.add_api_token("backfill@acme.test", "ATATT-backfill", false, None);
    let provider = JiraProvider::new(
        JiraConfig::new(
            jira.url(),
            "OPS",
            JiraAuth::api_token("backfill@acme.test", AccessToken::new("ATATT-backfill")),
        ),
        HttpClient::builder().build()?,
    )?;
    let bar = indicatif::ProgressBar::with_draw_target(
        Some(1000),
        indicatif::ProgressDrawTarget::stderr(),
    );
    let observer = Arc::new(Bar(bar.clone()));
    let engine = SyncEngine::builder()
        .provider(Arc::new(provider))
        .bind("jira-ops", "jira", "issue")
        .import_mode(ImportMode::Import)
        .progress(observer)
        .build()?;
    let report = engine
        .pull(
            &ConnectionId::new("jira-ops"),
            &ObjectType::new("issue"),
            PullBudget::UNLIMITED,
        )
        .await?;
    println!(
        "    backfill: {} issues in {} pages",
        report.created,
        bar.position().div_ceil(100)
    );
    steps.check(
        "a backfill of 1,000 Jira issues reports its progress page by page (a bar on a terminal)",
        report.created == 1000 && bar.position() == 1000 && bar.is_finished(),
    );
    Ok(())
}
