//! The offline demo: the GitHub, Jira and Confluence simulators started in-process,
//! one connection to each added to the running engine (stored, so a restart on the
//! same `--db` resumes them), and demo data: a PRD tree pushed everywhere, and a story
//! made in Jira without an epic, which becomes a hierarchy conflict to settle.

use std::collections::HashMap;
use std::sync::Arc;

use devflow_provider_confluence::{ConfluenceAuth, ConfluenceConfig, ConfluenceProvider};
use devflow_provider_github::{GitHubConfig, GitHubProvider, TokenSource};
use devflow_provider_jira::{JiraAuth, JiraConfig, JiraProvider};
use devflow_store_sqlite::SqliteStore;
use devflow_sync_core::auth::{AccessToken, WebhookSecret};
use devflow_sync_core::engine::{PullBudget, SyncEngine};
use devflow_sync_core::http::{HttpClient, HttpConfig, RateLimitConfig};
use devflow_sync_core::model::{ConnectionId, ItemId, ItemKind, ObjectType, Record};
use devflow_sync_core::{Error, Result};
use devflow_sync_testkit::confluence_sim::ConfluenceSimulator;
use devflow_sync_testkit::github_sim::GitHubSimulator;
use devflow_sync_testkit::jira_sim::JiraSimulator;

use crate::state::{Handle, Handles};

/// The demo's GitHub repository, Jira project and Confluence space.
pub const REPO: &str = "acme/checkout";
/// The Jira project.
pub const PROJECT: &str = "CHK";
/// The Confluence space.
pub const SPACE: &str = "CHK";
const EMAIL: &str = "demo@acme.test";
/// The host object of work items.
use crate::api::oauth::{OAuthApp, OAuthApps, OAuthTarget};
use crate::records;
const TOKEN: &str = "demo-api-token";

/// The simulators, kept running as long as the service.
#[derive(Debug)]
pub struct Simulators {
    /// GitHub.
    pub github: GitHubSimulator,
    /// Jira Cloud.
    pub jira: JiraSimulator,
    /// Confluence Cloud.
    pub confluence: ConfluenceSimulator,
    /// BQE CORE.
    pub bqe: devflow_sync_testkit::bqe_sim::BqeSimulator,
}

fn transient(e: impl std::fmt::Display) -> Error {
    Error::transient(e.to_string())
}

/// An engine over `store` with the demo's four connections, and the providers by
/// connection; tokens sealed with a key made for this process.
pub async fn start(store: Arc<SqliteStore>) -> Result<(SyncEngine, Simulators, Handles)> {
    start_with_keys(store, crate::resume::process_key_ring()?).await
}

/// [`start`] with tokens sealed by `ring` (a kept database needs the same key again).
pub async fn start_with_keys(
    store: Arc<SqliteStore>,
    ring: devflow_sync_core::auth::KeyRing,
) -> Result<(SyncEngine, Simulators, Handles)> {
    let github = GitHubSimulator::start().await.map_err(transient)?;
    github.add_repo(REPO);
    github.accept_token(TOKEN);
    let bqe = devflow_sync_testkit::bqe_sim::BqeSimulator::start()
        .await
        .map_err(transient)?;
    let acme = bqe.add_client("Acme");
    let checkout = bqe.add_project("P-100", "Checkout", Some(&acme), None);
    bqe.add_project(
        "P-100.1",
        "Checkout - phase 1",
        Some(&acme),
        Some(&checkout),
    );
    bqe.add_project("P-200", "Billing", Some(&acme), None);
    bqe.accept_token(TOKEN, &["read:core"]);
    let jira = JiraSimulator::start().await.map_err(transient)?;
    jira.add_project(PROJECT, "Checkout", false);
    jira.add_api_token(EMAIL, TOKEN, true, None);
    let confluence = ConfluenceSimulator::start().await.map_err(transient)?;
    confluence.add_space(SPACE, "Checkout");
    confluence.add_api_token(EMAIL, TOKEN);

    // The simulators are on loopback: the providers' request budgets (Jira's 300 a
    // minute, say) would only slow the demo down. Against real systems, build the
    // clients from the catalogs (`devflow_provider_jira::catalog_http`, ...).
    let http = HttpClient::builder()
        .config(HttpConfig {
            default_rate_limit: RateLimitConfig {
                requests_per_minute: 1_000_000,
                burst: 10_000,
                max_concurrent_per_connection: 8,
                writes_per_minute: None,
                writes_per_hour: None,
            },
            ..HttpConfig::default()
        })
        .build()?;
    let mut gh = GitHubConfig::new(
        github.url(),
        vec![REPO.into()],
        TokenSource::Static(AccessToken::new(TOKEN)),
    );
    gh.webhook_secrets = vec![WebhookSecret::new(
        devflow_sync_testkit::github_sim::WEBHOOK_SECRET,
    )];
    let gh = Arc::new(GitHubProvider::new(gh, http.clone())?);
    let mut jc = JiraConfig::new(
        jira.url(),
        PROJECT,
        JiraAuth::api_token(EMAIL, AccessToken::new(TOKEN)),
    );
    jc.webhook_secrets = vec![WebhookSecret::new(
        devflow_sync_testkit::jira_sim::WEBHOOK_SECRET,
    )];
    let jp = Arc::new(JiraProvider::new(jc, http.clone())?);
    let cp = Arc::new(ConfluenceProvider::new(
        ConfluenceConfig::new(
            confluence.url(),
            SPACE,
            ConfluenceAuth::api_token(EMAIL, AccessToken::new(TOKEN)),
        ),
        http,
    )?);

    let engine = crate::resume::engine_over(store, ring)?;
    engine
        .add_connection(records::github("github-acme")?, gh.clone())
        .await?;
    engine
        .add_connection(records::jira("jira-acme")?, jp.clone())
        .await?;
    engine
        .add_connection(records::confluence("wiki-acme")?, cp.clone())
        .await?;
    let bp = Arc::new(devflow_provider_bqe::BqeProvider::new(
        devflow_provider_bqe::BqeConfig::with_token(bqe.api_url(), AccessToken::new(TOKEN)),
        HttpClient::builder().build()?,
    )?);
    engine
        .add_connection(records::bqe("bqe-acme")?, bp.clone())
        .await?;
    let handles: Handles = HashMap::from([
        (ConnectionId::new("bqe-acme"), Handle::Bqe(bp)),
        (ConnectionId::new("github-acme"), Handle::GitHub(gh)),
        (ConnectionId::new("jira-acme"), Handle::Jira(jp)),
        (ConnectionId::new("wiki-acme"), Handle::Confluence(cp)),
    ]);
    Ok((
        engine,
        Simulators {
            github,
            jira,
            confluence,
            bqe,
        },
        handles,
    ))
}

