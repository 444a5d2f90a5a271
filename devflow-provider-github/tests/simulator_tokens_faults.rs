//! The GitHub provider against the simulator: a create whose answer is lost, expiring
//! user tokens refreshed and rotated, pull requests left out of the issues.

use std::sync::Arc;

use devflow_provider_github::{GitHubConfig, GitHubProvider, TokenSource};
use devflow_sync_core::Error;
use devflow_sync_core::auth::{AccessToken, ClientSecret, OAuthFlow, StateSigner};
use devflow_sync_core::engine::SyncEngine;
use devflow_sync_core::http::HttpClient;
use devflow_sync_core::model::{ConnectionId, ItemKind, ObjectType, ProviderKey, Record};
use devflow_sync_core::store::WorkItemStore;
use devflow_sync_core::store::memory::{MemoryJournal, MemoryWorkItems};
use devflow_sync_testkit::github_sim::GitHubSimulator;
use serde_json::json;
use support::{REPO, code_grant};

mod support;

#[tokio::test]
async fn a_create_github_made_but_reported_as_a_timeout_is_found_by_its_marker() {
    use devflow_sync_testkit::faulty::FaultyProvider;
    use devflow_sync_testkit::memory_provider::{FaultKind, Op};
    let sim = GitHubSimulator::start().await.unwrap();
    sim.add_repo(REPO);
    sim.accept_token("ghp_faulty");
    let config = GitHubConfig::new(
        sim.url(),
        vec![REPO.into()],
        TokenSource::Static(AccessToken::new("ghp_faulty")),
    );
    let github =
        Arc::new(GitHubProvider::new(config, HttpClient::builder().build().unwrap()).unwrap());
    let faulty = Arc::new(FaultyProvider::wrap(github, 3));
    let items = Arc::new(MemoryWorkItems::new());
    let engine = SyncEngine::builder()
        .provider(faulty.clone())
        .bind("gh", "github", "issue")
        .work_items(items.clone())
        .build()
        .unwrap();
    let prd = items
        .create(
            None,
            Record::new("work_item", chrono::Utc::now())
                .with_kind(ItemKind::Prd)
                .with_field("title", "Checkout"),
        )
        .await
        .unwrap()
        .id;
    // GitHub creates the issue, but the answer is lost.
    faulty.fail_next(Op::Create, FaultKind::TimeoutAfterCommit);
    let (conn, object) = (ConnectionId::new("gh"), ObjectType::new("issue"));
    let first = engine.push(&conn, &object, &prd).await;
    assert!(
        first.as_ref().map_or(true, |r| r.errors > 0),
        "the lost answer is a failure: {first:?}"
    );
    assert_eq!(sim.issues(REPO).len(), 1, "created once");
    // The retry finds the issue by its marker instead of creating another.
    let report = engine.push(&conn, &object, &prd).await.unwrap();
    assert_eq!(report.errors, 0, "{report:?}");
    assert_eq!(
        sim.issues(REPO).len(),
        1,
        "no duplicate: {:?}",
        sim.issues(REPO)
    );
}

#[tokio::test]
async fn expiring_user_tokens_are_refreshed_and_rotated_against_the_simulator() {
    use devflow_sync_core::auth::{RefreshToken, TokenManager};
    use devflow_sync_core::clock::{Clock, ManualClock};
    use devflow_sync_core::store::TokenStore;
    use devflow_sync_core::store::memory::MemoryTokens;
    let clock = Arc::new(ManualClock::starting_at_epoch_secs(1_780_000_000));
    let sim = GitHubSimulator::start_with_clock(clock.clone())
        .await
        .unwrap();
    sim.add_repo(REPO);
    sim.seed_issues(REPO, 2);
    sim.set_expiring_tokens(true);
    let mut config =
        devflow_provider_github::oauth_config("Iv1.sim", Some(ClientSecret::new("sim-secret")))
            .unwrap();
    config.token_url = format!("{}/login/oauth/access_token", sim.url());
    config.redirect_url = Some("http://127.0.0.1/callback".into());
    let http = HttpClient::builder().build().unwrap();
    let flow = Arc::new(
        OAuthFlow::new(
            config,
            http.clone(),
            Arc::new(StateSigner::new(ClientSecret::new("k"))),
        )
        .unwrap()
        .with_clock(clock.clone()),
    );
    let conn = ConnectionId::new("gh");
    let grant = code_grant(&sim, &flow, &conn).await;
    let first_refresh = secrecy::ExposeSecret::expose_secret(
        grant
            .credentials
            .refresh_token
            .as_ref()
            .expect("a refresh token"),
    )
    .to_owned();
    assert!(first_refresh.starts_with("ghr_"));
    assert_eq!(
        grant.credentials.expires_at,
        Some(clock.now() + chrono::Duration::hours(8))
    );
    let tokens = Arc::new(MemoryTokens::new());
    tokens
        .put(&conn, &ProviderKey::new("github"), &grant.credentials, None)
        .await
        .unwrap();
    let manager = Arc::new(
        TokenManager::new(tokens.clone(), Arc::new(MemoryJournal::new()))
            .refresher("github", flow.clone())
            .clock(clock.clone()),
    );
    let provider = GitHubProvider::new(
        GitHubConfig::new(sim.url(), vec![REPO.into()], TokenSource::Manager(manager)),
        http,
    )
    .unwrap();
    let (issue, id) = (ObjectType::new("issue"), "octo-org/app#1".into());
    let get = || devflow_sync_core::provider::Provider::get(&provider, &conn, &issue, &id);
    get().await.unwrap();
    // Nine hours on, the token has expired: the manager refreshes before the call.
    clock.advance(std::time::Duration::from_secs(9 * 3600));
    get().await.unwrap();
    let stored = tokens.get(&conn).await.unwrap().unwrap();
    let rotated =
        secrecy::ExposeSecret::expose_secret(stored.credentials.refresh_token.as_ref().unwrap())
            .to_owned();
    assert_ne!(rotated, first_refresh, "the refresh token rotated");
    // The old refresh token is spent: GitHub says bad_refresh_token, a person must
    // authorize again.
    let err = flow
        .refresh(&conn, &RefreshToken::new(first_refresh))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::NeedsReauth { .. }), "{err:?}");
}

#[tokio::test]
async fn pull_requests_the_simulator_lists_among_issues_are_left_out() {
    let sim = GitHubSimulator::start().await.unwrap();
    sim.add_repo(REPO);
    let (conn, object) = (ConnectionId::new("gh"), ObjectType::new("issue"));
    let issue = sim.open_issue(REPO, &json!({"title": "A bug"}));
    let pr = sim.open_pull_request(REPO, "Fix the bug");
    assert!(sim.issue(REPO, pr).unwrap().get("pull_request").is_some());
    sim.accept_token("ghp_pr_test");
    let provider = GitHubProvider::new(
        GitHubConfig::new(
            sim.url(),
            vec![REPO.into()],
            TokenSource::Static(AccessToken::new("ghp_pr_test")),
        ),
        HttpClient::builder().build().unwrap(),
    )
    .unwrap();
    let all =
        devflow_sync_core::provider::ProviderExt::list_all(&provider, &conn, &object, None, 100)
            .await
            .unwrap();
    let ids: Vec<_> = all.iter().map(|r| r.id.to_string()).collect();
    assert_eq!(
        ids,
        [format!("{REPO}#{issue}")],
        "the pull request is not an issue"
    );
}
