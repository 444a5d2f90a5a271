//! The HTTP client against local mock servers: retries, rate limits, the
//! concurrency cap, timeouts and the deadline (budgets: `http_budget.rs`). Waits are recorded, not slept.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use devflow_sync_core::Error;
use devflow_sync_core::clock::Clock;
use devflow_sync_core::http::{HttpConfig, HttpRequest, RateLimitConfig, RetryConfig};
use devflow_sync_core::model::ProviderKey;
use reqwest::Method;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

mod support;
use support::http::{get, setup, waits};

#[tokio::test]
async fn each_retry_class_is_retried_then_succeeds() {
    for status in [500u16, 502, 503, 504, 408, 429] {
        let mut server = mockito::Server::new_async().await;
        let fail = server
            .mock("GET", "/x")
            .with_status(usize::from(status))
            .expect(1)
            .create_async()
            .await;
        let ok = server
            .mock("GET", "/x")
            .with_status(200)
            .with_body("done")
            .expect(1)
            .create_async()
            .await;
        let s = setup(HttpConfig::default());
        let response = s
            .client
            .send(get(format!("{}/x", server.url())))
            .await
            .unwrap();
        assert_eq!(
            (response.status, response.attempts),
            (200, 2),
            "status {status}"
        );
        assert_eq!(response.body, b"done");
        fail.assert_async().await;
        ok.assert_async().await;
        assert_eq!(waits(&s).len(), 1);
        assert_eq!(s.observer.retries.load(Ordering::SeqCst), 1);
        assert_eq!(*s.observer.statuses.lock().unwrap(), vec![status, 200]);
    }
}

#[tokio::test]
async fn retry_after_in_seconds_and_as_an_http_date_is_honoured() {
    let mut server = mockito::Server::new_async().await;
    server
        .mock("GET", "/s")
        .with_status(429)
        .with_header("Retry-After", "7")
        .expect(1)
        .create_async()
        .await;
    server
        .mock("GET", "/s")
        .with_status(200)
        .create_async()
        .await;
    let s = setup(HttpConfig::default());
    s.client
        .send(get(format!("{}/s", server.url())))
        .await
        .unwrap();
    assert_eq!(
        waits(&s),
        vec![Duration::from_secs(7)],
        "{:?}",
        s.observer.statuses.lock().unwrap()
    );

    let s = setup(HttpConfig::default());
    let at = s.clock.now() + chrono::Duration::seconds(45);
    let date = at.format("%a, %d %b %Y %H:%M:%S GMT").to_string();
    let mut server = mockito::Server::new_async().await;
    server
        .mock("GET", "/d")
        .with_status(503)
        .with_header("Retry-After", &date)
        .expect(1)
        .create_async()
        .await;
    server
        .mock("GET", "/d")
        .with_status(200)
        .create_async()
        .await;
    s.client
        .send(get(format!("{}/d", server.url())))
        .await
        .unwrap();
    assert_eq!(waits(&s), vec![Duration::from_secs(45)]);
}

