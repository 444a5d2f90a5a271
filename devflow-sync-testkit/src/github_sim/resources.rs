//! What a GitHub client commonly reads besides issues: the repository, the
//! authenticated user, `/rate_limit`, a repository's label by name, the labels of an
//! issue (list, add, replace, remove), and sub-issues (list, parent), in GitHub's shapes.

use super::*;

/// The authenticated user.
pub(super) fn user_object(base: &str) -> Value {
    json!({
        "login": "octocat", "id": 1, "node_id": "MDQ6VXNlcjE=",
        "avatar_url": "https://avatars.githubusercontent.com/u/1?v=4", "gravatar_id": "",
        "url": format!("{base}/users/octocat"), "html_url": "https://github.com/octocat",
        "type": "User", "site_admin": false,
    })
}

/// `GET /repos/{owner}/{repo}`.
pub(super) fn repo_object(s: &State, full_name: &str) -> Option<Value> {
    let r = s.repos.get(full_name)?;
    let (owner, name) = full_name.split_once('/')?;
    let open = r.issues.values().filter(|i| i["state"] == "open").count();
    let base = &s.base_url;
    Some(json!({
        "id": r.id, "node_id": format!("R_{}", r.id), "name": name, "full_name": full_name,
        "private": true, "visibility": "private",
        "owner": {"login": owner, "id": 2, "type": "Organization",
                  "url": format!("{base}/users/{owner}")},
        "html_url": format!("https://github.com/{full_name}"),
        "url": format!("{base}/repos/{full_name}"),
        "issues_url": format!("{base}/repos/{full_name}/issues{{/number}}"),
        "labels_url": format!("{base}/repos/{full_name}/labels{{/name}}"),
        "default_branch": "main", "has_issues": true, "archived": false, "disabled": false,
        "open_issues_count": open, "open_issues": open,
        "permissions": {"admin": true, "maintain": true, "push": true, "triage": true, "pull": true},
    }))
}

/// `GET /rate_limit` (which costs nothing).
pub(super) fn rate_limit_body(s: &State) -> Value {
    let core = json!({
        "limit": s.budget.limit(), "remaining": s.budget.remaining(),
        "reset": s.budget.reset(), "used": s.budget.used(), "resource": "core",
    });
    json!({"resources": {"core": core}, "rate": core})
}

/// GitHub's default labels (`default: true` on them).
const DEFAULT_LABELS: [&str; 9] = [
    "bug",
    "documentation",
    "duplicate",
    "enhancement",
    "good first issue",
    "help wanted",
    "invalid",
    "question",
    "wontfix",
];

/// Repository `repo`'s label `name` in GitHub's shape (colour and description as the
/// repository has them).
pub(super) fn label_object(base: &str, repo: &str, r: &Repo, name: &str) -> Value {
    json!({
        "id": fnv(format!("{repo}/{name}").as_bytes()) >> 12,
        "node_id": format!("LA_{name}"),
        "url": format!("{base}/repos/{repo}/labels/{}", name.replace(' ', "%20")),
        "name": name,
        "color": r.labels.get(name).map_or("ededed", String::as_str),
        "default": DEFAULT_LABELS.contains(&name),
        "description": r.label_descriptions.get(name),
    })
}

/// `GET /repos/{owner}/{repo}/labels/{name}`.
pub(super) fn get_label(s: &State, repo: &str, name: &str) -> Response {
    match s.repos.get(repo).filter(|r| r.labels.contains_key(name)) {
        Some(r) => Response::json(200, &label_object(&s.base_url, repo, r, name)),
        None => error(404, "Not Found"),
    }
}

fn label_names(issue: &Value) -> Vec<String> {
    issue["labels"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|l| l["name"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// The label names a request body gives: `{"labels": [...]}` or a bare array.
fn requested_labels(body: &Value) -> Option<Vec<String>> {
    let list = body.get("labels").unwrap_or(body).as_array()?;
    Some(
        list.iter()
            .filter_map(|l| l.as_str().or_else(|| l["name"].as_str()).map(str::to_owned))
            .collect(),
    )
}

/// The labels of an issue: `GET` lists them, `POST` adds, `PUT` replaces, `DELETE`
/// with a name removes one (404 when the issue does not carry it) and without one
/// removes all. Every change moves the issue's change time and emits `labeled` /
/// `unlabeled`.
pub(super) fn issue_labels(
    s: &mut State,
    method: &str,
    repo: &str,
    number: u64,
    name: Option<&str>,
    body: &Value,
) -> Response {
    let Some(issue) = s.repos.get(repo).and_then(|r| r.issues.get(&number)) else {
        return error(404, "Not Found");
    };
    let current = label_names(issue);
    let wanted: Vec<String> = match (method, name) {
        ("GET", None) => return Response::json(200, &issue["labels"]),
        ("POST", None) => match requested_labels(body) {
            Some(add) => {
                let mut all = current.clone();
                all.extend(add.into_iter().filter(|l| !current.contains(l)));
                all
            }
            None => return validation("Issue", "invalid", "labels"),
        },
        ("PUT", None) => match requested_labels(body) {
            Some(set) => set,
            None => return validation("Issue", "invalid", "labels"),
        },
        ("DELETE", Some(name)) if current.iter().any(|l| l == name) => {
            current.iter().filter(|l| *l != name).cloned().collect()
        }
        ("DELETE", Some(_)) => return error(404, "Label does not exist"),
        ("DELETE", None) => Vec::new(),
        _ => return error(404, "Not Found"),
    };
    let action = if wanted.len() >= current.len() {
        "labeled"
    } else {
        "unlabeled"
    };
    match update_issue(s, repo, number, &json!({ "labels": wanted })) {
        Some(issue) => {
            emit(s, repo, action, &issue);
            Response::json(200, &issue["labels"])
        }
        None => error(404, "Not Found"),
    }
}

/// `GET …/issues/{n}/sub_issues`: the issues whose parent it is, by number.
pub(super) fn sub_issues(s: &State, repo: &str, number: u64) -> Response {
    let Some(r) = s.repos.get(repo) else {
        return error(404, "Not Found");
    };
    if !r.issues.contains_key(&number) {
        return error(404, "Not Found");
    }
    let parent_url = format!("{}/repos/{repo}/issues/{number}", s.base_url);
    let children: Vec<Value> = r
        .issues
        .values()
        .filter(|i| i["parent_issue_url"].as_str() == Some(parent_url.as_str()))
        .cloned()
        .collect();
    Response::json(200, &Value::Array(children))
}

/// `GET …/issues/{n}/parent`: the parent issue, 404 when it has none.
pub(super) fn parent_of(s: &State, repo: &str, number: u64) -> Response {
    let parent = s
        .repos
        .get(repo)
        .and_then(|r| r.issues.get(&number))
        .and_then(|i| i["parent_issue_url"].as_str())
        .and_then(|url| {
            let (parent_repo, n) = url.split_once("/repos/")?.1.rsplit_once("/issues/")?;
            let n: u64 = n.parse().ok()?;
            s.repos.get(parent_repo)?.issues.get(&n).cloned()
        });
    parent.map_or_else(|| error(404, "Not Found"), |p| Response::json(200, &p))
}
