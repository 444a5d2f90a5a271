//! Every request: faults and throttles, authentication (basic on the site or the
//! gateway, bearer with scopes on the gateway), then the v2 or v1 route.

use base64::Engine as _;

use super::*;

fn unauthorized() -> Response {
    Response::json(
        401,
        &json!({"code": 401, "message": "Unauthorized; scope does not match"}),
    )
}

/// The scopes a bearer token holds; `None` for basic auth (the user's permissions).
fn authenticate(s: &State, req: &Request, gateway: bool) -> Result<Option<Vec<String>>, Response> {
    let header = req.header("authorization").unwrap_or("");
    if let Some(basic) = header.strip_prefix("Basic ") {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(basic.trim())
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .unwrap_or_default();
        return match s.api_users.get(&decoded) {
            Some(user) if !user.email.is_empty() => Ok(None),
            _ => Err(unauthorized()),
        };
    }
    if let Some(token) = header.strip_prefix("Bearer ") {
        let token = token.trim();
        let scopes = match s.bearers.get(token) {
            Some(t) if t.expires_ms > s.now_ms() => Some(t.scopes.clone()),
            _ => s.trusted.as_ref().and_then(|check| (check.0)(token)),
        };
        return match scopes {
            Some(scopes) if gateway => Ok(Some(scopes)),
            _ => Err(unauthorized()),
        };
    }
    Err(unauthorized())
}

/// The granular scope a v2 call needs (`search:confluence` for v1 CQL search).
fn scope(method: &str, v1: bool, parts: &[&str]) -> &'static str {
    match (method, v1, parts.first().copied()) {
        (_, true, _) => "search:confluence",
        ("GET", _, Some("spaces")) => "read:space:confluence",
        (_, _, Some("spaces")) => "write:space:confluence",
        ("GET", _, _) => "read:page:confluence",
        ("DELETE", _, _) => "delete:page:confluence",
        _ => "write:page:confluence",
    }
}

pub(super) fn handle(state: &Mutex<State>, req: &Request) -> Response {
    let mut s = lock(state);
    if let Some(status) = s.faults.enter() {
        let r = error(status, "SIMULATED", "Injected by the simulator.");
        return if status == 503 {
            r.header("Retry-After", "1")
        } else {
            r
        };
    }
    if !s.throttles.is_empty() {
        let wait = s.throttles.remove(0);
        return Response::json(429, &json!({"message": "Rate limit exceeded."}))
            .header("Retry-After", wait.to_string())
            .header("X-RateLimit-Limit", "350")
            .header("X-RateLimit-Remaining", "0");
    }
    let (gateway, path) = match req.path.strip_prefix("/ex/confluence/") {
        Some(rest) => match rest.split_once('/') {
            Some((cloud, path)) if cloud == CLOUD_ID => (true, format!("/{path}")),
            _ => return error(404, "NOT_FOUND", "Site not found for this cloud id."),
        },
        None => (false, req.path.clone()),
    };
    let scopes = match authenticate(&s, req, gateway) {
        Ok(scopes) => scopes,
        Err(r) => return r,
    };
    let (v1, rest) = match (
        path.strip_prefix("/wiki/api/v2/"),
        path.strip_prefix("/wiki/rest/api/"),
    ) {
        (Some(rest), _) => (false, rest),
        (None, Some(rest)) => (true, rest),
        _ => return error(404, "NOT_FOUND", "No such endpoint."),
    };
    let parts: Vec<String> = rest
        .trim_end_matches('/')
        .split('/')
        .map(server::percent_decode)
        .collect();
    let parts: Vec<&str> = parts.iter().map(String::as_str).collect();
    let needed = scope(&req.method, v1, &parts);
    if scopes.is_some_and(|s| !s.iter().any(|x| x == needed)) {
        return unauthorized();
    }
    let body = if req.body.is_empty() {
        Value::Null
    } else {
        match serde_json::from_slice(&req.body) {
            Ok(v) => v,
            Err(e) => {
                return error(
                    400,
                    "INVALID_REQUEST_PARAMETER",
                    &format!("Unparseable JSON: {e}"),
                );
            }
        }
    };
    if v1 {
        return match (req.method.as_str(), parts.as_slice()) {
            ("GET", ["search"] | ["content", "search"]) => search::search(&mut s, req),
            (_, ["content", ..]) => Response::json(
                410,
                &json!({"statusCode": 410, "message": "This API has been removed. Use the v2 API: /wiki/api/v2/pages", "data": {"authorized": true, "valid": false, "errors": [], "successful": false}}),
            ),
            _ => Response::json(
                404,
                &json!({"statusCode": 404, "message": "No such endpoint in the simulator.", "data": {"authorized": true, "valid": false, "errors": [], "successful": false}}),
            ),
        };
    }
    let done = |r: Result<Value, Response>| match r {
        Ok(v) => Response::json(200, &v),
        Err(e) => e,
    };
    let empty = |r: Result<(), Response>| match r {
        Ok(()) => Response {
            status: 204,
            headers: Vec::new(),
            body: Vec::new(),
        },
        Err(e) => e,
    };
    match (req.method.as_str(), parts.as_slice()) {
        ("GET", ["spaces"]) => spaces::list(&s, req),
        ("POST", ["spaces"]) => done(spaces::create(&mut s, &body)),
        ("GET", ["spaces", id]) => done(spaces::get(&s, id)),
        ("GET", ["spaces", id, "pages"]) => pages::list(&s, req, Some(id)),
        ("GET", ["pages"]) => pages::list(&s, req, None),
        ("POST", ["pages"]) => done(pages::create(&mut s, req, &body)),
        ("GET", ["pages", id]) => done(pages::get(&s, req, id)),
        ("PUT", ["pages", id]) => done(changes::update(&mut s, id, &body)),
        ("DELETE", ["pages", id]) => empty(changes::delete(&mut s, req, id)),
        ("GET", ["pages", id, "direct-children" | "children"]) => pages::children(&s, req, id),
        ("GET", ["pages", id, "ancestors"]) => done(pages::ancestors(&s, id)),
        ("GET", ["pages", id, "versions"]) => done(pages::versions(&s, id)),
        ("GET", ["pages", id, "labels"]) => done(pages::labels(&s, id)),
        ("GET", ["pages", id, "properties"]) => properties::list(&s, req, id),
        ("POST", ["pages", id, "properties"]) => done(properties::create(&mut s, id, &body)),
        ("GET", ["pages", id, "properties", p]) => done(properties::get(&s, id, p)),
        ("PUT", ["pages", id, "properties", p]) => done(properties::update(&mut s, id, p, &body)),
        ("DELETE", ["pages", id, "properties", p]) => empty(properties::delete(&mut s, id, p)),
        _ => error(404, "NOT_FOUND", "No such endpoint in the simulator."),
    }
}
