//! [`JiraSimulator`]: an in-process Jira Cloud on 127.0.0.1 speaking the REST v3 subset
//! devflow-sync and common Jira clients use, in Jira's shapes (recorded payloads under
//! `shared/fixtures/jira`): company-managed and team-managed projects with their issue
//! types (`hierarchyLevel`), issues with `fields.parent`, ADF descriptions, workflows
//! with transitions, issue properties, the changelog, custom fields with contexts,
//! `/search/jql` with `nextPageToken`/`isLast` and an eventual-consistency knob
//! (`reconcileIssues` names what must be fresh), the removed `/search` answering 410,
//! `myself`, basic auth (email + API token, tokens that expire) on the site URL and the
//! gateway URL (`/ex/jira/{cloudId}`), OAuth 2.0 (3LO) with rotating refresh tokens (a
//! used one works for a leeway, then fails), accessible-resources, scopes, admin
//! webhooks signed `X-Hub-Signature`, 429s with each `RateLimit-Reason`, and faults and
//! latency from the kit. Host test suites can use it as their mock Jira.

mod admin;
mod clients;
mod issues;
pub(crate) mod jql;
mod links;
mod meta;
mod oauth;
mod output;
mod people;
mod persist;
mod picker;
mod remote_links;
mod routes;
mod search;
mod seed;
mod v2;
mod workflow;
mod worklog_hooks;
mod worklogs;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use chrono::{DateTime, FixedOffset, Utc};
use devflow_sync_core::auth::WebhookSecret;
use devflow_sync_core::clock::{Clock, SystemClock};
use devflow_sync_core::provider::Headers;
use serde_json::{Map, Value, json};

use crate::simkit::server;
use crate::simkit::{Faults, Request, Response, WebhookOutbox};

/// The secret admin webhooks are signed with.
pub const WEBHOOK_SECRET: &str = "jira-simulator-webhook-secret";
/// The simulated site's cloud id.
pub const CLOUD_ID: &str = "07779958-e747-4285-ad18-0f5252a97bff";
/// The account the simulator's API users act as.
pub const ACCOUNT_ID: &str = "712020:7bf45758-6986-4e0e-aefc-a3000196d8d2";

#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
struct IssueType {
    id: String,
    name: String,
    level: i64,
}

#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
struct Transition {
    id: String,
    name: String,
    to: String,
    /// The statuses it is available from (`None`: a global transition).
    from: Option<Vec<String>>,
}

#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
struct Project {
    id: u64,
    key: String,
    name: String,
    simplified: bool,
    types: Vec<IssueType>,
    workflow: Vec<Transition>,
    next_number: u64,
}

#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
struct Issue {
    id: u64,
    key: String,
    project: String,
    /// Jira's `fields` as v3 returns them, `parent` as `{"id"}` only (expanded on output).
    fields: Map<String, Value>,
    properties: BTreeMap<String, Value>,
    updated_ms: i64,
    created_ms: i64,
    changelog: Vec<Value>,
    /// Remote links (`/issue/{key}/remotelink`), in creation order.
    #[serde(default)]
    remote_links: Vec<Value>,
    /// The description written out once when indexed, so searches copy it as it is.
    #[serde(skip)]
    raw_description: Option<Box<serde_json::value::RawValue>>,
}

#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
struct Field {
    id: String,
    name: String,
    custom_type: String,
    contexts: Vec<Value>,
}

#[derive(Clone, Debug)]
struct ApiUser {
    email: String,
    admin: bool,
    /// Epoch milliseconds after which the token is refused.
    expires_ms: Option<i64>,
}

#[derive(Clone, Debug)]
struct OAuthToken {
    /// The app the token was granted to.
    client: String,
    scopes: Vec<String>,
    expires_ms: i64,
}

