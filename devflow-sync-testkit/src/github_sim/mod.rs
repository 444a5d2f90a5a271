//! [`GitHubSimulator`]: an in-process server on 127.0.0.1 speaking the subset of GitHub's
//! REST API devflow-sync uses, in GitHub's response shapes: issues (create, get, update,
//! list with `since`, label filters, cursor `link` headers, ETags and 304), labels,
//! milestones, sub-issues (added and removed within a repository), issue search, the repositories a token reaches, an OAuth token endpoint
//! with PKCE, GitHub App installation tokens (RS256 JWTs checked against the app's
//! public key, tokens expiring after an hour), rate-limit headers with a budget (403 when spent), and signed webhook
//! deliveries. Host test suites can use it as their mock GitHub.

mod auth;
mod comments;
mod issues;
mod milestones;
mod persist;
mod resources;
mod routes;
mod search;
mod seed;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use crate::simkit::paging::url_with;
use crate::simkit::server::{self, parse_query};
use crate::simkit::{
    AuthCodes, Faults, Links, PageRequest, RateBudget, Request, Response, WebhookOutbox, fnv,
    json_with_etag,
};
use auth::*;
use chrono::{DateTime, SecondsFormat, Timelike, Utc};
use devflow_sync_core::auth::WebhookSecret;
use devflow_sync_core::clock::{Clock, SystemClock};
use devflow_sync_core::provider::Headers;
use issues::*;
use milestones::*;
use resources::*;
use routes::*;
use serde_json::{Value, json};

/// The webhook secret deliveries are signed with.
pub const WEBHOOK_SECRET: &str = "simulator-webhook-secret";

#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
struct Repo {
    id: u64,
    issues: BTreeMap<u64, Value>,
    /// The issues by (change time, number): the order listings page in.
    feed: std::collections::BTreeSet<(String, u64)>,
    /// Label colours by name.
    labels: BTreeMap<String, String>,
    /// Label descriptions by name (labels without one are left out).
    label_descriptions: BTreeMap<String, String>,
    milestones: BTreeMap<u64, Value>,
    next_number: u64,
    /// Issue comments by id (absent in files saved before comments were kept).
    #[serde(default)]
    comments: BTreeMap<u64, Value>,
    /// Each issue's timeline events (closed, reopened, milestoned, locked, ...).
    #[serde(default)]
    events: BTreeMap<u64, Vec<Value>>,
}

#[derive(Debug)]
struct State {
    clock: Arc<dyn Clock>,
    repos: BTreeMap<String, Repo>,
    next_id: u64,
    tokens: HashSet<String>,
    codes: AuthCodes,
    /// Whether user tokens expire after eight hours and come with a refresh token.
    expiring_tokens: bool,
    /// The primary rate limit, in hourly windows.
    budget: RateBudget,
    faults: Faults,
    outbox: WebhookOutbox,
    base_url: String,
    /// GitHub Apps by issuer: their public keys (DER `RSAPublicKey`) and installations.
    apps: HashMap<String, (Vec<u8>, HashSet<u64>)>,
    /// Tokens that expire (installation tokens, expiring user tokens), with their
    /// expiry (epoch seconds).
    expiring_tokens_until: HashMap<String, i64>,
    minted: u64,
}

/// An in-process GitHub for tests and examples.
#[derive(Debug)]
pub struct GitHubSimulator {
    addr: SocketAddr,
    state: Arc<Mutex<State>>,
    latency: Arc<AtomicU64>,
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
            codes: AuthCodes::default(),
            expiring_tokens: false,
            budget: RateBudget::new(5000, 3600, now),
            faults: Faults::default(),
            outbox: WebhookOutbox::new(
                WebhookSecret::new(WEBHOOK_SECRET),
                "X-Hub-Signature-256",
                "X-GitHub-Delivery",
            ),
            base_url: String::new(),
            apps: HashMap::new(),
            expiring_tokens_until: HashMap::new(),
            minted: 0,
        }));
        let handler_state = state.clone();
        let handler = Arc::new(move |request: Request| handle(&handler_state, &request));
        let latency = Arc::new(AtomicU64::new(0));
        let (addr, task) = server::serve(handler, latency.clone()).await?;
        lock(&state).base_url = format!("http://{addr}");
        Ok(Self {
            addr,
            state,
            latency,
            task,
        })
    }

    /// Makes every request wait `latency` first, to model a real network in
    /// benchmarks (zero by default).
    pub fn set_latency(&self, latency: std::time::Duration) {
        let ms = u64::try_from(latency.as_millis()).unwrap_or(u64::MAX);
        self.latency.store(ms, Ordering::Relaxed);
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
        lock(&self.state).codes.issue(client_id, code_challenge)
    }

    /// Makes user tokens expire after eight hours and come with a rotating refresh token
    /// (GitHub Apps' "expire user authorization tokens"); off by default, as for OAuth
    /// apps.
    pub fn set_expiring_tokens(&self, on: bool) {
        lock(&self.state).expiring_tokens = on;
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
        s.expiring_tokens_until.clear();
    }

    /// Sets the primary rate limit per hour, starting a fresh window.
    pub fn set_rate_limit(&self, per_hour: u32) {
        let mut s = lock(&self.state);
        let now = s.clock.now().timestamp();
        s.budget.set_limit(per_hour, now);
    }

    /// The next requests answer with these statuses (500, 502, 429...).
    pub fn fail_next(&self, statuses: &[u16]) {
        lock(&self.state).faults.fail_next(statuses);
    }

    /// Requests served so far.
    pub fn requests(&self) -> u64 {
        lock(&self.state).faults.requests()
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

    /// A person opens a pull request: GitHub lists it among the issues, marked by a
    /// `pull_request` key, as clients must learn to skip. Returns its number (0 when
    /// the repository is unknown).
    pub fn open_pull_request(&self, repo: &str, title: &str) -> u64 {
        let mut s = lock(&self.state);
        let Ok(mut pr) = create_issue(&mut s, repo, &json!({ "title": title })) else {
            return 0;
        };
        let number = pr["number"].as_u64().unwrap_or(0);
        let base = s.base_url.clone();
        pr["pull_request"] = json!({
            "url": format!("{base}/repos/{repo}/pulls/{number}"),
            "html_url": format!("https://github.com/{repo}/pull/{number}"),
            "diff_url": format!("https://github.com/{repo}/pull/{number}.diff"),
            "patch_url": format!("https://github.com/{repo}/pull/{number}.patch"),
            "merged_at": null,
        });
        pr["draft"] = json!(false);
        if let Some(r) = s.repos.get_mut(repo) {
            r.issues.insert(number, pr);
        }
        number
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
        lock(&self.state)
            .outbox
            .take()
            .into_iter()
            .map(|w| (w.headers, w.body))
            .collect()
    }

    /// Seeds `count` issues quickly (no `issues` webhooks), shaped like a real repository's:
    /// two of five labels each, an assignee, a Markdown body of about a kilobyte, every
    /// third issue in one of three milestones, every fourth closed as completed. Pages of
    /// them weigh about what GitHub's do, so benchmarks measure real parsing work.
    pub fn seed_issues(&self, repo: &str, count: usize) {
        let mut s = lock(&self.state);
        seed::seed(&mut s, repo, count);
    }
}
