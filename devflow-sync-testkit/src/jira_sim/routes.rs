//! Every request: faults and throttles, the OAuth endpoints, authentication (basic on
//! the site or the gateway, bearer on the gateway), scopes, then the route.

use base64::Engine as _;

use super::*;

/// Who a request acts as.
#[derive(Clone, Debug)]
pub(super) struct Caller {
    pub(super) email: String,
    pub(super) admin: bool,
    /// The OAuth app acting, for bearer tokens.
    pub(super) client: Option<String>,
    /// OAuth scopes; `None` for basic auth (the user's own permissions).
    pub(super) scopes: Option<Vec<String>>,
}

impl Caller {
    fn lacks(&self, scope: &str) -> bool {
        self.scopes
            .as_ref()
            .is_some_and(|s| !s.iter().any(|x| x == scope))
    }
}

fn unauthorized(message: &str) -> Response {
    Response::json(401, &json!({"code": 401, "message": message}))
}

fn throttled(s: &State, reason: &str, retry_after: u64) -> Response {
    let reset = s
        .now()
        .checked_add_signed(chrono::Duration::seconds(
            i64::try_from(retry_after).unwrap_or(0),
        ))
        .unwrap_or_else(|| s.now())
        .format("%Y-%m-%dT%H:%MZ")
        .to_string();
    error(429, &["Rate limit exceeded."], &[])
        .header("Retry-After", retry_after.to_string())
        .header("RateLimit-Reason", reason)
        .header("X-RateLimit-Reset", reset)
        .header("X-RateLimit-Limit", "350")
        .header("X-RateLimit-Remaining", "0")
        .header(
            "Beta-RateLimit-Policy",
            "\"tenant-app-quota\";q=100100;w=3600",
        )
        .header(
            "Beta-RateLimit",
            format!("\"tenant-app-quota\";r=0;t={retry_after}"),
        )
}

pub(super) fn handle(state: &Mutex<State>, req: &Request) -> Response {
    let mut s = lock(state);
    s.oauth.now_ms = s.now_ms();
    if let Some(status) = s.faults.enter() {
        let r = error(status, &["Injected by the simulator."], &[]);
        return if status == 503 {
            r.header("Retry-After", "1")
        } else {
            r
        };
    }
    if !s.throttles.is_empty() {
        let (reason, wait) = s.throttles.remove(0);
        return throttled(&s, &reason, wait);
    }
    match (req.method.as_str(), req.path.as_str()) {
        ("POST", "/oauth/token") => return oauth::token(&mut s, req),
        ("GET", "/oauth/token/accessible-resources") => return oauth::resources(&s, req),
        _ => {}
    }
    let (gateway, path) = match req.path.strip_prefix("/ex/jira/") {
        Some(rest) => match rest.split_once('/') {
            Some((cloud, path)) if cloud == CLOUD_ID => (true, format!("/{path}")),
            _ => return error(404, &["Site not found for this cloud id."], &[]),
        },
        None => (false, req.path.clone()),
    };
    let caller = match authenticate(&s, req, gateway) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let rest = path
        .strip_prefix("/rest/api/3/")
        .map(|r| (3, r))
        .or_else(|| path.strip_prefix("/rest/api/2/").map(|r| (2, r)))
        // `latest` is v2's representation (wiki-markup text), as SDKs that use it expect.
        .or_else(|| path.strip_prefix("/rest/api/latest/").map(|r| (2, r)));
    let Some((version, rest)) = rest else {
        return error(404, &["No such endpoint."], &[]);
    };
    let parts: Vec<String> = rest
        .trim_end_matches('/')
        .split('/')
        .map(server::percent_decode)
        .collect();
    let parts: Vec<&str> = parts.iter().map(String::as_str).collect();
    let scope = match (req.method.as_str(), parts.first().copied()) {
        ("POST" | "PUT", Some("field")) => "manage:jira-configuration",
        (_, Some("webhook")) => "manage:jira-webhook",
        ("GET", Some("myself")) => "read:jira-user",
        ("GET", _) | ("POST", Some("search")) => "read:jira-work",
        ("POST", Some("worklog")) if parts.get(1) == Some(&"list") => "read:jira-work",
        _ => "write:jira-work",
    };
    if caller.lacks(scope) {
        return unauthorized("Unauthorized; scope does not match");
    }
    route(&mut s, req, &caller, version, &parts)
}

