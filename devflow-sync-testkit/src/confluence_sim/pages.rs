//! Pages (v2): create, get, update with the version check, delete to the trash and
//! purge, lists with cursor paging, children and ancestors; what a person does in the
//! editor.

use super::*;

/// The most results a list page holds.
const MAX_LIMIT: usize = 250;

/// `results` cut at `cursor` (an offset Confluence would keep opaque) and `limit`
/// (default 25, at most 250), with `_links.next` and a `Link` header to the next page.
pub(super) fn paged(s: &State, req: &Request, path: &str, all: Vec<Value>) -> Response {
    let limit = req
        .query("limit")
        .and_then(|l| l.parse::<usize>().ok())
        .unwrap_or(25)
        .clamp(1, MAX_LIMIT);
    let start = req
        .query("cursor")
        .and_then(|c| c.strip_prefix("sim-"))
        .and_then(|c| c.parse::<usize>().ok())
        .unwrap_or(0)
        .min(all.len());
    let total = all.len();
    let end = (start + limit).min(total);
    let results: Vec<Value> = all.into_iter().skip(start).take(end - start).collect();
    let base = format!("{}/wiki", s.base_url);
    let mut links = json!({"base": base});
    let mut response_links = crate::simkit::Links::new().with("base", &base);
    if end < total {
        let next = crate::simkit::paging::url_with(
            "",
            path,
            req,
            &[("cursor", format!("sim-{end}"))],
            &[],
        );
        links["next"] = json!(next);
        response_links = crate::simkit::Links::new()
            .with("next", &next)
            .with("base", &base);
    }
    response_links.apply(Response::json(
        200,
        &json!({"results": results, "_links": links}),
    ))
}

/// A page in v2's shape; the storage body only with `body`.
pub(super) fn output(s: &State, p: &Page, body: bool) -> Value {
    let key = s.space_key(p.space);
    let slug: String = p
        .title
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '+' })
        .collect();
    json!({
        "parentType": p.parent.map(|_| "page"),
        "parentId": p.parent.map(|x| x.to_string()),
        "createdAt": stamp(p.created_ms),
        "ownerId": ACCOUNT_ID,
        "lastOwnerId": null,
        "authorId": ACCOUNT_ID,
        "version": {
            "number": p.version,
            "message": p.version_message,
            "minorEdit": false,
            "authorId": ACCOUNT_ID,
            "createdAt": stamp(p.modified_ms),
            "ncsStepVersion": null,
        },
        "position": p.position,
        "spaceId": p.space.to_string(),
        "status": p.status,
        "body": if body {
            json!({"storage": {"representation": "storage", "value": p.body}})
        } else {
            json!({})
        },
        "title": p.title,
        "id": p.id.to_string(),
        "_links": {
            "editui": format!("/pages/resumedraft.action?draftId={}", p.id),
            "webui": format!("/spaces/{key}/pages/{}/{slug}", p.id),
            "edituiv2": format!("/spaces/{key}/pages/edit-v2/{}", p.id),
            "tinyui": format!("/x/{}", p.id),
        },
    })
}

fn wants_body(req: &Request) -> bool {
    req.query("body-format")
        .is_some_and(|f| f == "storage" || f == "atlas_doc_format")
}

fn statuses(req: &Request) -> Vec<String> {
    req.query("status")
        .map(|v| v.split(',').map(|x| x.trim().to_owned()).collect())
        .unwrap_or_else(|| vec!["current".into(), "archived".into()])
}

