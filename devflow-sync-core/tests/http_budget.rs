//! The HTTP client's request budgets: requests spaced by the rate, writes by their
//! own windows. Waits are recorded, not slept.

use std::time::Duration;

use devflow_sync_core::http::{HttpConfig, RateLimitConfig};
use devflow_sync_core::model::ProviderKey;

mod support;
use support::http::{get, setup, waits};

#[tokio::test]
async fn the_request_budget_spaces_requests() {
    let mut server = mockito::Server::new_async().await;
    server
        .mock("GET", "/b")
        .with_status(200)
        .expect(4)
        .create_async()
        .await;
    let mut config = HttpConfig::default();
    config.rate_limits.insert(
        ProviderKey::new("github"),
        RateLimitConfig {
            requests_per_minute: 60,
            burst: 2,
            max_concurrent_per_connection: 4,
            writes_per_minute: None,
            writes_per_hour: None,
        },
    );
    let s = setup(config);
    for _ in 0..4 {
        s.client
            .send(get(format!("{}/b", server.url())))
            .await
            .unwrap();
    }
    assert_eq!(
        waits(&s),
        vec![Duration::from_secs(1), Duration::from_secs(1)]
    );
}

#[tokio::test]
async fn writes_are_spaced_by_their_own_budget_and_reads_are_not() {
    let mut server = mockito::Server::new_async().await;
    server
        .mock("POST", "/w")
        .with_status(201)
        .expect(3)
        .create_async()
        .await;
    server
        .mock("GET", "/r")
        .with_status(200)
        .expect(3)
        .create_async()
        .await;
    let mut config = HttpConfig::default();
    config.rate_limits.insert(
        ProviderKey::new("github"),
        RateLimitConfig {
            requests_per_minute: 6000,
            burst: 100,
            max_concurrent_per_connection: 4,
            writes_per_minute: Some(2),
            writes_per_hour: Some(500),
        },
    );
    let s = setup(config);
    for _ in 0..3 {
        s.client
            .send(get(format!("{}/r", server.url())))
            .await
            .unwrap();
    }
    assert!(waits(&s).is_empty(), "reads take no write token");
    for _ in 0..3 {
        let mut post = get(format!("{}/w", server.url()));
        post.method = reqwest::Method::POST;
        s.client.send(post.idempotent(false)).await.unwrap();
    }
    assert_eq!(
        waits(&s),
        vec![Duration::from_secs(30)],
        "two writes a minute: the third waits 30 s"
    );
}
