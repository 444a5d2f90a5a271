//! Issues: create, get, edit, delete, transitions, the changelog and properties, with
//! Jira's checks (required summary, ADF descriptions, the hierarchy of `parent`, fields
//! that must be on the screen, status only through transitions).

use super::admin::{status_json, type_json};
use super::output::{FieldSet, issue_json, webhook_issue};
use super::*;

const PRIORITIES: [(&str, &str); 5] = [
    ("1", "Highest"),
    ("2", "High"),
    ("3", "Medium"),
    ("4", "Low"),
    ("5", "Lowest"),
];

fn bad(field: &str, message: &str) -> Response {
    error(400, &[], &[(field, message)])
}

pub(super) fn not_found() -> Response {
    error(
        404,
        &["Issue does not exist or you do not have permission to see it."],
        &[],
    )
}

fn priority_json(s: &State, v: &Value) -> Option<Value> {
    let want = v
        .get("name")
        .or_else(|| v.get("id"))
        .and_then(Value::as_str)?;
    PRIORITIES
        .iter()
        .find(|(id, name)| *id == want || name.eq_ignore_ascii_case(want))
        .map(|(id, name)| {
            json!({"self": format!("{}/rest/api/3/priority/{id}", s.base_url), "name": name, "id": id,
                   "iconUrl": format!("{}/images/icons/priorities/{}.svg", s.base_url, name.to_lowercase())})
        })
}

fn user_json(s: &State, v: &Value) -> Value {
    match v.get("accountId").and_then(Value::as_str) {
        Some(id) => json!({
            "self": format!("{}/rest/api/3/user?accountId={id}", s.base_url),
            "accountId": id, "displayName": id, "active": true, "accountType": "atlassian",
        }),
        None => Value::Null,
    }
}