#[tokio::test]
async fn github_primary_and_secondary_limits() {
    let s = setup(HttpConfig::default());
    let reset = (s.clock.now().timestamp() + 30).to_string();
    let mut server = mockito::Server::new_async().await;
    server
        .mock("GET", "/primary")
        .with_status(403)
        .with_header("x-ratelimit-remaining", "0")
        .with_header("x-ratelimit-reset", &reset)
        .with_body(r#"{"message":"API rate limit exceeded"}"#)
        .expect(1)
        .create_async()
        .await;
    server
        .mock("GET", "/primary")
        .with_status(200)
        .create_async()
        .await;
    s.client
        .send(get(format!("{}/primary", server.url())))
        .await
        .unwrap();
    assert!(
        waits(&s).iter().any(|w| *w == Duration::from_secs(30)),
        "{:?}",
        waits(&s)
    );

    let s = setup(HttpConfig::default());
    server
        .mock("GET", "/secondary")
        .with_status(403)
        .with_body(r#"{"message":"You have exceeded a secondary rate limit. Please wait a few minutes before you try again."}"#)
        .expect(1)
        .create_async()
        .await;
    server
        .mock("GET", "/secondary")
        .with_status(200)
        .create_async()
        .await;
    s.client
        .send(get(format!("{}/secondary", server.url())))
        .await
        .unwrap();
    assert!(
        waits(&s).iter().any(|w| *w >= Duration::from_secs(60)),
        "{:?}",
        waits(&s)
    );

    // A plain 403 is a refusal and is not retried.
    let s = setup(HttpConfig::default());
    let m = server
        .mock("GET", "/denied")
        .with_status(403)
        .with_header("x-ratelimit-remaining", "4999")
        .with_body(r#"{"message":"Resource not accessible by integration"}"#)
        .expect(1)
        .create_async()
        .await;
    let err = s
        .client
        .send(get(format!("{}/denied", server.url())))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::PermissionDenied(_)), "{err:?}");
    m.assert_async().await;
}

#[tokio::test]
async fn atlassian_429_with_reason_and_iso_reset() {
    let s = setup(HttpConfig::default());
    let reset = (s.clock.now() + chrono::Duration::minutes(2))
        .format("%Y-%m-%dT%H:%MZ")
        .to_string();
    let mut server = mockito::Server::new_async().await;
    server
        .mock("GET", "/rest/api/3/search/jql")
        .with_status(429)
        .with_header("X-RateLimit-Remaining", "0")
        .with_header("X-RateLimit-Reset", &reset)
        .with_header("RateLimit-Reason", "jira-quota-tenant-based")
        .expect(1)
        .create_async()
        .await;
    server
        .mock("GET", "/rest/api/3/search/jql")
        .with_status(200)
        .create_async()
        .await;
    let mut req = get(format!("{}/rest/api/3/search/jql", server.url()));
    req.provider = ProviderKey::new("jira");
    s.client.send(req).await.unwrap();
    let w = waits(&s);
    assert!(
        w.iter()
            .any(|d| *d >= Duration::from_secs(60) && *d <= Duration::from_secs(120)),
        "{w:?}"
    );
}

#[tokio::test]
async fn a_post_is_not_retried_after_a_server_error_but_is_after_a_rate_limit() {
    let mut server = mockito::Server::new_async().await;
    let m = server
        .mock("POST", "/create")
        .with_status(502)
        .expect(1)
        .create_async()
        .await;
    let s = setup(HttpConfig::default());
    let post = HttpRequest::new(
        Method::POST,
        format!("{}/create", server.url()),
        "github",
        "conn-1",
    )
    .body("{}");
    let err = s.client.send(post.clone()).await.unwrap_err();
    assert!(matches!(err, Error::Transient(_)), "{err:?}");
    m.assert_async().await;

    let mut server = mockito::Server::new_async().await;
    server
        .mock("POST", "/create")
        .with_status(429)
        .with_header("Retry-After", "1")
        .expect(1)
        .create_async()
        .await;
    let ok = server
        .mock("POST", "/create")
        .with_status(201)
        .expect(1)
        .create_async()
        .await;
    let s = setup(HttpConfig::default());
    let post = HttpRequest::new(
        Method::POST,
        format!("{}/create", server.url()),
        "github",
        "conn-1",
    );
    assert_eq!(s.client.send(post).await.unwrap().status, 201);
    ok.assert_async().await;
}

/// A server that accepts connections and never answers, counting them.
async fn silent_server() -> (String, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let count = Arc::new(AtomicUsize::new(0));
    let c = count.clone();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            c.fetch_add(1, Ordering::SeqCst);
            held.push(socket);
        }
    });
    (url, count)
}