#[derive(Debug)]
struct State {
    clock: Arc<dyn Clock>,
    zone: FixedOffset,
    base_url: String,
    projects: BTreeMap<String, Project>,
    issues: BTreeMap<u64, Issue>,
    keys: HashMap<String, u64>,
    /// What search sees: issues as of their last indexing, by id.
    index: BTreeMap<u64, Issue>,
    /// The indexed issues by (updated, id): the order delta searches page in.
    feed: BTreeSet<(i64, u64)>,
    /// Changes not yet indexed: (due, issue id).
    pending: Vec<(i64, u64)>,
    consistency_delay_ms: i64,
    next_issue_id: u64,
    next_change_id: u64,
    fields: Vec<Field>,
    next_field: u64,
    api_users: HashMap<String, ApiUser>,
    oauth: oauth::OAuthState,
    throttles: Vec<(String, u64)>,
    faults: Faults,
    outbox: WebhookOutbox,
    max_results: usize,
    webhooks: Vec<Value>,
    next_webhook: u64,
    worklogs: worklogs::Worklogs,
}

/// An in-process Jira Cloud for tests and examples.
#[derive(Debug)]
pub struct JiraSimulator {
    addr: SocketAddr,
    state: Arc<Mutex<State>>,
    latency: Arc<AtomicU64>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for JiraSimulator {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    state.lock().unwrap_or_else(|e| e.into_inner())
}

/// Jira's error body.
fn error(status: u16, messages: &[&str], fields: &[(&str, &str)]) -> Response {
    let errors: Map<String, Value> = fields
        .iter()
        .map(|(k, v)| ((*k).to_owned(), Value::String((*v).to_owned())))
        .collect();
    Response::json(
        status,
        &json!({"errorMessages": messages, "errors": errors}),
    )
}

impl State {
    fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    fn now_ms(&self) -> i64 {
        self.now().timestamp_millis()
    }

    /// A time as Jira writes it: `2026-04-28T15:33:15.438+0200` in the user's zone.
    fn stamp(&self, ms: i64) -> String {
        DateTime::<Utc>::from_timestamp_millis(ms)
            .unwrap_or_default()
            .with_timezone(&self.zone)
            .format("%Y-%m-%dT%H:%M:%S%.3f%z")
            .to_string()
    }

    fn issue_id(&self, id_or_key: &str) -> Option<u64> {
        id_or_key
            .parse::<u64>()
            .ok()
            .filter(|id| self.issues.contains_key(id))
            .or_else(|| self.keys.get(&id_or_key.to_ascii_uppercase()).copied())
    }

    /// Makes a changed issue visible to search now or after the delay.
    fn reindex(&mut self, id: u64) {
        if self.consistency_delay_ms == 0 {
            self.index_now(id);
        } else {
            let due = self.now_ms().saturating_add(self.consistency_delay_ms);
            self.pending.push((due, id));
        }
    }

    fn index_now(&mut self, id: u64) {
        if let Some(old) = self.index.remove(&id) {
            self.feed.remove(&(old.updated_ms, id));
        }
        if let Some(issue) = self.issues.get(&id) {
            self.feed.insert((issue.updated_ms, id));
            let mut indexed = issue.clone();
            indexed.raw_description = issue
                .fields
                .get("description")
                .and_then(|d| serde_json::value::to_raw_value(d).ok());
            self.index.insert(id, indexed);
        }
    }

    /// Indexes what is due, and what `reconcile` names.
    fn catch_up(&mut self, reconcile: &[u64]) {
        let now = self.now_ms();
        let (due, later): (Vec<_>, Vec<_>) = std::mem::take(&mut self.pending)
            .into_iter()
            .partition(|(at, id)| *at <= now || reconcile.contains(id));
        self.pending = later;
        for (_, id) in due {
            self.index_now(id);
        }
    }

    /// The apps whose dynamic webhooks want `event` about `issue` (live, events and JQL
    /// filter matching), with their client secrets.
    fn dynamic_targets(&self, event: &str, issue: &Issue) -> Vec<String> {
        let now = self.now_ms();
        self.webhooks
            .iter()
            .filter(|w| w["expirationDate"].as_i64().is_some_and(|e| e > now))
            .filter(|w| {
                w["events"]
                    .as_array()
                    .is_some_and(|e| e.iter().any(|x| x.as_str() == Some(event)))
            })
            .filter(|w| {
                w["jqlFilter"]
                    .as_str()
                    .is_none_or(|jql| search::matches_jql(self, issue, jql))
            })
            .filter_map(|w| w["client"].as_str())
            .filter_map(|client| self.oauth.clients.get(client).cloned())
            .collect()
    }

