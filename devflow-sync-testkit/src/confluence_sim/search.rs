//! v1 CQL search (`GET /wiki/rest/api/search?cql=...`) over the index, which lags the
//! pages by the search-lag knob. The CQL subset: clauses joined by `AND` on `type`,
//! `space` (`space.key`), `title` (`=` or `~`), `id` (`=` or `IN (...)`),
//! `lastmodified` and `created` (`=`, `>`, `>=`, `<`, `<=` with `"yyyy-MM-dd HH:mm"`,
//! `"yyyy/MM/dd HH:mm"`, `"yyyy-MM-dd"` or `"yyyy/MM/dd"`, read as UTC), then
//! `ORDER BY lastmodified|created|id ASC|DESC`.

use chrono::{NaiveDate, NaiveDateTime};

use super::*;

#[derive(Debug)]
enum Clause {
    Type(String),
    Space(String),
    Title { value: String, contains: bool },
    Ids(Vec<u64>),
    Time { field: String, op: String, ms: i64 },
}

fn bad(cql: &str, why: &str) -> Response {
    Response::json(
        400,
        &json!({"statusCode": 400, "message": format!("Could not parse cql : {cql} ({why})"), "data": {"authorized": true, "valid": false, "errors": [], "successful": false}}),
    )
}

/// Splits CQL into words, quoted strings kept whole (without their quotes).
fn tokens(cql: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut chars = cql.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
        } else if c == '"' || c == '\'' {
            chars.next();
            let mut s = String::new();
            let mut closed = false;
            while let Some(x) = chars.next() {
                if x == '\\' {
                    if let Some(y) = chars.next() {
                        s.push(y);
                    }
                } else if x == c {
                    closed = true;
                    break;
                } else {
                    s.push(x);
                }
            }
            if !closed {
                return Err("unclosed quote".into());
            }
            out.push(format!("\u{0}{s}"));
        } else if "(),".contains(c) {
            out.push(c.to_string());
            chars.next();
        } else if "<>=!~".contains(c) {
            let mut s = String::new();
            while let Some(&x) = chars.peek() {
                if "<>=!~".contains(x) {
                    s.push(x);
                    chars.next();
                } else {
                    break;
                }
            }
            out.push(s);
        } else {
            let mut s = String::new();
            while let Some(&x) = chars.peek() {
                if x.is_whitespace() || "(),<>=!~\"'".contains(x) {
                    break;
                }
                s.push(x);
                chars.next();
            }
            out.push(s);
        }
    }
    Ok(out)
}

fn value(t: &str) -> &str {
    t.strip_prefix('\u{0}').unwrap_or(t)
}

fn date_ms(text: &str) -> Option<i64> {
    let t = text.trim().replace('/', "-");
    NaiveDateTime::parse_from_str(&t, "%Y-%m-%d %H:%M")
        .ok()
        .or_else(|| {
            NaiveDate::parse_from_str(&t, "%Y-%m-%d")
                .ok()
                .and_then(|d| d.and_hms_opt(0, 0, 0))
        })
        .map(|d| d.and_utc().timestamp_millis())
}

type Order = (String, bool);

fn parse(cql: &str) -> Result<(Vec<Clause>, Order), String> {
    let tokens = tokens(cql)?;
    let mut clauses = Vec::new();
    let mut order = ("id".to_owned(), true);
    let mut i = 0;
    while i < tokens.len() {
        let word = tokens[i].to_ascii_lowercase();
        if word == "and" {
            i += 1;
            continue;
        }
        if word == "order" {
            if tokens.get(i + 1).map(|t| t.to_ascii_lowercase()) != Some("by".into()) {
                return Err("ORDER without BY".into());
            }
            let field = tokens
                .get(i + 2)
                .ok_or("ORDER BY without a field")?
                .to_ascii_lowercase();
            let asc = tokens
                .get(i + 3)
                .is_none_or(|d| !d.eq_ignore_ascii_case("desc"));
            order = (field, asc);
            break;
        }
        let op = tokens
            .get(i + 1)
            .ok_or_else(|| format!("no operator after {word}"))?
            .clone();
        if word == "id" && op.eq_ignore_ascii_case("in") {
            let mut ids = Vec::new();
            let mut j = i + 2;
            if tokens.get(j).map(String::as_str) != Some("(") {
                return Err("IN without (".into());
            }
            j += 1;
            while let Some(t) = tokens.get(j) {
                match t.as_str() {
                    ")" => break,
                    "," => {}
                    v => ids.push(value(v).parse::<u64>().map_err(|_| format!("bad id {v}"))?),
                }
                j += 1;
            }
            clauses.push(Clause::Ids(ids));
            i = j + 1;
            continue;
        }
        let v = value(
            tokens
                .get(i + 2)
                .ok_or_else(|| format!("no value for {word}"))?,
        )
        .to_owned();
        clauses.push(match (word.as_str(), op.as_str()) {
            ("type", "=") => Clause::Type(v),
            ("space" | "space.key", "=") => Clause::Space(v),
            ("title", "=") => Clause::Title {
                value: v,
                contains: false,
            },
            ("title", "~") => Clause::Title {
                value: v,
                contains: true,
            },
            ("id", "=") => Clause::Ids(vec![v.parse::<u64>().map_err(|_| format!("bad id {v}"))?]),
            ("lastmodified" | "created", "=" | ">" | ">=" | "<" | "<=") => Clause::Time {
                field: word.clone(),
                op,
                ms: date_ms(&v).ok_or_else(|| format!("bad date {v:?}"))?,
            },
            _ => return Err(format!("the simulator does not support {word} {op}")),
        });
        i += 3;
    }
    Ok((clauses, order))
}

