//! Issue comments (`/issues/{n}/comments`, `/issues/comments/{id}`) with the
//! `issue_comment` webhook, locking (`/issues/{n}/lock`) and the issue's events, as
//! GitHub answers them.

use super::issues::{emit_event, touch};
use super::milestones::validation;
use super::*;

fn comment_object(base: &str, repo: &str, number: u64, id: u64, body: &str, now: &str) -> Value {
    json!({
        "url": format!("{base}/repos/{repo}/issues/comments/{id}"),
        "html_url": format!("https://github.com/{repo}/issues/{number}#issuecomment-{id}"),
        "issue_url": format!("{base}/repos/{repo}/issues/{number}"),
        "id": id, "node_id": format!("IC_{id}"),
        "user": super::resources::user_object(base),
        "created_at": now, "updated_at": now,
        "author_association": "OWNER", "body": body,
        "performed_via_github_app": null,
        "reactions": {"url": format!("{base}/repos/{repo}/issues/comments/{id}/reactions"),
            "total_count": 0, "+1": 0, "-1": 0, "laugh": 0, "hooray": 0, "confused": 0,
            "heart": 0, "rocket": 0, "eyes": 0},
    })
}

/// The issue number a comment belongs to (from its `issue_url`).
fn number_of(comment: &Value) -> Option<u64> {
    comment["issue_url"]
        .as_str()?
        .rsplit('/')
        .next()?
        .parse()
        .ok()
}

fn body_text(body: &Value) -> Result<String, Response> {
    body.get("body")
        .and_then(Value::as_str)
        .filter(|b| !b.trim().is_empty())
        .map(str::to_owned)
        .ok_or_else(|| validation("IssueComment", "missing_field", "body"))
}

/// Counts the issue's comments again, moves its change time, and tells the hooks.
fn after_change(s: &mut State, repo: &str, number: u64, action: &str, comment: &Value) {
    let now = s.clock.now();
    let Some(r) = s.repos.get_mut(repo) else {
        return;
    };
    let count = r
        .comments
        .values()
        .filter(|c| number_of(c) == Some(number))
        .count();
    let Some(issue) = r.issues.get_mut(&number) else {
        return;
    };
    issue["comments"] = json!(count);
    touch(&mut r.feed, issue, number, now);
    let issue = issue.clone();
    emit_event(
        s,
        repo,
        "issue_comment",
        json!({"action": action, "issue": issue, "comment": comment}),
    );
}

/// `POST /repos/{repo}/issues/{n}/comments`.
pub(super) fn create(s: &mut State, repo: &str, number: u64, body: &Value) -> Response {
    let text = match body_text(body) {
        Ok(t) => t,
        Err(r) => return r,
    };
    if !s
        .repos
        .get(repo)
        .is_some_and(|r| r.issues.contains_key(&number))
    {
        return error(404, "Not Found");
    }
    s.next_id += 1;
    let id = s.next_id;
    let now = stamp(s.clock.now());
    let comment = comment_object(&s.base_url, repo, number, id, &text, &now);
    if let Some(r) = s.repos.get_mut(repo) {
        r.comments.insert(id, comment.clone());
    }
    after_change(s, repo, number, "created", &comment);
    Response::json(201, &comment)
}

/// `GET /repos/{repo}/issues/{n}/comments` (oldest first, `page`/`per_page`).
pub(super) fn list(s: &State, repo: &str, number: u64, req: &Request) -> Response {
    let Some(r) = s.repos.get(repo).filter(|r| r.issues.contains_key(&number)) else {
        return error(404, "Not Found");
    };
    let per_page = req
        .query("per_page")
        .and_then(|p| p.parse::<usize>().ok())
        .unwrap_or(30)
        .clamp(1, 100);
    let page = req
        .query("page")
        .and_then(|p| p.parse::<usize>().ok())
        .unwrap_or(1)
        .max(1);
    let all: Vec<Value> = r
        .comments
        .values()
        .filter(|c| number_of(c) == Some(number))
        .cloned()
        .collect();
    let chunk: Vec<Value> = all
        .iter()
        .skip((page - 1).saturating_mul(per_page))
        .take(per_page)
        .cloned()
        .collect();
    Response::json(200, &Value::Array(chunk))
}

/// `GET`, `PATCH` and `DELETE /repos/{repo}/issues/comments/{id}`.
pub(super) fn one(s: &mut State, method: &str, repo: &str, id: u64, body: &Value) -> Response {
    let Some(comment) = s.repos.get(repo).and_then(|r| r.comments.get(&id)).cloned() else {
        return error(404, "Not Found");
    };
    let number = number_of(&comment).unwrap_or(0);
    match method {
        "GET" => Response::json(200, &comment),
        "PATCH" => {
            let text = match body_text(body) {
                Ok(t) => t,
                Err(r) => return r,
            };
            let mut comment = comment;
            comment["body"] = json!(text);
            comment["updated_at"] = json!(stamp(s.clock.now()));
            if let Some(r) = s.repos.get_mut(repo) {
                r.comments.insert(id, comment.clone());
            }
            after_change(s, repo, number, "edited", &comment);
            Response::json(200, &comment)
        }
        "DELETE" => {
            if let Some(r) = s.repos.get_mut(repo) {
                r.comments.remove(&id);
            }
            after_change(s, repo, number, "deleted", &comment);
            Response::empty(204)
        }
        _ => error(404, "Not Found"),
    }
}

/// `PUT` and `DELETE /repos/{repo}/issues/{n}/lock`.
pub(super) fn lock_issue(
    s: &mut State,
    repo: &str,
    number: u64,
    locked: bool,
    body: &Value,
) -> Response {
    let reason = body.get("lock_reason").cloned().unwrap_or(Value::Null);
    if locked
        && !(reason.is_null()
            || matches!(
                reason.as_str(),
                Some("off-topic" | "too heated" | "resolved" | "spam")
            ))
    {
        return validation("Issue", "invalid", "lock_reason");
    }
    let Some(issue) = s
        .repos
        .get_mut(repo)
        .and_then(|r| r.issues.get_mut(&number))
    else {
        return error(404, "Not Found");
    };
    issue["locked"] = json!(locked);
    issue["active_lock_reason"] = if locked { reason } else { Value::Null };
    let issue = issue.clone();
    super::issues::emit(s, repo, if locked { "locked" } else { "unlocked" }, &issue);
    Response::empty(204)
}
