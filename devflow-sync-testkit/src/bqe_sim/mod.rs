//! [`BqeSimulator`]: an in-process BQE CORE on 127.0.0.1: the identity server
//! (`/idp/connect/token` for authorization codes with PKCE or a client secret, rotating
//! refresh tokens and client credentials, `/idp/connect/revocation`; the token response
//! names the company's API base in `endpoint`), and the API (`/api/project`,
//! `/api/client`, each by id too, and `/api/deletedhistory`) with BQE's query
//! parameters: `page=<n>,<size>` (first page 0 by default, as BQE's Node sample), `fields`,
//! `where` (the operators the provider sends: `eq`, `ne`, `gt`, `ge`, `lt`, `le` joined by
//! `and`, `null`, quoted strings and dates), `orderBy`; projects with parents
//! (sub-projects), clients, `lastUpdated`, deletions in the history; errors as
//! `{errorCode, message}`, 429s with `Retry-After`, faults and a latency knob. BQE's
//! documentation is thin; where the reference marks a fact unconfirmed, the simulator
//! follows the choice the provider documents.

mod entities;
mod identity;
mod persist;
mod query;
mod routes;

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use chrono::{DateTime, Utc};
use devflow_sync_core::clock::{Clock, SystemClock};
use serde_json::{Value, json};

use crate::simkit::server;
use crate::simkit::{Faults, Request, Response};

#[derive(Clone, Debug)]
struct Token {
    client: String,
    scopes: Vec<String>,
    expires_ms: i64,
}

#[derive(Debug)]
struct State {
    clock: Arc<dyn Clock>,
    base_url: String,
    /// Entities by collection (`project`, `client`), by id: BQE's JSON objects.
    entities: BTreeMap<String, BTreeMap<String, Value>>,
    /// Deletions: (collection, id, when).
    deleted: Vec<(String, String, i64)>,
    next: u64,
    first_page: usize,
    clients: HashMap<String, Option<String>>,
    codes: HashMap<String, (String, Vec<String>, Option<String>)>,
    tokens: HashMap<String, Token>,
    refresh: HashMap<String, (String, Vec<String>, bool)>,
    refreshes: u64,
    revoked: u64,
    client_credentials: bool,
    faults: Faults,
    throttles: Vec<u64>,
    /// Queries the API answered, as asked (`where`, `page`, `fields`), for tests.
    queries: Vec<Vec<(String, String)>>,
}

/// An in-process BQE CORE for tests and examples.
#[derive(Debug)]
pub struct BqeSimulator {
    addr: SocketAddr,
    state: Arc<Mutex<State>>,
    latency: Arc<AtomicU64>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for BqeSimulator {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    state.lock().unwrap_or_else(|e| e.into_inner())
}

/// BQE's error body.
fn error(status: u16, code: &str, message: &str) -> Response {
    Response::json(status, &json!({"errorCode": code, "message": message}))
}

/// A time as BQE writes it: ISO 8601 without an offset (UTC here).
fn stamp(ms: i64) -> String {
    DateTime::<Utc>::from_timestamp_millis(ms)
        .unwrap_or_default()
        .format("%Y-%m-%dT%H:%M:%S")
        .to_string()
}

impl State {
    fn now_ms(&self) -> i64 {
        self.clock.now().timestamp_millis()
    }

    fn id(&mut self) -> String {
        self.next += 1;
        format!(
            "6f1c{:04x}-0000-4000-8000-{:012x}",
            self.next % 0xffff,
            self.next
        )
    }
}

impl BqeSimulator {
    /// Starts a simulator on a free loopback port, on the system clock.
    pub async fn start() -> std::io::Result<Self> {
        Self::start_with_clock(Arc::new(SystemClock)).await
    }

