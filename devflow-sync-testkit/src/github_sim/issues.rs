//! Issues: create, update, sub-issue links, listing pages, and the webhook events
//! they emit.

use super::*;

pub(super) fn emit(s: &mut State, repo: &str, action: &str, issue: &Value) {
    let mut payload = json!({"action": action, "issue": issue});
    if matches!(action, "milestoned" | "demilestoned") {
        payload["milestone"] = issue["milestone"].clone();
    }
    emit_event(s, repo, "issues", payload);
}

/// Queues a signed delivery of `event` with `payload` (plus the repository and sender).
pub(super) fn emit_event(s: &mut State, repo: &str, event: &str, mut payload: Value) {
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

pub(super) fn label_objects(repo: &mut Repo, names: &[String]) -> Value {
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

pub(super) fn strings(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

pub(super) fn create_issue(s: &mut State, repo: &str, fields: &Value) -> Result<Value, Response> {
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

pub(super) fn list_issues(s: &State, repo: &str, req: &Request) -> Response {
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
