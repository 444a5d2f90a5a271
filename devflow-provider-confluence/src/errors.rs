//! Confluence's error bodies (v2 `errors[]`, v1 `statusCode`/`message`) as typed errors.

use chrono::{DateTime, Utc};
use devflow_sync_core::Error;
use devflow_sync_core::api::ErrorMapper;
use serde::Deserialize;

#[derive(Debug, Default, Deserialize)]
struct V2Error {
    #[serde(default)]
    code: String,
    #[serde(default)]
    title: String,
}

#[derive(Debug, Default, Deserialize)]
struct Body {
    #[serde(default)]
    errors: Vec<V2Error>,
    #[serde(default)]
    message: Option<String>,
}

/// Reads Confluence's refusals: a stale version (409) is a precondition failure the
/// engine re-reads and merges; a title already used in the space is
/// [`Error::AlreadyExists`]; 401 after the API token's expiry is an expired token, a
/// scope mismatch a missing scope; 403 is a permission; 404 not found; 410 a removed API.
#[derive(Debug, Default)]
pub struct ConfluenceErrors {
    /// When the API token expires, if known.
    pub token_expires: Option<DateTime<Utc>>,
}

impl ErrorMapper for ConfluenceErrors {
    fn map(&self, status: u16, body: &[u8]) -> Option<Error> {
        let parsed: Body = serde_json::from_slice(body).unwrap_or_default();
        let text = parsed
            .errors
            .iter()
            .map(|e| {
                if e.code.is_empty() {
                    e.title.clone()
                } else {
                    format!("{} ({})", e.title, e.code)
                }
            })
            .chain(parsed.message.clone())
            .collect::<Vec<_>>()
            .join("; ");
        match status {
            400 if text.contains("already exists with the same TITLE")
                || text.contains("page with this title already exists") =>
            {
                Some(Error::already_exists(format!("Confluence: {text}")))
            }
            400 | 413 => Some(Error::invalid_input(
                "body",
                format!("Confluence refused the request: {text}"),
            )),
            401 => {
                if let Some(expired) = self.token_expires.filter(|e| *e <= Utc::now()) {
                    return Some(Error::Unauthenticated(format!(
                        "the Confluence API token expired on {}; create a new one and reconnect",
                        expired.format("%Y-%m-%d")
                    )));
                }
                if text.contains("scope does not match") {
                    return Some(Error::PermissionDenied(
                        "the OAuth grant lacks a scope this call needs; reconnect asking for it"
                            .into(),
                    ));
                }
                Some(Error::Unauthenticated(format!(
                    "Confluence refused the credentials: {text}"
                )))
            }
            403 => Some(Error::PermissionDenied(format!("Confluence: {text}"))),
            404 => Some(Error::not_found(format!("Confluence: {text}"))),
            409 => Some(Error::precondition(format!(
                "the Confluence page changed since it was read: {text}"
            ))),
            410 => Some(Error::NotSupported(format!(
                "Confluence removed this API: {text}"
            ))),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn confluences_refusals_are_typed() {
        let e = ConfluenceErrors::default();
        let stale = e
            .map(409, br#"{"errors":[{"status":409,"code":"CONFLICT","title":"Version must be incremented on update. Current version is: 3","detail":null}]}"#)
            .unwrap();
        assert!(matches!(stale, Error::Precondition(_)), "{stale:?}");
        assert!(stale.to_string().contains("Current version is: 3"));
        let dup = e
            .map(400, br#"{"errors":[{"status":400,"code":"INVALID_REQUEST_PARAMETER","title":"A page with this title already exists: A page already exists with the same TITLE in this space","detail":null}]}"#)
            .unwrap();
        assert!(matches!(dup, Error::AlreadyExists(_)), "{dup:?}");
        let v1 = e
            .map(
                410,
                br#"{"statusCode":410,"message":"This API has been removed","data":{}}"#,
            )
            .unwrap();
        assert!(matches!(v1, Error::NotSupported(_)));
        assert!(matches!(
            e.map(
                401,
                br#"{"code":401,"message":"Unauthorized; scope does not match"}"#
            ),
            Some(Error::PermissionDenied(_))
        ));
        assert!(e.map(500, b"<html>").is_none());
    }
}
