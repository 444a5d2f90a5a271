//! [`GitHubSimulator`]: an in-process server on 127.0.0.1 speaking the subset of GitHub's
//! REST API devflow-sync uses, in GitHub's response shapes: issues (create, get, update,
//! list with `since`, label filters, cursor `link` headers, ETags and 304), labels,
//! milestones, sub-issues (added and removed within a repository), issue search, the repositories a token reaches, an OAuth token endpoint
//! with PKCE, GitHub App installation tokens (RS256 JWTs checked against the app's
//! public key, tokens expiring after an hour), rate-limit headers with a budget (403 when spent), and signed webhook
//! deliveries. Host test suites can use it as their mock GitHub.

mod server;

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};

use chrono::{DateTime, SecondsFormat, Timelike, Utc};
use devflow_sync_core::auth::{PkceVerifier, WebhookSecret};
use devflow_sync_core::clock::{Clock, SystemClock};
use devflow_sync_core::provider::Headers;
use devflow_sync_core::webhook::sign_hmac_sha256;
use serde_json::{Value, json};
use server::{Request, Response, parse_query};

/// The webhook secret deliveries are signed with.
pub const WEBHOOK_SECRET: &str = "simulator-webhook-secret";

#[derive(Debug, Default)]
struct Repo {
    id: u64,
    issues: BTreeMap<u64, Value>,
    /// The issues by (change time, number): the order listings page in.
    feed: std::collections::BTreeSet<(String, u64)>,
    labels: BTreeMap<String, String>,
    milestones: BTreeMap<u64, Value>,
    next_number: u64,
}

#[derive(Debug)]
struct State {
    clock: Arc<dyn Clock>,
    repos: BTreeMap<String, Repo>,
    next_id: u64,
    tokens: HashSet<String>,
    codes: HashMap<String, (String, String)>,
    rate_limit: u32,
    remaining: u32,
    window_start: i64,
    requests: u64,
    faults: VecDeque<u16>,
    outbox: Vec<(Headers, Vec<u8>)>,
    next_delivery: u64,
    base_url: String,
    /// GitHub Apps by issuer: their public keys (DER `RSAPublicKey`) and installations.
    apps: HashMap<String, (Vec<u8>, HashSet<u64>)>,
    /// Installation tokens with their expiry (epoch seconds).
    installation_tokens: HashMap<String, i64>,
    minted: u64,
}

/// An in-process GitHub for tests and examples.
#[derive(Debug)]
pub struct GitHubSimulator {
    addr: SocketAddr,
    state: Arc<Mutex<State>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for GitHubSimulator {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    state.lock().unwrap_or_else(|e| e.into_inner())
}

fn stamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn error(status: u16, message: &str) -> Response {
    Response::json(
        status,
        &json!({"message": message, "documentation_url": "https://docs.github.com/rest"}),
    )
}

impl GitHubSimulator {
    /// Starts a simulator on a free loopback port, on the system clock.
    pub async fn start() -> std::io::Result<Self> {
        Self::start_with_clock(Arc::new(SystemClock)).await
    }

    /// Starts a simulator whose timestamps come from `clock`.
    pub async fn start_with_clock(clock: Arc<dyn Clock>) -> std::io::Result<Self> {
        let now = clock.now().timestamp();
        let state = Arc::new(Mutex::new(State {
            clock,
            repos: BTreeMap::new(),
            next_id: 1_000_000,
            tokens: HashSet::new(),
            codes: HashMap::new(),
            rate_limit: 5000,
            remaining: 5000,
            window_start: now,
            requests: 0,
            faults: VecDeque::new(),
            outbox: Vec::new(),
            next_delivery: 0,
            base_url: String::new(),
            apps: HashMap::new(),
            installation_tokens: HashMap::new(),
            minted: 0,
        }));
        let handler_state = state.clone();
        let handler = Arc::new(move |request: Request| handle(&handler_state, &request));
        let (addr, task) = server::serve(handler).await?;
        lock(&state).base_url = format!("http://{addr}");
        Ok(Self { addr, state, task })
    }

