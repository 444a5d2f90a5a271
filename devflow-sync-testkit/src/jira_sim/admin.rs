//! Projects, issue types, statuses, `myself`, fields with contexts, and dynamic webhooks.

use super::routes::Caller;
use super::*;

/// Statuses of the site: (id, name, category id, category key, colour, category name).
const STATUSES: [(&str, &str, u64, &str, &str, &str); 4] = [
    ("10000", "To Do", 2, "new", "blue-gray", "To Do"),
    (
        "10001",
        "In Progress",
        4,
        "indeterminate",
        "yellow",
        "In Progress",
    ),
    (
        "10002",
        "In Review",
        4,
        "indeterminate",
        "yellow",
        "In Progress",
    ),
    ("10003", "Done", 3, "done", "green", "Done"),
];

/// A status by name (any case), as Jira writes it.
pub(super) fn status_json(base: &str, name: &str) -> Option<Value> {
    STATUSES
        .iter()
        .find(|s| s.1.eq_ignore_ascii_case(name))
        .map(|(id, name, cat, key, colour, cat_name)| {
            json!({
                "self": format!("{base}/rest/api/3/status/{id}"),
                "description": "",
                "iconUrl": format!("{base}/images/icons/statuses/generic.png"),
                "name": name,
                "id": id,
                "statusCategory": {
                    "self": format!("{base}/rest/api/3/statuscategory/{cat}"),
                    "id": cat, "key": key, "colorName": colour, "name": cat_name
                }
            })
        })
}

/// The fields every site has (the legacy epic link among them, which DevFlow never uses).
pub(super) fn system_custom_fields() -> Vec<Field> {
    vec![Field {
        id: "customfield_10014".into(),
        name: "Epic Link".into(),
        custom_type: "com.pyxis.greenhopper.jira:gh-epic-link".into(),
        contexts: Vec::new(),
    }]
}

pub(super) fn add_project(s: &mut State, key: &str, name: &str, simplified: bool) {
    let n = s.projects.len() as u64;
    let id = 10_000 + n;
    let ty = |id: String, name: &str, level: i64| IssueType {
        id,
        name: name.into(),
        level,
    };
    let types = if simplified {
        // Team-managed: project-scoped types with their own ids.
        let base = 10_100 + n * 10;
        vec![
            ty((base + 1).to_string(), "Epic", 1),
            ty((base + 2).to_string(), "Story", 0),
            ty((base + 3).to_string(), "Task", 0),
            ty((base + 4).to_string(), "Bug", 0),
            ty((base + 5).to_string(), "Subtask", -1),
        ]
    } else {
        vec![
            ty("10000".into(), "Epic", 1),
            ty("10001".into(), "Story", 0),
            ty("10002".into(), "Task", 0),
            ty("10004".into(), "Bug", 0),
            ty("10003".into(), "Sub-task", -1),
        ]
    };
    let t = |id: &str, name: &str, from: Option<&[&str]>| Transition {
        id: id.into(),
        name: name.into(),
        to: name.into(),
        from: from.map(|f| f.iter().map(|x| (*x).to_owned()).collect()),
    };
    let workflow = if simplified {
        vec![
            t("11", "To Do", None),
            t("21", "In Progress", None),
            t("31", "In Review", None),
            t("41", "Done", None),
        ]
    } else {
        vec![
            t("11", "To Do", None),
            t("21", "In Progress", Some(&["To Do", "In Review"])),
            t("31", "In Review", Some(&["In Progress"])),
            t("41", "Done", Some(&["In Progress", "In Review"])),
        ]
    };
    s.projects.entry(key.to_owned()).or_insert(Project {
        id,
        key: key.to_owned(),
        name: name.to_owned(),
        simplified,
        types,
        workflow,
        next_number: 1,
    });
}

pub(super) fn type_json(s: &State, t: &IssueType) -> Value {
    json!({
        "self": format!("{}/rest/api/3/issuetype/{}", s.base_url, t.id),
        "id": t.id,
        "description": "",
        "name": t.name,
        "subtask": t.level == -1,
        "hierarchyLevel": t.level,
        "avatarId": 10318,
    })
}