    /// Starts a simulator whose timestamps come from `clock`.
    pub async fn start_with_clock(clock: Arc<dyn Clock>) -> std::io::Result<Self> {
        let state = Arc::new(Mutex::new(State {
            clock,
            base_url: String::new(),
            entities: BTreeMap::new(),
            deleted: Vec::new(),
            next: 0,
            first_page: 0,
            clients: HashMap::new(),
            codes: HashMap::new(),
            tokens: HashMap::new(),
            refresh: HashMap::new(),
            refreshes: 0,
            revoked: 0,
            client_credentials: false,
            faults: Faults::default(),
            throttles: Vec::new(),
            queries: Vec::new(),
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

    /// The identity server's base (`{url}/idp`): `/connect/token`, `/connect/revocation`.
    pub fn identity_url(&self) -> String {
        format!("http://{}/idp", self.addr)
    }

    /// The API base (`{url}/api`), what the token response's `endpoint` names.
    pub fn api_url(&self) -> String {
        format!("http://{}/api", self.addr)
    }

    /// Makes every request wait `latency` first (zero by default).
    pub fn set_latency(&self, latency: std::time::Duration) {
        let ms = u64::try_from(latency.as_millis()).unwrap_or(u64::MAX);
        self.latency.store(ms, Ordering::Relaxed);
    }

    /// Which page number is the first (0 by default; BQE's samples differ).
    pub fn set_first_page(&self, first: usize) {
        lock(&self.state).first_page = first;
    }

    /// Registers an app: a web app with a secret, or a public one (PKCE) without.
    pub fn register_app(&self, client_id: &str, secret: Option<&str>) {
        lock(&self.state)
            .clients
            .insert(client_id.to_owned(), secret.map(str::to_owned));
    }

    /// Whether the client-credentials grant is answered (off by default: no BQE
    /// document shows it).
    pub fn allow_client_credentials(&self, allow: bool) {
        lock(&self.state).client_credentials = allow;
    }

    /// A person consents for `client_id` with `scopes` (and a PKCE challenge for public
    /// apps); returns the code on the redirect.
    pub fn authorize(
        &self,
        client_id: &str,
        scopes: &[&str],
        code_challenge: Option<&str>,
    ) -> String {
        let mut s = lock(&self.state);
        s.next += 1;
        let code = format!("bqe-code-{}", s.next);
        s.codes.insert(
            code.clone(),
            (
                client_id.to_owned(),
                scopes.iter().map(|x| (*x).to_owned()).collect(),
                code_challenge.map(str::to_owned),
            ),
        );
        code
    }

    /// Accepts `token` as an access token with `scopes` for an hour.
    pub fn accept_token(&self, token: &str, scopes: &[&str]) {
        let mut s = lock(&self.state);
        let expires_ms = s.now_ms().saturating_add(3_600_000);
        s.tokens.insert(
            token.to_owned(),
            Token {
                client: String::new(),
                scopes: scopes.iter().map(|x| (*x).to_owned()).collect(),
                expires_ms,
            },
        );
    }

    /// Adds a client; returns its id.
    pub fn add_client(&self, name: &str) -> String {
        let mut s = lock(&self.state);
        entities::add_client(&mut s, name)
    }

    /// Adds a project (a sub-project with `parent`); returns its id.
    pub fn add_project(
        &self,
        code: &str,
        name: &str,
        client: Option<&str>,
        parent: Option<&str>,
    ) -> String {
        let mut s = lock(&self.state);
        entities::add_project(&mut s, code, name, client, parent)
    }

    /// Adds `parents` projects with `subs` sub-projects spread under them, and a client
    /// for every ten projects.
    pub fn seed_projects(&self, parents: usize, subs: usize) {
        let mut s = lock(&self.state);
        entities::seed(&mut s, parents, subs);
    }

    /// A person changes fields of an entity (`lastUpdated` moves); `false` if unknown.
    pub fn edit(&self, collection: &str, id: &str, changes: &Value) -> bool {
        let mut s = lock(&self.state);
        entities::edit(&mut s, collection, id, changes)
    }

    /// A person deletes an entity: gone from the lists, in the deleted history.
    pub fn delete(&self, collection: &str, id: &str) -> bool {
        let mut s = lock(&self.state);
        entities::delete(&mut s, collection, id, true)
    }

    /// An entity disappears without a trace in the deleted history (as a project
    /// whose history was purged); `restore` brings back what was removed.
    pub fn remove_silently(&self, collection: &str, id: &str) -> Option<Value> {
        lock(&self.state)
            .entities
            .get_mut(collection)
            .and_then(|m| m.remove(id))
    }

    /// Puts an entity back (as it was, `lastUpdated` now).
    pub fn restore(&self, collection: &str, mut entity: Value) {
        let mut s = lock(&self.state);
        let now = stamp(s.now_ms());
        entity["lastUpdated"] = json!(now);
        if let Some(id) = entity["id"].as_str().map(str::to_owned) {
            s.entities
                .entry(collection.to_owned())
                .or_default()
                .insert(id, entity);
        }
    }

    /// An entity as the API returns it.
    pub fn entity(&self, collection: &str, id: &str) -> Option<Value> {
        lock(&self.state).entities.get(collection)?.get(id).cloned()
    }

    /// The queries the API answered so far (each a list of parameters as sent).
    pub fn queries(&self) -> Vec<Vec<(String, String)>> {
        lock(&self.state).queries.clone()
    }

    /// How many refresh grants were answered, and how many tokens were revoked.
    pub fn refreshes_and_revocations(&self) -> (u64, u64) {
        let s = lock(&self.state);
        (s.refreshes, s.revoked)
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
}