    /// The base URL (`http://127.0.0.1:PORT`).
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Adds an empty repository `owner/name`.
    pub fn add_repo(&self, full_name: &str) {
        let mut s = lock(&self.state);
        s.next_id += 1;
        let id = s.next_id;
        s.repos.entry(full_name.to_owned()).or_insert_with(|| Repo {
            id,
            next_number: 1,
            ..Repo::default()
        });
    }

    /// Accepts `token` as a valid access token.
    pub fn accept_token(&self, token: &str) {
        lock(&self.state).tokens.insert(token.to_owned());
    }

    /// A person approves an OAuth app for `client_id` with this PKCE challenge; the
    /// returned code is what GitHub would put on the redirect.
    pub fn authorize(&self, client_id: &str, code_challenge: &str) -> String {
        let mut s = lock(&self.state);
        s.next_id += 1;
        let code = format!("code-{}", s.next_id);
        s.codes.insert(
            code.clone(),
            (client_id.to_owned(), code_challenge.to_owned()),
        );
        code
    }

    /// Registers a GitHub App: JWTs with `iss` = `issuer` signed by the private key of
    /// `public_key_der` (DER `RSAPublicKey`) may mint tokens for `installation_id`.
    pub fn register_app(&self, issuer: &str, public_key_der: &[u8], installation_id: u64) {
        lock(&self.state)
            .apps
            .entry(issuer.to_owned())
            .or_insert_with(|| (public_key_der.to_vec(), HashSet::new()))
            .1
            .insert(installation_id);
    }

    /// Installation tokens minted so far.
    pub fn installation_tokens_minted(&self) -> u64 {
        lock(&self.state).minted
    }

    /// Revokes every token (`DELETE /installation/token` or a password reset).
    pub fn revoke_all_tokens(&self) {
        let mut s = lock(&self.state);
        s.tokens.clear();
        s.installation_tokens.clear();
    }

    /// Sets the primary rate limit per hour, starting a fresh window.
    pub fn set_rate_limit(&self, per_hour: u32) {
        let mut s = lock(&self.state);
        s.rate_limit = per_hour;
        s.remaining = per_hour;
        s.window_start = s.clock.now().timestamp();
    }

    /// The next requests answer with these statuses (500, 502, 429...).
    pub fn fail_next(&self, statuses: &[u16]) {
        lock(&self.state).faults.extend(statuses);
    }

    /// Requests served so far.
    pub fn requests(&self) -> u64 {
        lock(&self.state).requests
    }

    /// An issue as GitHub would return it.
    pub fn issue(&self, repo: &str, number: u64) -> Option<Value> {
        lock(&self.state)
            .repos
            .get(repo)?
            .issues
            .get(&number)
            .cloned()
    }

    /// Every issue of a repository, by number.
    pub fn issues(&self, repo: &str) -> Vec<Value> {
        lock(&self.state)
            .repos
            .get(repo)
            .map(|r| r.issues.values().cloned().collect())
            .unwrap_or_default()
    }

    /// The milestones of a repository, by number, as GitHub returns them.
    pub fn milestones(&self, repo: &str) -> Vec<Value> {
        lock(&self.state)
            .repos
            .get(repo)
            .map(|r| r.milestones.values().cloned().collect())
            .unwrap_or_default()
    }

    /// A person creates a milestone in GitHub; returns its number.
    pub fn create_milestone(&self, repo: &str, title: &str) -> Option<u64> {
        let mut s = lock(&self.state);
        create_milestone(&mut s, repo, &json!({"title": title}))
            .ok()
            .and_then(|m| m["number"].as_u64())
    }

    /// The labels of a repository with their colours.
    pub fn labels(&self, repo: &str) -> BTreeMap<String, String> {
        lock(&self.state)
            .repos
            .get(repo)
            .map(|r| r.labels.clone())
            .unwrap_or_default()
    }

    /// A person opens an issue in GitHub; returns its number.
    pub fn open_issue(&self, repo: &str, fields: &Value) -> u64 {
        let mut s = lock(&self.state);
        create_issue(&mut s, repo, fields)
            .ok()
            .and_then(|v| v.get("number").and_then(Value::as_u64))
            .unwrap_or(0)
    }