pub(super) fn project_json(s: &State, p: &Project) -> Value {
    json!({
        "self": format!("{}/rest/api/3/project/{}", s.base_url, p.id),
        "id": p.id.to_string(),
        "key": p.key,
        "name": p.name,
        "projectTypeKey": "software",
        "simplified": p.simplified,
        "style": if p.simplified { "next-gen" } else { "classic" },
        "issueTypes": p.types.iter().map(|t| type_json(s, t)).collect::<Vec<_>>(),
    })
}

pub(super) fn myself(s: &State, caller: &Caller) -> Value {
    let tz = s.zone.to_string();
    json!({
        "self": format!("{}/rest/api/3/user?accountId={}", s.base_url, ACCOUNT_ID),
        "accountId": ACCOUNT_ID,
        "accountType": "atlassian",
        "emailAddress": caller.email,
        "displayName": "Simulated User",
        "active": true,
        "timeZone": if tz == "+02:00" { "Europe/Warsaw".to_owned() } else { tz },
        "locale": "en_US",
    })
}

pub(super) fn projects(s: &State) -> Value {
    let values: Vec<Value> = s.projects.values().map(|p| project_json(s, p)).collect();
    json!({"values": values, "isLast": true, "startAt": 0, "maxResults": 50, "total": values.len()})
}

pub(super) fn project(s: &State, key: &str) -> Option<Value> {
    s.projects
        .values()
        .find(|p| p.key.eq_ignore_ascii_case(key) || p.id.to_string() == key)
        .map(|p| project_json(s, p))
}

pub(super) fn createmeta(s: &State, key: &str) -> Response {
    match s
        .projects
        .values()
        .find(|p| p.key == key || p.id.to_string() == key)
    {
        Some(p) => {
            let types: Vec<Value> = p.types.iter().map(|t| type_json(s, t)).collect();
            Response::json(
                200,
                &json!({"issueTypes": types, "maxResults": 50, "startAt": 0, "total": types.len()}),
            )
        }
        None => error(404, &["Project not found."], &[]),
    }
}

pub(super) fn project_types(s: &State, project_id: Option<&str>) -> Response {
    match s
        .projects
        .values()
        .find(|p| Some(p.id.to_string().as_str()) == project_id)
    {
        Some(p) => Response::json(
            200,
            &Value::Array(p.types.iter().map(|t| type_json(s, t)).collect()),
        ),
        None => error(
            400,
            &["The project id is not valid."],
            &[("projectId", "not found")],
        ),
    }
}

pub(super) fn field_json(f: &Field) -> Value {
    json!({
        "id": f.id,
        "key": f.id,
        "name": f.name,
        "custom": true,
        "orderable": true,
        "navigable": true,
        "searchable": true,
        "clauseNames": [format!("cf[{}]", f.id.trim_start_matches("customfield_")), f.name],
        "schema": {"type": "string", "custom": f.custom_type, "customId": f.id.trim_start_matches("customfield_").parse::<u64>().unwrap_or(0)},
    })
}

pub(super) fn all_fields(s: &State) -> Vec<Value> {
    let system = [
        "summary",
        "description",
        "issuetype",
        "status",
        "priority",
        "labels",
        "assignee",
        "duedate",
        "parent",
        "project",
        "updated",
        "created",
    ];
    let mut out: Vec<Value> = system
        .iter()
        .map(|f| json!({"id": f, "key": f, "name": f, "custom": false, "clauseNames": [f]}))
        .collect();
    out.extend(s.fields.iter().map(field_json));
    out
}

pub(super) fn create_field(s: &mut State, caller: &Caller, body: &Value) -> Response {
    if !caller.admin {
        return error(
            403,
            &["Only Jira administrators can create custom fields."],
            &[],
        );
    }
    let Some(name) = body
        .get("name")
        .and_then(Value::as_str)
        .filter(|n| !n.trim().is_empty())
    else {
        return error(400, &[], &[("name", "The custom field name is required.")]);
    };
    let Some(kind) = body.get("type").and_then(Value::as_str) else {
        return error(400, &[], &[("type", "The custom field type is required.")]);
    };
    s.next_field += 1;
    let field = Field {
        id: format!("customfield_{}", s.next_field),
        name: name.to_owned(),
        custom_type: kind.to_owned(),
        contexts: Vec::new(),
    };
    let out = field_json(&field);
    s.fields.push(field);
    Response::json(201, &out)
}

pub(super) fn contexts(s: &State, id: &str) -> Response {
    match s.fields.iter().find(|f| f.id == id) {
        Some(f) => Response::json(
            200,
            &json!({"values": f.contexts, "isLast": true, "startAt": 0, "maxResults": 50, "total": f.contexts.len()}),
        ),
        None => error(
            404,
            &[&format!("The custom field was not found: {id}")],
            &[],
        ),
    }
}

