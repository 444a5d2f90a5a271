//! Issues: create, update, sub-issue links, listing pages, and the webhook events
//! they emit.

use super::*;

pub(super) fn emit(s: &mut State, repo: &str, action: &str, issue: &Value) {
    record_event(s, repo, action, issue);
    let mut payload = json!({"action": action, "issue": issue});
    if matches!(action, "milestoned" | "demilestoned") {
        payload["milestone"] = issue["milestone"].clone();
    }
    emit_event(s, repo, "issues", payload);
}

/// Keeps the issue event GitHub lists under `/issues/{n}/events` for `action` (the
/// actions whose event carries nothing the simulator does not know).
fn record_event(s: &mut State, repo: &str, action: &str, issue: &Value) {
    if !matches!(
        action,
        "closed" | "reopened" | "milestoned" | "demilestoned" | "locked" | "unlocked"
    ) {
        return;
    }
    let Some(number) = issue["number"].as_u64() else {
        return;
    };
    s.next_id += 1;
    let id = s.next_id;
    let mut event = json!({
        "id": id, "node_id": format!("IE_{id}"),
        "url": format!("{}/repos/{repo}/issues/events/{id}", s.base_url),
        "actor": super::resources::user_object(&s.base_url), "event": action,
        "commit_id": null, "commit_url": null, "created_at": stamp(s.clock.now()),
        "performed_via_github_app": null,
    });
    match action {
        "milestoned" | "demilestoned" => {
            event["milestone"] = json!({"title": issue["milestone"]["title"]});
        }
        "locked" => event["lock_reason"] = issue["active_lock_reason"].clone(),
        "closed" => event["state_reason"] = issue["state_reason"].clone(),
        _ => {}
    }
    if let Some(r) = s.repos.get_mut(repo) {
        r.events.entry(number).or_default().push(event);
    }
}

/// Queues a signed delivery of `event` with `payload` (plus the repository and sender).
pub(super) fn emit_event(s: &mut State, repo: &str, event: &str, mut payload: Value) {
    let repo_id = s.repos.get(repo).map_or(0, |r| r.id);
    payload["repository"] = json!({"id": repo_id, "full_name": repo});
    payload["sender"] = json!({"login": "octocat"});
    let body = serde_json::to_vec(&payload).unwrap_or_default();
    s.outbox.push(&[("X-GitHub-Event", event)], body);
}

pub(super) fn label_objects(
    base: &str,
    repo_name: &str,
    repo: &mut Repo,
    names: &[String],
) -> Value {
    Value::Array(
        names
            .iter()
            .map(|n| {
                repo.labels
                    .entry(n.clone())
                    .or_insert_with(|| "ededed".into());
                super::resources::label_object(base, repo_name, repo, n)
            })
            .collect(),
    )
}