    /// A person edits an issue in GitHub (any of `title`, `body`, `state`, `labels`
    /// as names, `assignees` as logins).
    pub fn edit_issue(&self, repo: &str, number: u64, patch: &Value) -> Option<Value> {
        let mut s = lock(&self.state);
        update_issue(&mut s, repo, number, patch)
    }

    /// A person removes sub-issue `child` from under its parent in GitHub; false when it
    /// has none.
    pub fn remove_parent(&self, repo: &str, child: u64) -> bool {
        let mut s = lock(&self.state);
        let Some(issue) = s.repos.get(repo).and_then(|r| r.issues.get(&child)) else {
            return false;
        };
        let (parent, id) = (
            issue["parent_issue_url"]
                .as_str()
                .and_then(|u| u.rsplit('/').next())
                .and_then(|n| n.parse().ok()),
            issue["id"].as_u64(),
        );
        parent.is_some_and(|parent| remove_sub_issue(&mut s, repo, parent, id).is_ok())
    }

    /// Takes the signed webhook deliveries emitted since the last call.
    pub fn take_webhooks(&self) -> Vec<(Headers, Vec<u8>)> {
        std::mem::take(&mut lock(&self.state).outbox)
    }

    /// Seeds `count` issues quickly (no webhooks), for benches.
    pub fn seed_issues(&self, repo: &str, count: usize) {
        let mut s = lock(&self.state);
        let now = stamp(s.clock.now());
        let Some(r) = s.repos.get_mut(repo) else {
            return;
        };
        let repo_name = repo.to_owned();
        for i in 0..count {
            let number = r.next_number;
            r.next_number += 1;
            let issue = json!({
                "id": 5_000_000 + number, "number": number, "title": format!("Issue {i}"),
                "body": "Seeded.", "state": "open", "state_reason": null,
                "labels": [], "assignees": [], "milestone": null,
                "html_url": format!("https://github.com/{repo_name}/issues/{number}"),
                "created_at": now, "updated_at": now, "closed_at": null,
            });
            r.feed.insert((now.clone(), number));
            r.issues.insert(number, issue);
        }
    }
}

fn emit(s: &mut State, repo: &str, action: &str, issue: &Value) {
    let mut payload = json!({"action": action, "issue": issue});
    if matches!(action, "milestoned" | "demilestoned") {
        payload["milestone"] = issue["milestone"].clone();
    }
    emit_event(s, repo, "issues", payload);
}

/// Queues a signed delivery of `event` with `payload` (plus the repository and sender).
fn emit_event(s: &mut State, repo: &str, event: &str, mut payload: Value) {
    s.next_delivery += 1;
    let delivery = format!("00000000-0000-4000-8000-{:012}", s.next_delivery);
    let repo_id = s.repos.get(repo).map_or(0, |r| r.id);
    payload["repository"] = json!({"id": repo_id, "full_name": repo});
    payload["sender"] = json!({"login": "octocat"});
    let body = serde_json::to_vec(&payload).unwrap_or_default();
    let signature = sign_hmac_sha256(&WebhookSecret::new(WEBHOOK_SECRET), &body);
    let headers = Headers::new()
        .with("X-GitHub-Event", event)
        .with("X-GitHub-Delivery", delivery)
        .with("X-Hub-Signature-256", signature)
        .with("Content-Type", "application/json");
    s.outbox.push((headers, body));
}

fn label_objects(repo: &mut Repo, names: &[String]) -> Value {
    Value::Array(
        names
            .iter()
            .map(|n| {
                let color = repo
                    .labels
                    .entry(n.clone())
                    .or_insert_with(|| "ededed".into())
                    .clone();
                json!({"name": n, "color": color})
            })
            .collect(),
    )
}

/// The milestone object an issue carries for `number`: `Ok(None)` for null, an error
/// message when the repository has no such milestone.
fn milestone_ref(repo: &Repo, value: Option<&Value>) -> Result<Option<Value>, String> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v
            .as_u64()
            .and_then(|n| repo.milestones.get(&n))
            .cloned()
            .map(Some)
            .ok_or_else(|| format!("milestone {v} does not exist")),
    }
}

