//! Atlassian's cloud id lookup: which sites a 3LO grant reaches.

use serde::{Deserialize, Serialize};

use super::AccessToken;
use crate::error::{Error, Result};
use crate::http::{HttpClient, HttpRequest};
use crate::model::ConnectionId;

/// The production host of the lookup.
pub const ATLASSIAN_API: &str = "https://api.atlassian.com";

/// A site an Atlassian grant reaches.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessibleResource {
    /// The cloud id: what REST calls put in `https://api.atlassian.com/ex/jira/{cloudId}/...`.
    pub id: String,
    /// The site URL.
    pub url: String,
    /// The site name.
    pub name: String,
    /// The scopes granted on it.
    #[serde(default)]
    pub scopes: Vec<String>,
}

/// `GET {api}/oauth/token/accessible-resources`: the sites (and cloud ids) the token
/// reaches. `api` is [`ATLASSIAN_API`] in production.
pub async fn accessible_resources(
    http: &HttpClient,
    api: &str,
    connection: &ConnectionId,
    token: &AccessToken,
) -> Result<Vec<AccessibleResource>> {
    let request = HttpRequest::new(
        reqwest::Method::GET,
        format!(
            "{}/oauth/token/accessible-resources",
            api.trim_end_matches('/')
        ),
        "atlassian",
        connection.clone(),
    )
    .header("Authorization", format!("Bearer {}", token.secret()))
    .header("Accept", "application/json");
    let response = http.send(request).await?;
    serde_json::from_slice(&response.body).map_err(|e| Error::InvalidInput {
        pointer: Some(format!(
            "accessible-resources (line {}, column {})",
            e.line(),
            e.column()
        )),
        message: format!("unexpected accessible-resources response: {e}"),
    })
}
