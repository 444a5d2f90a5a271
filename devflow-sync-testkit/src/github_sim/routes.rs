//! Every request: faults, authentication, the rate limit, then the route.

use super::*;

pub(super) fn handle(state: &Mutex<State>, req: &Request) -> Response {
    let mut s = lock(state);
    if let Some(status) = s.faults.enter() {
        return error(status, "injected by the simulator");
    }
    if req.method == "POST" && req.path == "/login/oauth/access_token" {
        return token_endpoint(&mut s, req);
    }
    if let ("POST", ["app", "installations", id, "access_tokens"]) = (
        req.method.as_str(),
        req.path
            .trim_matches('/')
            .split('/')
            .collect::<Vec<_>>()
            .as_slice(),
    ) {
        return installation_token(&mut s, req, id);
    }
    let token = req
        .header("authorization")
        .and_then(|a| {
            a.strip_prefix("Bearer ")
                .or_else(|| a.strip_prefix("token "))
        })
        .unwrap_or("");
    let now = s.clock.now().timestamp();
    let expired = s
        .expiring_tokens_until
        .get(token)
        .is_some_and(|expires| *expires <= now);
    if !s.tokens.contains(token) || expired {
        return error(401, "Bad credentials");
    }
    // The primary rate limit, in hourly windows. Reading it costs nothing.
    if req.method == "GET" && req.path.trim_end_matches('/') == "/rate_limit" {
        return Response::json(200, &rate_limit_body(&s));
    }
    let now = s.clock.now().timestamp();
    if let Err(reset) = s.budget.check(now) {
        return error(403, "API rate limit exceeded for user ID 1.")
            .header("x-ratelimit-limit", s.budget.limit().to_string())
            .header("x-ratelimit-remaining", "0")
            .header("x-ratelimit-reset", reset.to_string())
            .header("x-ratelimit-resource", "core");
    }
    let response = route(&mut s, req);
    // A 304 costs nothing.
    if response.status != 304 {
        let _ = s.budget.try_spend(now);
    }
    let b = &s.budget;
    response
        .header("x-ratelimit-limit", b.limit().to_string())
        .header("x-ratelimit-remaining", b.remaining().to_string())
        .header("x-ratelimit-used", b.used().to_string())
        .header("x-ratelimit-reset", b.reset().to_string())
        .header("x-ratelimit-resource", "core")
}

pub(super) fn body_json(req: &Request) -> Value {
    serde_json::from_slice(&req.body).unwrap_or(Value::Null)
}