fn create_milestone(s: &mut State, repo: &str, fields: &Value) -> Result<Value, Response> {
    let now = stamp(s.clock.now());
    s.next_id += 1;
    let id = s.next_id;
    let base = s.base_url.clone();
    let r = s
        .repos
        .get_mut(repo)
        .ok_or_else(|| error(404, "Not Found"))?;
    let Some(title) = fields.get("title").and_then(Value::as_str) else {
        return Err(validation("Milestone", "missing_field", "title"));
    };
    if r.milestones.values().any(|m| m["title"] == title) {
        return Err(validation("Milestone", "already_exists", "title"));
    }
    let number = r.milestones.keys().next_back().map_or(1, |n| n + 1);
    let milestone = json!({
        "url": format!("{base}/repos/{repo}/milestones/{number}"),
        "html_url": format!("https://github.com/{repo}/milestone/{number}"),
        "id": id, "node_id": format!("MI_{id}"), "number": number, "title": title,
        "description": fields.get("description").cloned().unwrap_or(Value::Null),
        "state": fields.get("state").and_then(Value::as_str).unwrap_or("open"),
        "open_issues": 0, "closed_issues": 0,
        "created_at": now, "updated_at": now,
        "due_on": fields.get("due_on").cloned().unwrap_or(Value::Null), "closed_at": null,
    });
    r.milestones.insert(number, milestone.clone());
    emit_event(
        s,
        repo,
        "milestone",
        json!({"action": "created", "milestone": milestone}),
    );
    Ok(milestone)
}

/// Changes a milestone's `title`, `description`, `state` or `due_on`; the issues carrying
/// it show the change.
fn update_milestone(
    s: &mut State,
    repo: &str,
    number: u64,
    patch: &Value,
) -> Result<Value, Response> {
    let now = stamp(s.clock.now());
    let r = s
        .repos
        .get_mut(repo)
        .ok_or_else(|| error(404, "Not Found"))?;
    if !r.milestones.contains_key(&number) {
        return Err(error(404, "Not Found"));
    }
    if let Some(title) = patch.get("title") {
        let Some(title) = title.as_str().filter(|t| !t.is_empty()) else {
            return Err(validation("Milestone", "invalid", "title"));
        };
        if r.milestones
            .iter()
            .any(|(n, m)| *n != number && m["title"] == title)
        {
            return Err(validation("Milestone", "already_exists", "title"));
        }
    }
    let Some(milestone) = r.milestones.get_mut(&number) else {
        return Err(error(404, "Not Found"));
    };
    for key in ["title", "description", "state", "due_on"] {
        if let Some(v) = patch.get(key) {
            milestone[key] = v.clone();
        }
    }
    milestone["updated_at"] = json!(now);
    let milestone = milestone.clone();
    for issue in r.issues.values_mut() {
        if issue["milestone"]["number"] == number {
            issue["milestone"] = milestone.clone();
        }
    }
    emit_event(
        s,
        repo,
        "milestone",
        json!({"action": "edited", "milestone": milestone}),
    );
    Ok(milestone)
}

fn validation(resource: &str, code: &str, field: &str) -> Response {
    Response::json(
        422,
        &json!({"message": "Validation Failed", "errors": [{"resource": resource, "code": code, "field": field}], "documentation_url": "https://docs.github.com/rest"}),
    )
}

