//! Worklogs as Jira Cloud keeps them: per issue (`/issue/{key}/worklog`, with
//! properties given at creation or under `/properties/{key}`), the site-wide delta
//! (`/worklog/updated`, `/worklog/deleted` since an epoch-millisecond time, pages of up
//! to 1,000 with `lastPage`/`nextPage`) and bodies by id (`POST /worklog/list`); the
//! `worklog_created|updated|deleted` admin webhooks on every change (`worklog_hooks`);
//! and the permission errors Jira answers with.

use std::collections::{BTreeMap, BTreeSet};

use chrono::DateTime;

use super::*;

/// One worklog.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub(super) struct Worklog {
    pub(super) id: u64,
    pub(super) issue: u64,
    started_ms: i64,
    seconds: i64,
    pub(super) comment: Option<Value>,
    created_ms: i64,
    updated_ms: i64,
    properties: BTreeMap<String, Value>,
}

/// The site's worklogs.
#[derive(Debug)]
pub(super) struct Worklogs {
    by_id: BTreeMap<u64, Worklog>,
    deleted: Vec<(u64, i64)>,
    next: u64,
    /// Projects whose issues the API user may not log time on.
    denied: BTreeSet<String>,
    /// The delta leaves out what changed this long before the request (Jira: a minute).
    quiet_ms: i64,
}

/// What [`JiraSimulator::save`] keeps of the worklogs: each with its properties, the
/// deletions the delta reports, and the next id.
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
pub(super) struct SavedWorklogs {
    by_id: BTreeMap<u64, Worklog>,
    deleted: Vec<(u64, i64)>,
    next: u64,
}

impl Worklogs {
    /// What is kept across a save and a load.
    pub(super) fn saved(&self) -> SavedWorklogs {
        SavedWorklogs {
            by_id: self.by_id.clone(),
            deleted: self.deleted.clone(),
            next: self.next,
        }
    }

    /// Takes back what [`Worklogs::saved`] gave (permissions and the quiet period stay
    /// as they are).
    pub(super) fn restore(&mut self, saved: SavedWorklogs) {
        self.by_id = saved.by_id;
        self.deleted = saved.deleted;
        self.next = saved.next;
    }
}

impl Default for Worklogs {
    fn default() -> Self {
        Self {
            by_id: BTreeMap::new(),
            deleted: Vec::new(),
            next: 0,
            denied: BTreeSet::new(),
            quiet_ms: 60_000,
        }
    }
}

/// `2026-04-28T15:43:10.979+0200` -> epoch milliseconds.
fn parse_started(text: &str) -> Option<i64> {
    DateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.3f%z")
        .ok()
        .map(|t| t.timestamp_millis())
}

/// Jira's `timeSpent`: weeks of five days of eight hours, as the fixtures show.
fn time_spent(seconds: i64) -> String {
    let mut left = seconds.max(0) / 60;
    let mut parts = Vec::new();
    for (unit, minutes) in [("w", 5 * 8 * 60), ("d", 8 * 60), ("h", 60), ("m", 1)] {
        if left >= minutes {
            parts.push(format!("{}{unit}", left / minutes));
            left %= minutes;
        }
    }
    if parts.is_empty() {
        "0m".into()
    } else {
        parts.join(" ")
    }
}

fn author() -> Value {
    json!({"accountId": ACCOUNT_ID, "displayName": "Simulated User", "active": true,
           "timeZone": "Europe/Warsaw", "accountType": "atlassian"})
}

pub(super) fn out(s: &State, w: &Worklog, properties: bool) -> Value {
    let mut v = json!({
        "self": format!("{}/rest/api/3/issue/{}/worklog/{}", s.base_url, w.issue, w.id),
        "author": author(), "updateAuthor": author(),
        "created": s.stamp(w.created_ms), "updated": s.stamp(w.updated_ms),
        "started": s.stamp(w.started_ms),
        "timeSpent": time_spent(w.seconds), "timeSpentSeconds": w.seconds,
        "id": w.id.to_string(), "issueId": w.issue.to_string(),
    });
    if let Some(c) = &w.comment {
        v["comment"] = c.clone();
    }
    if properties {
        v["properties"] = Value::Array(
            w.properties
                .iter()
                .map(|(k, v)| json!({"key": k, "value": v}))
                .collect(),
        );
    }
    v
}

