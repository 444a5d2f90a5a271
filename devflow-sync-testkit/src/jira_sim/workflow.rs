//! Workflows (transitions by status), the changelog and issue properties.

use super::admin::status_json;
use super::issues::{changed, not_found, text_of};
use super::*;

fn available(s: &State, issue: &Issue) -> Vec<Transition> {
    let status = issue
        .fields
        .get("status")
        .and_then(|t| t.get("name"))
        .and_then(Value::as_str)
        .unwrap_or("");
    s.projects
        .get(&issue.project)
        .map(|p| {
            p.workflow
                .iter()
                .filter(|t| {
                    t.from
                        .as_ref()
                        .is_none_or(|f| f.iter().any(|x| x == status))
                })
                .cloned()
                .collect()
        })
        .unwrap_or_default()
}

pub(super) fn transitions(s: &State, k: &str) -> Response {
    let Some(issue) = s.issue_id(k).and_then(|id| s.issues.get(&id)) else {
        return not_found();
    };
    let list: Vec<Value> = available(s, issue).iter().map(|t| json!({"id": t.id, "name": t.name, "to": status_json(&s.base_url, &t.to),
        "hasScreen": false, "isGlobal": t.from.is_none(), "isInitial": false, "isAvailable": true, "isConditional": false, "isLooped": false})).collect();
    Response::json(200, &json!({"expand": "transitions", "transitions": list}))
}

pub(super) fn transition(s: &mut State, k: &str, body: &Value) -> Result<Value, Response> {
    let Some(id) = s.issue_id(k) else {
        return Err(not_found());
    };
    let Some(issue) = s.issues.get(&id) else {
        return Err(not_found());
    };
    // Jira takes the id as a string or a number (SDKs send either).
    let want = match body.pointer("/transition/id") {
        Some(Value::String(id)) => id.clone(),
        Some(Value::Number(id)) => id.to_string(),
        _ => String::new(),
    };
    let Some(t) = available(s, issue).into_iter().find(|t| t.id == want) else {
        return Err(error(
            400,
            &[&format!(
                "Transition id '{want}' is not valid for this issue."
            )],
            &[],
        ));
    };
    set_status(s, id, &t.to, "issue_generic");
    Ok(Value::Null)
}

fn set_status(s: &mut State, id: u64, to: &str, type_name: &str) {
    let Some(status) = status_json(&s.base_url, to) else {
        return;
    };
    let Some(issue) = s.issues.get_mut(&id) else {
        return;
    };
    let old = issue.fields.insert("status".into(), status.clone());
    if old.as_ref() == Some(&status) {
        return;
    }
    let item = json!({"field": "status", "fieldtype": "jira", "fieldId": "status", "from": old.as_ref().and_then(|o| o.get("id")).cloned(), "fromString": text_of(old.as_ref()), "to": status["id"], "toString": status["name"]});
    changed(s, id, vec![item], type_name);
}

pub(super) fn force_status(s: &mut State, k: &str, status: &str) -> Result<(), String> {
    let id = s.issue_id(k).ok_or_else(|| format!("no issue {k}"))?;
    if status_json(&s.base_url, status).is_none() {
        return Err(format!("no status {status}"));
    }
    set_status(s, id, status, "issue_generic");
    Ok(())
}

pub(super) fn changelog(s: &State, k: &str) -> Response {
    let Some(issue) = s.issue_id(k).and_then(|id| s.issues.get(&id)) else {
        return not_found();
    };
    Response::json(
        200,
        &json!({"self": format!("{}/rest/api/3/issue/{}/changelog", s.base_url, issue.key), "maxResults": 100, "startAt": 0,
        "total": issue.changelog.len(), "isLast": true, "values": issue.changelog}),
    )
}

pub(super) fn property_keys(s: &State, k: &str) -> Response {
    let Some(issue) = s.issue_id(k).and_then(|id| s.issues.get(&id)) else {
        return not_found();
    };
    let keys: Vec<Value> = issue.properties.keys().map(|p| json!({"self": format!("{}/rest/api/3/issue/{}/properties/{p}", s.base_url, issue.id), "key": p})).collect();
    Response::json(200, &json!({"keys": keys}))
}

pub(super) fn property_get(s: &State, k: &str, p: &str) -> Response {
    let Some(issue) = s.issue_id(k).and_then(|id| s.issues.get(&id)) else {
        return not_found();
    };
    match issue.properties.get(p) {
        Some(v) => Response::json(200, &json!({"key": p, "value": v})),
        None => error(
            404,
            &[&format!("The property with key '{p}' does not exist.")],
            &[],
        ),
    }
}

pub(super) fn property_put(s: &mut State, k: &str, p: &str, value: Value) -> Response {
    let Some(id) = s.issue_id(k) else {
        return not_found();
    };
    if p.is_empty() || p.chars().count() > 255 {
        return error(400, &["The property key must be 1-255 characters."], &[]);
    }
    if value.to_string().chars().count() > 32_768 {
        return error(
            400,
            &["The property value is too long (at most 32768 characters)."],
            &[],
        );
    }
    let Some(issue) = s.issues.get_mut(&id) else {
        return not_found();
    };
    let existed = issue.properties.insert(p.to_owned(), value).is_some();
    s.reindex(id);
    Response {
        status: if existed { 200 } else { 201 },
        headers: Vec::new(),
        body: Vec::new(),
    }
}

pub(super) fn property_delete(s: &mut State, k: &str, p: &str) -> Result<Value, Response> {
    let Some(id) = s.issue_id(k) else {
        return Err(not_found());
    };
    let removed = s.issues.get_mut(&id).and_then(|i| i.properties.remove(p));
    s.reindex(id);
    removed.map(|_| Value::Null).ok_or_else(|| {
        error(
            404,
            &[&format!("The property with key '{p}' does not exist.")],
            &[],
        )
    })
}
