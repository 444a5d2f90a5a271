//! The issue picker (`/issue/picker`): sections of suggestions for a search box.

use super::*;

/// `/issue/picker?query=&currentJQL=`: issues whose key or summary holds the query, as
/// Jira's two sections (history search, current search).
pub(super) fn picker(s: &State, req: &Request) -> Response {
    let query = req.query("query").unwrap_or("").trim().to_lowercase();
    let jql = req.query("currentJQL").filter(|j| !j.trim().is_empty());
    let mut hits: Vec<Value> = Vec::new();
    for issue in s.issues.values() {
        let summary = issue.fields["summary"].as_str().unwrap_or("");
        let matched = query.is_empty()
            || issue.key.to_lowercase().starts_with(&query)
            || summary.to_lowercase().contains(&query);
        if !matched || jql.is_some_and(|j| !search::matches_jql(s, issue, j)) {
            continue;
        }
        hits.push(json!({
            "id": issue.id, "key": issue.key, "keyHtml": issue.key,
            "img": "/images/icons/issuetypes/task.svg",
            "summary": summary, "summaryText": summary,
        }));
    }
    let total = hits.len();
    hits.truncate(20);
    Response::json(
        200,
        &json!({"sections": [
            {"label": "History Search", "sub": "Showing 0 of 0 matching issues", "id": "hs", "issues": []},
            {"label": "Current Search", "sub": format!("Showing {} of {total} matching issues", hits.len()),
             "id": "cs", "issues": hits},
        ]}),
    )
}