fn authenticate(s: &State, req: &Request, gateway: bool) -> Result<Caller, Response> {
    let header = req.header("authorization").unwrap_or("");
    if let Some(basic) = header.strip_prefix("Basic ") {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(basic.trim())
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .unwrap_or_default();
        let Some(user) = s.api_users.get(&decoded) else {
            return Err(unauthorized(
                "Client must be authenticated to access this resource.",
            ));
        };
        if user.expires_ms.is_some_and(|e| e <= s.now_ms()) {
            return Err(unauthorized(
                "Client must be authenticated to access this resource.",
            ));
        }
        return Ok(Caller {
            email: user.email.clone(),
            admin: user.admin,
            client: None,
            scopes: None,
        });
    }
    if let Some(token) = header.strip_prefix("Bearer ") {
        let Some(t) = s.oauth.tokens.get(token.trim()) else {
            return Err(unauthorized("Unauthorized"));
        };
        if t.expires_ms <= s.now_ms() {
            return Err(unauthorized("Unauthorized"));
        }
        if !gateway {
            // OAuth tokens are only good on api.atlassian.com.
            return Err(unauthorized(
                "Client must be authenticated to access this resource.",
            ));
        }
        return Ok(Caller {
            email: "app@devflow.test".into(),
            admin: t.scopes.iter().any(|x| x == "manage:jira-configuration"),
            client: Some(t.client.clone()),
            scopes: Some(t.scopes.clone()),
        });
    }
    Err(unauthorized(
        "Client must be authenticated to access this resource.",
    ))
}

pub(super) fn body_json(req: &Request) -> Result<Value, Response> {
    if req.body.is_empty() {
        return Ok(Value::Null);
    }
    serde_json::from_slice(&req.body).map_err(|e| {
        error(
            400,
            &[&format!("Unexpected character in the JSON body: {e}")],
            &[],
        )
    })
}

fn route(s: &mut State, req: &Request, caller: &Caller, version: u8, parts: &[&str]) -> Response {
    let body = match body_json(req) {
        Ok(b) if version == 2 => v2::request(parts, b),
        Ok(b) => b,
        Err(r) => return r,
    };
    let response = dispatch(s, req, caller, version, parts, body);
    if version == 2 {
        v2::response(parts, response)
    } else {
        response
    }
}

