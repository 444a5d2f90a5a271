//! Remote links (`/issue/{key}/remotelink`): links from an issue to a record elsewhere,
//! the way a host points a Jira issue at its own item. A `globalId` seen before updates
//! that link instead of adding one, as Jira does.

use super::issues::not_found;
use super::*;

fn issue_mut<'a>(s: &'a mut State, k: &str) -> Option<&'a mut Issue> {
    let id = s.issue_id(k)?;
    s.issues.get_mut(&id)
}

/// `GET /issue/{key}/remotelink` (`?globalId=` keeps one).
pub(super) fn list(s: &State, k: &str, req: &Request) -> Response {
    let Some(issue) = s.issue_id(k).and_then(|id| s.issues.get(&id)) else {
        return not_found();
    };
    let wanted = req.query("globalId");
    let links: Vec<Value> = issue
        .remote_links
        .iter()
        .filter(|l| wanted.is_none_or(|g| l["globalId"] == g))
        .cloned()
        .collect();
    Response::json(200, &Value::Array(links))
}

/// `POST /issue/{key}/remotelink`: 201 with the new link's id, or 200 when its
/// `globalId` named one already there (updated).
pub(super) fn upsert(s: &mut State, k: &str, body: &Value) -> Response {
    let valid = body
        .pointer("/object/url")
        .and_then(Value::as_str)
        .is_some_and(|u| !u.is_empty())
        && body
            .pointer("/object/title")
            .and_then(Value::as_str)
            .is_some_and(|t| !t.is_empty());
    if !valid {
        return error(
            400,
            &[],
            &[("object", "Remote link object must have a url and a title.")],
        );
    }
    s.next_change_id += 1;
    let fresh = s.next_change_id;
    let base = s.base_url.clone();
    let Some(issue) = issue_mut(s, k) else {
        return not_found();
    };
    let key = issue.key.clone();
    let global = body
        .get("globalId")
        .and_then(Value::as_str)
        .map(str::to_owned);
    let existing = global.as_ref().and_then(|g| {
        issue
            .remote_links
            .iter()
            .position(|l| l["globalId"].as_str() == Some(g.as_str()))
    });
    let id = existing
        .and_then(|i| issue.remote_links[i]["id"].as_u64())
        .unwrap_or(fresh);
    let this = format!("{base}/rest/api/3/issue/{key}/remotelink/{id}");
    let mut link = json!({"id": id, "self": this, "object": body["object"]});
    for optional in ["globalId", "application", "relationship"] {
        if let Some(v) = body.get(optional) {
            link[optional] = v.clone();
        }
    }
    let status = match existing {
        Some(i) => {
            issue.remote_links[i] = link;
            200
        }
        None => {
            issue.remote_links.push(link);
            201
        }
    };
    Response::json(status, &json!({"id": id, "self": this}))
}

/// `GET` and `DELETE /issue/{key}/remotelink/{id}`.
pub(super) fn one(s: &mut State, method: &str, k: &str, id: &str) -> Response {
    let Some(issue) = issue_mut(s, k) else {
        return not_found();
    };
    let wanted = id.parse::<u64>().ok();
    let Some(at) = issue
        .remote_links
        .iter()
        .position(|l| wanted.is_some() && l["id"].as_u64() == wanted)
    else {
        return error(404, &["No remote link with the given id."], &[]);
    };
    if method == "DELETE" {
        issue.remote_links.remove(at);
        return Response {
            status: 204,
            headers: Vec::new(),
            body: Vec::new(),
        };
    }
    Response::json(200, &issue.remote_links[at])
}
