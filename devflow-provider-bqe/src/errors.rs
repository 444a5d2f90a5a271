//! BQE's error bodies (`{errorCode, message}`) as typed errors.

use devflow_sync_core::Error;
use devflow_sync_core::api::ErrorMapper;
use serde::Deserialize;

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Body {
    #[serde(default)]
    error_code: Option<String>,
    #[serde(default)]
    message: Option<String>,
}

/// Reads BQE's refusals: 400 a bad query (naming BQE's message), 401 credentials, 403 a
/// scope (`read:core` or `readwrite:core`) the grant lacks, 404 not found. 429 and 5xx
/// are the HTTP client's (retried).
#[derive(Debug, Default)]
pub struct BqeErrors;

impl ErrorMapper for BqeErrors {
    fn map(&self, status: u16, body: &[u8]) -> Option<Error> {
        let parsed: Body = serde_json::from_slice(body).unwrap_or_default();
        let text = match (&parsed.error_code, &parsed.message) {
            (Some(c), Some(m)) => format!("{m} ({c})"),
            (None, Some(m)) => m.clone(),
            (Some(c), None) => c.clone(),
            (None, None) => format!("HTTP {status}"),
        };
        match status {
            400 => Some(Error::invalid_input(
                "query",
                format!("BQE refused the request: {text}"),
            )),
            401 => Some(Error::Unauthenticated(format!(
                "BQE refused the credentials: {text}"
            ))),
            403 => Some(Error::PermissionDenied(format!(
                "BQE: {text}; the grant needs read:core (readwrite:core to write)"
            ))),
            404 => Some(Error::not_found(format!("BQE: {text}"))),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bqes_refusals_are_typed() {
        let e = BqeErrors;
        assert!(matches!(
            e.map(
                400,
                br#"{"errorCode":"InvalidQuery","message":"unknown operator"}"#
            ),
            Some(Error::InvalidInput { .. })
        ));
        assert!(matches!(
            e.map(403, b"{}"),
            Some(Error::PermissionDenied(_))
        ));
        assert!(matches!(e.map(404, b"nope"), Some(Error::NotFound(_))));
        assert!(e.map(503, b"").is_none());
    }
}
