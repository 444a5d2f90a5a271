//! What SDKs read before they write, as Jira answers it: the issue link types, an
//! issue's watchers and edit metadata, a project's components and versions.

use super::issues::not_found;
use super::*;

const LINK_TYPES: [(&str, &str, &str, &str); 4] = [
    ("10000", "Blocks", "is blocked by", "blocks"),
    ("10001", "Cloners", "is cloned by", "clones"),
    ("10002", "Duplicate", "is duplicated by", "duplicates"),
    ("10003", "Relates", "relates to", "relates to"),
];

/// `GET /issueLinkType`.
pub(super) fn link_types(s: &State) -> Value {
    let types: Vec<Value> = LINK_TYPES
        .iter()
        .filter_map(|(id, _, _, _)| link_type(s, id))
        .collect();
    json!({"issueLinkTypes": types})
}

/// The link type `name` (or id) of the site, as Jira writes it.
pub(super) fn link_type(s: &State, name: &str) -> Option<Value> {
    LINK_TYPES
        .iter()
        .find(|(id, n, _, _)| *id == name || n.eq_ignore_ascii_case(name))
        .map(|(id, name, inward, outward)| {
            json!({"id": id, "name": name, "inward": inward, "outward": outward,
                   "self": format!("{}/rest/api/3/issueLinkType/{id}", s.base_url)})
        })
}

/// `GET /issue/{key}/watchers`: nobody watches the simulator's issues.
pub(super) fn watchers(s: &State, k: &str) -> Response {
    if s.issue_id(k).is_none() {
        return not_found();
    }
    Response::json(
        200,
        &json!({"self": format!("{}/rest/api/3/issue/{k}/watchers", s.base_url),
                "isWatching": false, "watchCount": 0, "watchers": []}),
    )
}

/// `GET /issue/{key}/editmeta`: the fields an edit may set, with their operations.
pub(super) fn editmeta(s: &State, k: &str) -> Response {
    if s.issue_id(k).is_none() {
        return not_found();
    }
    let field = |key: &str, name: &str, kind: &str, ops: &[&str], required: bool| {
        (
            key.to_owned(),
            json!({"required": required, "schema": {"type": kind, "system": key}, "name": name,
                   "key": key, "operations": ops}),
        )
    };
    let fields: serde_json::Map<String, Value> = [
        field("summary", "Summary", "string", &["set"], true),
        field("description", "Description", "string", &["set"], false),
        field(
            "labels",
            "Labels",
            "array",
            &["add", "set", "remove"],
            false,
        ),
        field("priority", "Priority", "priority", &["set"], false),
        field("assignee", "Assignee", "user", &["set"], false),
        field("duedate", "Due date", "date", &["set"], false),
        field("parent", "Parent", "issuelink", &["set"], false),
        field("issuetype", "Issue Type", "issuetype", &[], true),
    ]
    .into_iter()
    .collect();
    Response::json(200, &json!({"fields": fields}))
}

/// `GET /project/{key}/components` and `/versions`: none in the simulator's projects.
pub(super) fn project_list(s: &State, key: &str) -> Response {
    if s.projects
        .values()
        .any(|p| p.key == key || p.id.to_string() == key)
    {
        Response::json(200, &json!([]))
    } else {
        error(
            404,
            &[&format!("No project could be found with key '{key}'.")],
            &[],
        )
    }
}
