//! A loopback HTTP server that answers with whatever raw bytes a test scripts:
//! hostile headers and bodies, broken framing, redirects. For tests of what a client
//! does when a server is careless or an attacker.
//!
//! ```
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! use devflow_sync_testkit::hostile::HostileServer;
//! let server = HostileServer::start().await;
//! server.answer(429, &[("Retry-After", "1e20")], b"slow down");
//! assert!(server.url.starts_with("http://127.0.0.1:"));
//! assert_eq!(server.request_count(), 0);
//! # });
//! ```

use std::fmt::Write as _;
use std::time::Duration;

use devflow_sync_core::http::{HttpClient, HttpConfig, RateLimitConfig, RetryConfig};
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A server on 127.0.0.1 answering every request with the next scripted response (the
/// last one again when the script runs out; an empty answer before any is scripted),
/// keeping the raw requests it received.
#[derive(Clone, Debug)]
pub struct HostileServer {
    /// `http://127.0.0.1:<port>`.
    pub url: String,
    script: Arc<Mutex<Vec<Vec<u8>>>>,
    /// Every request received, as raw text.
    pub requests: Arc<Mutex<Vec<String>>>,
}

impl HostileServer {
    /// Starts the server on a free loopback port (panics when none can be bound: a
    /// test helper).
    pub async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap_or_else(|e| panic!("no loopback port: {e}"));
        let url = format!(
            "http://{}",
            listener
                .local_addr()
                .unwrap_or_else(|e| panic!("no local address: {e}"))
        );
        let server = HostileServer {
            url,
            script: Arc::new(Mutex::new(Vec::new())),
            requests: Arc::new(Mutex::new(Vec::new())),
        };
        let s = server.clone();
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                let s = s.clone();
                tokio::spawn(async move {
                    let mut buf = Vec::new();
                    let mut chunk = [0u8; 4096];
                    // Read the head and as much of a body as Content-Length says.
                    loop {
                        let Ok(n) = socket.read(&mut chunk).await else {
                            return;
                        };
                        if n == 0 {
                            return;
                        }
                        buf.extend_from_slice(&chunk[..n]);
                        let text = String::from_utf8_lossy(&buf).into_owned();
                        if let Some(end) = text.find("\r\n\r\n") {
                            let len = text[..end]
                                .lines()
                                .find_map(|l| {
                                    let (k, v) = l.split_once(':')?;
                                    k.eq_ignore_ascii_case("content-length")
                                        .then(|| v.trim().parse::<usize>().ok())?
                                })
                                .unwrap_or(0);
                            if buf.len() >= end + 4 + len {
                                break;
                            }
                        }
                    }
                    s.requests
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .push(String::from_utf8_lossy(&buf).into_owned());
                    let response = {
                        let mut script = s.script.lock().unwrap_or_else(|e| e.into_inner());
                        if script.len() > 1 {
                            script.remove(0)
                        } else {
                            script.first().cloned().unwrap_or_default()
                        }
                    };
                    let _ = socket.write_all(&response).await;
                    let _ = socket.shutdown().await;
                });
            }
        });
        server
    }

    /// Answers with `status`, these headers and `body` (Content-Length added).
    pub fn answer(&self, status: u16, headers: &[(&str, &str)], body: &[u8]) {
        self.script
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(raw_response(status, headers, body));
    }

    /// Answers with exactly these bytes.
    pub fn answer_raw(&self, bytes: Vec<u8>) {
        self.script
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(bytes);
    }

    /// Forgets the script.
    pub fn reset(&self) {
        self.script
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }

    /// How many requests arrived.
    pub fn request_count(&self) -> usize {
        self.requests
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .len()
    }
}

/// The bytes of an HTTP/1.1 response with `status`, `headers` and `body`
/// (`Content-Length` and `Connection: close` added).
pub fn raw_response(status: u16, headers: &[(&str, &str)], body: &[u8]) -> Vec<u8> {
    let mut head = format!("HTTP/1.1 {status} X\r\n");
    for (k, v) in headers {
        let _ = write!(head, "{k}: {v}\r\n");
    }
    let _ = write!(
        head,
        "Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let mut out = head.into_bytes();
    out.extend_from_slice(body);
    out
}

/// An [`HttpClient`] for running thousands of exchanges against a [`HostileServer`]:
/// no retries, a 5-second read timeout, and no request budget in the way.
pub fn one_shot_client() -> devflow_sync_core::Result<HttpClient> {
    HttpClient::builder()
        .config(HttpConfig {
            read_timeout: Duration::from_secs(5),
            retry: RetryConfig {
                max_retries: 0,
                ..RetryConfig::default()
            },
            default_rate_limit: RateLimitConfig {
                requests_per_minute: u32::MAX,
                burst: u32::MAX,
                max_concurrent_per_connection: 4,
                writes_per_minute: None,
                writes_per_hour: None,
            },
            ..HttpConfig::default()
        })
        .build()
}
