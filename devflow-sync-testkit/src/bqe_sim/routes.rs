//! Every request: faults and throttles, the identity endpoints, bearer authentication
//! with `read:core`/`readwrite:core`, then the API.

use super::*;

pub(super) fn handle(state: &Mutex<State>, req: &Request) -> Response {
    let mut s = lock(state);
    if let Some(status) = s.faults.enter() {
        return error(status, "ServerError", "Injected by the simulator.");
    }
    if !s.throttles.is_empty() {
        let wait = s.throttles.remove(0);
        return error(429, "TooManyRequests", "Rate limit exceeded.")
            .header("Retry-After", wait.to_string());
    }
    match (req.method.as_str(), req.path.as_str()) {
        ("POST", "/idp/connect/token") => return identity::token(&mut s, req),
        ("POST", "/idp/connect/revocation") => return identity::revoke(&mut s, req),
        _ => {}
    }
    let token = req
        .header("authorization")
        .and_then(|h| h.strip_prefix("Bearer "))
        .unwrap_or("")
        .trim()
        .to_owned();
    let now = s.now_ms();
    let Some(t) = s.tokens.get(&token).filter(|t| t.expires_ms > now).cloned() else {
        return error(
            401,
            "Unauthorized",
            "The access token is missing, invalid or expired.",
        );
    };
    let Some(rest) = req.path.strip_prefix("/api/") else {
        return error(404, "NotFound", "No such endpoint.");
    };
    let parts: Vec<String> = rest
        .trim_end_matches('/')
        .split('/')
        .map(server::percent_decode)
        .collect();
    let parts: Vec<&str> = parts.iter().map(String::as_str).collect();
    let can_read = t
        .scopes
        .iter()
        .any(|x| x == "read:core" || x == "readwrite:core");
    let can_write = t.scopes.iter().any(|x| x == "readwrite:core");
    if !can_read || (req.method != "GET" && !can_write) {
        return error(403, "Forbidden", "The token's scope does not allow this.");
    }
    let _ = &t.client;
    match (req.method.as_str(), parts.as_slice()) {
        ("GET", [collection @ ("project" | "client" | "deletedhistory")]) => {
            entities::list(&mut s, collection, req)
        }
        ("GET", [collection @ ("project" | "client"), id]) => entities::get(&s, collection, id),
        ("GET", ["company"]) => Response::json(
            200,
            &json!({"id": "sim-company", "name": "Simulated Company"}),
        ),
        _ => error(404, "NotFound", "No such endpoint in the simulator."),
    }
}