/// Checks and normalises one settable field; `Err` with Jira's answer.
fn set_field(
    s: &State,
    project: &Project,
    issue: &mut Map<String, Value>,
    name: &str,
    v: &Value,
) -> Result<(), Response> {
    match name {
        "summary" => match v.as_str().map(str::trim) {
            Some(t) if !t.is_empty() && t.chars().count() <= 255 => {
                issue.insert(name.into(), json!(t));
            }
            Some(t) if !t.is_empty() => {
                return Err(bad("summary", "Summary must be less than 255 characters."));
            }
            _ => return Err(bad("summary", "You must specify a summary of the issue.")),
        },
        "description" | "environment" => {
            if !(v.is_null() || v.get("type").and_then(Value::as_str) == Some("doc")) {
                return Err(bad(
                    name,
                    "Operation value must be an Atlassian Document (see the Atlassian Document Format)",
                ));
            }
            issue.insert(name.into(), v.clone());
        }
        "labels" => {
            let labels: Vec<&str> = v
                .as_array()
                .map(|a| a.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            if let Some(l) = labels.iter().find(|l| l.contains(' ') || l.is_empty()) {
                return Err(bad(
                    "labels",
                    &format!("The label '{l}' contains spaces which is invalid."),
                ));
            }
            issue.insert(name.into(), json!(labels));
        }
        "assignee" => {
            issue.insert(name.into(), user_json(s, v));
        }
        "priority" => match priority_json(s, v) {
            Some(p) => {
                issue.insert(name.into(), p);
            }
            None => {
                return Err(bad(
                    "priority",
                    "Specify the Priority (id or name) in the string format",
                ));
            }
        },
        "duedate" => {
            if !(v.is_null()
                || v.as_str()
                    .is_some_and(|d| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").is_ok()))
            {
                return Err(bad("duedate", "Error parsing date string: use yyyy-MM-dd"));
            }
            issue.insert(name.into(), v.clone());
        }
        "parent" => {
            if v.is_null() {
                issue.insert(name.into(), Value::Null);
                return Ok(());
            }
            let want = v
                .get("key")
                .or_else(|| v.get("id"))
                .and_then(Value::as_str)
                .unwrap_or("");
            let Some(parent) = s.issue_id(want).and_then(|id| s.issues.get(&id)) else {
                return Err(bad(
                    "parent",
                    &format!("Could not find issue by id or key: {want}"),
                ));
            };
            let level = issue
                .get("issuetype")
                .and_then(|t| t.get("hierarchyLevel"))
                .and_then(Value::as_i64)
                .unwrap_or(0);
            let parent_level = parent
                .fields
                .get("issuetype")
                .and_then(|t| t.get("hierarchyLevel"))
                .and_then(Value::as_i64)
                .unwrap_or(0);
            if parent_level != level + 1 || parent.project != project.key && level == -1 {
                return Err(bad(
                    "parent",
                    "Given parent work item does not belong to appropriate hierarchy.",
                ));
            }
            issue.insert(name.into(), json!({"id": parent.id.to_string()}));
        }
        "status" => {
            return Err(bad(
                "status",
                "Field 'status' cannot be set. It is not on the appropriate screen, or unknown.",
            ));
        }
        custom if custom.starts_with("customfield_") => {
            let usable = s.fields.iter().find(|f| f.id == custom).is_some_and(|f| {
                f.contexts.iter().any(|c| {
                    c.get("isGlobalContext").and_then(Value::as_bool) == Some(true)
                        || c.get("projectIds")
                            .and_then(Value::as_array)
                            .is_some_and(|ids| {
                                ids.iter().any(|i| {
                                    i.as_str() == Some(project.id.to_string().as_str())
                                        || i.as_u64() == Some(project.id)
                                })
                            })
                })
            });
            if !usable {
                return Err(bad(
                    custom,
                    &format!(
                        "Field '{custom}' cannot be set. It is not on the appropriate screen, or unknown."
                    ),
                ));
            }
            issue.insert(name.into(), v.clone());
        }
        other => {
            return Err(bad(
                other,
                &format!(
                    "Field '{other}' cannot be set. It is not on the appropriate screen, or unknown."
                ),
            ));
        }
    }
    Ok(())
}

pub(super) fn create(s: &mut State, body: &Value) -> Result<Value, Response> {
    let f = body.get("fields").cloned().unwrap_or(Value::Null);
    let want = f
        .pointer("/project/key")
        .or_else(|| f.pointer("/project/id"))
        .and_then(Value::as_str)
        .unwrap_or("");
    let Some(project) = s
        .projects
        .values()
        .find(|p| p.key == want || p.id.to_string() == want)
        .cloned()
    else {
        return Err(bad("project", "Specify a valid project ID or key"));
    };
    let want_type = f
        .pointer("/issuetype/id")
        .or_else(|| f.pointer("/issuetype/name"))
        .and_then(Value::as_str)
        .unwrap_or("");
    let Some(ty) = project
        .types
        .iter()
        .find(|t| t.id == want_type || t.name.eq_ignore_ascii_case(want_type))
    else {
        return Err(bad("issuetype", "Specify an issue type"));
    };
    let mut fields = Map::new();
    fields.insert("issuetype".into(), type_json(s, ty));
    fields.insert("project".into(), json!({"self": format!("{}/rest/api/3/project/{}", s.base_url, project.id), "id": project.id.to_string(), "key": project.key, "name": project.name, "projectTypeKey": "software", "simplified": project.simplified}));
    fields.insert(
        "status".into(),
        status_json(&s.base_url, "To Do").unwrap_or(Value::Null),
    );
    fields.insert(
        "priority".into(),
        priority_json(s, &json!({"name": "Medium"})).unwrap_or(Value::Null),
    );
    fields.insert("labels".into(), json!([]));
    fields.insert("assignee".into(), Value::Null);
    fields.insert("description".into(), Value::Null);
    fields.insert("duedate".into(), Value::Null);
    let me = user_json(s, &json!({"accountId": ACCOUNT_ID}));
    fields.insert("reporter".into(), me.clone());
    fields.insert("creator".into(), me);
    if f.get("summary").is_none() {
        return Err(bad("summary", "You must specify a summary of the issue."));
    }
    for (name, value) in f.as_object().into_iter().flatten() {
        if matches!(name.as_str(), "project" | "issuetype") {
            continue;
        }
        set_field(s, &project, &mut fields, name, value)?;
    }
    if ty.level == -1 && fields.get("parent").is_none_or(Value::is_null) {
        return Err(bad("parent", "Sub-task must have a parent."));
    }
    s.next_issue_id += 1;
    let id = s.next_issue_id;
    let Some(p) = s.projects.get_mut(&project.key) else {
        return Err(bad("project", "Specify a valid project ID or key"));
    };
    let key = format!("{}-{}", p.key, p.next_number);
    p.next_number += 1;
    let now = s.now_ms();
    // Properties may be set in the same request (`properties: [{key, value}]`).
    let properties: BTreeMap<String, Value> = body
        .get("properties")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|p| Some((p.get("key")?.as_str()?.to_owned(), p.get("value")?.clone())))
        .collect();
    let issue = Issue {
        id,
        key: key.clone(),
        project: project.key.clone(),
        fields,
        properties,
        updated_ms: now,
        created_ms: now,
        changelog: Vec::new(),
        remote_links: Vec::new(),
        raw_description: None,
    };
    s.keys.insert(key.clone(), id);
    s.issues.insert(id, issue);
    s.reindex(id);
    if let Some(i) = s.issues.get(&id) {
        let hook = webhook_issue(s, i);
        let targets = s.dynamic_targets("jira:issue_created", i);
        s.emit("jira:issue_created", "issue_created", hook, None, &targets);
    }
    Ok(
        json!({"id": id.to_string(), "key": key, "self": format!("{}/rest/api/3/issue/{id}", s.base_url)}),
    )
}

pub(super) fn get(s: &mut State, k: &str, req: &Request, _version: u8) -> Response {
    let Some(issue) = s.issue_id(k).and_then(|id| s.issues.get(&id)) else {
        return not_found();
    };
    let fields: Vec<String> = req
        .query
        .iter()
        .filter(|(n, _)| n == "fields")
        .map(|(_, v)| v.clone())
        .collect();
    let props: Vec<String> = req
        .query("properties")
        .map(|p| p.split(',').map(str::to_owned).collect())
        .unwrap_or_default();
    let mut out = issue_json(
        s,
        issue,
        Some(&FieldSet::parse(&fields, FieldSet::All)),
        &props,
    );
    if req.query("expand").is_some_and(|e| e.contains("changelog")) {
        out["changelog"] = json!({"startAt": 0, "maxResults": issue.changelog.len(), "total": issue.changelog.len(), "histories": issue.changelog});
    }
    Response::json(200, &out)
}

/// Records a change: the changelog entry, the new update time, the index, the webhook.
pub(super) fn changed(s: &mut State, id: u64, items: Vec<Value>, type_name: &str) {
    if items.is_empty() {
        return;
    }
    s.next_change_id += 1;
    let change = s.next_change_id;
    let now = s.now_ms();
    let stamp = s.stamp(now);
    let Some(issue) = s.issues.get_mut(&id) else {
        return;
    };
    issue.updated_ms = now.max(issue.updated_ms.saturating_add(1));
    let entry = json!({"id": change.to_string(), "author": {"accountId": ACCOUNT_ID, "displayName": "Simulated User"}, "created": stamp, "items": Value::Array(items)});
    issue.changelog.push(entry.clone());
    s.reindex(id);
    if let Some(i) = s.issues.get(&id) {
        let hook = webhook_issue(s, i);
        let targets = s.dynamic_targets("jira:issue_updated", i);
        s.emit(
            "jira:issue_updated",
            type_name,
            hook,
            Some(json!({"id": change.to_string(), "items": entry["items"]})),
            &targets,
        );
    }
}

pub(super) fn text_of(v: Option<&Value>) -> Value {
    match v {
        None | Some(Value::Null) => Value::Null,
        Some(Value::String(s)) => json!(s),
        Some(o) => o
            .get("name")
            .or_else(|| o.get("key"))
            .or_else(|| o.get("id"))
            .cloned()
            .unwrap_or_else(|| json!(o.to_string())),
    }
}

pub(super) fn edit(s: &mut State, k: &str, body: &Value) -> Result<Value, Response> {
    let Some(id) = s.issue_id(k) else {
        return Err(not_found());
    };
    let Some(issue) = s.issues.get(&id).cloned() else {
        return Err(not_found());
    };
    let Some(project) = s.projects.get(&issue.project).cloned() else {
        return Err(not_found());
    };
    let mut fields = issue.fields.clone();
    for (name, value) in body
        .get("fields")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        set_field(s, &project, &mut fields, name, value)?;
    }
    for (name, ops) in body
        .get("update")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        if name != "labels" {
            return Err(bad(
                name,
                "Only labels take update operations in the simulator.",
            ));
        }
        let mut labels: Vec<String> = fields
            .get("labels")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        for op in ops.as_array().into_iter().flatten() {
            if let Some(l) = op.get("add").and_then(Value::as_str) {
                if !labels.iter().any(|x| x == l) {
                    labels.push(l.to_owned());
                }
            }
            if let Some(l) = op.get("remove").and_then(Value::as_str) {
                labels.retain(|x| x != l);
            }
            if let Some(set) = op.get("set") {
                labels = set
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .filter_map(|v| v.as_str().map(str::to_owned))
                            .collect()
                    })
                    .unwrap_or_default();
            }
        }
        set_field(s, &project, &mut fields, "labels", &json!(labels))?;
    }
    let mut items = Vec::new();
    for (name, new) in &fields {
        let old = issue.fields.get(name);
        if old == Some(new) || (old.is_none() && new.is_null()) {
            continue;
        }
        let (field, field_id) = match name.as_str() {
            "parent" if project.simplified => ("IssueParentAssociation", "parent"),
            "parent" => ("Parent", "parent"),
            other => (other, other),
        };
        let id_of = |v: Option<&Value>| v.and_then(|p| p.get("id")).cloned().unwrap_or(Value::Null);
        let (from, to) = if name == "parent" {
            (id_of(old), id_of(Some(new)))
        } else {
            (Value::Null, Value::Null)
        };
        items.push(json!({"field": field, "fieldtype": if name.starts_with("customfield_") { "custom" } else { "jira" }, "fieldId": field_id,
                          "from": from, "fromString": text_of(old), "to": to, "toString": text_of(Some(new))}));
    }
    if let Some(i) = s.issues.get_mut(&id) {
        i.fields = fields;
    }
    changed(s, id, items, "issue_updated");
    Ok(Value::Null)
}