pub(super) fn strings(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// An open issue with no title, body, labels or people yet, in GitHub's shape (the
/// fields of the recorded payloads).
pub(super) fn issue_object(base: &str, repo: &str, id: u64, number: u64, now: &str) -> Value {
    let url = format!("{base}/repos/{repo}/issues/{number}");
    json!({
        "id": id, "node_id": format!("I_{id}"), "number": number,
        "url": url, "repository_url": format!("{base}/repos/{repo}"),
        "labels_url": format!("{url}/labels{{/name}}"), "comments_url": format!("{url}/comments"),
        "events_url": format!("{url}/events"),
        "html_url": format!("https://github.com/{repo}/issues/{number}"),
        "title": "", "body": null, "user": super::resources::user_object(base),
        "labels": [], "state": "open", "state_reason": null, "locked": false,
        "assignee": null, "assignees": [], "milestone": null, "comments": 0,
        "created_at": now, "updated_at": now, "closed_at": null,
        "author_association": "OWNER", "active_lock_reason": null,
        "parent_issue_url": null, "draft": false,
        "reactions": {"url": format!("{url}/reactions"), "total_count": 0, "+1": 0, "-1": 0,
                      "laugh": 0, "hooray": 0, "confused": 0, "heart": 0, "rocket": 0, "eyes": 0},
        "sub_issues_summary": {"total": 0, "completed": 0, "percent_completed": 0},
    })
}

pub(super) fn create_issue(s: &mut State, repo: &str, fields: &Value) -> Result<Value, Response> {
    let title = fields
        .get("title")
        .and_then(|t| {
            t.as_str()
                .map(str::to_owned)
                .or_else(|| t.as_u64().map(|n| n.to_string()))
        })
        .filter(|t| !t.trim().is_empty())
        .ok_or_else(|| validation("Issue", "missing_field", "title"))?;
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
    let labels = label_objects(&s.base_url, repo, r, &strings(fields.get("labels")));
    let assignees: Vec<Value> = strings(fields.get("assignees"))
        .into_iter()
        .map(|l| json!({"login": l, "id": fnv(l.as_bytes()) >> 12, "type": "User"}))
        .collect();
    let mut issue = issue_object(&s.base_url, repo, id, number, &now);
    issue["title"] = json!(title);
    issue["body"] = fields.get("body").cloned().unwrap_or(Value::Null);
    issue["labels"] = labels;
    issue["assignee"] = assignees.first().cloned().unwrap_or(Value::Null);
    issue["assignees"] = Value::Array(assignees);
    issue["milestone"] = milestone.unwrap_or(Value::Null);
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
/// one-second precision, like GitHub's: edits within one second share it.
pub(super) fn touch(
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
    // Never backwards, never ahead of the clock: edits within one second share it.
    let next = match last {
        Some(l) if l > now => l,
        _ => now,
    };
    let old_stamp = issue["updated_at"].as_str().unwrap_or("").to_owned();
    issue["updated_at"] = json!(stamp(next));
    feed.remove(&(old_stamp, number));
    feed.insert((stamp(next), number));
}

/// Takes the issue with REST id `child_id` from under issue `parent` (both in `repo`):
/// the parent's JSON, or GitHub's error.
pub(super) fn remove_sub_issue(
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

pub(super) fn update_issue(s: &mut State, repo: &str, number: u64, patch: &Value) -> Option<Value> {
    let now = s.clock.now();
    let r = s.repos.get_mut(repo)?;
    let labels = patch
        .get("labels")
        .map(|_| label_objects(&s.base_url, repo, r, &strings(patch.get("labels"))));
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
                .map(|l| json!({"login": l, "id": fnv(l.as_bytes()) >> 12, "type": "User"}))
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

pub(super) fn list_issues(s: &State, repo: &str, req: &Request) -> Response {
    let Some(r) = s.repos.get(repo) else {
        return error(404, "Not Found");
    };
    let paging = PageRequest::from_query(req, "per_page", 30, 100);
    let (page, per_page) = (paging.page, paging.per_page);
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
    // Walk the feed in change order (newest first with `direction=desc`), from the
    // cursor when there is one; `page=N` without a cursor skips N-1 pages.
    let descending = req.query("direction") == Some("desc");
    let since_key = since.map(|t| (stamp(t.with_timezone(&Utc)), 0));
    let walk: Box<dyn Iterator<Item = &(String, u64)>> = match (&after, descending) {
        (Some((t, n)), false) => Box::new(r.feed.range((t.clone(), n + 1)..)),
        (Some((t, n)), true) => Box::new(r.feed.range(..(t.clone(), *n)).rev()),
        (None, false) => Box::new(r.feed.range(since_key.clone().unwrap_or_default()..)),
        (None, true) => Box::new(r.feed.iter().rev()),
    };
    let skip = if after.is_none() { paging.skip() } else { 0 };
    let matching = walk
        .filter_map(|(_, number)| r.issues.get(number))
        .filter(|i| {
            if state != "all" && i["state"] != state {
                return false;
            }
            if since_key
                .as_ref()
                .is_some_and(|(t, _)| i["updated_at"].as_str().unwrap_or("") < t.as_str())
            {
                return false;
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
            labelled && assigned && in_milestone
        });
    // Page numbers (no cursor) also say where the last page is.
    let (items, total): (Vec<&Value>, Option<usize>) =
        if after.is_none() && req.query("page").is_some() {
            let all: Vec<&Value> = matching.collect();
            let total = all.len();
            (
                all.into_iter().skip(skip).take(per_page + 1).collect(),
                Some(total),
            )
        } else {
            (matching.take(per_page + 1).collect(), None)
        };
    let mut items = items;
    let key = |i: &Value| {
        (
            i["updated_at"].as_str().unwrap_or("").to_owned(),
            i["number"].as_u64().unwrap_or(0),
        )
    };
    let more = items.len() > per_page;
    items.truncate(per_page);
    // Serialized once, borrowing the stored issues: the ETag is over these bytes.
    let text = serde_json::to_vec(&items).unwrap_or_default();
    let mut response = json_with_etag(req, text);
    if response.status == 304 {
        return response;
    }
    // Links go to `/repositories/{id}/issues`, as GitHub's do.
    let path = format!("/repositories/{}/issues", r.id);
    let links = match total {
        // Page numbers asked for: next and last by number, like GitHub.
        Some(total) => Links::numbered(page, paging.last(total), |n| {
            url_with(
                &s.base_url,
                &path,
                req,
                &[("page", n.to_string())],
                &["after"],
            )
        }),
        // A cursor: the next page continues after the last issue shown.
        None => match items.last().filter(|_| more) {
            Some(last) => {
                let (t, n) = key(last);
                let set = [
                    ("after", format!("{t}_{n}")),
                    ("page", (page + 1).to_string()),
                ];
                Links::new().with("next", url_with(&s.base_url, &path, req, &set, &[]))
            }
            None => Links::new(),
        },
    };
    response = links.apply(response);
    response
}
