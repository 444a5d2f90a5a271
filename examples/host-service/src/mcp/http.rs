//! The MCP tools over streamable HTTP at `/mcp` (behind the admin token, like every
//! integrations endpoint): the same [`DevflowMcp`] over the same state as stdio, a
//! session per client kept in this process.

use std::sync::Arc;

use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};

use super::DevflowMcp;
use crate::state::AppState;

/// The tower service answering MCP's streamable HTTP transport, for
/// `Router::route_service("/mcp", ...)`. Hosts other than loopback are refused (the
/// transport's DNS-rebinding guard) unless the host widens its config.
pub fn service(state: &Arc<AppState>) -> StreamableHttpService<DevflowMcp, LocalSessionManager> {
    let tools = state.clone();
    StreamableHttpService::new(
        move || Ok(DevflowMcp::new(tools.clone())),
        Arc::new(LocalSessionManager::default()),
        // Stopping the service ends the open event streams too.
        StreamableHttpServerConfig::default().with_cancellation_token(state.mcp_stop.child_token()),
    )
}