    fn emit(
        &mut self,
        event: &str,
        type_name: &str,
        issue: Value,
        changelog: Option<Value>,
        dynamic: &[String],
    ) {
        let mut body = json!({
            "timestamp": self.now_ms(),
            "webhookEvent": event,
            "issue_event_type_name": type_name,
            "user": {"accountId": ACCOUNT_ID, "displayName": "Simulated User", "active": true},
        });
        body["issue"] = issue;
        if let Some(c) = changelog {
            body["changelog"] = c;
        }
        let bytes = serde_json::to_vec(&body).unwrap_or_default();
        let now = self.now_ms() / 1000;
        for secret in dynamic {
            let jwt = oauth::jwt_hs256(
                secret,
                &json!({"iss": "jira:simulator", "iat": now, "exp": now + 180}),
            );
            self.outbox.push_unsigned(
                &[
                    ("Authorization", format!("Bearer {jwt}").as_str()),
                    ("X-Atlassian-Webhook-Flow", "Primary"),
                    ("X-Atlassian-Webhook-Retry", "0"),
                ],
                bytes.clone(),
            );
        }
        self.outbox.push(
            &[
                ("X-Atlassian-Webhook-Flow", "Primary"),
                ("X-Atlassian-Webhook-Retry", "0"),
            ],
            bytes,
        );
    }
}

/// UTC+02:00, the zone of the recorded payloads.
fn two_hours_east() -> FixedOffset {
    FixedOffset::east_opt(2 * 3600).unwrap_or_else(|| unreachable!("two hours is a valid offset"))
}

impl JiraSimulator {
    /// Starts a simulator on a free loopback port, on the system clock, with the user's
    /// time zone two hours east of UTC (as in the recorded payloads).
    pub async fn start() -> std::io::Result<Self> {
        Self::start_with_clock(Arc::new(SystemClock)).await
    }