fn strings(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

fn create_issue(s: &mut State, repo: &str, fields: &Value) -> Result<Value, Response> {
    let now = stamp(s.clock.now());
    s.next_id += 1;
    let id = s.next_id;
    let r = s
        .repos
        .get_mut(repo)
        .ok_or_else(|| error(404, "Not Found"))?;
    let milestone = milestone_ref(r, fields.get("milestone"))
        .map_err(|_| validation("Issue", "invalid", "milestone"))?;
    let number = r.next_number;
    r.next_number += 1;
    let labels = label_objects(r, &strings(fields.get("labels")));
    let assignees: Vec<Value> = strings(fields.get("assignees"))
        .into_iter()
        .map(|l| json!({"login": l}))
        .collect();
    let issue = json!({
        "id": id, "node_id": format!("I_{id}"), "number": number,
        "title": fields.get("title").and_then(Value::as_str).unwrap_or(""),
        "body": fields.get("body").cloned().unwrap_or(Value::Null),
        "state": "open", "state_reason": null, "labels": labels, "assignees": assignees,
        "milestone": milestone, "parent_issue_url": null,
        "url": format!("{}/repos/{repo}/issues/{number}", s.base_url),
        "html_url": format!("https://github.com/{repo}/issues/{number}"),
        "created_at": now, "updated_at": now, "closed_at": null,
    });
    if let Some(r) = s.repos.get_mut(repo) {
        r.feed.insert((now, number));
        r.issues.insert(number, issue.clone());
    }
    emit(s, repo, "opened", &issue);
    if !issue["milestone"].is_null() {
        emit(s, repo, "milestoned", &issue);
    }
    Ok(issue)
}

/// Moves an issue's change time to `now` and its place in the feed with it. Times have
/// one-second precision, like GitHub's, and only move forward: a change in the same
/// second as the last one gets the next second.
fn touch(
    feed: &mut std::collections::BTreeSet<(String, u64)>,
    issue: &mut Value,
    number: u64,
    now: DateTime<Utc>,
) {
    let last = issue["updated_at"]
        .as_str()
        .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        .map(|t| t.with_timezone(&Utc));
    let now = now.with_nanosecond(0).unwrap_or(now);
    let next = match last {
        Some(l) if l >= now => l + chrono::Duration::seconds(1),
        _ => now,
    };
    let old_stamp = issue["updated_at"].as_str().unwrap_or("").to_owned();
    issue["updated_at"] = json!(stamp(next));
    feed.remove(&(old_stamp, number));
    feed.insert((stamp(next), number));
}

/// Takes the issue with REST id `child_id` from under issue `parent` (both in `repo`):
/// the parent's JSON, or GitHub's error.
fn remove_sub_issue(
    s: &mut State,
    repo: &str,
    parent: u64,
    child_id: Option<u64>,
) -> Result<Value, Response> {
    let now = s.clock.now();
    let base = s.base_url.clone();
    let r = s
        .repos
        .get_mut(repo)
        .ok_or_else(|| error(404, "Not Found"))?;
    let parent_issue = r
        .issues
        .get(&parent)
        .cloned()
        .ok_or_else(|| error(404, "Not Found"))?;
    let link = json!(format!("{base}/repos/{repo}/issues/{parent}"));
    let (number, child) = r
        .issues
        .iter_mut()
        .find(|(_, i)| child_id.is_some() && i["id"].as_u64() == child_id)
        .map(|(n, i)| (*n, i))
        .filter(|(_, i)| i["parent_issue_url"] == link)
        .ok_or_else(|| error(404, "Not Found"))?;
    child["parent_issue_url"] = Value::Null;
    touch(&mut r.feed, child, number, now);
    let child = child.clone();
    emit_event(
        s,
        repo,
        "sub_issues",
        json!({"action": "sub_issue_removed", "parent_issue_id": parent_issue["id"],
            "parent_issue": parent_issue, "sub_issue_id": child["id"], "sub_issue": child}),
    );
    Ok(parent_issue)
}

fn update_issue(s: &mut State, repo: &str, number: u64, patch: &Value) -> Option<Value> {
    let now = s.clock.now();
    let r = s.repos.get_mut(repo)?;
    let labels = patch
        .get("labels")
        .map(|_| label_objects(r, &strings(patch.get("labels"))));
    let milestone = match patch.get("milestone") {
        Some(m) => Some(milestone_ref(r, Some(m)).ok()?),
        None => None,
    };
    let issue = r.issues.get_mut(&number)?;
    let before_milestone = issue["milestone"]["number"].clone();
    let before_state = issue["state"].clone();
    for key in ["title", "body", "state_reason"] {
        if let Some(v) = patch.get(key) {
            issue[key] = v.clone();
        }
    }
    if let Some(state) = patch.get("state").and_then(Value::as_str) {
        issue["state"] = json!(state);
        if state == "closed" {
            issue["closed_at"] = json!(stamp(now));
            if patch.get("state_reason").is_none() {
                issue["state_reason"] = json!("completed");
            }
        } else {
            issue["closed_at"] = Value::Null;
            issue["state_reason"] = if before_state == "closed" {
                json!("reopened")
            } else {
                Value::Null
            };
        }
    }
    if let Some(labels) = labels {
        issue["labels"] = labels;
    }
    if patch.get("assignees").is_some() {
        issue["assignees"] = Value::Array(
            strings(patch.get("assignees"))
                .into_iter()
                .map(|l| json!({"login": l}))
                .collect(),
        );
    }
    if let Some(m) = milestone {
        issue["milestone"] = m.unwrap_or(Value::Null);
    }
    touch(&mut r.feed, issue, number, now);
    let issue = issue.clone();
    let action = match (before_state.as_str(), issue["state"].as_str()) {
        (Some("open"), Some("closed")) => "closed",
        (Some("closed"), Some("open")) => "reopened",
        _ if issue["milestone"]["number"] != before_milestone => {
            if issue["milestone"].is_null() {
                "demilestoned"
            } else {
                "milestoned"
            }
        }
        _ => "edited",
    };
    emit(s, repo, action, &issue);
    Some(issue)
}

fn list_issues(s: &State, repo: &str, req: &Request) -> Response {
    let Some(r) = s.repos.get(repo) else {
        return error(404, "Not Found");
    };
    let per_page: usize = req
        .query("per_page")
        .and_then(|p| p.parse().ok())
        .unwrap_or(30)
        .clamp(1, 100);
    let state = req.query("state").unwrap_or("open");
    let since = req
        .query("since")
        .and_then(|t| DateTime::parse_from_rfc3339(t).ok());
    let labels: Vec<&str> = req
        .query("labels")
        .map(|l| l.split(',').collect())
        .unwrap_or_default();
    let assignee = req.query("assignee");
    let milestone = req.query("milestone");
    let after: Option<(String, u64)> = req
        .query("after")
        .and_then(|a| a.split_once('_'))
        .and_then(|(t, n)| Some((t.to_owned(), n.parse().ok()?)));
    // Walk the feed from the cursor (or `since`), in change order.
    let start = match (&after, since) {
        (Some((t, n)), _) => (t.clone(), n + 1),
        (None, Some(since)) => (stamp(since.with_timezone(&Utc)), 0),
        (None, None) => (String::new(), 0),
    };
    let mut items: Vec<&Value> = Vec::with_capacity(per_page + 1);
    let descending = req.query("direction") == Some("desc");
    let walk: Box<dyn Iterator<Item = &(String, u64)>> = if descending {
        Box::new(r.feed.iter().rev())
    } else {
        Box::new(r.feed.range(start..))
    };
    for (_, number) in walk {
        let Some(i) = r.issues.get(number) else {
            continue;
        };
        if state != "all" && i["state"] != state {
            continue;
        }
        let labelled = labels.iter().all(|l| {
            i["labels"]
                .as_array()
                .is_some_and(|ls| ls.iter().any(|x| x["name"] == *l))
        });
        let assigned = match assignee {
            None => true,
            Some("none") => i["assignees"].as_array().is_none_or(Vec::is_empty),
            Some("*") => i["assignees"].as_array().is_some_and(|a| !a.is_empty()),
            Some(login) => i["assignees"]
                .as_array()
                .is_some_and(|a| a.iter().any(|x| x["login"] == login)),
        };
        let in_milestone = match milestone {
            None => true,
            Some("none") => i["milestone"].is_null(),
            Some("*") => !i["milestone"].is_null(),
            Some(n) => n.parse::<u64>().ok() == i["milestone"]["number"].as_u64(),
        };
        if labelled && assigned && in_milestone {
            items.push(i);
            if items.len() > per_page {
                break;
            }
        }
    }
    let key = |i: &Value| {
        (
            i["updated_at"].as_str().unwrap_or("").to_owned(),
            i["number"].as_u64().unwrap_or(0),
        )
    };
    let more = items.len() > per_page;
    items.truncate(per_page);
    let body = Value::Array(items.iter().map(|i| (*i).clone()).collect());
    let text = body.to_string();
    let etag = format!("W/\"{:016x}\"", fnv(text.as_bytes()));
    if req.header("if-none-match") == Some(etag.as_str()) {
        return Response {
            status: 304,
            headers: vec![("etag".into(), etag)],
            body: Vec::new(),
        };
    }
    let mut response = Response::json(200, &body).header("etag", etag);
    if more {
        if let Some(last) = items.last() {
            let (t, n) = key(last);
            let mut params: Vec<String> = req
                .query
                .iter()
                .filter(|(k, _)| k != "after" && k != "page")
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            params.push(format!("after={t}_{n}"));
            let page: u64 = req.query("page").and_then(|p| p.parse().ok()).unwrap_or(1) + 1;
            params.push(format!("page={page}"));
            let next = format!(
                "{}/repositories/{}/issues?{}",
                s.base_url,
                r.id,
                params.join("&")
            );
            response = response.header("link", format!("<{next}>; rel=\"next\""));
        }
    }
    response
}

fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

fn token_endpoint(s: &mut State, req: &Request) -> Response {
    let form: HashMap<String, String> = parse_query(&String::from_utf8_lossy(&req.body))
        .into_iter()
        .collect();
    let code = form.get("code").cloned().unwrap_or_default();
    // GitHub answers token errors with 200 and an `error` field.
    let refuse = |e: &str| {
        Response::json(
            200,
            &json!({"error": e, "error_description": "refused by the simulator"}),
        )
    };
    let Some((client, challenge)) = s.codes.remove(&code) else {
        return refuse("bad_verification_code");
    };
    if form.get("client_id") != Some(&client) {
        return refuse("incorrect_client_credentials");
    }
    let verifier = form.get("code_verifier").cloned().unwrap_or_default();
    if PkceVerifier::challenge_of(&verifier).challenge != challenge {
        return refuse("bad_verification_code");
    }
    s.next_id += 1;
    let token = format!("gho_sim{}", s.next_id);
    s.tokens.insert(token.clone());
    Response::json(
        200,
        &json!({"access_token": token, "token_type": "bearer", "scope": "repo,read:org"}),
    )
}

/// Checks a GitHub App JWT (RS256, `iat`/`exp` within ten minutes, a known issuer) and
/// returns its issuer.
fn verify_app_jwt(s: &State, jwt: &str) -> Result<String, &'static str> {
    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let mut parts = jwt.split('.');
    let (Some(header), Some(claims), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err("A JSON web token could not be decoded");
    };
    let decode = |p: &str| URL_SAFE_NO_PAD.decode(p).ok();
    let header: Value = decode(header)
        .and_then(|h| serde_json::from_slice(&h).ok())
        .ok_or("A JSON web token could not be decoded")?;
    if header["alg"] != "RS256" {
        return Err("'alg' must be RS256");
    }
    let claims: Value = decode(claims)
        .and_then(|c| serde_json::from_slice(&c).ok())
        .ok_or("A JSON web token could not be decoded")?;
    let issuer = claims["iss"].as_str().unwrap_or_default();
    let (key, _) = s
        .apps
        .get(issuer)
        .ok_or("'Issuer' claim ('iss') must be an Integer or a client ID")?;
    let signed = &jwt[..jwt.rfind('.').unwrap_or(0)];
    ring::signature::UnparsedPublicKey::new(&ring::signature::RSA_PKCS1_2048_8192_SHA256, key)
        .verify(signed.as_bytes(), &decode(signature).unwrap_or_default())
        .map_err(|_| "A JSON web token could not be decoded")?;
    let now = s.clock.now().timestamp();
    let (iat, exp) = (
        claims["iat"].as_i64().unwrap_or(i64::MAX),
        claims["exp"].as_i64().unwrap_or(0),
    );
    if iat > now + 60 {
        return Err("'Issued at' claim ('iat') must be an Integer representing a time in the past");
    }
    if exp <= now || exp - iat > 660 {
        return Err("'Expiration time' claim ('exp') is too far in the future or in the past");
    }
    Ok(issuer.to_owned())
}