fn matches(page: &Indexed, clause: &Clause) -> bool {
    match clause {
        Clause::Type(t) => t == "page",
        Clause::Space(k) => &page.space_key == k,
        Clause::Title {
            value,
            contains: false,
        } => page.title.eq_ignore_ascii_case(value),
        Clause::Title {
            value,
            contains: true,
        } => page
            .title
            .to_lowercase()
            .contains(&value.to_lowercase().replace('*', "")),
        Clause::Ids(ids) => ids.contains(&page.id),
        Clause::Time { field, op, ms } => {
            // CQL compares at minute precision.
            let at = if field == "created" {
                page.created_ms
            } else {
                page.modified_ms
            };
            let minute = at - at.rem_euclid(60_000);
            match op.as_str() {
                "=" => minute == *ms,
                ">" => minute > *ms,
                ">=" => minute >= *ms,
                "<" => minute < *ms,
                _ => minute <= *ms,
            }
        }
    }
}

pub(super) fn search(s: &mut State, req: &Request) -> Response {
    s.catch_up();
    let cql = req.query("cql").unwrap_or("").to_owned();
    let (clauses, (field, asc)) = match parse(&cql) {
        Ok(p) => p,
        Err(why) => return bad(&cql, &why),
    };
    let mut hits: Vec<&Indexed> = s
        .index
        .values()
        .filter(|p| p.status == "current")
        .filter(|p| clauses.iter().all(|c| matches(p, c)))
        .collect();
    hits.sort_by_key(|p| match field.as_str() {
        "lastmodified" => (p.modified_ms, p.id),
        "created" => (p.created_ms, p.id),
        _ => (0, p.id),
    });
    if !asc {
        hits.reverse();
    }
    let limit = req
        .query("limit")
        .and_then(|l| l.parse::<usize>().ok())
        .unwrap_or(25)
        .clamp(1, 250);
    let start = req
        .query("cursor")
        .and_then(|c| c.strip_prefix("sim-"))
        .and_then(|c| c.parse::<usize>().ok())
        .or_else(|| req.query("start").and_then(|c| c.parse().ok()))
        .unwrap_or(0)
        .min(hits.len());
    let end = (start + limit).min(hits.len());
    let with_version = req
        .query("expand")
        .is_some_and(|e| e.split(',').any(|x| x == "content.version"));
    let base = format!("{}/wiki", s.base_url);
    let results: Vec<Value> = hits[start..end]
        .iter()
        .map(|p| {
            let mut content = json!({
                "id": p.id.to_string(),
                "type": "page",
                "status": p.status,
                "title": p.title,
                "childTypes": {},
                "macroRenderedOutput": {},
                "restrictions": {},
                "_expandable": {"version": "", "space": format!("/rest/api/space/{}", p.space_key)},
                "_links": {
                    "webui": format!("/spaces/{}/pages/{}", p.space_key, p.id),
                    "self": format!("{base}/rest/api/content/{}", p.id),
                    "tinyui": format!("/x/{}", p.id),
                },
            });
            if with_version {
                content["version"] = json!({"number": p.version, "when": stamp(p.modified_ms)});
            }
            json!({
                "content": content,
                "title": p.title,
                "excerpt": "",
                "url": format!("/spaces/{}/pages/{}", p.space_key, p.id),
                "resultGlobalContainer": {"title": p.space_key, "displayUrl": format!("/spaces/{}", p.space_key)},
                "breadcrumbs": [],
                "entityType": "content",
                "iconCssClass": "aui-icon content-type-page",
                "lastModified": stamp(p.modified_ms),
                "friendlyLastModified": "",
                "score": 0,
            })
        })
        .collect();
    let mut links = json!({"base": base, "context": "/wiki", "self": format!("{base}/rest/api/search?cql={}", devflow_sync_core::http::percent_encode(&cql))});
    if end < hits.len() {
        links["next"] = json!(crate::simkit::paging::url_with(
            "",
            "/rest/api/search",
            req,
            &[
                ("next", "true".into()),
                ("cursor", format!("sim-{end}")),
                ("start", end.to_string()),
            ],
            &[],
        ));
    }
    Response::json(
        200,
        &json!({
            "results": results,
            "start": start,
            "limit": limit,
            "size": end - start,
            "totalSize": hits.len(),
            "cqlQuery": cql,
            "searchDuration": 12,
            "archivedResultCount": 0,
            "_links": links,
        }),
    )
}
