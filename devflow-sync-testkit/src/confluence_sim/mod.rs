//! [`ConfluenceSimulator`]: an in-process Confluence Cloud on 127.0.0.1 speaking the
//! subset devflow-sync and common Confluence clients use, in Confluence's shapes
//! (recorded payloads under `shared/fixtures/confluence`): REST v2 spaces (keys and
//! numeric ids, a homepage each), pages with storage bodies, versions (an update must
//! carry the current number + 1, else 409), parents, `direct-children`, `ancestors`,
//! trash and purge, content properties with versions, cursor paging in `Link` and
//! `_links.next`; v1 CQL search (`/wiki/rest/api/search`) over an index that lags writes
//! by a knob; the removed v1 content CRUD answering 410; basic auth (email + API token)
//! on the site and the gateway (`/ex/confluence/{cloudId}`), bearer tokens with
//! granular scopes on the gateway; Connect-style webhooks signed `X-Hub-Signature`;
//! faults and latency from the kit. Host test suites can use it as their mock
//! Confluence.

mod changes;
mod pages;
mod persist;
mod properties;
mod routes;
mod search;
mod seed;
mod spaces;

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use chrono::{DateTime, SecondsFormat, Utc};
use devflow_sync_core::auth::WebhookSecret;
use devflow_sync_core::clock::{Clock, SystemClock};
use serde_json::{Value, json};

use crate::simkit::server;
use crate::simkit::{Faults, OutgoingWebhook, Request, Response, WebhookOutbox};

/// The secret webhooks are signed with (`X-Hub-Signature`, as Data Center signs).
pub const WEBHOOK_SECRET: &str = "confluence-simulator-webhook-secret";
/// The simulated site's cloud id.
pub const CLOUD_ID: &str = "07779958-e747-4285-ad18-0f5252a97bff";
/// The account the simulator's API users act as.
pub const ACCOUNT_ID: &str = "712020:7bf45758-6986-4e0e-aefc-a3000196d8d2";

#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
struct Space {
    id: u64,
    key: String,
    name: String,
    homepage: u64,
    created_ms: i64,
}

#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
struct Property {
    id: u64,
    value: Value,
    version: u64,
    updated_ms: i64,
}

#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
struct Page {
    id: u64,
    space: u64,
    title: String,
    parent: Option<u64>,
    /// `current`, `draft`, `archived` or `trashed`.
    status: String,
    body: String,
    version: u64,
    version_message: String,
    created_ms: i64,
    modified_ms: i64,
    position: u64,
    properties: BTreeMap<String, Property>,
    /// The versions before this one: number, time, message.
    #[serde(default)]
    history: Vec<(u64, i64, String)>,
}

/// What search sees of a page: as of its last indexing.
#[derive(Clone, Debug)]
struct Indexed {
    id: u64,
    space_key: String,
    title: String,
    status: String,
    created_ms: i64,
    modified_ms: i64,
    version: u64,
}

#[derive(Clone, Debug)]
struct ApiUser {
    email: String,
}

#[derive(Clone, Debug)]
struct BearerToken {
    scopes: Vec<String>,
    expires_ms: i64,
}

#[derive(Debug)]
struct State {
    clock: Arc<dyn Clock>,
    base_url: String,
    spaces: BTreeMap<u64, Space>,
    pages: BTreeMap<u64, Page>,
    index: BTreeMap<u64, Indexed>,
    /// Changes not yet searchable: (due, snapshot).
    pending: Vec<(i64, Indexed)>,
    search_lag_ms: i64,
    next_id: u64,
    api_users: HashMap<String, ApiUser>,
    bearers: HashMap<String, BearerToken>,
    faults: Faults,
    outbox: WebhookOutbox,
    throttles: Vec<u64>,
    /// Tokens of another simulator's OAuth server, trusted too.
    trusted: Option<Trusted>,
}

/// Another OAuth server's token check.
#[derive(Clone)]
struct Trusted(crate::simkit::BearerCheck);

impl std::fmt::Debug for Trusted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Trusted(..)")
    }
}

/// An in-process Confluence Cloud for tests and examples.
#[derive(Debug)]
pub struct ConfluenceSimulator {
    addr: SocketAddr,
    state: Arc<Mutex<State>>,
    latency: Arc<AtomicU64>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for ConfluenceSimulator {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    state.lock().unwrap_or_else(|e| e.into_inner())
}

/// Confluence v2's error body.
fn error(status: u16, code: &str, title: &str) -> Response {
    Response::json(
        status,
        &json!({"errors": [{"status": status, "code": code, "title": title, "detail": null}]}),
    )
}

/// A time as v2 writes it: `2026-04-28T07:52:37.321Z`.
fn stamp(ms: i64) -> String {
    DateTime::<Utc>::from_timestamp_millis(ms)
        .unwrap_or_default()
        .to_rfc3339_opts(SecondsFormat::Millis, true)
}

impl State {
    fn now_ms(&self) -> i64 {
        self.clock.now().timestamp_millis()
    }

