//! Milestones: create, update, and references from issues.

use super::*;

/// The milestone object an issue carries for `number`: `Ok(None)` for null, an error
/// message when the repository has no such milestone.
pub(super) fn milestone_ref(repo: &Repo, value: Option<&Value>) -> Result<Option<Value>, String> {
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

pub(super) fn create_milestone(
    s: &mut State,
    repo: &str,
    fields: &Value,
) -> Result<Value, Response> {
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
        "labels_url": format!("{base}/repos/{repo}/milestones/{number}/labels"),
        "creator": super::resources::user_object(&base),
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
pub(super) fn update_milestone(
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

pub(super) fn validation(resource: &str, code: &str, field: &str) -> Response {
    Response::json(
        422,
        &json!({"message": "Validation Failed", "errors": [{"resource": resource, "code": code, "field": field}], "documentation_url": "https://docs.github.com/rest"}),
    )
}

/// A milestone with its issue counts as of now (GitHub counts them on every read).
pub(super) fn with_counts(repo: &Repo, milestone: &Value) -> Value {
    let number = &milestone["number"];
    let (open, closed) = repo
        .issues
        .values()
        .filter(|i| &i["milestone"]["number"] == number)
        .fold((0u64, 0u64), |(o, c), i| {
            if i["state"] == "closed" {
                (o, c + 1)
            } else {
                (o + 1, c)
            }
        });
    let mut out = milestone.clone();
    out["open_issues"] = json!(open);
    out["closed_issues"] = json!(closed);
    out
}
