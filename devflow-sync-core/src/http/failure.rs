//! Why an attempt got no response, as the core's errors, with the causes beneath
//! (never the URL, which may carry a credential in its query).

use crate::error::Error;

/// A response body over the configured limit.
pub(super) fn too_large(limit: usize) -> Error {
    Error::invalid_input(
        "response body",
        format!("the response is over the limit of {limit} bytes"),
    )
}

/// An error with the causes beneath it (`error following redirect: refused a
/// redirect to another origin (...)`).
pub(super) fn with_causes(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        let more = c.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        cause = c.source();
    }
    text
}

/// Why an attempt got no response.
pub(super) enum Failure {
    Connect(Error),
    Timeout(Error),
    Other(Error),
}

impl Failure {
    pub(super) fn from_reqwest(e: reqwest::Error) -> Self {
        // The URL may carry a query with credentials: never show it.
        let e = e.without_url();
        let text = with_causes(&e);
        if e.is_timeout() {
            Failure::Timeout(Error::transient(format!("timed out: {text}")))
        } else if e.is_connect() {
            Failure::Connect(Error::transient(format!("could not connect: {text}")))
        } else if e.is_request() || e.is_body() || e.is_decode() {
            Failure::Timeout(Error::transient(format!(
                "the connection failed mid-request: {text}"
            )))
        } else {
            Failure::Other(Error::Other {
                provider: "http".into(),
                source: text.into(),
            })
        }
    }
}
