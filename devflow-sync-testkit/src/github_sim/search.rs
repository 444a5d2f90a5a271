//! `GET /search/issues?q=`: the qualifiers SDKs and the provider send (`repo:`,
//! `is:issue|pr|open|closed`, `state:`, `label:`, `in:title|body`) and free words or
//! quoted phrases, every one required, matched without regard to case.

use super::*;

/// The words of `q`, a quoted phrase as one (`label:"good first issue"` too).
fn terms(q: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    for c in q.chars() {
        match c {
            '"' => quoted = !quoted,
            c if c.is_whitespace() && !quoted => {
                if !current.is_empty() {
                    out.push(std::mem::take(&mut current));
                }
            }
            c => current.push(c),
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

/// The search.
pub(super) fn issues(s: &State, req: &Request) -> Response {
    let q = req.query("q").unwrap_or("");
    let mut repo = None;
    let mut state = None;
    let mut labels = Vec::new();
    let mut fields: Vec<&str> = Vec::new();
    let mut words = Vec::new();
    let mut pulls_only = false;
    for term in terms(q) {
        match term.split_once(':') {
            Some(("repo", r)) => repo = Some(r.to_owned()),
            Some(("is", "open" | "closed")) | Some(("state", _)) => {
                state = term.split_once(':').map(|(_, v)| v.to_owned());
            }
            Some(("is", "pr")) | Some(("type", "pr")) => pulls_only = true,
            Some(("is" | "type", _)) => {}
            Some(("label", l)) => labels.push(l.to_lowercase()),
            Some(("in", f)) => fields.extend(f.split(',').filter_map(|f| match f {
                "title" => Some("title"),
                "body" => Some("body"),
                _ => None,
            })),
            _ => words.push(term.to_lowercase()),
        }
    }
    if fields.is_empty() {
        fields = vec!["title", "body"];
    }
    let Some(repo) = repo else {
        return Response::json(
            422,
            &json!({"message": "Validation Failed", "errors": [{"resource": "Search", "field": "q", "code": "invalid",
                "message": "The listed users and repositories cannot be searched either because the resources do not exist or you do not have permission to view them."}],
                "documentation_url": "https://docs.github.com/v3/search/"}),
        );
    };
    let items: Vec<Value> = s
        .repos
        .get(&repo)
        .filter(|_| !pulls_only)
        .map(|r| {
            r.issues
                .values()
                .rev()
                .filter(|i| state.as_deref().is_none_or(|st| i["state"] == st))
                .filter(|i| {
                    labels.iter().all(|want| {
                        i["labels"].as_array().into_iter().flatten().any(|l| {
                            l["name"]
                                .as_str()
                                .is_some_and(|n| n.to_lowercase() == *want)
                        })
                    })
                })
                .filter(|i| {
                    words.iter().all(|w| {
                        fields
                            .iter()
                            .any(|f| i[*f].as_str().is_some_and(|t| t.to_lowercase().contains(w)))
                    })
                })
                .cloned()
                .collect()
        })
        .unwrap_or_default();
    Response::json(
        200,
        &json!({"total_count": items.len(), "incomplete_results": false, "items": items}),
    )
}