    fn next_id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    fn space_key(&self, id: u64) -> String {
        self.spaces
            .get(&id)
            .map(|s| s.key.clone())
            .unwrap_or_default()
    }

    /// Makes a page's current state searchable now or after the lag.
    fn reindex(&mut self, id: u64) {
        let Some(p) = self.pages.get(&id) else {
            self.index.remove(&id);
            return;
        };
        let snapshot = Indexed {
            id,
            space_key: self.space_key(p.space),
            title: p.title.clone(),
            status: p.status.clone(),
            created_ms: p.created_ms,
            modified_ms: p.modified_ms,
            version: p.version,
        };
        if self.search_lag_ms == 0 {
            self.index.insert(id, snapshot);
        } else {
            let due = self.now_ms().saturating_add(self.search_lag_ms);
            self.pending.push((due, snapshot));
        }
    }

    /// Indexes what is due.
    fn catch_up(&mut self) {
        let now = self.now_ms();
        let (due, later): (Vec<_>, Vec<_>) = std::mem::take(&mut self.pending)
            .into_iter()
            .partition(|(at, _)| *at <= now);
        self.pending = later;
        for (_, snapshot) in due {
            self.index.insert(snapshot.id, snapshot);
        }
    }

    /// A Connect-style webhook about a page.
    fn emit(&mut self, event: &str, id: u64) {
        let Some(p) = self.pages.get(&id) else {
            return;
        };
        let space_key = self.space_key(p.space);
        let body = json!({
            "userAccountId": ACCOUNT_ID,
            "accountType": "customer",
            "updateTrigger": "edit_page",
            "timestamp": self.now_ms(),
            "page": {
                "id": p.id,
                "idAsString": p.id.to_string(),
                "title": p.title,
                "contentType": "page",
                "spaceKey": space_key,
                "spaceId": p.space,
                "version": p.version,
                "creatorAccountId": ACCOUNT_ID,
                "lastModifierAccountId": ACCOUNT_ID,
                "creationDate": p.created_ms,
                "modificationDate": p.modified_ms,
                "self": format!("{}/wiki/spaces/{space_key}/pages/{}", self.base_url, p.id),
            },
        });
        let mut body = body;
        body["event"] = json!(event);
        self.outbox.push(
            &[("X-Confluence-Event", event)],
            serde_json::to_vec(&body).unwrap_or_default(),
        );
    }
}

impl ConfluenceSimulator {
    /// Starts a simulator on a free loopback port, on the system clock.
    pub async fn start() -> std::io::Result<Self> {
        Self::start_with_clock(Arc::new(SystemClock)).await
    }

