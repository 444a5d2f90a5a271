//! Atlassian's cloud id lookup: which sites a 3LO grant reaches.

use std::sync::Arc;

use devflow_sync_core::Result;
use devflow_sync_core::api::{ApiClient, ApiRequest, StaticToken};
use devflow_sync_core::auth::AccessToken;
use devflow_sync_core::http::HttpClient;
use devflow_sync_core::model::ConnectionId;
use serde::{Deserialize, Serialize};

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
    let client = ApiClient::new(
        http.clone(),
        "atlassian",
        api,
        "atlassian.api",
        Arc::new(StaticToken::new(token.clone())),
    )?
    .with_header("Accept", "application/json");
    client
        .json(
            connection,
            &ApiRequest::get(client.url("/oauth/token/accessible-resources")),
        )
        .await
}