/// `GET /pages` and `GET /spaces/{id}/pages`: `space-id`, `id`, `title`, `status`,
/// `sort` (`id`, `-modified-date`, `modified-date`, `title`), `body-format`.
pub(super) fn list(s: &State, req: &Request, space: Option<&str>) -> Response {
    let ids: Vec<String> = req
        .query
        .iter()
        .filter(|(k, _)| k == "id")
        .flat_map(|(_, v)| v.split(',').map(|x| x.trim().to_owned()))
        .collect();
    let spaces: Vec<String> = space.map(|x| vec![x.to_owned()]).unwrap_or_else(|| {
        req.query
            .iter()
            .filter(|(k, _)| k == "space-id")
            .flat_map(|(_, v)| v.split(',').map(|x| x.trim().to_owned()))
            .collect()
    });
    let statuses = statuses(req);
    let title = req.query("title");
    let mut found: Vec<&Page> = s
        .pages
        .values()
        .filter(|p| ids.is_empty() || ids.contains(&p.id.to_string()))
        .filter(|p| spaces.is_empty() || spaces.contains(&p.space.to_string()))
        .filter(|p| statuses.contains(&p.status))
        .filter(|p| title.is_none_or(|t| t == p.title))
        .collect();
    match req.query("sort").unwrap_or("id") {
        "-modified-date" => found.sort_by_key(|p| (std::cmp::Reverse(p.modified_ms), p.id)),
        "modified-date" => found.sort_by_key(|p| (p.modified_ms, p.id)),
        "title" => found.sort_by(|a, b| a.title.cmp(&b.title)),
        "-id" => found.sort_by_key(|p| std::cmp::Reverse(p.id)),
        _ => {}
    }
    let body = wants_body(req);
    let all = found.into_iter().map(|p| output(s, p, body)).collect();
    let path = match space {
        Some(id) => format!("/wiki/api/v2/spaces/{id}/pages"),
        None => "/wiki/api/v2/pages".into(),
    };
    paged(s, req, &path, all)
}

pub(super) fn page_id(s: &State, id: &str) -> Result<u64, Response> {
    id.parse::<u64>()
        .ok()
        .filter(|id| s.pages.contains_key(id))
        .ok_or_else(|| error(404, "NOT_FOUND", "Page not found"))
}

pub(super) fn storage_body(body: &Value) -> Result<Option<String>, Response> {
    let Some(b) = body.get("body").filter(|b| !b.is_null()) else {
        return Ok(None);
    };
    match b.get("representation").and_then(Value::as_str) {
        Some("storage") | None => Ok(b
            .get("value")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .or_else(|| {
                b.pointer("/storage/value")
                    .and_then(Value::as_str)
                    .map(str::to_owned)
            })),
        Some(other) => Err(error(
            400,
            "INVALID_REQUEST_PARAMETER",
            &format!("The simulator takes storage bodies only, not {other}"),
        )),
    }
}

pub(super) fn title_taken(s: &State, space: u64, title: &str, except: Option<u64>) -> bool {
    s.pages.values().any(|p| {
        p.space == space
            && p.status != "trashed"
            && Some(p.id) != except
            && p.title.eq_ignore_ascii_case(title)
    })
}

pub(super) fn duplicate_title() -> Response {
    error(
        400,
        "INVALID_REQUEST_PARAMETER",
        "A page with this title already exists: A page already exists with the same TITLE in this space",
    )
}

/// `POST /pages` (`root-level=true` for a page outside the homepage's tree).
pub(super) fn create(s: &mut State, req: &Request, body: &Value) -> Result<Value, Response> {
    let space = body
        .get("spaceId")
        .and_then(|v| {
            v.as_str()
                .map(str::to_owned)
                .or_else(|| v.as_u64().map(|n| n.to_string()))
        })
        .and_then(|x| x.parse::<u64>().ok())
        .filter(|x| s.spaces.contains_key(x))
        .ok_or_else(|| {
            error(
                400,
                "INVALID_REQUEST_PARAMETER",
                "spaceId must name a space",
            )
        })?;
    let title = body
        .get("title")
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| error(400, "INVALID_REQUEST_PARAMETER", "title is required"))?
        .to_owned();
    let status = body
        .get("status")
        .and_then(Value::as_str)
        .unwrap_or("current");
    if !matches!(status, "current" | "draft") {
        return Err(error(
            400,
            "INVALID_REQUEST_PARAMETER",
            "status must be current or draft",
        ));
    }
    let root_level = req.query("root-level") == Some("true");
    let parent = match body
        .get("parentId")
        .and_then(|v| v.as_str().map(str::to_owned))
    {
        Some(p) => {
            let p = page_id(s, &p)?;
            if s.pages
                .get(&p)
                .is_some_and(|x| x.space != space || x.status == "trashed")
            {
                return Err(error(
                    400,
                    "INVALID_REQUEST_PARAMETER",
                    "The parent is not a page of this space",
                ));
            }
            Some(p)
        }
        None if root_level => None,
        None => s.spaces.get(&space).map(|x| x.homepage),
    };
    if title_taken(s, space, &title, None) {
        return Err(duplicate_title());
    }
    let text = storage_body(body)?.unwrap_or_default();
    let id = s.next_id();
    let now = s.now_ms();
    let page = Page {
        id,
        space,
        title,
        parent,
        status: status.to_owned(),
        body: text,
        version: 1,
        version_message: String::new(),
        created_ms: now,
        modified_ms: now,
        position: id % 10_000,
        properties: BTreeMap::new(),
        history: Vec::new(),
    };
    let out = output(s, &page, true);
    s.pages.insert(id, page);
    s.reindex(id);
    s.emit("page_created", id);
    Ok(out)
}