fn wants_properties(req: &Request) -> bool {
    req.query("expand")
        .is_some_and(|e| e.split(',').any(|x| x.trim() == "properties"))
}

/// The issue a worklog call names, with the errors Jira gives.
fn issue_for_worklog(s: &State, key: &str, write: bool) -> Result<u64, Response> {
    let id = s.issue_id(key).ok_or_else(|| {
        error(
            404,
            &["Issue does not exist or you do not have permission to see it."],
            &[],
        )
    })?;
    let project = s.issues.get(&id).map(|i| i.project.clone());
    if write && project.is_some_and(|p| s.worklogs.denied.contains(&p)) {
        return Err(error(
            403,
            &["You do not have the permission to associate a worklog to this issue."],
            &[],
        ));
    }
    Ok(id)
}

/// The fields of a worklog body: seconds (or `timeSpent`), `started`, `comment`.
fn read_body(body: &Value, w: &mut Worklog, creating: bool) -> Result<(), Response> {
    let seconds = match (body.get("timeSpentSeconds"), body.get("timeSpent")) {
        (Some(n), _) => n.as_i64(),
        (None, Some(t)) => t.as_str().and_then(parse_spent),
        (None, None) if creating => None,
        (None, None) => Some(w.seconds),
    };
    match seconds {
        Some(n) if n >= 60 => w.seconds = n,
        Some(_) => {
            return Err(error(
                400,
                &[],
                &[("timeLogged", "Time Spent must be at least one minute.")],
            ));
        }
        None => {
            return Err(error(
                400,
                &[],
                &[("timeLogged", "You must indicate the time spent working.")],
            ));
        }
    }
    match body.get("started").and_then(Value::as_str) {
        Some(text) => {
            w.started_ms = parse_started(text).ok_or_else(|| {
                error(
                    400,
                    &[],
                    &[(
                        "started",
                        "Could not parse the date: use yyyy-MM-dd'T'HH:mm:ss.SSSZ.",
                    )],
                )
            })?;
        }
        None if creating => w.started_ms = w.created_ms,
        None => {}
    }
    if let Some(c) = body.get("comment") {
        w.comment = (!c.is_null()).then(|| c.clone());
    }
    Ok(())
}

/// `1h 30m`, `2d`, `45m` -> seconds.
fn parse_spent(text: &str) -> Option<i64> {
    let mut total = 0i64;
    for part in text.split_whitespace() {
        let (n, unit) = part.split_at(part.len().checked_sub(1)?);
        let n: i64 = n.parse().ok()?;
        total += n * match unit {
            "w" => 5 * 8 * 3600,
            "d" => 8 * 3600,
            "h" => 3600,
            "m" => 60,
            _ => return None,
        };
    }
    Some(total)
}

pub(super) fn add(s: &mut State, key: &str, body: &Value, req: &Request) -> Response {
    let issue = match issue_for_worklog(s, key, true) {
        Ok(id) => id,
        Err(r) => return r,
    };
    let now = s.now_ms();
    s.worklogs.next += 1;
    let mut w = Worklog {
        id: 10_000 + s.worklogs.next,
        issue,
        started_ms: now,
        seconds: 0,
        comment: None,
        created_ms: now,
        updated_ms: now,
        properties: BTreeMap::new(),
    };
    if let Err(r) = read_body(body, &mut w, true) {
        return r;
    }
    for p in body["properties"].as_array().into_iter().flatten() {
        if let Some(k) = p["key"].as_str() {
            w.properties.insert(k.to_owned(), p["value"].clone());
        }
    }
    let v = out(s, &w, wants_properties(req));
    super::worklog_hooks::emit(s, "worklog_created", &w);
    s.worklogs.by_id.insert(w.id, w);
    Response::json(201, &v)
}

fn find(s: &State, key: &str, id: &str, write: bool) -> Result<u64, Response> {
    let issue = issue_for_worklog(s, key, write)?;
    id.parse::<u64>()
        .ok()
        .filter(|id| s.worklogs.by_id.get(id).is_some_and(|w| w.issue == issue))
        .ok_or_else(|| error(404, &[&format!("Cannot find worklog with id: {id}")], &[]))
}

