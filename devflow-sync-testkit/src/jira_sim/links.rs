//! Issue links as Jira keeps them: `POST /issueLink` (the inward issue's `issuelinks`
//! gets the outward one and the reverse), `GET`/`DELETE /issueLink/{id}`, and the
//! `issuelink_created|deleted` admin webhooks (the recorded delivery's shape).

use super::issues::not_found;
use super::meta::link_type;
use super::output::parent_json;
use super::*;

/// The id of the issue a body side names (`{"key"}` or `{"id"}`).
fn side(s: &State, body: &Value, name: &str) -> Option<u64> {
    body.pointer(&format!("/{name}/key"))
        .or_else(|| body.pointer(&format!("/{name}/id")))
        .and_then(Value::as_str)
        .and_then(|x| s.issue_id(x))
}

fn hook(s: &mut State, event: &str, id: u64, source: u64, destination: u64, kind: &Value) {
    let body = json!({"timestamp": s.now_ms(), "webhookEvent": event,
        "issueLink": {"id": id, "sourceIssueId": source, "destinationIssueId": destination,
            "issueLinkType": {"id": kind["id"].as_str().and_then(|i| i.parse::<u64>().ok()),
                "name": kind["name"], "outwardName": kind["outward"], "inwardName": kind["inward"],
                "isSubTaskLinkType": false, "isSystemLinkType": false},
            "systemLink": false}});
    s.outbox.push(
        &[
            ("X-Atlassian-Webhook-Flow", "Primary"),
            ("X-Atlassian-Webhook-Retry", "0"),
        ],
        serde_json::to_vec(&body).unwrap_or_default(),
    );
}

/// `POST /issueLink`.
pub(super) fn create(s: &mut State, body: &Value) -> Response {
    let name = body
        .pointer("/type/name")
        .or_else(|| body.pointer("/type/id"))
        .and_then(Value::as_str)
        .unwrap_or("");
    let Some(kind) = link_type(s, name) else {
        return error(
            404,
            &[&format!("No issue link type with name '{name}' found.")],
            &[],
        );
    };
    let (Some(inward), Some(outward)) =
        (side(s, body, "inwardIssue"), side(s, body, "outwardIssue"))
    else {
        return error(
            404,
            &["Issue does not exist or you do not have permission to see it."],
            &[],
        );
    };
    s.next_change_id += 1;
    let id = s.next_change_id;
    let this = format!("{}/rest/api/3/issueLink/{id}", s.base_url);
    let to_outward = json!({"id": id.to_string(), "self": this, "type": kind,
                            "outwardIssue": parent_json(s, &outward.to_string())});
    let to_inward = json!({"id": id.to_string(), "self": this, "type": kind,
                           "inwardIssue": parent_json(s, &inward.to_string())});
    for (issue, entry) in [(inward, to_outward), (outward, to_inward)] {
        if let Some(i) = s.issues.get_mut(&issue) {
            let links = i.fields.entry("issuelinks").or_insert_with(|| json!([]));
            if let Some(list) = links.as_array_mut() {
                list.push(entry);
            }
        }
    }
    hook(s, "issuelink_created", id, inward, outward, &kind);
    Response {
        status: 201,
        headers: Vec::new(),
        body: Vec::new(),
    }
}

/// The link `id` as each issue holds it: (issue, entry).
fn entries(s: &State, id: &str) -> Vec<(u64, Value)> {
    s.issues
        .values()
        .flat_map(|i| {
            i.fields
                .get("issuelinks")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter(|l| l["id"] == id)
                .map(|l| (i.id, l.clone()))
                .collect::<Vec<_>>()
        })
        .collect()
}

/// `GET /issueLink/{id}`.
pub(super) fn get(s: &State, id: &str) -> Response {
    let found = entries(s, id);
    let inward = found.iter().find(|(_, l)| l.get("outwardIssue").is_some());
    let outward = found.iter().find(|(_, l)| l.get("inwardIssue").is_some());
    match (inward, outward) {
        (Some((_, a)), Some((_, b))) => Response::json(
            200,
            &json!({"id": id, "self": a["self"], "type": a["type"],
                    "inwardIssue": b["inwardIssue"], "outwardIssue": a["outwardIssue"]}),
        ),
        _ => not_found(),
    }
}

/// `DELETE /issueLink/{id}`.
pub(super) fn delete(s: &mut State, id: &str) -> Response {
    let found = entries(s, id);
    let Some((source, entry)) = found.iter().find(|(_, l)| l.get("outwardIssue").is_some()) else {
        return not_found();
    };
    let destination = entry["outwardIssue"]["id"]
        .as_str()
        .and_then(|d| d.parse::<u64>().ok())
        .unwrap_or(0);
    let kind = entry["type"].clone();
    let source = *source;
    for (issue, _) in &found {
        if let Some(list) = s
            .issues
            .get_mut(issue)
            .and_then(|i| i.fields.get_mut("issuelinks"))
            .and_then(Value::as_array_mut)
        {
            list.retain(|l| l["id"] != id);
        }
    }
    hook(
        s,
        "issuelink_deleted",
        id.parse().unwrap_or(0),
        source,
        destination,
        &kind,
    );
    Response {
        status: 204,
        headers: Vec::new(),
        body: Vec::new(),
    }
}
