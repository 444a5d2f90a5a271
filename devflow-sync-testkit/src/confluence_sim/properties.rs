//! Content properties of a page: `GET|POST /pages/{id}/properties`,
//! `GET|PUT|DELETE /pages/{id}/properties/{property-id}`; values are JSON of at most
//! 32 KB, updates carry the current version + 1.

use super::*;

fn output(key: &str, p: &Property) -> Value {
    json!({
        "id": p.id.to_string(),
        "key": key,
        "value": p.value,
        "version": {
            "number": p.version,
            "message": "",
            "minorEdit": false,
            "authorId": ACCOUNT_ID,
            "createdAt": stamp(p.updated_ms),
        },
    })
}

fn page_mut<'a>(s: &'a mut State, id: &str) -> Result<&'a mut Page, Response> {
    id.parse::<u64>()
        .ok()
        .and_then(|id| s.pages.get_mut(&id))
        .filter(|p| p.status != "trashed")
        .ok_or_else(|| error(404, "NOT_FOUND", "Page not found"))
}

fn check_value(value: Option<&Value>) -> Result<Value, Response> {
    let value = value
        .cloned()
        .ok_or_else(|| error(400, "INVALID_REQUEST_PARAMETER", "value is required"))?;
    if serde_json::to_vec(&value).map_or(0, |b| b.len()) > 32 * 1024 {
        return Err(error(
            400,
            "INVALID_REQUEST_PARAMETER",
            "The property value is larger than 32 KB",
        ));
    }
    Ok(value)
}

/// `GET /pages/{id}/properties?key=...`.
pub(super) fn list(s: &State, req: &Request, id: &str) -> Response {
    let Some(page) = id
        .parse::<u64>()
        .ok()
        .and_then(|id| s.pages.get(&id))
        .filter(|p| p.status != "trashed")
    else {
        return error(404, "NOT_FOUND", "Page not found");
    };
    let key = req.query("key");
    let all: Vec<Value> = page
        .properties
        .iter()
        .filter(|(k, _)| key.is_none_or(|x| x == k.as_str()))
        .map(|(k, p)| output(k, p))
        .collect();
    pages::paged(s, req, &format!("/wiki/api/v2/pages/{id}/properties"), all)
}

/// `POST /pages/{id}/properties {"key","value"}`.
pub(super) fn create(s: &mut State, id: &str, body: &Value) -> Result<Value, Response> {
    let key = body
        .get("key")
        .and_then(Value::as_str)
        .filter(|k| !k.is_empty() && k.len() <= 255)
        .ok_or_else(|| error(400, "INVALID_REQUEST_PARAMETER", "key is required"))?
        .to_owned();
    let value = check_value(body.get("value"))?;
    let now = s.now_ms();
    let pid = s.next_id();
    let page = page_mut(s, id)?;
    if page.properties.contains_key(&key) {
        return Err(error(
            409,
            "CONFLICT",
            &format!("A property with key '{key}' already exists on this page"),
        ));
    }
    let property = Property {
        id: pid,
        value,
        version: 1,
        updated_ms: now,
    };
    let out = output(&key, &property);
    page.properties.insert(key, property);
    Ok(out)
}

fn find<'a>(page: &'a mut Page, pid: &str) -> Result<(String, &'a mut Property), Response> {
    page.properties
        .iter_mut()
        .find(|(_, p)| p.id.to_string() == pid)
        .map(|(k, p)| (k.clone(), p))
        .ok_or_else(|| error(404, "NOT_FOUND", "Content property not found"))
}

pub(super) fn get(s: &State, id: &str, pid: &str) -> Result<Value, Response> {
    let page = id
        .parse::<u64>()
        .ok()
        .and_then(|id| s.pages.get(&id))
        .ok_or_else(|| error(404, "NOT_FOUND", "Page not found"))?;
    page.properties
        .iter()
        .find(|(_, p)| p.id.to_string() == pid)
        .map(|(k, p)| output(k, p))
        .ok_or_else(|| error(404, "NOT_FOUND", "Content property not found"))
}

/// `PUT /pages/{id}/properties/{pid} {"key","value","version":{"number"}}`.
pub(super) fn update(s: &mut State, id: &str, pid: &str, body: &Value) -> Result<Value, Response> {
    let value = check_value(body.get("value"))?;
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
    let now = s.now_ms();
    let page = page_mut(s, id)?;
    let (key, property) = find(page, pid)?;
    if body
        .get("key")
        .and_then(Value::as_str)
        .is_some_and(|k| k != key)
    {
        return Err(error(
            400,
            "INVALID_REQUEST_PARAMETER",
            "The key of a property cannot change",
        ));
    }
    if number != property.version + 1 {
        return Err(error(
            409,
            "CONFLICT",
            &format!(
                "Version must be incremented on update. Current version is: {}",
                property.version
            ),
        ));
    }
    property.value = value;
    property.version = number;
    property.updated_ms = now;
    Ok(output(&key, property))
}

pub(super) fn delete(s: &mut State, id: &str, pid: &str) -> Result<(), Response> {
    let page = page_mut(s, id)?;
    let (key, _) = find(page, pid)?;
    page.properties.remove(&key);
    Ok(())
}
