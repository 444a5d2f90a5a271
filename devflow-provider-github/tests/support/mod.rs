//! What the simulator test files share.

#![allow(dead_code)]

use std::sync::Arc;

use devflow_provider_github::{GitHubConfig, GitHubProvider, TokenSource};
use devflow_sync_core::auth::{
    AccessToken, ClientSecret, OAuthFlow, StateSigner, TokenGrant, WebhookSecret,
};
use devflow_sync_core::engine::SyncEngine;
use devflow_sync_core::http::HttpClient;
use devflow_sync_core::model::{ConnectionId, ItemKind, ObjectType, Record};
use devflow_sync_core::store::WorkItemStore;
use devflow_sync_core::store::memory::{MemoryJournal, MemoryMappings, MemoryWorkItems};
use devflow_sync_testkit::github_sim::{GitHubSimulator, WEBHOOK_SECRET};

/// The repository the simulator tests use.
pub(crate) const REPO: &str = "octo-org/app";

/// The code flow with PKCE, a person approving at the simulator.
pub(crate) async fn code_grant(
    sim: &GitHubSimulator,
    flow: &OAuthFlow,
    conn: &ConnectionId,
) -> TokenGrant {
    let start = flow.authorize("acme", conn, "user-1").unwrap();
    let url = reqwest::Url::parse(&start.url).unwrap();
    let challenge = url
        .query_pairs()
        .find(|(k, _)| k == "code_challenge")
        .unwrap()
        .1
        .into_owned();
    let code = sim.authorize("Iv1.sim", &challenge);
    flow.exchange_code("acme", conn, &code, &start.state, start.pkce_verifier)
        .await
        .unwrap()
}

pub(crate) async fn oauth_token(sim: &GitHubSimulator) -> AccessToken {
    let mut config =
        devflow_provider_github::oauth_config("Iv1.sim", Some(ClientSecret::new("sim-secret")))
            .unwrap();
    config.token_url = format!("{}/login/oauth/access_token", sim.url());
    config.redirect_url = Some("http://127.0.0.1/callback".into());
    config.scopes = vec!["repo".into()];
    let flow = OAuthFlow::new(
        config,
        HttpClient::builder().build().unwrap(),
        Arc::new(StateSigner::new(ClientSecret::new("k"))),
    )
    .unwrap();
    let grant = code_grant(sim, &flow, &ConnectionId::new("gh")).await;
    AccessToken::new(
        secrecy::ExposeSecret::expose_secret(&grant.credentials.access_token).to_owned(),
    )
}

pub(crate) struct Setup {
    pub(crate) sim: GitHubSimulator,
    pub(crate) engine: SyncEngine,
    pub(crate) items: Arc<MemoryWorkItems>,
    pub(crate) mappings: Arc<MemoryMappings>,
    pub(crate) journal: Arc<MemoryJournal>,
    pub(crate) conn: ConnectionId,
    pub(crate) object: ObjectType,
}

pub(crate) async fn setup() -> Setup {
    let sim = GitHubSimulator::start().await.unwrap();
    sim.add_repo(REPO);
    let token = oauth_token(&sim).await;
    let mut config = GitHubConfig::new(sim.url(), vec![REPO.into()], TokenSource::Static(token));
    config.webhook_secrets = vec![WebhookSecret::new(WEBHOOK_SECRET)];
    let provider =
        Arc::new(GitHubProvider::new(config, HttpClient::builder().build().unwrap()).unwrap());
    let items = Arc::new(MemoryWorkItems::new());
    let mappings = Arc::new(MemoryMappings::new());
    let journal = Arc::new(MemoryJournal::new());
    let engine = SyncEngine::builder()
        .provider(provider)
        .bind("gh", "github", "issue")
        .work_items(items.clone())
        .mappings(mappings.clone())
        .journal(journal.clone())
        .build()
        .unwrap();
    Setup {
        sim,
        engine,
        items,
        mappings,
        journal,
        conn: ConnectionId::new("gh"),
        object: ObjectType::new("issue"),
    }
}

pub(crate) async fn item(
    s: &Setup,
    kind: ItemKind,
    parent: Option<&devflow_sync_core::model::ItemId>,
    title: &str,
) -> devflow_sync_core::model::ItemId {
    let mut record = Record::new("work_item", chrono::Utc::now())
        .with_kind(kind)
        .with_field("title", title);
    record.parent = parent.cloned();
    s.items.create(None, record).await.unwrap().id
}