pub(super) fn get(s: &State, key: &str, id: &str, req: &Request) -> Response {
    match find(s, key, id, false) {
        Ok(id) => Response::json(200, &out(s, &s.worklogs.by_id[&id], wants_properties(req))),
        Err(r) => r,
    }
}

pub(super) fn update(s: &mut State, key: &str, id: &str, body: &Value, req: &Request) -> Response {
    let id = match find(s, key, id, true) {
        Ok(id) => id,
        Err(r) => return r,
    };
    let now = s.now_ms();
    let mut w = s.worklogs.by_id[&id].clone();
    if let Err(r) = read_body(body, &mut w, false) {
        return r;
    }
    w.updated_ms = now;
    let v = out(s, &w, wants_properties(req));
    super::worklog_hooks::emit(s, "worklog_updated", &w);
    s.worklogs.by_id.insert(id, w);
    Response::json(200, &v)
}

pub(super) fn delete(s: &mut State, key: &str, id: &str) -> Response {
    let id = match find(s, key, id, true) {
        Ok(id) => id,
        Err(r) => return r,
    };
    if let Some(w) = s.worklogs.by_id.remove(&id) {
        super::worklog_hooks::emit(s, "worklog_deleted", &w);
    }
    let now = s.now_ms();
    s.worklogs.deleted.push((id, now));
    Response::empty(204)
}

pub(super) fn of_issue(s: &State, key: &str, req: &Request) -> Response {
    let issue = match issue_for_worklog(s, key, false) {
        Ok(id) => id,
        Err(r) => return r,
    };
    let all: Vec<Value> = s
        .worklogs
        .by_id
        .values()
        .filter(|w| w.issue == issue)
        .map(|w| out(s, w, wants_properties(req)))
        .collect();
    let start: usize = req
        .query("startAt")
        .and_then(|x| x.parse().ok())
        .unwrap_or(0);
    let max: usize = req
        .query("maxResults")
        .and_then(|x| x.parse().ok())
        .unwrap_or(5000)
        .clamp(1, 5000);
    let page: Vec<Value> = all.iter().skip(start).take(max).cloned().collect();
    Response::json(
        200,
        &json!({"startAt": start, "maxResults": max, "total": all.len(), "worklogs": page}),
    )
}

pub(super) fn property_put(
    s: &mut State,
    key: &str,
    id: &str,
    name: &str,
    body: Value,
) -> Response {
    match find(s, key, id, true) {
        Ok(id) => {
            let created = s
                .worklogs
                .by_id
                .get_mut(&id)
                .map(|w| w.properties.insert(name.to_owned(), body).is_none())
                .unwrap_or(false);
            Response::empty(if created { 201 } else { 200 })
        }
        Err(r) => r,
    }
}

pub(super) fn property_get(s: &State, key: &str, id: &str, name: &str) -> Response {
    match find(s, key, id, false) {
        Ok(id) => match s.worklogs.by_id[&id].properties.get(name) {
            Some(v) => Response::json(200, &json!({"key": name, "value": v})),
            None => error(
                404,
                &[&format!("The property with key '{name}' does not exist.")],
                &[],
            ),
        },
        Err(r) => r,
    }
}

