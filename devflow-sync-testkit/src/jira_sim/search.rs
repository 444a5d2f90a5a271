//! `GET/POST /rest/api/3/search/jql`: bounded JQL, explicit `fields` (id only by
//! default), `properties`, `nextPageToken` (absent on the last page) with `isLast`, and
//! `reconcileIssues` for read-after-write over the eventually consistent index.

use std::ops::Bound;

use super::jql::{self, Subject};
use super::output::{FieldSet, IssueView};

/// A search answer: the `nextPageToken` key is absent on the last page.
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct SearchView<'a> {
    issues: Vec<IssueView<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_page_token: Option<String>,
    is_last: bool,
}
use super::*;

struct Subj<'a> {
    s: &'a State,
    issue: &'a Issue,
}

impl Subject for Subj<'_> {
    fn values(&self, field: &str) -> Vec<String> {
        let f = &self.issue.fields;
        let text = |v: Option<&Value>| -> Vec<String> {
            match v {
                Some(Value::String(s)) => vec![s.clone()],
                Some(Value::Number(n)) => vec![n.to_string()],
                Some(Value::Object(o)) => ["name", "key", "id", "accountId", "value"]
                    .iter()
                    .filter_map(|k| o.get(*k).and_then(Value::as_str).map(str::to_owned))
                    .collect(),
                Some(Value::Array(a)) => a
                    .iter()
                    .filter_map(|x| x.as_str().map(str::to_owned))
                    .collect(),
                _ => Vec::new(),
            }
        };
        match field {
            "project" => vec![self.issue.project.clone()],
            "key" | "issuekey" => vec![self.issue.key.clone()],
            "id" => vec![self.issue.id.to_string()],
            "issuetype" | "type" => text(f.get("issuetype")),
            "statuscategory" => text(f.get("status").and_then(|s| s.get("statusCategory"))),
            "parent" => {
                let id = f
                    .get("parent")
                    .and_then(|p| p.get("id"))
                    .and_then(Value::as_str);
                id.map(|id| {
                    let key = id
                        .parse()
                        .ok()
                        .and_then(|n: u64| self.s.issues.get(&n))
                        .map(|p| p.key.clone());
                    [Some(id.to_owned()), key].into_iter().flatten().collect()
                })
                .unwrap_or_default()
            }
            "text" => {
                let mut v = text(f.get("summary"));
                if let Some(d) = f.get("description") {
                    v.push(super::output::adf_text(d));
                }
                v
            }
            other => {
                let custom = other
                    .strip_prefix("cf[")
                    .and_then(|r| r.strip_suffix(']'))
                    .map(|n| format!("customfield_{n}"))
                    .or_else(|| {
                        self.s
                            .fields
                            .iter()
                            .find(|x| x.name.eq_ignore_ascii_case(other))
                            .map(|x| x.id.clone())
                    });
                match custom {
                    Some(id) => text(f.get(&id)),
                    None => text(f.get(other)),
                }
            }
        }
    }

    fn time(&self, field: &str) -> Option<i64> {
        match field {
            "updated" => Some(self.issue.updated_ms),
            "created" => Some(self.issue.created_ms),
            _ => None,
        }
    }
}

/// Whether `issue` matches `jql` (a dynamic webhook's filter); a query that does not
/// parse matches nothing.
pub(super) fn matches_jql(s: &State, issue: &Issue, jql: &str) -> bool {
    jql::parse(jql)
        .ok()
        .and_then(|q| q.filter)
        .is_some_and(|f| jql::matches(&f, &Subj { s, issue }, s.zone).unwrap_or(false))
}

/// The parameters of one search, from the query string or the JSON body.
pub(super) struct SearchParams {
    jql: String,
    token: Option<String>,
    max: Option<usize>,
    fields: Vec<String>,
    properties: Vec<String>,
    reconcile: Vec<u64>,
}

pub(super) fn search_get(s: &mut State, req: &Request) -> Response {
    let all = |name: &str| -> Vec<String> {
        req.query
            .iter()
            .filter(|(k, _)| k == name)
            .flat_map(|(_, v)| v.split(',').map(str::to_owned).collect::<Vec<_>>())
            .collect()
    };
    let params = SearchParams {
        jql: req.query("jql").unwrap_or("").to_owned(),
        token: req.query("nextPageToken").map(str::to_owned),
        max: req.query("maxResults").and_then(|m| m.parse().ok()),
        fields: all("fields"),
        properties: all("properties"),
        reconcile: all("reconcileIssues")
            .iter()
            .filter_map(|x| x.trim().parse().ok())
            .collect(),
    };
    search(s, &params)
}

pub(super) fn search_post(s: &mut State, body: &Value) -> Response {
    let list = |name: &str| -> Vec<String> {
        body.get(name)
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|x| x.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    };
    let params = SearchParams {
        jql: body
            .get("jql")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned(),
        token: body
            .get("nextPageToken")
            .and_then(Value::as_str)
            .map(str::to_owned),
        max: body
            .get("maxResults")
            .and_then(Value::as_u64)
            .and_then(|m| usize::try_from(m).ok()),
        fields: list("fields"),
        properties: list("properties"),
        reconcile: body
            .get("reconcileIssues")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_u64).collect())
            .unwrap_or_default(),
    };
    search(s, &params)
}

fn bad_jql(message: &str) -> Response {
    error(400, &[message], &[])
}

