//! A request and a response as the client sends and returns them, each with a `Debug`
//! that shows no credential.

use std::fmt;

use super::origin::{Origin, shown_url};
use super::redact::KnownSecrets;
use crate::model::{ConnectionId, ProviderKey};
use crate::provider::Headers;

/// One request. Its `Debug` hides the values of credential headers and the body.
#[derive(Clone)]
pub struct HttpRequest {
    /// The method.
    pub method: reqwest::Method,
    /// The full URL.
    pub url: String,
    /// Headers; put credentials here, the client never logs header values.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Option<Vec<u8>>,
    /// Whether sending it twice is harmless. A timeout, or a server error after a POST,
    /// is retried only for idempotent requests.
    pub idempotent: bool,
    /// Whose budget it uses.
    pub provider: ProviderKey,
    /// Whose concurrency cap it counts against.
    pub connection: ConnectionId,
    /// The request id to send; one is made when `None`.
    pub request_id: Option<String>,
    /// Redirects are not followed (token endpoints).
    pub no_redirects: bool,
    /// Client errors (4xx but 408 and 429) come back as responses instead of errors,
    /// for callers that parse error bodies themselves (OAuth). Retries and server
    /// errors behave as usual.
    pub error_responses: bool,
    /// The origin the request's credentials belong to: the client refuses to send it
    /// to any other ([`Error::PermissionDenied`](crate::Error::PermissionDenied) naming the refused origin).
    pub origin: Option<Origin>,
}

impl HttpRequest {
    /// A request; GET, HEAD, PUT, DELETE and OPTIONS count as idempotent.
    pub fn new(
        method: reqwest::Method,
        url: impl Into<String>,
        provider: impl Into<ProviderKey>,
        connection: impl Into<ConnectionId>,
    ) -> Self {
        let idempotent = matches!(
            method,
            reqwest::Method::GET
                | reqwest::Method::HEAD
                | reqwest::Method::PUT
                | reqwest::Method::DELETE
                | reqwest::Method::OPTIONS
        );
        Self {
            method,
            url: url.into(),
            headers: Vec::new(),
            body: None,
            idempotent,
            provider: provider.into(),
            connection: connection.into(),
            request_id: None,
            no_redirects: false,
            error_responses: false,
            origin: None,
        }
    }

    /// Binds the request's credentials to `origin`: sent anywhere else (a `link` header
    /// or a stored page token naming another host), the request is refused.
    #[must_use]
    pub fn bound_to(mut self, origin: &Origin) -> Self {
        self.origin = Some(origin.clone());
        self
    }

    /// Every secret the request carries: credential headers (and what a `Basic` one
    /// decodes to), a password in the URL, and the values of secret keys in its query
    /// and body. Scrubbed from whatever is built from the answer.
    pub fn known_secrets(&self) -> KnownSecrets {
        let mut known = KnownSecrets::new();
        for (name, value) in &self.headers {
            if is_secret_header(name) {
                known.add_credential_header(value);
            }
        }
        if let Ok(url) = reqwest::Url::parse(&self.url) {
            if let Some(password) = url.password() {
                known.add(password);
            }
            if let Some(query) = url.query() {
                known.add_form(query);
            }
        }
        if let Some(body) = self.body.as_deref() {
            match serde_json::from_slice::<serde_json::Value>(body) {
                Ok(json) => known.add_json(&json),
                Err(_) => known.add_form(&String::from_utf8_lossy(body)),
            }
        }
        known
    }

    /// Adds a header.
    #[must_use]
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Sets the body.
    #[must_use]
    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = Some(body.into());
        self
    }

    /// Marks the request as safe (or not) to send twice.
    #[must_use]
    pub fn idempotent(mut self, idempotent: bool) -> Self {
        self.idempotent = idempotent;
        self
    }

    /// Sets the request id (propagated from the caller).
    #[must_use]
    pub fn request_id(mut self, id: impl Into<String>) -> Self {
        self.request_id = Some(id.into());
        self
    }

    /// Does not follow redirects (for token endpoints).
    #[must_use]
    pub fn without_redirects(mut self) -> Self {
        self.no_redirects = true;
        self
    }
}

/// Whether a header's value is a credential (`Authorization`, cookies, API keys,
/// anything naming a token, a secret or a signature).
pub fn is_secret_header(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    matches!(
        name.as_str(),
        "authorization" | "proxy-authorization" | "cookie" | "set-cookie" | "x-api-key"
    ) || name.contains("token")
        || name.contains("api-key")
        || name.contains("apikey")
        || name.contains("password")
        || name.contains("secret")
        || name.contains("signature")
}

fn redacted_headers<'a>(
    headers: impl Iterator<Item = (&'a str, &'a str)>,
) -> Vec<(&'a str, &'a str)> {
    headers
        .map(|(n, v)| (n, if is_secret_header(n) { "[redacted]" } else { v }))
        .collect()
}

impl fmt::Debug for HttpRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpRequest")
            .field("method", &self.method)
            .field("url", &shown_url(&self.url))
            .field(
                "headers",
                &redacted_headers(self.headers.iter().map(|(n, v)| (n.as_str(), v.as_str()))),
            )
            .field("body_bytes", &self.body.as_ref().map(Vec::len))
            .field("idempotent", &self.idempotent)
            .field("provider", &self.provider)
            .field("connection", &self.connection)
            .field("request_id", &self.request_id)
            .finish()
    }
}

/// A response. Its `Debug` hides credential headers and shows the body redacted.
#[derive(Clone)]
pub struct HttpResponse {
    /// The status.
    pub status: u16,
    /// The headers.
    pub headers: Headers,
    /// The body.
    pub body: Vec<u8>,
    /// The request id sent.
    pub request_id: String,
    /// How many attempts it took.
    pub attempts: u32,
}

impl fmt::Debug for HttpResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpResponse")
            .field("status", &self.status)
            .field("headers", &redacted_headers(self.headers.iter()))
            .field(
                "body",
                &super::redact_body(&String::from_utf8_lossy(&self.body)),
            )
            .field("request_id", &self.request_id)
            .field("attempts", &self.attempts)
            .finish()
    }
}