pub(super) fn create_context(s: &mut State, caller: &Caller, id: &str, body: &Value) -> Response {
    if !caller.admin {
        return error(
            403,
            &["Only Jira administrators can manage custom field contexts."],
            &[],
        );
    }
    let n = s.fields.iter().map(|f| f.contexts.len()).sum::<usize>() + 10_100;
    let Some(f) = s.fields.iter_mut().find(|f| f.id == id) else {
        return error(
            404,
            &[&format!("The custom field was not found: {id}")],
            &[],
        );
    };
    let context = json!({
        "id": n.to_string(),
        "name": body.get("name").cloned().unwrap_or(json!("DevFlow context")),
        "projectIds": body.get("projectIds").cloned().unwrap_or(json!([])),
        "issueTypeIds": body.get("issueTypeIds").cloned().unwrap_or(json!([])),
        "isGlobalContext": body.get("projectIds").and_then(Value::as_array).is_none_or(Vec::is_empty),
        "isAnyIssueType": body.get("issueTypeIds").and_then(Value::as_array).is_none_or(Vec::is_empty),
    });
    f.contexts.push(context.clone());
    Response::json(201, &context)
}

/// `POST /rest/api/3/field/{id}/context/{ctx}/option`: options of a select field.
pub(super) fn add_options(
    s: &mut State,
    caller: &Caller,
    id: &str,
    ctx: &str,
    body: &Value,
) -> Response {
    if !caller.admin {
        return error(
            403,
            &["Only Jira administrators can manage custom field options."],
            &[],
        );
    }
    let Some(context) = s.fields.iter_mut().find(|f| f.id == id).and_then(|f| {
        f.contexts
            .iter_mut()
            .find(|c| c.get("id").and_then(Value::as_str) == Some(ctx))
    }) else {
        return error(
            404,
            &[&format!(
                "The custom field context was not found: {id}/{ctx}"
            )],
            &[],
        );
    };
    let mut made = Vec::new();
    for option in body
        .get("options")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let n = made.len() + 10_200;
        made.push(json!({"id": n.to_string(), "value": option.get("value").cloned().unwrap_or(Value::Null), "disabled": false}));
    }
    context["options"] = Value::Array(made.clone());
    Response::json(200, &json!({"options": made}))
}

/// `POST /rest/api/3/webhook`: registers each webhook, expiring in 30 days.
pub(super) fn register_webhooks(s: &mut State, caller: &Caller, body: &Value) -> Response {
    let Some(client) = caller.client.clone().filter(|c| !c.is_empty()) else {
        return error(
            403,
            &["Only Connect and OAuth 2.0 apps can register dynamic webhooks."],
            &[],
        );
    };
    let Some(list) = body.get("webhooks").and_then(Value::as_array) else {
        return error(400, &["webhooks is required"], &[]);
    };
    let expires = s.now_ms().saturating_add(30 * 24 * 3600 * 1000);
    let mut results = Vec::new();
    for hook in list {
        let id = s.next_webhook;
        s.next_webhook += 1;
        s.webhooks.push(json!({
            "id": id,
            "jqlFilter": hook.get("jqlFilter").cloned().unwrap_or(Value::Null),
            "events": hook.get("events").cloned().unwrap_or(json!([])),
            "expirationDate": expires,
            "url": body.get("url").cloned().unwrap_or(Value::Null),
            "client": client,
        }));
        results.push(json!({"createdWebhookId": id}));
    }
    Response::json(200, &json!({"webhookRegistrationResult": results}))
}

/// `PUT /rest/api/3/webhook/refresh`: another 30 days.
pub(super) fn refresh_webhooks(s: &mut State, body: &Value) -> Response {
    let ids: Vec<u64> = body
        .get("webhookIds")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_u64).collect())
        .unwrap_or_default();
    let expires = s.now_ms().saturating_add(30 * 24 * 3600 * 1000);
    for hook in &mut s.webhooks {
        if hook
            .get("id")
            .and_then(Value::as_u64)
            .is_some_and(|id| ids.contains(&id))
        {
            hook["expirationDate"] = json!(expires);
        }
    }
    Response::json(200, &json!({"expirationDate": expires}))
}
