//! Listing against the simulator: the delta bound in the user's time zone, read-after-
//! write over an eventually consistent index, the removed search, rate limits by reason.

use std::sync::Arc;

use chrono::{FixedOffset, TimeZone, Utc};
use devflow_provider_jira::{JiraAuth, JiraConfig, JiraProvider, catalog_http};
use devflow_sync_core::Error;
use devflow_sync_core::auth::AccessToken;
use devflow_sync_core::clock::ManualClock;
use devflow_sync_core::model::{ConnectionId, Fields, ItemId, ItemKind, ObjectType};
use devflow_sync_core::provider::{ChangeQuery, NewRemote, Provider, ProviderExt};
use devflow_sync_testkit::jira_sim::JiraSimulator;
use serde_json::json;

fn provider(sim: &JiraSimulator) -> JiraProvider {
    sim.add_api_token("dev@acme.test", "t", false, None);
    let http = catalog_http(|_| None).unwrap();
    JiraProvider::new(
        JiraConfig::new(
            sim.url(),
            "KAN",
            JiraAuth::api_token("dev@acme.test", AccessToken::new("t")),
        ),
        http,
    )
    .unwrap()
}

#[tokio::test]
async fn delta_listings_bound_by_the_user_zone_and_drop_older_changes() {
    let start = Utc.with_ymd_and_hms(2026, 11, 30, 22, 50, 0).unwrap();
    let clock = Arc::new(ManualClock::new(start));
    let sim = JiraSimulator::start_with_clock(clock.clone())
        .await
        .unwrap();
    sim.set_time_zone(FixedOffset::west_opt(7 * 3600).unwrap());
    sim.add_project("KAN", "DevFlow", false);
    let p = provider(&sim);
    let (conn, issue) = (ConnectionId::new("c"), ObjectType::new("issue"));
    let a = sim
        .create_issue(
            "KAN",
            &json!({"summary": "A", "issuetype": {"name": "Task"}}),
        )
        .unwrap();
    clock.advance(std::time::Duration::from_secs(300));
    let b = sim
        .create_issue(
            "KAN",
            &json!({"summary": "B", "issuetype": {"name": "Task"}}),
        )
        .unwrap();
    let since = start + chrono::Duration::seconds(180);
    // The zone is not known yet: the bound reaches far back, the older change is dropped.
    let first = p.list_all(&conn, &issue, Some(since), 50).await.unwrap();
    let summaries: Vec<_> = first
        .iter()
        .map(|r| r.record.fields.get("summary").as_str().unwrap().to_owned())
        .collect();
    assert_eq!(summaries, ["B"], "{a} is older than the cursor");
    // Learned from the answer: the bound is now written in the user's zone (UTC-7).
    let jql = p.list_jql(&ChangeQuery {
        since: Some(since),
        limit: 50,
        ..ChangeQuery::default()
    });
    assert!(jql.contains("updated >= \"2026-11-30 15:51\""), "{jql}");
    let again = p.list_all(&conn, &issue, Some(since), 50).await.unwrap();
    assert_eq!(again.len(), 1, "{b} once");
    assert_eq!(
        p.list_all(&conn, &issue, None, 1).await.unwrap().len(),
        2,
        "paging by one"
    );
}

#[tokio::test]
async fn what_the_provider_wrote_is_listed_at_once_over_a_lagging_index() {
    let clock = Arc::new(ManualClock::starting_at_epoch_secs(1_790_000_000));
    let sim = JiraSimulator::start_with_clock(clock.clone())
        .await
        .unwrap();
    sim.add_project("KAN", "DevFlow", true);
    sim.set_consistency_delay(std::time::Duration::from_secs(30));
    let p = provider(&sim);
    let (conn, issue) = (ConnectionId::new("c"), ObjectType::new("issue"));
    sim.create_issue(
        "KAN",
        &json!({"summary": "By a person", "issuetype": {"name": "Task"}}),
    )
    .unwrap();
    let made = p
        .create(
            &conn,
            &issue,
            &NewRemote {
                kind: Some(ItemKind::Task),
                parent: None,
                fields: Fields::new().with("summary", "By DevFlow"),
                marker: ItemId::new("m-1"),
                related: Vec::new(),
            },
        )
        .await
        .unwrap();
    let listed = p.list_all(&conn, &issue, None, 50).await.unwrap();
    assert_eq!(
        listed.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(),
        [made.id.as_str()],
        "reconciled: ours only, the other is not indexed yet"
    );
    clock.advance(std::time::Duration::from_secs(31));
    assert_eq!(
        p.list_all(&conn, &issue, None, 50).await.unwrap().len(),
        2,
        "indexed after the lag"
    );
}

#[tokio::test]
async fn the_removed_search_answers_gone() {
    let sim = JiraSimulator::start().await.unwrap();
    sim.add_project("KAN", "DevFlow", false);
    sim.add_api_token("dev@acme.test", "t", false, None);
    let client = reqwest::Client::new();
    for path in ["/rest/api/3/search", "/rest/api/2/search"] {
        let r = client
            .get(format!("{}{path}?jql=project=KAN", sim.url()))
            .basic_auth("dev@acme.test", Some("t"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 410, "{path}");
        assert!(r.text().await.unwrap().contains("/rest/api/3/search/jql"));
    }
    let r = client
        .get(format!(
            "{}/rest/api/3/search/jql?jql=order%20by%20key",
            sim.url()
        ))
        .basic_auth("dev@acme.test", Some("t"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400, "an unbounded query is refused");
}

#[tokio::test]
async fn a_quota_429_pauses_every_call_a_burst_429_only_that_request() {
    let sim = JiraSimulator::start().await.unwrap();
    sim.add_project("KAN", "DevFlow", false);
    sim.seed_issues("KAN", 2);
    let (conn, issue) = (ConnectionId::new("c"), ObjectType::new("issue"));
    let p = provider(&sim);
    sim.throttle_next("jira-burst-based", 3600);
    let err = p.list_all(&conn, &issue, None, 50).await.unwrap_err();
    assert!(matches!(err, Error::RateLimited { .. }), "{err:?}");
    assert_eq!(
        p.list_all(&conn, &issue, None, 50).await.unwrap().len(),
        2,
        "the next call goes"
    );

    sim.throttle_next("jira-quota-tenant-based", 3600);
    let err = p.list_all(&conn, &issue, None, 50).await.unwrap_err();
    assert!(matches!(err, Error::RateLimited { .. }), "{err:?}");
    let before = sim.requests();
    let err = p.list_all(&conn, &issue, None, 50).await.unwrap_err();
    assert!(matches!(err, Error::RateLimited { .. }), "{err:?}");
    assert_eq!(
        sim.requests(),
        before,
        "the pool waits for the reset: nothing sent"
    );
}

#[tokio::test]
async fn a_503_with_retry_after_is_retried() {
    let sim = JiraSimulator::start().await.unwrap();
    sim.add_project("KAN", "DevFlow", false);
    sim.seed_issues("KAN", 2);
    let p = provider(&sim);
    sim.fail_next(&[503]);
    let (conn, issue) = (ConnectionId::new("c"), ObjectType::new("issue"));
    assert_eq!(p.list_all(&conn, &issue, None, 50).await.unwrap().len(), 2);
    let listed = p
        .list_changed(
            &conn,
            &issue,
            &ChangeQuery {
                limit: 1,
                ..ChangeQuery::default()
            },
        )
        .await
        .unwrap();
    assert!(listed.next_page_token.is_some());
}