/// `/worklog/updated` and `/worklog/deleted`: ids changed since `since`, oldest first.
pub(super) fn changed(s: &State, req: &Request, deleted: bool) -> Response {
    let since: i64 = req.query("since").and_then(|x| x.parse().ok()).unwrap_or(0);
    let before = s.now_ms().saturating_sub(s.worklogs.quiet_ms);
    let mut rows: Vec<(i64, u64, Option<&Worklog>)> = if deleted {
        s.worklogs
            .deleted
            .iter()
            .filter(|(_, at)| *at >= since && *at <= before)
            .map(|(id, at)| (*at, *id, None))
            .collect()
    } else {
        s.worklogs
            .by_id
            .values()
            .filter(|w| w.updated_ms >= since && w.updated_ms <= before)
            .map(|w| (w.updated_ms, w.id, Some(w)))
            .collect()
    };
    rows.sort_by_key(|(at, id, _)| (*at, *id));
    let last = rows.len() <= 1000;
    rows.truncate(1000);
    let until = rows.last().map_or(since, |(at, _, _)| *at);
    let with_properties = wants_properties(req);
    let values: Vec<Value> = rows
        .iter()
        .map(|(at, id, w)| {
            let properties: Vec<Value> = w
                .filter(|_| with_properties)
                .map(|w| {
                    w.properties
                        .iter()
                        .map(|(k, v)| json!({"key": k, "value": v}))
                        .collect()
                })
                .unwrap_or_default();
            json!({"worklogId": id, "updatedTime": at, "properties": properties})
        })
        .collect();
    let which = if deleted { "deleted" } else { "updated" };
    let mut body = json!({
        "values": values, "since": since, "until": until, "lastPage": last,
        "self": format!("{}/rest/api/3/worklog/{which}?since={since}", s.base_url),
    });
    if !last {
        body["nextPage"] = json!(format!(
            "{}/rest/api/3/worklog/{which}?since={until}",
            s.base_url
        ));
    }
    Response::json(200, &body)
}

/// `POST /worklog/list {"ids": [...]}`: the worklogs among `ids` that exist.
pub(super) fn list(s: &State, body: &Value, req: &Request) -> Response {
    let Some(ids) = body["ids"].as_array() else {
        return error(400, &["The request must name the worklog ids."], &[]);
    };
    if ids.len() > 1000 {
        return error(400, &["A maximum of 1000 worklogs can be requested."], &[]);
    }
    let found: Vec<Value> = ids
        .iter()
        .filter_map(|v| {
            v.as_u64()
                .or_else(|| v.as_str().and_then(|x| x.parse().ok()))
        })
        .filter_map(|id| s.worklogs.by_id.get(&id))
        .map(|w| out(s, w, wants_properties(req)))
        .collect();
    Response::json(200, &Value::Array(found))
}

impl JiraSimulator {
    /// A worklog as the API returns it (with its properties).
    pub fn worklog(&self, id: &str) -> Option<Value> {
        let s = lock(&self.state);
        let id: u64 = id.parse().ok()?;
        s.worklogs.by_id.get(&id).map(|w| out(&s, w, true))
    }

    /// Every worklog of an issue, oldest first.
    pub fn worklogs_of(&self, id_or_key: &str) -> Vec<Value> {
        let s = lock(&self.state);
        let Some(issue) = s.issue_id(id_or_key) else {
            return Vec::new();
        };
        s.worklogs
            .by_id
            .values()
            .filter(|w| w.issue == issue)
            .map(|w| out(&s, w, true))
            .collect()
    }

    /// A person edits a worklog in Jira (`timeSpentSeconds`, `started`, `comment`).
    pub fn edit_worklog(&self, id: &str, changes: &Value) -> Result<(), String> {
        let mut s = lock(&self.state);
        let now = s.now_ms();
        let id: u64 = id.parse().map_err(|_| format!("no worklog {id}"))?;
        let mut w = s
            .worklogs
            .by_id
            .get(&id)
            .cloned()
            .ok_or_else(|| format!("no worklog {id}"))?;
        read_body(changes, &mut w, false)
            .map_err(|r| String::from_utf8_lossy(&r.body).into_owned())?;
        w.updated_ms = now;
        super::worklog_hooks::emit(&mut s, "worklog_updated", &w);
        s.worklogs.by_id.insert(id, w);
        Ok(())
    }

    /// How long before a request a change must be to show in `/worklog/updated` and
    /// `/worklog/deleted`: a minute by default, as Jira answers; zero shows every change
    /// at once.
    pub fn set_worklog_quiet_period(&self, quiet: std::time::Duration) {
        let ms = i64::try_from(quiet.as_millis()).unwrap_or(i64::MAX);
        lock(&self.state).worklogs.quiet_ms = ms;
    }

    /// The API user may not log time on `project`'s issues (Jira answers 403).
    pub fn deny_worklogs(&self, project: &str) {
        lock(&self.state).worklogs.denied.insert(project.to_owned());
    }
}
