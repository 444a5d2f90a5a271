//! A simulator's HTTP side on axum (HTTP/1.1 with keep-alive): every request goes to
//! the simulator's handler as a plain [`Request`], after the latency knob.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::net::TcpListener;

/// A request as a simulator sees it.
#[derive(Clone, Debug, Default)]
pub struct Request {
    /// The method.
    pub method: String,
    /// The path, still percent-encoded.
    pub path: String,
    /// The query, decoded, in order.
    pub query: Vec<(String, String)>,
    /// The headers, names in lower case.
    pub headers: HashMap<String, String>,
    /// The body.
    pub body: Vec<u8>,
}

impl Request {
    /// A query parameter.
    pub fn query(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// A header, by name in any case.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(&name.to_ascii_lowercase())
            .map(String::as_str)
    }
}

/// A simulator's answer.
#[derive(Clone, Debug)]
pub struct Response {
    /// The status.
    pub status: u16,
    /// The headers.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

impl Response {
    /// A JSON answer.
    pub fn json(status: u16, value: &serde_json::Value) -> Self {
        Self {
            status,
            headers: vec![(
                "content-type".into(),
                "application/json; charset=utf-8".into(),
            )],
            body: serde_json::to_vec(value).unwrap_or_default(),
        }
    }

    /// An answer without a body (`204 No Content`, say).
    pub fn empty(status: u16) -> Self {
        Self {
            status,
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    /// With a header added.
    #[must_use]
    pub fn header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.to_owned(), value.into()));
        self
    }
}

/// `%XX` and `+` decoded.
pub fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let decoded = (bytes[i] == b'%')
            .then(|| bytes.get(i + 1..i + 3))
            .flatten()
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], decoded) {
            (_, Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b'+', None) => {
                out.push(b' ');
                i += 1;
            }
            (b, None) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A query or form string as decoded pairs.
pub fn parse_query(q: &str) -> Vec<(String, String)> {
    q.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| match p.split_once('=') {
            Some((k, v)) => (percent_decode(k), percent_decode(v)),
            None => (percent_decode(p), String::new()),
        })
        .collect()
}

/// The largest request body taken.
const MAX_BODY: usize = 25 << 20;

/// An axum [`Router`](axum::Router) answering every request with `handler`: HTTP/1.1
/// with keep-alive, request parsing by hyper.
/// Each request waits `latency` (milliseconds) first, to model a real network.
pub fn router<H>(handler: Arc<H>, latency: Arc<AtomicU64>) -> axum::Router
where
    H: Fn(Request) -> Response + Send + Sync + 'static,
{
    axum::Router::new().fallback(move |request: axum::extract::Request| {
        let handler = handler.clone();
        let latency = latency.load(Ordering::Relaxed);
        async move {
            if latency > 0 {
                tokio::time::sleep(std::time::Duration::from_millis(latency)).await;
            }
            let (parts, body) = request.into_parts();
            let Ok(body) = axum::body::to_bytes(body, MAX_BODY).await else {
                let too_large = serde_json::json!({"message": "Payload too large"});
                return to_axum(Response::json(413, &too_large));
            };
            let headers: HashMap<String, String> = parts
                .headers
                .iter()
                .map(|(k, v)| {
                    (
                        k.as_str().to_ascii_lowercase(),
                        String::from_utf8_lossy(v.as_bytes()).into_owned(),
                    )
                })
                .collect();
            let request = Request {
                method: parts.method.as_str().to_owned(),
                path: parts.uri.path().to_owned(),
                query: parts.uri.query().map(parse_query).unwrap_or_default(),
                headers,
                body: body.to_vec(),
            };
            to_axum(handler(request))
        }
    })
}

fn to_axum(response: Response) -> axum::response::Response {
    let mut out = axum::response::Response::new(axum::body::Body::from(response.body));
    *out.status_mut() = axum::http::StatusCode::from_u16(response.status)
        .unwrap_or(axum::http::StatusCode::INTERNAL_SERVER_ERROR);
    for (name, value) in response.headers {
        if let (Ok(name), Ok(value)) = (
            axum::http::HeaderName::from_bytes(name.as_bytes()),
            axum::http::HeaderValue::from_str(&value),
        ) {
            out.headers_mut().append(name, value);
        }
    }
    out
}

/// Serves `handler` on a free loopback port until the returned handle is dropped.
pub async fn serve<H>(
    handler: Arc<H>,
    latency: Arc<AtomicU64>,
) -> std::io::Result<(SocketAddr, tokio::task::JoinHandle<()>)>
where
    H: Fn(Request) -> Response + Send + Sync + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let app = router(handler, latency);
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok((addr, task))
}
