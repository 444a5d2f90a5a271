//! What common Jira clients call besides the sync's own requests: server info, the
//! site's priorities, statuses and issue types, the project list, comments, bulk fetch,
//! the approximate count and user search.

use super::admin::{project_json, status_json, type_json};
use super::output::{FieldSet, IssueView};
use super::*;

pub(super) fn server_info(s: &State) -> Value {
    json!({
        "baseUrl": s.base_url,
        "displayUrl": s.base_url,
        "version": "1001.0.0-SNAPSHOT",
        "versionNumbers": [1001, 0, 0],
        "deploymentType": "Cloud",
        "buildNumber": 100_282,
        "buildDate": "2026-11-30T00:00:00.000+0000",
        "serverTime": s.stamp(s.now_ms()),
        "scmInfo": "simulator",
        "serverTitle": "Jira",
        "defaultLocale": {"locale": "en_US"},
        "serverTimeZone": "Etc/UTC",
    })
}

pub(super) fn priorities(s: &State) -> Value {
    let list: Vec<Value> = [("1", "Highest"), ("2", "High"), ("3", "Medium"), ("4", "Low"), ("5", "Lowest")]
        .iter()
        .map(|(id, name)| {
            json!({"self": format!("{}/rest/api/3/priority/{id}", s.base_url), "id": id, "name": name,
                   "iconUrl": format!("{}/images/icons/priorities/{}.svg", s.base_url, name.to_lowercase()),
                   "statusColor": "#ffab00", "description": name})
        })
        .collect();
    Value::Array(list)
}

pub(super) fn statuses(s: &State) -> Value {
    Value::Array(
        ["To Do", "In Progress", "In Review", "Done"]
            .iter()
            .filter_map(|n| status_json(&s.base_url, n))
            .collect(),
    )
}

pub(super) fn issue_types(s: &State) -> Value {
    let mut seen = std::collections::BTreeSet::new();
    let mut out = Vec::new();
    for p in s.projects.values() {
        for t in &p.types {
            if seen.insert(t.id.clone()) {
                let mut v = type_json(s, t);
                if p.simplified {
                    v["scope"] = json!({"type": "PROJECT", "project": {"id": p.id.to_string()}});
                }
                out.push(v);
            }
        }
    }
    Value::Array(out)
}

pub(super) fn project_list(s: &State) -> Value {
    Value::Array(s.projects.values().map(|p| project_json(s, p)).collect())
}

pub(super) fn comments(s: &State, k: &str) -> Response {
    let Some(issue) = s.issue_id(k).and_then(|id| s.issues.get(&id)) else {
        return error(
            404,
            &["Issue does not exist or you do not have permission to see it."],
            &[],
        );
    };
    let list = issue
        .fields
        .get("comment")
        .and_then(|c| c.get("comments"))
        .cloned()
        .unwrap_or(json!([]));
    let total = list.as_array().map_or(0, Vec::len);
    Response::json(
        200,
        &json!({"startAt": 0, "maxResults": 5000, "total": total, "comments": list}),
    )
}

pub(super) fn add_comment(s: &mut State, k: &str, body: &Value) -> Response {
    let Some(id) = s.issue_id(k) else {
        return error(
            404,
            &["Issue does not exist or you do not have permission to see it."],
            &[],
        );
    };
    let Some(doc) = body
        .get("body")
        .filter(|b| b.get("type").and_then(Value::as_str) == Some("doc"))
    else {
        return error(400, &[], &[("comment", "Comment body can not be empty!")]);
    };
    s.next_change_id += 1;
    let cid = s.next_change_id;
    let now = s.stamp(s.now_ms());
    let author = json!({"accountId": ACCOUNT_ID, "displayName": "Simulated User", "active": true});
    let comment = json!({"self": format!("{}/rest/api/3/issue/{id}/comment/{cid}", s.base_url), "id": cid.to_string(),
        "author": author, "updateAuthor": author, "body": doc, "created": now, "updated": now, "jsdPublic": true});
    if let Some(issue) = s.issues.get_mut(&id) {
        let entry = issue
            .fields
            .entry("comment")
            .or_insert_with(|| json!({"comments": [], "maxResults": 0, "total": 0, "startAt": 0}));
        if let Some(list) = entry.get_mut("comments").and_then(Value::as_array_mut) {
            list.push(comment.clone());
        }
        let total = entry
            .get("comments")
            .and_then(Value::as_array)
            .map_or(0, Vec::len);
        entry["total"] = json!(total);
        entry["maxResults"] = json!(total);
    }
    Response::json(201, &comment)
}

pub(super) fn bulk_fetch(s: &State, body: &Value) -> Response {
    let wanted: Vec<String> = body
        .get("issueIdsOrKeys")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|v| {
                    v.as_str()
                        .map(str::to_owned)
                        .or_else(|| v.as_u64().map(|n| n.to_string()))
                })
                .collect()
        })
        .unwrap_or_default();
    if wanted.len() > 100 {
        return error(400, &["At most 100 issues can be fetched at once."], &[]);
    }
    let fields: Vec<String> = body
        .get("fields")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    let set = FieldSet::parse(&fields, FieldSet::All);
    let props: Vec<String> = Vec::new();
    let mut issues = Vec::new();
    let mut missing = Vec::new();
    for w in &wanted {
        match s.issue_id(w).and_then(|id| s.issues.get(&id)) {
            Some(issue) => issues.push(
                serde_json::to_value(IssueView {
                    s,
                    issue,
                    set: &set,
                    properties: &props,
                })
                .unwrap_or(Value::Null),
            ),
            None => missing.push(w.clone()),
        }
    }
    let errors: Vec<Value> = missing.iter().map(|m| json!({"errorMessages": [format!("Issue {m} does not exist or you do not have permission to see it.")]})).collect();
    Response::json(
        200,
        &json!({"expand": "schema,names", "issues": issues, "issueErrors": errors}),
    )
}

pub(super) fn approximate_count(s: &State, body: &Value) -> Response {
    let jql = body.get("jql").and_then(Value::as_str).unwrap_or("");
    match jql::parse(jql) {
        Ok(q) if q.filter.is_some() => {
            let count = s
                .index
                .values()
                .filter(|i| search::matches_jql(s, i, jql))
                .count();
            Response::json(200, &json!({"count": count}))
        }
        Ok(_) => error(
            400,
            &[
                "Unbounded JQL queries are not allowed here. Please add a search restriction to your query.",
            ],
            &[],
        ),
        Err(e) => error(400, &[&format!("Error in the JQL Query: {e}")], &[]),
    }
}

pub(super) fn users(s: &State) -> Value {
    json!([{"self": format!("{}/rest/api/3/user?accountId={ACCOUNT_ID}", s.base_url), "accountId": ACCOUNT_ID,
            "accountType": "atlassian", "displayName": "Simulated User", "active": true}])
}