async fn item(
    engine: &SyncEngine,
    kind: ItemKind,
    parent: Option<&ItemId>,
    title: &str,
) -> Result<ItemId> {
    let mut record = Record::new("work_item", chrono::Utc::now())
        .with_kind(kind)
        .with_field("title", title)
        .with_field("status", "todo");
    record.parent = parent.cloned();
    Ok(engine.work_items().create(None, record).await?.id)
}

/// Demo data: a PRD with an epic and a story, pushed to every system that carries
/// their kinds; then a story made in Jira without an epic, pulled in as a conflict.
pub async fn seed(engine: &SyncEngine, sims: &Simulators) -> Result<ItemId> {
    let prd = item(engine, ItemKind::Prd, None, "Checkout revamp").await?;
    let epic = item(engine, ItemKind::Epic, Some(&prd), "One-page checkout").await?;
    item(
        engine,
        ItemKind::Story,
        Some(&epic),
        "Pay with a saved card",
    )
    .await?;
    engine.push_tree_everywhere(&prd, None).await?;
    // The host's own project, to be matched with BQE's before the first sync.
    let project = Record::new("project", chrono::Utc::now())
        .with_field("name", "Billing (2027)")
        .with_field("number", "P-200")
        .with_field("client", "Acme");
    engine
        .work_items()
        .create(Some(ItemId::new("proj-billing")), project)
        .await?;
    sims.jira
        .create_issue(
            PROJECT,
            &serde_json::json!({"summary": "Orphan story made in Jira", "issuetype": {"name": "Story"}}),
        )
        .map_err(transient)?;
    engine
        .pull(
            &ConnectionId::new("jira-acme"),
            &ObjectType::new("issue"),
            PullBudget::UNLIMITED,
        )
        .await?;
    Ok(epic)
}

/// The demo's OAuth apps: GitHub's (its token endpoint on the simulator; the person's
/// consent is the simulator's `authorize`) and BQE's (a web app with a secret, the
/// client-credentials grant allowed), their states signed with a key made for this
/// process.
pub fn oauth_apps(sims: &Simulators) -> Result<OAuthApps> {
    use devflow_sync_core::auth::{ClientSecret, OAuthFlow, StateSigner};
    let mut key = [0u8; 32];
    getrandom::getrandom(&mut key).map_err(|e| Error::transient(e.to_string()))?;
    let key: String = key.iter().map(|b| format!("{b:02x}")).collect();
    let signer = Arc::new(StateSigner::new(ClientSecret::new(key)));

    let mut config = devflow_provider_github::oauth_config(
        DEMO_CLIENT_ID,
        Some(ClientSecret::new("demo-client-secret")),
    )?;
    config.token_url = format!("{}/login/oauth/access_token", sims.github.url());
    config.redirect_url = Some("http://127.0.0.1/api/integrations/github/callback".into());
    config.scopes = vec!["repo".into()];
    let github = OAuthFlow::new(config, HttpClient::builder().build()?, signer.clone())?;

    sims.bqe
        .register_app(BQE_CLIENT_ID, Some(BQE_CLIENT_SECRET));
    sims.bqe.allow_client_credentials(true);
    let identity = sims.bqe.identity_url();
    let mut config = devflow_provider_bqe::oauth_config(
        &identity,
        BQE_CLIENT_ID,
        Some(ClientSecret::new(BQE_CLIENT_SECRET)),
    )?;
    config.redirect_url = Some("http://127.0.0.1/api/integrations/bqe/callback".into());
    let bqe = OAuthFlow::new(config, HttpClient::builder().build()?, signer)?;

    let mut apps = OAuthApps::default();
    apps.insert(
        "github",
        OAuthApp::new(
            github,
            OAuthTarget::GitHub {
                api_url: sims.github.url(),
                repo: REPO.into(),
            },
        ),
    );
    apps.insert(
        "bqe",
        OAuthApp::new(bqe, OAuthTarget::Bqe { identity }).allowing_client_credentials(),
    );
    Ok(apps)
}

/// The demo BQE app's client id.
pub const BQE_CLIENT_ID: &str = "bqe-demo-app";
/// The demo BQE app's secret (a simulator's; nothing real).
pub const BQE_CLIENT_SECRET: &str = "bqe-demo-secret";

/// The demo OAuth app's client id.
pub const DEMO_CLIENT_ID: &str = "Iv1.demo";