/// Page positions, opaque to clients: `<query hash>.<kind><position>` in hex.
fn encode(hash: u64, position: &str) -> String {
    let raw = format!("{hash:016x}.{position}");
    raw.bytes().map(|b| format!("{b:02x}")).collect()
}

fn decode(hash: u64, token: &str) -> Option<String> {
    let bytes: Option<Vec<u8>> = (0..token.len())
        .step_by(2)
        .map(|i| {
            token
                .get(i..i + 2)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        })
        .collect();
    let raw = String::from_utf8(bytes?).ok()?;
    let (h, position) = raw.split_once('.')?;
    (u64::from_str_radix(h, 16).ok()? == hash).then(|| position.to_owned())
}

fn search(s: &mut State, p: &SearchParams) -> Response {
    s.catch_up(&p.reconcile);
    let query = match jql::parse(&p.jql) {
        Ok(q) => q,
        Err(e) => return bad_jql(&format!("Error in the JQL Query: {e}")),
    };
    if !jql::bounded(&query) {
        return bad_jql(
            "Unbounded JQL queries are not allowed here. Please add a search restriction to your query.",
        );
    }
    let set = FieldSet::parse(&p.fields, FieldSet::IdOnly);
    let cap = if set == FieldSet::IdOnly {
        5000
    } else {
        s.max_results
    };
    let max = p.max.unwrap_or(50).clamp(1, cap);
    let hash = crate::simkit::fnv(p.jql.as_bytes());
    let position = match &p.token {
        Some(t) => match decode(hash, t) {
            Some(pos) => Some(pos),
            None => return bad_jql("The provided next page token is invalid or expired."),
        },
        None => None,
    };
    let zone = s.zone;
    let filter = query.filter.clone();
    let check = |issue: &Issue| -> Result<bool, String> {
        match &filter {
            Some(e) => jql::matches(e, &Subj { s, issue }, zone),
            None => Ok(true),
        }
    };
    let by_update = matches!(query.order.first(), Some((f, true)) if f == "updated");
    let mut page: Vec<&Issue> = Vec::new();
    let mut next: Option<String> = None;
    if by_update {
        let start = match position.as_deref().and_then(|p| p.strip_prefix('u')) {
            Some(pos) => {
                let Some((ms, id)) = pos
                    .split_once(':')
                    .and_then(|(a, b)| Some((a.parse::<i64>().ok()?, b.parse::<u64>().ok()?)))
                else {
                    return bad_jql("The provided next page token is invalid or expired.");
                };
                Bound::Excluded((ms, id))
            }
            None => Bound::Unbounded,
        };
        for (ms, id) in s.feed.range((start, Bound::Unbounded)) {
            let Some(issue) = s.index.get(id) else {
                continue;
            };
            match check(issue) {
                Ok(true) => {}
                Ok(false) => continue,
                Err(e) => return bad_jql(&e),
            }
            if page.len() == max {
                let last = page.last().map_or((*ms, *id), |l| (l.updated_ms, l.id));
                next = Some(encode(hash, &format!("u{}:{}", last.0, last.1)));
                break;
            }
            page.push(issue);
        }
    } else {
        let offset: usize = match position
            .as_deref()
            .map(|p| p.strip_prefix('o').and_then(|o| o.parse().ok()))
        {
            Some(Some(o)) => o,
            Some(None) => return bad_jql("The provided next page token is invalid or expired."),
            None => 0,
        };
        let mut all = Vec::new();
        for issue in s.index.values() {
            match check(issue) {
                Ok(true) => all.push(issue),
                Ok(false) => {}
                Err(e) => return bad_jql(&e),
            }
        }
        let key_of = |i: &Issue, f: &str| -> (i64, String) {
            match f {
                "updated" => (i.updated_ms, String::new()),
                "created" => (i.created_ms, String::new()),
                "key" | "issuekey" => {
                    let n = i
                        .key
                        .rsplit('-')
                        .next()
                        .and_then(|n| n.parse().ok())
                        .unwrap_or(0);
                    (n, i.project.clone())
                }
                "id" => (i64::try_from(i.id).unwrap_or(0), String::new()),
                other => i
                    .fields
                    .get(other)
                    .map_or((0, String::new()), jql::sort_key),
            }
        };
        all.sort_by(|a, b| {
            for (f, asc) in &query.order {
                let o = key_of(a, f).cmp(&key_of(b, f));
                let o = if *asc { o } else { o.reverse() };
                if o.is_ne() {
                    return o;
                }
            }
            a.id.cmp(&b.id)
        });
        let end = offset.saturating_add(max).min(all.len());
        page = all
            .get(offset.min(all.len())..end)
            .map(<[&Issue]>::to_vec)
            .unwrap_or_default();
        if end < all.len() {
            next = Some(encode(hash, &format!("o{end}")));
        }
    }
    let is_last = next.is_none();
    let issues: Vec<IssueView<'_>> = page
        .iter()
        .map(|issue| IssueView {
            s,
            issue,
            set: &set,
            properties: &p.properties,
        })
        .collect();
    let out = SearchView {
        issues,
        next_page_token: next,
        is_last,
    };
    Response {
        status: 200,
        headers: vec![(
            "content-type".into(),
            "application/json;charset=UTF-8".into(),
        )],
        body: serde_json::to_vec(&out).unwrap_or_default(),
    }
}
