//! The MCP tools over streamable HTTP at `/mcp`, spoken by a plain HTTP client as any
//! MCP client would: initialize (a session id comes back), the initialized
//! notification, `tools/list`, `tools/call`; refused without the admin token.

use reqwest::StatusCode;
use serde_json::{Value, json};

mod support;
use support::{ADMIN, service};

const PROTOCOL: &str = "2025-06-18";

/// The JSON-RPC answer in a response: a JSON body, or the `data:` of an event stream.
fn answer(content_type: &str, body: &str) -> Value {
    if content_type.starts_with("text/event-stream") {
        body.lines()
            .filter_map(|l| l.strip_prefix("data:"))
            .filter_map(|d| serde_json::from_str::<Value>(d.trim()).ok())
            .find(|m| m.get("id").is_some())
            .unwrap_or(Value::Null)
    } else {
        serde_json::from_str(body).unwrap_or(Value::Null)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_tools_answer_over_streamable_http() {
    let s = service().await;
    let url = s.url("/mcp");
    let send = |body: Value, session: Option<String>, token: Option<&'static str>| {
        let mut request = s
            .http
            .post(url.clone())
            .header("accept", "application/json, text/event-stream")
            .header("mcp-protocol-version", PROTOCOL)
            .json(&body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(session) = session {
            request = request.header("mcp-session-id", session);
        }
        async move {
            let r = request.send().await.unwrap();
            let status = r.status();
            let session = r
                .headers()
                .get("mcp-session-id")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            let content_type = r
                .headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_owned();
            let body = r.text().await.unwrap();
            (status, session, answer(&content_type, &body))
        }
    };
    let initialize = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": PROTOCOL, "capabilities": {},
        "clientInfo": {"name": "plain-http", "version": "1.0"}}});
    let (status, _, _) = send(initialize.clone(), None, None).await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "the admin token is needed"
    );

    let (status, session, init) = send(initialize, None, Some(ADMIN)).await;
    assert_eq!(status, StatusCode::OK, "{init}");
    assert!(
        init["result"]["capabilities"]["tools"].is_object(),
        "{init}"
    );
    assert!(init["result"]["serverInfo"]["name"].is_string(), "{init}");
    let (status, _, _) = send(
        json!({"jsonrpc": "2.0", "method": "notifications/initialized"}),
        session.clone(),
        Some(ADMIN),
    )
    .await;
    assert!(status.is_success(), "{status}");

    let (status, _, listed) = send(
        json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list"}),
        session.clone(),
        Some(ADMIN),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{listed}");
    let tools = listed["result"]["tools"].as_array().unwrap();
    assert_eq!(tools.len(), 7, "{listed}");
    assert!(tools.iter().all(|t| t["inputSchema"].is_object()));

    let (status, _, called) = send(
        json!({"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {
            "name": "list_conflicts", "arguments": {"status": "pending"}}}),
        session,
        Some(ADMIN),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{called}");
    assert_ne!(called["result"]["isError"], true, "{called}");
    let conflicts = &called["result"]["structuredContent"]["conflicts"];
    assert!(
        conflicts.as_array().is_some_and(|c| !c.is_empty()),
        "the demo's orphan story: {called}"
    );
    s.running.stop().await;
}