fn installation_token(s: &mut State, req: &Request, installation: &str) -> Response {
    let jwt = req
        .header("authorization")
        .and_then(|a| a.strip_prefix("Bearer "))
        .unwrap_or("");
    let issuer = match verify_app_jwt(s, jwt) {
        Ok(issuer) => issuer,
        Err(message) => return error(401, message),
    };
    let installation: u64 = installation.parse().unwrap_or(0);
    if !s.apps[&issuer].1.contains(&installation) {
        return error(404, "Not Found");
    }
    s.next_id += 1;
    s.minted += 1;
    // The stateless format: long and of varying length; clients must treat it as opaque.
    let token = format!(
        "ghs_{issuer}_{}",
        "x".repeat(480 + (s.next_id % 40) as usize)
    ) + &s.next_id.to_string();
    let expires = s.clock.now() + chrono::Duration::hours(1);
    s.installation_tokens
        .insert(token.clone(), expires.timestamp());
    s.tokens.insert(token.clone());
    Response::json(
        201,
        &json!({"token": token, "expires_at": stamp(expires),
            "permissions": {"issues": "write", "metadata": "read"},
            "repository_selection": "selected"}),
    )
}

fn handle(state: &Mutex<State>, req: &Request) -> Response {
    let mut s = lock(state);
    s.requests += 1;
    if let Some(status) = s.faults.pop_front() {
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
        .installation_tokens
        .get(token)
        .is_some_and(|expires| *expires <= now);
    if !s.tokens.contains(token) || expired {
        return error(401, "Bad credentials");
    }
    // The primary rate limit, in hourly windows.
    let now = s.clock.now().timestamp();
    if now >= s.window_start + 3600 {
        s.window_start = now;
        s.remaining = s.rate_limit;
    }
    let reset = (s.window_start + 3600).to_string();
    if s.remaining == 0 {
        return error(403, "API rate limit exceeded for user ID 1.")
            .header("x-ratelimit-limit", s.rate_limit.to_string())
            .header("x-ratelimit-remaining", "0")
            .header("x-ratelimit-reset", reset)
            .header("x-ratelimit-resource", "core");
    }
    let response = route(&mut s, req);
    if response.status != 304 {
        s.remaining -= 1;
    }
    response
        .header("x-ratelimit-limit", s.rate_limit.to_string())
        .header("x-ratelimit-remaining", s.remaining.to_string())
        .header("x-ratelimit-used", (s.rate_limit - s.remaining).to_string())
        .header("x-ratelimit-reset", reset)
        .header("x-ratelimit-resource", "core")
}

fn body_json(req: &Request) -> Value {
    serde_json::from_slice(&req.body).unwrap_or(Value::Null)
}

fn route(s: &mut State, req: &Request) -> Response {
    let parts: Vec<&str> = req.path.trim_matches('/').split('/').collect();
    match (req.method.as_str(), parts.as_slice()) {
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
                        .cloned()
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
                s.repos
                    .get(&format!("{o}/{r}"))?
                    .milestones
                    .get(&n)
                    .cloned()
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
            let labels: Vec<Value> = s
                .repos
                .get(&format!("{o}/{r}"))
                .map(|r| {
                    r.labels
                        .iter()
                        .map(|(n, c)| json!({"name": n, "color": c}))
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
            Response::json(201, &json!({"name": name, "color": color}))
        }
        ("GET", ["search", "issues"]) => {
            let q = req.query("q").unwrap_or("");
            let needle = q.split('"').nth(1).unwrap_or("").to_owned();
            let repo = q
                .split_whitespace()
                .find_map(|t| t.strip_prefix("repo:"))
                .unwrap_or("")
                .to_owned();
            let items: Vec<Value> = s
                .repos
                .get(&repo)
                .map(|r| {
                    r.issues
                        .values()
                        .filter(|i| {
                            !needle.is_empty()
                                && i["body"].as_str().is_some_and(|b| b.contains(&needle))
                        })
                        .cloned()
                        .collect()
                })
                .unwrap_or_default();
            Response::json(
                200,
                &json!({"total_count": items.len(), "incomplete_results": false, "items": items}),
            )
        }
        _ => error(404, "Not Found"),
    }
}
