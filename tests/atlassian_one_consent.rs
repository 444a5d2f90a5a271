//! One Atlassian 3LO consent serves the Jira and the Confluence provider: both take
//! their tokens from one `TokenManager`, so when the access token expires under both at
//! once there is one refresh (the refresh token rotates once) and both go on with it.

use std::sync::Arc;

use devflow_provider_confluence::{ConfluenceAuth, ConfluenceConfig, ConfluenceProvider};
use devflow_provider_jira::{JiraAuth, JiraConfig, JiraProvider};
use devflow_sync::auth::{ClientSecret, OAuthFlow, StateSigner, TokenManager};
use devflow_sync::clock::ManualClock;
use devflow_sync::http::HttpClient;
use devflow_sync::model::{ConnectionId, ObjectType, ProviderKey};
use devflow_sync::provider::ProviderExt;
use devflow_sync::store::TokenStore;
use devflow_sync::store::memory::{MemoryJournal, MemoryTokens};
use devflow_sync_testkit::confluence_sim::ConfluenceSimulator;
use devflow_sync_testkit::jira_sim::JiraSimulator;

#[tokio::test]
async fn jira_and_confluence_share_one_grant_and_one_rotation() {
    let clock = Arc::new(ManualClock::starting_at_epoch_secs(1_780_000_000));
    // Atlassian's OAuth server is the Jira simulator's; Confluence trusts its tokens.
    let jira_sim = JiraSimulator::start_with_clock(clock.clone())
        .await
        .unwrap();
    jira_sim.add_project("KAN", "DevFlow", true);
    jira_sim.seed_issues("KAN", 2);
    let wiki_sim = ConfluenceSimulator::start_with_clock(clock.clone())
        .await
        .unwrap();
    wiki_sim.add_space("DEV", "DevFlow - Acme");
    wiki_sim.seed_pages("DEV", 3);
    wiki_sim.trust_bearers(jira_sim.bearer_check());
    jira_sim.register_oauth_client("app-id", "app-secret");

    // One consent with both products' scopes.
    let mut config =
        devflow_provider_confluence::oauth_config("app-id", ClientSecret::new("app-secret"))
            .unwrap();
    let jira_scopes =
        devflow_provider_jira::oauth_config("app-id", ClientSecret::new("app-secret"))
            .unwrap()
            .scopes;
    config.scopes.extend(jira_scopes);
    config.scopes.sort();
    config.scopes.dedup();
    config.token_url = format!("{}/oauth/token", jira_sim.url());
    config.redirect_url = Some("http://127.0.0.1/callback".into());
    let http = HttpClient::builder().build().unwrap();
    let flow = Arc::new(
        OAuthFlow::new(
            config.clone(),
            http.clone(),
            Arc::new(StateSigner::new(ClientSecret::new("k"))),
        )
        .unwrap()
        .with_clock(clock.clone()),
    );
    let conn = ConnectionId::new("atlassian-acme");
    let start = flow.authorize("acme", &conn, "user-1").unwrap();
    let scopes: Vec<&str> = config.scopes.iter().map(String::as_str).collect();
    let code = jira_sim.authorize("app-id", &scopes);
    let grant = flow
        .exchange_code("acme", &conn, &code, &start.state, None)
        .await
        .unwrap();
    let tokens = Arc::new(MemoryTokens::new());
    tokens
        .put(
            &conn,
            &ProviderKey::new("atlassian"),
            &grant.credentials,
            None,
        )
        .await
        .unwrap();
    let manager = Arc::new(
        TokenManager::new(tokens.clone(), Arc::new(MemoryJournal::new()))
            .refresher("atlassian", flow.clone())
            .clock(clock.clone()),
    );
    let jira = JiraProvider::new(
        JiraConfig::new(
            jira_sim.gateway_url(),
            "KAN",
            JiraAuth::oauth(manager.clone()),
        ),
        http.clone(),
    )
    .unwrap();
    let wiki = ConfluenceProvider::new(
        ConfluenceConfig::new(
            wiki_sim.gateway_url(),
            "DEV",
            ConfluenceAuth::oauth(manager),
        ),
        http,
    )
    .unwrap();
    let (issue, page) = (ObjectType::new("issue"), ObjectType::new("page"));
    assert_eq!(
        jira.list_all(&conn, &issue, None, 100).await.unwrap().len(),
        2
    );
    assert_eq!(
        wiki.list_all(&conn, &page, None, 100).await.unwrap().len(),
        3
    );

    // Two hours on, the access token has expired under both: one refresh serves both.
    clock.advance(std::time::Duration::from_secs(2 * 3600));
    let (issues, pages) = tokio::join!(
        jira.list_all(&conn, &issue, None, 100),
        wiki.list_all(&conn, &page, None, 100)
    );
    assert_eq!((issues.unwrap().len(), pages.unwrap().len()), (2, 3));
    assert_eq!(jira_sim.refreshes(), 1, "one rotation for both products");
}
