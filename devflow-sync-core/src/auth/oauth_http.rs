//! The token endpoint's requests of the `oauth2` crate, sent through the shared
//! [`HttpClient`] (budgets, redaction, no redirects, never retried), with the providers'
//! quirks: JSON bodies (Atlassian) and errors answered with 200 (GitHub).

use std::future::Future;
use std::pin::Pin;

use oauth2::AsyncHttpClient;

use crate::error::Error;
use crate::http::{HttpClient, HttpRequest};
use crate::model::{ConnectionId, ProviderKey};

/// Drives `oauth2`'s requests through [`HttpClient`].
pub(super) struct OAuthHttp {
    pub(super) http: HttpClient,
    pub(super) provider: ProviderKey,
    pub(super) connection: ConnectionId,
    pub(super) errors_as_200: bool,
    pub(super) json_body: bool,
}

/// A form body as a JSON object of its fields.
fn form_as_json(body: &[u8]) -> Vec<u8> {
    let fields: serde_json::Map<String, serde_json::Value> =
        oauth2::url::form_urlencoded::parse(body)
            .map(|(k, v)| (k.into_owned(), serde_json::Value::String(v.into_owned())))
            .collect();
    serde_json::to_vec(&fields).unwrap_or_default()
}

impl<'c> AsyncHttpClient<'c> for OAuthHttp {
    type Error = Error;
    type Future =
        Pin<Box<dyn Future<Output = std::result::Result<oauth2::HttpResponse, Error>> + Send + 'c>>;

    fn call(&'c self, request: oauth2::HttpRequest) -> Self::Future {
        Box::pin(async move {
            let method = reqwest::Method::from_bytes(request.method().as_str().as_bytes())
                .map_err(|e| Error::invalid_input("method", e.to_string()))?;
            let mut req = HttpRequest::new(
                method,
                request.uri().to_string(),
                self.provider.clone(),
                self.connection.clone(),
            )
            // A code or a rotating refresh token works once: never send it twice.
            .idempotent(false)
            .without_redirects()
            .body(if self.json_body {
                form_as_json(request.body())
            } else {
                request.body().clone()
            });
            req.error_responses = true;
            for (name, value) in request.headers() {
                let value = value.to_str().unwrap_or_default();
                if self.json_body && name.as_str().eq_ignore_ascii_case("content-type") {
                    req = req.header("Content-Type", "application/json");
                } else {
                    req = req.header(name.as_str(), value);
                }
            }
            let response = self.http.send(req).await?;
            let mut status = response.status;
            if self.errors_as_200 && status == 200 {
                // GitHub answers token errors with 200 and an `error` field.
                let has_error = serde_json::from_slice::<serde_json::Value>(&response.body)
                    .ok()
                    .is_some_and(|v| v.get("error").is_some());
                if has_error {
                    status = 400;
                }
            }
            let mut builder = http::Response::builder().status(status);
            for (name, value) in response.headers.iter() {
                builder = builder.header(name, value);
            }
            builder
                .body(response.body)
                .map_err(|e| Error::transient(format!("bad token response: {e}")))
        })
    }
}