pub(super) fn delete(s: &mut State, k: &str, subtasks: Option<&str>) -> Result<Value, Response> {
    let Some(id) = s.issue_id(k) else {
        return Err(not_found());
    };
    let sid = id.to_string();
    let children: Vec<u64> = s
        .issues
        .values()
        .filter(|i| {
            i.fields
                .get("parent")
                .and_then(|p| p.get("id"))
                .and_then(Value::as_str)
                == Some(sid.as_str())
                && i.fields
                    .get("issuetype")
                    .and_then(|t| t.get("hierarchyLevel"))
                    .and_then(Value::as_i64)
                    == Some(-1)
        })
        .map(|i| i.id)
        .collect();
    if !children.is_empty() && subtasks != Some("true") {
        return Err(error(
            400,
            &["The issue has subtasks; pass deleteSubtasks=true to delete them too."],
            &[],
        ));
    }
    for gone in children.into_iter().chain([id]) {
        if let Some(issue) = s.issues.remove(&gone) {
            s.keys.remove(&issue.key);
            if let Some(old) = s.index.remove(&gone) {
                s.feed.remove(&(old.updated_ms, gone));
            }
            let hook = webhook_issue(s, &issue);
            let targets = s.dynamic_targets("jira:issue_deleted", &issue);
            s.emit("jira:issue_deleted", "issue_deleted", hook, None, &targets);
        }
    }
    Ok(Value::Null)
}