    /// Starts a simulator whose timestamps come from `clock`.
    pub async fn start_with_clock(clock: Arc<dyn Clock>) -> std::io::Result<Self> {
        let state = Arc::new(Mutex::new(State {
            clock,
            zone: two_hours_east(),
            base_url: String::new(),
            projects: BTreeMap::new(),
            issues: BTreeMap::new(),
            keys: HashMap::new(),
            index: BTreeMap::new(),
            feed: BTreeSet::new(),
            pending: Vec::new(),
            consistency_delay_ms: 0,
            next_issue_id: 10_000,
            next_change_id: 10_000,
            fields: admin::system_custom_fields(),
            next_field: 10_050,
            api_users: HashMap::new(),
            oauth: oauth::OAuthState::default(),
            throttles: Vec::new(),
            faults: Faults::default(),
            outbox: WebhookOutbox::new(
                WebhookSecret::new(WEBHOOK_SECRET),
                "X-Hub-Signature",
                "X-Atlassian-Webhook-Identifier",
            ),
            max_results: 100,
            webhooks: Vec::new(),
            worklogs: worklogs::Worklogs::default(),
            next_webhook: 1,
        }));
        let handler_state = state.clone();
        let handler = Arc::new(move |request: Request| routes::handle(&handler_state, &request));
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

    /// The site URL (`http://127.0.0.1:PORT`): basic auth calls `{url}/rest/api/3/...`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The gateway URL (`{url}/ex/jira/{cloudId}`), what OAuth and scoped tokens call.
    pub fn gateway_url(&self) -> String {
        format!("{}/ex/jira/{CLOUD_ID}", self.url())
    }

    /// Makes every request wait `latency` first (zero by default).
    pub fn set_latency(&self, latency: std::time::Duration) {
        let ms = u64::try_from(latency.as_millis()).unwrap_or(u64::MAX);
        self.latency.store(ms, Ordering::Relaxed);
    }

    /// Sets the user's time zone: REST times are written in it and JQL times read in it.
    pub fn set_time_zone(&self, zone: FixedOffset) {
        lock(&self.state).zone = zone;
    }

    /// Changes show up in search only `delay` after they happen, unless a search names
    /// them in `reconcileIssues` (zero by default).
    pub fn set_consistency_delay(&self, delay: std::time::Duration) {
        lock(&self.state).consistency_delay_ms =
            i64::try_from(delay.as_millis()).unwrap_or(i64::MAX);
    }

    /// The most issues one search page returns (100 by default, as Jira does for full fields).
    pub fn set_max_results(&self, max: usize) {
        lock(&self.state).max_results = max.max(1);
    }

    /// Adds a project: company-managed (`simplified: false`: Epic, Story, Task, Bug,
    /// Sub-task, and a workflow To Do -> In Progress -> In Review -> Done with "To Do"
    /// from anywhere) or team-managed (`true`: project-scoped types Epic, Story, Task,
    /// Bug, Subtask, every status reachable from every other).
    pub fn add_project(&self, key: &str, name: &str, simplified: bool) {
        let mut s = lock(&self.state);
        admin::add_project(&mut s, key, name, simplified);
    }

    /// Accepts `email` with API token `token` (basic auth) until `expires` (never when
    /// `None`); `admin` users may create custom fields.
    pub fn add_api_token(
        &self,
        email: &str,
        token: &str,
        admin: bool,
        expires: Option<DateTime<Utc>>,
    ) {
        lock(&self.state).api_users.insert(
            format!("{email}:{token}"),
            ApiUser {
                email: email.to_owned(),
                admin,
                expires_ms: expires.map(|t| t.timestamp_millis()),
            },
        );
    }

    /// Registers an OAuth 2.0 (3LO) app.
    pub fn register_oauth_client(&self, client_id: &str, client_secret: &str) {
        lock(&self.state)
            .oauth
            .clients
            .insert(client_id.to_owned(), client_secret.to_owned());
    }

    /// A person consents for `client_id` with `scopes`; returns the code Atlassian puts
    /// on the redirect.
    pub fn authorize(&self, client_id: &str, scopes: &[&str]) -> String {
        lock(&self.state).oauth.issue_code(client_id, scopes)
    }

    /// Accepts `token` as an OAuth access token with `scopes` for an hour.
    pub fn accept_bearer(&self, token: &str, scopes: &[&str]) {
        let mut s = lock(&self.state);
        let expires_ms = s.now_ms().saturating_add(3_600_000);
        s.oauth.tokens.insert(
            token.to_owned(),
            OAuthToken {
                client: String::new(),
                scopes: scopes.iter().map(|x| (*x).to_owned()).collect(),
                expires_ms,
            },
        );
    }

    /// A check of this simulator's OAuth access tokens (scopes while valid), for a
    /// Confluence simulator to trust: one Atlassian OAuth server for both products.
    pub fn bearer_check(&self) -> crate::simkit::BearerCheck {
        let state = self.state.clone();
        std::sync::Arc::new(move |token: &str| {
            let s = lock(&state);
            let now = s.now_ms();
            s.oauth
                .tokens
                .get(token)
                .filter(|t| t.expires_ms > now)
                .map(|t| t.scopes.clone())
        })
    }

    /// How many refresh-token grants were answered with new tokens.
    pub fn refreshes(&self) -> u64 {
        lock(&self.state).oauth.refreshes
    }

    /// How many token requests came as JSON bodies.
    pub fn json_token_requests(&self) -> u64 {
        lock(&self.state).oauth.json_requests
    }

    /// How long a rotated-away refresh token still works (10 minutes by default).
    pub fn set_refresh_leeway(&self, leeway: std::time::Duration) {
        lock(&self.state).oauth.leeway_ms = i64::try_from(leeway.as_millis()).unwrap_or(i64::MAX);
    }

    /// The next request is answered 429 with this `RateLimit-Reason`
    /// (`jira-quota-global-based`, `jira-burst-based`, `jira-per-issue-on-write`, ...)
    /// and `Retry-After: retry_after` seconds.
    pub fn throttle_next(&self, reason: &str, retry_after: u64) {
        lock(&self.state)
            .throttles
            .push((reason.to_owned(), retry_after));
    }

    /// The next requests answer with these statuses (500, 503...).
    pub fn fail_next(&self, statuses: &[u16]) {
        lock(&self.state).faults.fail_next(statuses);
    }

    /// Requests served so far.
    pub fn requests(&self) -> u64 {
        lock(&self.state).faults.requests()
    }
}
