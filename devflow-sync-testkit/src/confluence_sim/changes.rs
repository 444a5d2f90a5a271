//! Changes to pages: the v2 update with its version check, the trash and purge, and
//! what a person does in the editor.

use super::pages::{duplicate_title, output, page_id, storage_body, title_taken};
use super::*;

/// Whether `candidate` is `id` or below it.
fn within(s: &State, candidate: u64, id: u64) -> bool {
    let mut at = Some(candidate);
    let mut hops = 0;
    while let Some(x) = at {
        if x == id {
            return true;
        }
        hops += 1;
        if hops > 10_000 {
            return true;
        }
        at = s.pages.get(&x).and_then(|p| p.parent);
    }
    false
}

/// `PUT /pages/{id}`: `id`, `status`, `title`, `body` and `version.number` (current
/// + 1) required; `parentId` moves within the space.
pub(super) fn update(s: &mut State, id: &str, body: &Value) -> Result<Value, Response> {
    let pid = page_id(s, id)?;
    for field in ["id", "status", "title", "body", "version"] {
        if body.get(field).is_none_or(Value::is_null) {
            return Err(error(
                400,
                "INVALID_REQUEST_PARAMETER",
                &format!("{field} is required"),
            ));
        }
    }
    let number = body
        .pointer("/version/number")
        .and_then(Value::as_u64)
        .ok_or_else(|| {
            error(
                400,
                "INVALID_REQUEST_PARAMETER",
                "version.number is required",
            )
        })?;
    let current = s.pages.get(&pid).map_or(0, |p| p.version);
    if s.pages.get(&pid).is_some_and(|p| p.status == "trashed") {
        return Err(error(404, "NOT_FOUND", "Page not found"));
    }
    if number != current + 1 {
        return Err(error(
            409,
            "CONFLICT",
            &format!("Version must be incremented on update. Current version is: {current}"),
        ));
    }
    let title = body
        .get("title")
        .and_then(Value::as_str)
        .unwrap_or("")
        .trim()
        .to_owned();
    if title.is_empty() {
        return Err(error(400, "INVALID_REQUEST_PARAMETER", "title is required"));
    }
    let space = s.pages.get(&pid).map_or(0, |p| p.space);
    if title_taken(s, space, &title, Some(pid)) {
        return Err(duplicate_title());
    }
    let parent = match body.get("parentId").and_then(Value::as_str) {
        Some(p) => {
            let p = page_id(s, p)?;
            if s.pages.get(&p).is_some_and(|x| x.space != space) {
                return Err(error(
                    400,
                    "INVALID_REQUEST_PARAMETER",
                    "Pages move within their space only",
                ));
            }
            if within(s, p, pid) {
                return Err(error(
                    400,
                    "INVALID_REQUEST_PARAMETER",
                    "A page cannot move under itself",
                ));
            }
            Some(Some(p))
        }
        None => None,
    };
    let text = storage_body(body)?;
    let message = body
        .pointer("/version/message")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned();
    let status = body
        .get("status")
        .and_then(Value::as_str)
        .unwrap_or("current")
        .to_owned();
    let now = s.now_ms();
    let moved;
    {
        let Some(p) = s.pages.get_mut(&pid) else {
            return Err(error(404, "NOT_FOUND", "Page not found"));
        };
        p.title = title;
        if let Some(text) = text {
            p.body = text;
        }
        moved = parent.is_some_and(|np| np != p.parent);
        if let Some(np) = parent {
            p.parent = np;
        }
        p.status = status;
        p.history.push((
            p.version,
            p.modified_ms,
            std::mem::take(&mut p.version_message),
        ));
        p.version = number;
        p.version_message = message;
        p.modified_ms = now;
    }
    s.reindex(pid);
    s.emit(if moved { "page_moved" } else { "page_updated" }, pid);
    let p = s
        .pages
        .get(&pid)
        .ok_or_else(|| error(404, "NOT_FOUND", "Page not found"))?;
    Ok(output(s, p, true))
}

/// Moves a page to the trash (its children move up to its parent, as Confluence does).
pub(super) fn trash(s: &mut State, id: &str) -> Result<(), Response> {
    let pid = page_id(s, id)?;
    let now = s.now_ms();
    let parent = s.pages.get(&pid).and_then(|p| p.parent);
    if s.pages.get(&pid).is_some_and(|p| p.status == "trashed") {
        return Err(error(404, "NOT_FOUND", "Page not found"));
    }
    let children: Vec<u64> = s
        .pages
        .values()
        .filter(|p| p.parent == Some(pid))
        .map(|p| p.id)
        .collect();
    for c in children {
        if let Some(p) = s.pages.get_mut(&c) {
            p.parent = parent;
        }
        s.reindex(c);
    }
    if let Some(p) = s.pages.get_mut(&pid) {
        p.status = "trashed".into();
        p.modified_ms = now;
    }
    s.reindex(pid);
    s.emit("page_trashed", pid);
    Ok(())
}

/// `DELETE /pages/{id}`: to the trash; `?purge=true` on a trashed page removes it.
pub(super) fn delete(s: &mut State, req: &Request, id: &str) -> Result<(), Response> {
    let pid = page_id(s, id)?;
    if req.query("purge") == Some("true") {
        if s.pages.get(&pid).is_some_and(|p| p.status != "trashed") {
            return Err(error(
                400,
                "INVALID_REQUEST_PARAMETER",
                "Only a trashed page can be purged",
            ));
        }
        s.emit("page_removed", pid);
        s.pages.remove(&pid);
        s.reindex(pid);
        return Ok(());
    }
    trash(s, id)
}

/// What a person does in the editor: a new version with a new title or body, or a move
/// (`parent`: `Some(None)` to the space's root level).
pub(super) fn person_edit(
    s: &mut State,
    id: &str,
    title: Option<&str>,
    body: Option<&str>,
    parent: Option<Option<u64>>,
) -> bool {
    let Ok(pid) = page_id(s, id) else {
        return false;
    };
    let now = s.now_ms();
    let Some(p) = s.pages.get_mut(&pid) else {
        return false;
    };
    if let Some(t) = title {
        p.title = t.to_owned();
    }
    if let Some(b) = body {
        p.body = b.to_owned();
    }
    if let Some(np) = parent {
        p.parent = np;
    }
    p.history.push((
        p.version,
        p.modified_ms,
        std::mem::take(&mut p.version_message),
    ));
    p.version += 1;
    p.modified_ms = now;
    s.reindex(pid);
    s.emit(
        if parent.is_some() {
            "page_moved"
        } else {
            "page_updated"
        },
        pid,
    );
    true
}