    /// Starts a simulator whose timestamps come from `clock`.
    pub async fn start_with_clock(clock: Arc<dyn Clock>) -> std::io::Result<Self> {
        let state = Arc::new(Mutex::new(State {
            clock,
            base_url: String::new(),
            spaces: BTreeMap::new(),
            pages: BTreeMap::new(),
            index: BTreeMap::new(),
            pending: Vec::new(),
            search_lag_ms: 0,
            next_id: 294_900,
            api_users: HashMap::new(),
            bearers: HashMap::new(),
            faults: Faults::default(),
            outbox: WebhookOutbox::new(
                WebhookSecret::new(WEBHOOK_SECRET),
                "X-Hub-Signature",
                "X-Request-Id",
            ),
            throttles: Vec::new(),
            trusted: None,
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

    /// The site URL (`http://127.0.0.1:PORT`): basic auth calls `{url}/wiki/api/v2/...`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The gateway URL (`{url}/ex/confluence/{cloudId}`): OAuth and scoped tokens call
    /// `{gateway}/wiki/api/v2/...`.
    pub fn gateway_url(&self) -> String {
        format!("{}/ex/confluence/{CLOUD_ID}", self.url())
    }

    /// Makes every request wait `latency` first (zero by default).
    pub fn set_latency(&self, latency: std::time::Duration) {
        let ms = u64::try_from(latency.as_millis()).unwrap_or(u64::MAX);
        self.latency.store(ms, Ordering::Relaxed);
    }

    /// Search sees a change only `lag` after it happens (zero by default), as
    /// Confluence's index lags its writes.
    pub fn set_search_lag(&self, lag: std::time::Duration) {
        lock(&self.state).search_lag_ms = i64::try_from(lag.as_millis()).unwrap_or(i64::MAX);
    }

    /// Adds a global space with a homepage titled after it; returns its numeric id.
    pub fn add_space(&self, key: &str, name: &str) -> String {
        let mut s = lock(&self.state);
        spaces::add(&mut s, key, name).to_string()
    }

    /// Adds `n` DevFlow pages to the space `key` at once (one PRD per 100, one epic per
    /// 10, stories under them), each with a realistic body and the `devflow` property.
    pub fn seed_pages(&self, key: &str, n: usize) {
        let mut s = lock(&self.state);
        seed::pages(&mut s, key, n);
    }

    /// The homepage of the space `key`, by id.
    pub fn homepage(&self, key: &str) -> Option<String> {
        let s = lock(&self.state);
        s.spaces
            .values()
            .find(|x| x.key == key)
            .map(|x| x.homepage.to_string())
    }

    /// Accepts `email` with API token `token` (basic auth).
    pub fn add_api_token(&self, email: &str, token: &str) {
        lock(&self.state).api_users.insert(
            format!("{email}:{token}"),
            ApiUser {
                email: email.to_owned(),
            },
        );
    }

    /// Accepts `token` as an OAuth access token with `scopes` (on the gateway) for an
    /// hour.
    pub fn accept_bearer(&self, token: &str, scopes: &[&str]) {
        let mut s = lock(&self.state);
        let expires_ms = s.now_ms().saturating_add(3_600_000);
        s.bearers.insert(
            token.to_owned(),
            BearerToken {
                scopes: scopes.iter().map(|x| (*x).to_owned()).collect(),
                expires_ms,
            },
        );
    }

    /// Trusts the access tokens another simulator's OAuth server issues (with their
    /// scopes), as one Atlassian 3LO grant serves Jira and Confluence:
    /// `confluence.trust_bearers(jira.bearer_check())`.
    pub fn trust_bearers(&self, check: crate::simkit::BearerCheck) {
        lock(&self.state).trusted = Some(Trusted(check));
    }

    /// A page as `GET /wiki/api/v2/pages/{id}?body-format=storage` answers it (trashed
    /// pages too), or `None`.
    pub fn page(&self, id: &str) -> Option<Value> {
        let s = lock(&self.state);
        let id = id.parse::<u64>().ok()?;
        s.pages.get(&id).map(|p| pages::output(&s, p, true))
    }

    /// Every page of a space that is not purged, by id.
    pub fn pages_in(&self, key: &str) -> Vec<Value> {
        let s = lock(&self.state);
        let Some(space) = s.spaces.values().find(|x| x.key == key).map(|x| x.id) else {
            return Vec::new();
        };
        s.pages
            .values()
            .filter(|p| p.space == space)
            .map(|p| pages::output(&s, p, true))
            .collect()
    }

    /// A person edits a page in the editor: a new version with this title and body.
    pub fn edit_page(&self, id: &str, title: Option<&str>, body: Option<&str>) -> bool {
        let mut s = lock(&self.state);
        changes::person_edit(&mut s, id, title, body, None)
    }

    /// A person moves a page under another page of its space.
    pub fn move_page(&self, id: &str, parent: &str) -> bool {
        let mut s = lock(&self.state);
        let parent = parent.parse::<u64>().ok();
        changes::person_edit(&mut s, id, None, None, parent.map(Some))
    }

    /// A person moves a page to the trash.
    pub fn trash_page(&self, id: &str) -> bool {
        let mut s = lock(&self.state);
        changes::trash(&mut s, id).is_ok()
    }

    /// A page's content property, by key.
    pub fn property(&self, page: &str, key: &str) -> Option<Value> {
        let s = lock(&self.state);
        let id = page.parse::<u64>().ok()?;
        s.pages
            .get(&id)
            .and_then(|p| p.properties.get(key))
            .map(|p| p.value.clone())
    }

    /// The next requests answer with these statuses (500, 503...).
    pub fn fail_next(&self, statuses: &[u16]) {
        lock(&self.state).faults.fail_next(statuses);
    }

    /// The next request is answered 429 with `Retry-After: retry_after` seconds.
    pub fn throttle_next(&self, retry_after: u64) {
        lock(&self.state).throttles.push(retry_after);
    }

    /// Requests served so far.
    pub fn requests(&self) -> u64 {
        lock(&self.state).faults.requests()
    }

    /// The webhooks sent since the last call (signed `X-Hub-Signature` with
    /// [`WEBHOOK_SECRET`]).
    pub fn take_webhooks(&self) -> Vec<OutgoingWebhook> {
        lock(&self.state).outbox.take()
    }
}
