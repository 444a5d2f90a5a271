//! What the simulator test files share.

#![allow(dead_code)]

use devflow_sync_core::auth::{OAuthFlow, TokenGrant};
use devflow_sync_core::model::ConnectionId;
use devflow_sync_testkit::github_sim::GitHubSimulator;

/// The repository the simulator tests use.
pub(crate) const REPO: &str = "octo-org/app";

/// The code flow with PKCE, a person approving at the simulator.
pub(crate) async fn code_grant(
    sim: &GitHubSimulator,
    flow: &OAuthFlow,
    conn: &ConnectionId,
) -> TokenGrant {
    let start = flow.authorize("acme", conn, "user-1").unwrap();
    let url = reqwest::Url::parse(&start.url).unwrap();
    let challenge = url
        .query_pairs()
        .find(|(k, _)| k == "code_challenge")
        .unwrap()
        .1
        .into_owned();
    let code = sim.authorize("Iv1.sim", &challenge);
    flow.exchange_code("acme", conn, &code, &start.state, start.pkce_verifier)
        .await
        .unwrap()
}