#[tokio::test]
async fn a_timed_out_post_is_not_retried_and_a_get_is() {
    let (url, count) = silent_server().await;
    let config = HttpConfig {
        read_timeout: Duration::from_millis(150),
        retry: RetryConfig {
            max_retries: 2,
            ..RetryConfig::default()
        },
        ..HttpConfig::default()
    };
    let s = setup(config.clone());
    let post = HttpRequest::new(Method::POST, format!("{url}/slow"), "github", "conn-1").body("{}");
    let err = s.client.send(post).await.unwrap_err();
    assert!(matches!(err, Error::Transient(_)), "{err:?}");
    assert_eq!(count.load(Ordering::SeqCst), 1, "the POST was sent once");

    let (url, count) = silent_server().await;
    let s = setup(config);
    let err = s.client.send(get(format!("{url}/slow"))).await.unwrap_err();
    assert!(err.is_retryable());
    assert_eq!(
        count.load(Ordering::SeqCst),
        3,
        "the GET was tried 1 + 2 times"
    );
    // A POST marked idempotent (it carries an idempotency key) is retried.
    let (url, count) = silent_server().await;
    let post =
        HttpRequest::new(Method::POST, format!("{url}/slow"), "github", "conn-1").idempotent(true);
    let _ = s.client.send(post).await;
    assert_eq!(count.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn connection_errors_are_retried_and_the_deadline_is_respected() {
    // Nothing listens on this port.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let s = setup(HttpConfig::default());
    let err = s
        .client
        .send(get(format!("http://127.0.0.1:{port}/x")))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("could not connect"), "{err}");
    assert_eq!(waits(&s).len(), 5, "max_retries waits");

    // A wait that would end past the deadline is not taken.
    let mut server = mockito::Server::new_async().await;
    let m = server
        .mock("GET", "/late")
        .with_status(429)
        .with_header("Retry-After", "600")
        .expect(1)
        .create_async()
        .await;
    let s = setup(HttpConfig {
        retry: RetryConfig {
            retry_timeout: Duration::from_secs(60),
            ..RetryConfig::default()
        },
        ..HttpConfig::default()
    });
    let err = s
        .client
        .send(get(format!("{}/late", server.url())))
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::RateLimited { retry_after: Some(d), .. } if d == Duration::from_secs(600)),
        "{err:?}"
    );
    assert!(waits(&s).is_empty());
    m.assert_async().await;
}

#[tokio::test]
async fn request_ids_are_sent_and_token_endpoints_do_not_follow_redirects() {
    let mut server = mockito::Server::new_async().await;
    let m = server
        .mock("GET", "/id")
        .match_header("x-request-id", "req-123")
        .with_status(200)
        .create_async()
        .await;
    let s = setup(HttpConfig::default());
    let response = s
        .client
        .send(get(format!("{}/id", server.url())).request_id("req-123"))
        .await
        .unwrap();
    assert_eq!(response.request_id, "req-123");
    m.assert_async().await;
    let generated = s.client.send(get(format!("{}/id2", server.url()))).await;
    assert!(generated.is_err() || generated.unwrap().request_id.starts_with("dfs-"));

    let target = server
        .mock("POST", "/elsewhere")
        .with_status(200)
        .expect(0)
        .create_async()
        .await;
    server
        .mock("POST", "/oauth/token")
        .with_status(302)
        .with_header("location", &format!("{}/elsewhere", server.url()))
        .create_async()
        .await;
    let token = HttpRequest::new(
        Method::POST,
        format!("{}/oauth/token", server.url()),
        "github",
        "c",
    )
    .without_redirects();
    let response = s.client.send(token).await.unwrap();
    assert_eq!(response.status, 302);
    target.assert_async().await;
}

/// A server answering 200 after a pause, recording the most requests in flight.
async fn counting_server(pause: Duration) -> (String, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let in_flight = Arc::new(AtomicUsize::new(0));
    let max = Arc::new(AtomicUsize::new(0));
    let (f, m) = (in_flight, max.clone());
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let (f, m) = (f.clone(), m.clone());
            tokio::spawn(async move {
                let mut buf = vec![0u8; 4096];
                let mut seen = Vec::new();
                // Read one request (headers only; these requests carry no body).
                while !seen.windows(4).any(|w| w == b"\r\n\r\n") {
                    match socket.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => seen.extend_from_slice(&buf[..n]),
                    }
                }
                let now = f.fetch_add(1, Ordering::SeqCst) + 1;
                m.fetch_max(now, Ordering::SeqCst);
                tokio::time::sleep(pause).await;
                f.fetch_sub(1, Ordering::SeqCst);
                let _ = socket
                    .write_all(
                        b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok",
                    )
                    .await;
            });
        }
    });
    (url, max)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_concurrency_cap_per_connection_is_honoured() {
    let (url, max) = counting_server(Duration::from_millis(250)).await;
    let mut config = HttpConfig::default();
    config.rate_limits.insert(
        ProviderKey::new("github"),
        RateLimitConfig {
            requests_per_minute: 6000,
            burst: 100,
            max_concurrent_per_connection: 2,
            writes_per_minute: None,
            writes_per_hour: None,
        },
    );
    let s = setup(config);
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let client = s.client.clone();
        let url = url.clone();
        tasks.push(tokio::spawn(async move {
            client.send(get(format!("{url}/c"))).await
        }));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap().unwrap().status, 200);
    }
    assert_eq!(
        max.load(Ordering::SeqCst),
        2,
        "at most two in flight for one connection"
    );
}