fn dispatch(
    s: &mut State,
    req: &Request,
    caller: &Caller,
    version: u8,
    parts: &[&str],
    body: Value,
) -> Response {
    let ok = |v: Value| Response::json(200, &v);
    let done = |r: Result<Value, Response>, status: u16| match r {
        Ok(_) if status == 204 => Response {
            status: 204,
            headers: Vec::new(),
            body: Vec::new(),
        },
        Ok(v) => Response::json(status, &v),
        Err(e) => e,
    };
    match (req.method.as_str(), parts) {
        ("GET", ["myself"]) => ok(admin::myself(s, caller)),
        ("GET", ["serverInfo"]) => ok(clients::server_info(s)),
        ("GET", ["priority"]) => ok(clients::priorities(s)),
        ("GET", ["status"]) => ok(clients::statuses(s)),
        ("GET", ["issuetype"]) => ok(clients::issue_types(s)),
        ("GET", ["project"]) => ok(clients::project_list(s)),
        ("GET", ["user", "search"]) => ok(clients::users(s)),
        ("GET", ["issue", k, "comment"]) => clients::comments(s, k),
        ("POST", ["issue", k, "comment"]) => clients::add_comment(s, k, &body),
        ("POST", ["issue", "bulkfetch"]) => clients::bulk_fetch(s, &body),
        ("POST", ["search", "approximate-count"]) => clients::approximate_count(s, &body),
        ("POST", ["issueLink"]) => links::create(s, &body),
        ("GET", ["issueLink", id]) => links::get(s, id),
        ("DELETE", ["issueLink", id]) => links::delete(s, id),
        ("GET", ["issueLinkType"]) => ok(meta::link_types(s)),
        ("GET", ["issue", k, "watchers"]) => meta::watchers(s, k),
        ("GET", ["issue", k, "remotelink"]) => remote_links::list(s, k, req),
        ("POST", ["issue", k, "remotelink"]) => remote_links::upsert(s, k, &body),
        (method @ ("GET" | "DELETE"), ["issue", k, "remotelink", id]) => {
            remote_links::one(s, method, k, id)
        }
        ("GET", ["issue", k, "editmeta"]) => meta::editmeta(s, k),
        ("GET", ["project", key, "components" | "versions"]) => meta::project_list(s, key),
        (_, ["search"]) => error(
            410,
            &[
                "The requested API has been removed. Please migrate to the /rest/api/3/search/jql API. A full migration guideline is available at https://developer.atlassian.com/changelog/#CHANGE-2046",
            ],
            &[],
        ),
        ("GET", ["search", "jql"]) => search::search_get(s, req),
        ("POST", ["search", "jql"]) => search::search_post(s, &body),
        ("GET", ["project", "search"]) => ok(admin::projects(s)),
        ("GET", ["project", key]) => admin::project(s, key).map_or_else(
            || {
                error(
                    404,
                    &[&format!("No project could be found with key '{key}'.")],
                    &[],
                )
            },
            ok,
        ),
        ("GET", ["issue", "createmeta", p, "issuetypes"]) => admin::createmeta(s, p),
        ("GET", ["issuetype", "project"]) => admin::project_types(s, req.query("projectId")),
        ("POST", ["issue"]) => done(issues::create(s, &body), 201),
        ("POST", ["issue", "bulk"]) => v2::bulk_create(s, &body),
        ("GET", ["issue", "picker"]) => picker::picker(s, req),
        ("GET", ["issue", k]) => issues::get(s, k, req, version),
        ("GET", ["issue", k, "worklog"]) => worklogs::of_issue(s, k, req),
        ("POST", ["issue", k, "worklog"]) => worklogs::add(s, k, &body, req),
        ("GET", ["issue", k, "worklog", id]) => worklogs::get(s, k, id, req),
        ("PUT", ["issue", k, "worklog", id]) => worklogs::update(s, k, id, &body, req),
        ("DELETE", ["issue", k, "worklog", id]) => worklogs::delete(s, k, id),
        ("GET", ["issue", k, "worklog", id, "properties", p]) => {
            worklogs::property_get(s, k, id, p)
        }
        ("PUT", ["issue", k, "worklog", id, "properties", p]) => {
            worklogs::property_put(s, k, id, p, body)
        }
        ("GET", ["worklog", "updated"]) => worklogs::changed(s, req, false),
        ("GET", ["worklog", "deleted"]) => worklogs::changed(s, req, true),
        ("POST", ["worklog", "list"]) => worklogs::list(s, &body, req),
        ("PUT", ["issue", k]) => done(issues::edit(s, k, &body), 204),
        ("PUT", ["issue", k, "assignee"]) => {
            let assignee = body.get("accountId").cloned().unwrap_or(Value::Null);
            let fields = json!({"fields": {"assignee": if assignee.is_null() { Value::Null } else { json!({"accountId": assignee}) }}});
            done(issues::edit(s, k, &fields), 204)
        }
        ("DELETE", ["issue", k]) => done(issues::delete(s, k, req.query("deleteSubtasks")), 204),
        ("GET", ["issue", k, "transitions"]) => workflow::transitions(s, k),
        ("POST", ["issue", k, "transitions"]) => done(workflow::transition(s, k, &body), 204),
        ("GET", ["issue", k, "changelog"]) => workflow::changelog(s, k),
        ("GET", ["issue", k, "properties"]) => workflow::property_keys(s, k),
        ("GET", ["issue", k, "properties", p]) => workflow::property_get(s, k, p),
        ("PUT", ["issue", k, "properties", p]) => workflow::property_put(s, k, p, body),
        ("DELETE", ["issue", k, "properties", p]) => done(workflow::property_delete(s, k, p), 204),
        ("GET", ["field"]) => ok(Value::Array(admin::all_fields(s))),
        ("POST", ["field"]) => admin::create_field(s, caller, &body),
        ("GET", ["field", id, "context"]) => admin::contexts(s, id),
        ("POST", ["field", id, "context"]) => admin::create_context(s, caller, id, &body),
        ("POST", ["field", id, "context", ctx, "option"]) => {
            admin::add_options(s, caller, id, ctx, &body)
        }
        ("POST", ["webhook"]) => admin::register_webhooks(s, caller, &body),
        ("GET", ["webhook"]) => ok(
            json!({"values": s.webhooks, "isLast": true, "startAt": 0, "maxResults": 100, "total": s.webhooks.len()}),
        ),
        ("PUT", ["webhook", "refresh"]) => admin::refresh_webhooks(s, &body),
        _ => error(404, &["No such endpoint in the simulator."], &[]),
    }
}
