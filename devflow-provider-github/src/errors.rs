//! GitHub's own error codes, read from refused requests.

use devflow_sync_core::Error;
use devflow_sync_core::api::ErrorMapper;
use serde_json::Value;

/// Reads GitHub's 422 `errors` array: a resource that `already_exists` (a label, a
/// milestone title) is [`Error::AlreadyExists`]; every other refusal keeps the common
/// classification.
///
/// ```
/// use devflow_sync_core::Error;
/// use devflow_sync_core::api::ErrorMapper;
/// use devflow_provider_github::GitHubErrors;
/// let body = br#"{"message":"Validation Failed","errors":[{"resource":"Label","code":"already_exists","field":"name"}]}"#;
/// assert!(matches!(GitHubErrors.map(422, body), Some(Error::AlreadyExists(_))));
/// let invalid = br#"{"message":"Validation Failed","errors":[{"resource":"Label","code":"invalid","field":"color"}]}"#;
/// assert!(GitHubErrors.map(422, invalid).is_none());
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct GitHubErrors;

impl ErrorMapper for GitHubErrors {
    fn map(&self, status: u16, body: &[u8]) -> Option<Error> {
        if status != 422 {
            return None;
        }
        let value: Value = serde_json::from_slice(body).ok()?;
        let taken = value
            .get("errors")?
            .as_array()?
            .iter()
            .find(|e| e.get("code").and_then(Value::as_str) == Some("already_exists"))?;
        let what = |key: &str| taken.get(key).and_then(Value::as_str).unwrap_or("?");
        Some(Error::AlreadyExists(format!(
            "GitHub: a {} with this {} already exists",
            what("resource"),
            what("field")
        )))
    }
}