pub(super) fn route(s: &mut State, req: &Request) -> Response {
    let parts: Vec<&str> = req.path.trim_matches('/').split('/').collect();
    let number = |n: &str| n.parse::<u64>().unwrap_or(0);
    match (req.method.as_str(), parts.as_slice()) {
        ("GET", ["user"]) => Response::json(200, &user_object(&s.base_url)),
        ("GET", ["repos", o, r]) => repo_object(s, &format!("{o}/{r}")).map_or_else(
            || error(404, "Not Found"),
            |repo| Response::json(200, &repo),
        ),
        ("GET", ["repos", o, r, "labels", name]) => {
            get_label(s, &format!("{o}/{r}"), &server::percent_decode(name))
        }
        (method, ["repos", o, r, "issues", n, "labels"]) => issue_labels(
            s,
            method,
            &format!("{o}/{r}"),
            number(n),
            None,
            &body_json(req),
        ),
        (method, ["repos", o, r, "issues", n, "labels", name]) => {
            let name = server::percent_decode(name);
            let repo = format!("{o}/{r}");
            issue_labels(s, method, &repo, number(n), Some(&name), &body_json(req))
        }
        ("GET", ["repos", o, r, "issues", n, "sub_issues"]) => {
            sub_issues(s, &format!("{o}/{r}"), number(n))
        }
        ("GET", ["repos", o, r, "issues", n, "parent"]) => {
            parent_of(s, &format!("{o}/{r}"), number(n))
        }
        ("GET", ["user", "repos"]) => {
            let repos: Vec<Value> = s
                .repos
                .iter()
                .map(|(name, r)| json!({"id": r.id, "full_name": name, "private": true}))
                .collect();
            Response::json(200, &Value::Array(repos))
        }
        ("GET", ["repositories", id, "issues"]) => {
            let id: u64 = id.parse().unwrap_or(0);
            match s
                .repos
                .iter()
                .find(|(_, r)| r.id == id)
                .map(|(n, _)| n.clone())
            {
                Some(repo) => list_issues(s, &repo, req),
                None => error(404, "Not Found"),
            }
        }
        ("GET", ["repos", o, r, "issues"]) => list_issues(s, &format!("{o}/{r}"), req),
        ("POST", ["repos", o, r, "issues"]) => {
            match create_issue(s, &format!("{o}/{r}"), &body_json(req)) {
                Ok(issue) => Response::json(201, &issue),
                Err(response) => response,
            }
        }
        ("GET", ["repos", o, r, "issues", n]) => {
            let issue = n
                .parse::<u64>()
                .ok()
                .and_then(|n| s.repos.get(&format!("{o}/{r}"))?.issues.get(&n).cloned());
            issue.map_or_else(|| error(404, "Not Found"), |i| Response::json(200, &i))
        }
        ("PATCH", ["repos", o, r, "issues", n]) => {
            let updated = n
                .parse::<u64>()
                .ok()
                .and_then(|n| update_issue(s, &format!("{o}/{r}"), n, &body_json(req)));
            updated.map_or_else(|| error(404, "Not Found"), |i| Response::json(200, &i))
        }
        ("POST", ["repos", o, r, "issues", n, "sub_issues"]) => {
            let repo = format!("{o}/{r}");
            let child_id = body_json(req)["sub_issue_id"].as_u64();
            let base = s.base_url.clone();
            let Some(rp) = s.repos.get_mut(&repo) else {
                return error(404, "Not Found");
            };
            let parent = n
                .parse::<u64>()
                .ok()
                .and_then(|n| rp.issues.get(&n).cloned());
            let child = child_id.and_then(|id| rp.issues.values_mut().find(|i| i["id"] == id));
            match (child, parent) {
                (Some(child), Some(parent)) => {
                    let number = parent["number"].as_u64().unwrap_or(0);
                    child["parent_issue_url"] =
                        json!(format!("{base}/repos/{repo}/issues/{number}"));
                    let child = child.clone();
                    emit_event(
                        s,
                        &repo,
                        "sub_issues",
                        json!({"action": "sub_issue_added", "parent_issue_id": parent["id"],
                            "parent_issue": parent, "sub_issue_id": child["id"], "sub_issue": child}),
                    );
                    Response::json(201, &parent)
                }
                _ => error(422, "Validation Failed"),
            }
        }
        ("DELETE", ["repos", o, r, "issues", n, "sub_issue"]) => {
            let child_id = body_json(req)["sub_issue_id"].as_u64();
            let parent = n.parse::<u64>().unwrap_or(0);
            match remove_sub_issue(s, &format!("{o}/{r}"), parent, child_id) {
                Ok(parent) => Response::json(200, &parent),
                Err(response) => response,
            }
        }
        ("GET", ["repos", o, r, "milestones"]) => {
            let state = req.query("state").unwrap_or("open");
            let milestones: Vec<Value> = s
                .repos
                .get(&format!("{o}/{r}"))
                .map(|r| {
                    r.milestones
                        .values()
                        .filter(|m| state == "all" || m["state"] == state)
                        .map(|m| with_counts(r, m))
                        .collect()
                })
                .unwrap_or_default();
            Response::json(200, &Value::Array(milestones))
        }
        ("POST", ["repos", o, r, "milestones"]) => {
            match create_milestone(s, &format!("{o}/{r}"), &body_json(req)) {
                Ok(m) => Response::json(201, &m),
                Err(response) => response,
            }
        }
        ("GET", ["repos", o, r, "milestones", n]) => {
            let found = n.parse::<u64>().ok().and_then(|n| {
                let repo = s.repos.get(&format!("{o}/{r}"))?;
                repo.milestones.get(&n).map(|m| with_counts(repo, m))
            });
            found.map_or_else(|| error(404, "Not Found"), |m| Response::json(200, &m))
        }
        ("PATCH", ["repos", o, r, "milestones", n]) => {
            let number = n.parse::<u64>().unwrap_or(0);
            match update_milestone(s, &format!("{o}/{r}"), number, &body_json(req)) {
                Ok(m) => Response::json(200, &m),
                Err(response) => response,
            }
        }
        ("GET", ["repos", o, r, "labels"]) => {
            let repo = format!("{o}/{r}");
            let labels: Vec<Value> = s
                .repos
                .get(&repo)
                .map(|r| {
                    r.labels
                        .keys()
                        .map(|n| label_object(&s.base_url, &repo, r, n))
                        .collect()
                })
                .unwrap_or_default();
            Response::json(200, &Value::Array(labels))
        }
        ("POST", ["repos", o, r, "labels"]) => {
            let body = body_json(req);
            let (Some(name), Some(color)) = (body["name"].as_str(), body["color"].as_str()) else {
                return error(422, "Validation Failed");
            };
            let Some(rp) = s.repos.get_mut(&format!("{o}/{r}")) else {
                return error(404, "Not Found");
            };
            if rp.labels.contains_key(name) {
                return Response::json(
                    422,
                    &json!({"message": "Validation Failed", "errors": [{"resource": "Label", "code": "already_exists", "field": "name"}]}),
                );
            }
            rp.labels.insert(name.to_owned(), color.to_owned());
            if let Some(description) = body["description"].as_str() {
                rp.label_descriptions
                    .insert(name.to_owned(), description.to_owned());
            }
            let repo = format!("{o}/{r}");
            Response::json(
                201,
                &label_object(&s.base_url, &repo, &s.repos[&repo], name),
            )
        }
        ("GET", ["repos", o, r, "issues", n, "comments"]) => {
            super::comments::list(s, &format!("{o}/{r}"), number(n), req)
        }
        ("POST", ["repos", o, r, "issues", n, "comments"]) => {
            super::comments::create(s, &format!("{o}/{r}"), number(n), &body_json(req))
        }
        (method @ ("GET" | "PATCH" | "DELETE"), ["repos", o, r, "issues", "comments", id]) => {
            super::comments::one(s, method, &format!("{o}/{r}"), number(id), &body_json(req))
        }
        (method @ ("PUT" | "DELETE"), ["repos", o, r, "issues", n, "lock"]) => {
            let locked = method == "PUT";
            super::comments::lock_issue(s, &format!("{o}/{r}"), number(n), locked, &body_json(req))
        }
        ("GET", ["repos", o, r, "issues", n, "events"]) => {
            match s
                .repos
                .get(&format!("{o}/{r}"))
                .filter(|repo| repo.issues.contains_key(&number(n)))
            {
                Some(repo) => Response::json(
                    200,
                    &json!(repo.events.get(&number(n)).cloned().unwrap_or_default()),
                ),
                None => error(404, "Not Found"),
            }
        }
        ("GET", ["search", "issues"]) => super::search::issues(s, req),
        _ => {
            tracing::warn!(
                method = %req.method,
                path = %req.path,
                "the GitHub simulator has no such route; answered 404"
            );
            error(404, "Not Found")
        }
    }
}
