//! REST API v2 as Jira serves it beside v3: rich text is a wiki-markup string, not an
//! Atlassian document. Requests to `/rest/api/2/...` have their strings (a description,
//! an environment, a comment, a worklog comment) taken as documents, and answers give
//! them back as text, so clients written for v2 (most SDKs) work unchanged.

use super::*;

/// An Atlassian document of `text`: a paragraph per block between blank lines, its
/// lines joined by hard breaks.
pub(super) fn text_doc(text: &str) -> Value {
    let paragraphs: Vec<Value> = text
        .split("\n\n")
        .map(str::trim_end)
        .filter(|p| !p.is_empty())
        .map(|p| {
            let mut content = Vec::new();
            for (i, line) in p.lines().enumerate() {
                if i > 0 {
                    content.push(json!({"type": "hardBreak"}));
                }
                if !line.is_empty() {
                    content.push(json!({"type": "text", "text": line}));
                }
            }
            json!({"type": "paragraph", "content": content})
        })
        .collect();
    json!({"type": "doc", "version": 1, "content": paragraphs})
}

/// A string at `pointer` becomes a document.
fn to_doc(v: &mut Value, pointer: &str) {
    if let Some(slot) = v.pointer_mut(pointer) {
        if let Some(text) = slot.as_str() {
            *slot = text_doc(text);
        }
    }
}

/// The text of a document as v2 gives it: its blocks apart by a blank line, hard
/// breaks as line ends (the inverse of [`text_doc`] for plain text).
fn wiki_text(doc: &Value) -> String {
    fn inline(node: &Value, out: &mut String) {
        match node.get("type").and_then(Value::as_str) {
            Some("hardBreak") => out.push('\n'),
            _ => {
                if let Some(text) = node.get("text").and_then(Value::as_str) {
                    out.push_str(text);
                }
                for child in node
                    .get("content")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    inline(child, out);
                }
            }
        }
    }
    doc.get("content")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|block| {
            let mut text = String::new();
            inline(block, &mut text);
            text
        })
        .filter(|t| !t.is_empty())
        .collect::<Vec<_>>()
        .join("\n\n")
}

/// A document at `pointer` becomes its text.
fn to_text(v: &mut Value, pointer: &str) {
    if let Some(slot) = v.pointer_mut(pointer) {
        if slot.get("type").and_then(Value::as_str) == Some("doc") {
            *slot = Value::String(wiki_text(slot));
        }
    }
}

/// The issue fields and `update` operations a v2 body may carry as text.
fn issue_body(body: &mut Value) {
    for field in ["description", "environment"] {
        to_doc(body, &format!("/fields/{field}"));
        if let Some(ops) = body
            .pointer_mut(&format!("/update/{field}"))
            .and_then(Value::as_array_mut)
        {
            for op in ops {
                to_doc(op, "/set");
            }
        }
    }
}

/// A v2 request body with its text as documents, for the handlers (which speak v3).
pub(super) fn request(parts: &[&str], mut body: Value) -> Value {
    match parts {
        ["issue", "bulk"] => {
            for update in body
                .get_mut("issueUpdates")
                .and_then(Value::as_array_mut)
                .into_iter()
                .flatten()
            {
                issue_body(update);
            }
        }
        ["issue"] | ["issue", _] => issue_body(&mut body),
        ["issue", _, "comment"] | ["issue", _, "comment", _] => to_doc(&mut body, "/body"),
        ["issue", _, "worklog"] | ["issue", _, "worklog", _] => to_doc(&mut body, "/comment"),
        _ => {}
    }
    body
}

fn issue_view(issue: &mut Value) {
    to_text(issue, "/fields/description");
    to_text(issue, "/fields/environment");
    if let Some(comments) = issue
        .pointer_mut("/fields/comment/comments")
        .and_then(Value::as_array_mut)
    {
        for c in comments {
            to_text(c, "/body");
        }
    }
    if let Some(worklogs) = issue
        .pointer_mut("/fields/worklog/worklogs")
        .and_then(Value::as_array_mut)
    {
        for w in worklogs {
            to_text(w, "/comment");
        }
    }
}

/// A v2 answer: documents given back as text.
pub(super) fn response(parts: &[&str], mut response: Response) -> Response {
    let Ok(mut v) = serde_json::from_slice::<Value>(&response.body) else {
        return response;
    };
    match parts {
        ["search", "jql"] | ["issue", "bulkfetch"] => {
            for issue in v
                .get_mut("issues")
                .and_then(Value::as_array_mut)
                .into_iter()
                .flatten()
            {
                issue_view(issue);
            }
        }
        ["issue", _] => issue_view(&mut v),
        ["issue", _, "comment"] => {
            to_text(&mut v, "/body");
            for c in v
                .get_mut("comments")
                .and_then(Value::as_array_mut)
                .into_iter()
                .flatten()
            {
                to_text(c, "/body");
            }
        }
        ["issue", _, "worklog"] | ["issue", _, "worklog", _] | ["worklog", "list"] => {
            to_text(&mut v, "/comment");
            let list = if v.is_array() {
                v.as_array_mut()
            } else {
                v.get_mut("worklogs").and_then(Value::as_array_mut)
            };
            for w in list.into_iter().flatten() {
                to_text(w, "/comment");
            }
        }
        _ => return response,
    }
    response.body = serde_json::to_vec(&v).unwrap_or(response.body);
    response
}

/// `POST /issue/bulk`: each of `issueUpdates` created as `POST /issue` would, the
/// failures listed with their index.
pub(super) fn bulk_create(s: &mut State, body: &Value) -> Response {
    let mut issues = Vec::new();
    let mut errors = Vec::new();
    for (i, update) in body
        .get("issueUpdates")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        match super::issues::create(s, update) {
            Ok(created) => issues.push(created),
            Err(refused) => {
                let detail: Value = serde_json::from_slice(&refused.body).unwrap_or(Value::Null);
                errors.push(json!({"status": refused.status, "elementErrors": detail,
                                   "failedElementNumber": i}));
            }
        }
    }
    let status = if issues.is_empty() && !errors.is_empty() {
        400
    } else {
        201
    };
    Response::json(status, &json!({"issues": issues, "errors": errors}))
}