/// `GET /pages/{id}`: trashed pages only with `status=trashed` asked for.
pub(super) fn get(s: &State, req: &Request, id: &str) -> Result<Value, Response> {
    let p = s
        .pages
        .get(&page_id(s, id)?)
        .ok_or_else(|| error(404, "NOT_FOUND", "Page not found"))?;
    let asked = req
        .query("status")
        .map(|x| x.split(',').any(|y| y == p.status));
    if p.status == "trashed" && asked != Some(true) {
        return Err(error(404, "NOT_FOUND", "Page not found"));
    }
    let mut out = output(s, p, wants_body(req));
    if req.query("include-properties") == Some("true") {
        let results: Vec<Value> = p
            .properties
            .iter()
            .map(|(k, x)| json!({"id": x.id.to_string(), "key": k, "value": x.value, "version": {"number": x.version, "message": "", "minorEdit": false, "authorId": ACCOUNT_ID, "createdAt": stamp(x.updated_ms)}}))
            .collect();
        out["properties"] = json!({"results": results, "meta": {"hasMore": false}, "_links": {"self": format!("/api/v2/pages/{id}/properties")}});
    }
    if req.query("include-labels") == Some("true") {
        out["labels"] = json!({"results": [], "meta": {"hasMore": false}, "_links": {"self": format!("/api/v2/pages/{id}/labels")}});
    }
    Ok(out)
}

/// `GET /pages/{id}/direct-children`.
pub(super) fn children(s: &State, req: &Request, id: &str) -> Response {
    let pid = match page_id(s, id) {
        Ok(p) => p,
        Err(r) => return r,
    };
    let all: Vec<Value> = s
        .pages
        .values()
        .filter(|p| p.parent == Some(pid) && p.status == "current")
        .map(|p| {
            json!({"id": p.id.to_string(), "status": p.status, "title": p.title, "type": "page", "spaceId": p.space.to_string(), "childPosition": p.position})
        })
        .collect();
    paged(
        s,
        req,
        &format!("/wiki/api/v2/pages/{id}/direct-children"),
        all,
    )
}

/// `GET /pages/{id}/ancestors`: root first.
pub(super) fn ancestors(s: &State, id: &str) -> Result<Value, Response> {
    let pid = page_id(s, id)?;
    let mut chain = Vec::new();
    let mut at = s.pages.get(&pid).and_then(|p| p.parent);
    while let Some(x) = at {
        if chain.len() > 10_000 {
            break;
        }
        chain.push(json!({"id": x.to_string(), "type": "page"}));
        at = s.pages.get(&x).and_then(|p| p.parent);
    }
    chain.reverse();
    Ok(json!({"results": chain, "_links": {}}))
}

/// `GET /pages/{id}/versions`: every version of the page, newest first.
pub(super) fn versions(s: &State, id: &str) -> Result<Value, Response> {
    let pid = page_id(s, id)?;
    let Some(p) = s.pages.get(&pid) else {
        return Err(error(404, "NOT_FOUND", "Page not found"));
    };
    let entry = |number: u64, at: i64, message: &str| {
        json!({"number": number, "message": message, "minorEdit": false,
               "authorId": ACCOUNT_ID, "createdAt": stamp(at),
               "page": {"id": p.id.to_string(), "title": p.title}})
    };
    let mut results = vec![entry(p.version, p.modified_ms, &p.version_message)];
    results.extend(p.history.iter().rev().map(|(n, at, m)| entry(*n, *at, m)));
    Ok(json!({"results": results, "_links": {"base": format!("{}/wiki", s.base_url)}}))
}

/// `GET /pages/{id}/labels`: the simulator's pages carry none (v2 has no call that
/// adds one).
pub(super) fn labels(s: &State, id: &str) -> Result<Value, Response> {
    page_id(s, id)?;
    Ok(json!({"results": [], "_links": {"base": format!("{}/wiki", s.base_url)}}))
}
