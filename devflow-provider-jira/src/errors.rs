//! Jira's error bodies (`errorMessages`, `errors` by field) as typed errors.

use chrono::{DateTime, Utc};
use devflow_sync_core::Error;
use devflow_sync_core::api::ErrorMapper;
use serde::Deserialize;

/// Jira's error body.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Body {
    #[serde(default)]
    error_messages: Vec<String>,
    #[serde(default)]
    errors: std::collections::BTreeMap<String, String>,
    #[serde(default)]
    message: Option<String>,
}

/// Reads Jira's refusals: a 400 naming a field is [`Error::InvalidInput`] with the
/// pointer `/fields/<field>`; a 401 after the API token's expiry is reported as an
/// expired token; a 401 "scope does not match" as a missing scope; a 404 as not found
/// (Jira answers 404 for what the account may not see, too); an invalid page token as
/// [`Error::StalePageToken`].
#[derive(Debug, Default)]
pub struct JiraErrors {
    /// When the API token expires, if known.
    pub token_expires: Option<DateTime<Utc>>,
}

impl ErrorMapper for JiraErrors {
    fn map(&self, status: u16, body: &[u8]) -> Option<Error> {
        let parsed: Body = serde_json::from_slice(body).unwrap_or_default();
        let messages = || {
            let mut all = parsed.error_messages.clone();
            all.extend(parsed.errors.iter().map(|(k, v)| format!("{k}: {v}")));
            all.extend(parsed.message.clone());
            all.join("; ")
        };
        match status {
            400 if messages().contains("next page token") => Some(Error::StalePageToken(format!(
                "Jira refused the page token: {}",
                messages()
            ))),
            400 | 413 => {
                let field = parsed.errors.keys().next().cloned();
                Some(Error::InvalidInput {
                    pointer: field.map(|f| format!("/fields/{f}")),
                    message: format!("Jira refused the request: {}", messages()),
                })
            }
            401 => {
                let text = messages();
                if let Some(expired) = self.token_expires.filter(|e| *e <= Utc::now()) {
                    return Some(Error::Unauthenticated(format!(
                        "the Jira API token expired on {}; create a new one and reconnect",
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
                    "Jira refused the credentials: {text}"
                )))
            }
            404 => Some(Error::not_found(format!("Jira: {}", messages()))),
            410 => Some(Error::NotSupported(format!(
                "Jira removed this API: {}",
                messages()
            ))),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_field_error_names_its_field() {
        let e = JiraErrors::default()
            .map(400, br#"{"errorMessages":[],"errors":{"summary":"You must specify a summary of the issue."}}"#)
            .unwrap();
        assert!(
            matches!(&e, Error::InvalidInput { pointer: Some(p), .. } if p == "/fields/summary"),
            "{e:?}"
        );
        let expired = JiraErrors {
            token_expires: Some(Utc::now() - chrono::Duration::days(1)),
        };
        assert!(
            expired
                .map(401, b"")
                .unwrap()
                .to_string()
                .contains("expired")
        );
        let scope = JiraErrors::default()
            .map(
                401,
                br#"{"code":401,"message":"Unauthorized; scope does not match"}"#,
            )
            .unwrap();
        assert!(matches!(scope, Error::PermissionDenied(_)));
        assert!(JiraErrors::default().map(500, b"<html>").is_none());
    }
}
