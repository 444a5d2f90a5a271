//! Spaces: `GET /spaces` (by `keys`, `ids`), `GET /spaces/{id}`, `POST /spaces`.

use super::*;

/// Adds a space with its homepage; returns the space id.
pub(super) fn add(s: &mut State, key: &str, name: &str) -> u64 {
    if let Some(existing) = s.spaces.values().find(|x| x.key == key) {
        return existing.id;
    }
    let id = s.next_id();
    let homepage = s.next_id();
    let now = s.now_ms();
    s.spaces.insert(
        id,
        Space {
            id,
            key: key.to_owned(),
            name: name.to_owned(),
            homepage,
            created_ms: now,
        },
    );
    s.pages.insert(
        homepage,
        Page {
            id: homepage,
            space: id,
            title: name.to_owned(),
            parent: None,
            status: "current".into(),
            body: format!("<p>Welcome to {name}.</p>"),
            version: 1,
            version_message: String::new(),
            created_ms: now,
            modified_ms: now,
            position: 1,
            history: Vec::new(),
            properties: BTreeMap::new(),
        },
    );
    s.reindex(homepage);
    id
}

fn output(s: &State, space: &Space) -> Value {
    json!({
        "id": space.id.to_string(),
        "key": space.key,
        "name": space.name,
        "type": "global",
        "status": "current",
        "authorId": ACCOUNT_ID,
        "createdAt": stamp(space.created_ms),
        "homepageId": space.homepage.to_string(),
        "description": null,
        "icon": null,
        "_links": {"webui": format!("/spaces/{}", space.key), "base": format!("{}/wiki", s.base_url)},
    })
}

/// `GET /spaces?keys=A,B&ids=1,2&limit&cursor`.
pub(super) fn list(s: &State, req: &Request) -> Response {
    let split = |name: &str| -> Option<Vec<String>> {
        let values: Vec<String> = req
            .query
            .iter()
            .filter(|(k, _)| k == name)
            .flat_map(|(_, v)| v.split(',').map(|x| x.trim().to_owned()))
            .filter(|x| !x.is_empty())
            .collect();
        (!values.is_empty()).then_some(values)
    };
    let (keys, ids) = (split("keys"), split("ids"));
    let all: Vec<Value> = s
        .spaces
        .values()
        .filter(|x| keys.as_ref().is_none_or(|k| k.contains(&x.key)))
        .filter(|x| ids.as_ref().is_none_or(|i| i.contains(&x.id.to_string())))
        .map(|x| output(s, x))
        .collect();
    pages::paged(s, req, "/wiki/api/v2/spaces", all)
}

pub(super) fn get(s: &State, id: &str) -> Result<Value, Response> {
    id.parse::<u64>()
        .ok()
        .and_then(|id| s.spaces.get(&id))
        .map(|x| output(s, x))
        .ok_or_else(|| error(404, "NOT_FOUND", "Space not found"))
}

/// `POST /spaces {"name","key","description"?}`.
pub(super) fn create(s: &mut State, body: &Value) -> Result<Value, Response> {
    let name = body
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or("")
        .trim();
    let key = body
        .get("key")
        .or_else(|| body.get("alias"))
        .and_then(Value::as_str)
        .unwrap_or("")
        .trim();
    if name.is_empty() {
        return Err(error(400, "INVALID_REQUEST_PARAMETER", "name is required"));
    }
    if key.is_empty() || !key.chars().all(|c| c.is_ascii_alphanumeric()) || key.len() > 255 {
        return Err(error(
            400,
            "INVALID_REQUEST_PARAMETER",
            "A space key may contain only letters and digits",
        ));
    }
    if s.spaces.values().any(|x| x.key.eq_ignore_ascii_case(key)) {
        return Err(error(
            409,
            "CONFLICT",
            &format!("A space with key {key} already exists"),
        ));
    }
    let id = add(s, &key.to_ascii_uppercase(), name);
    get(s, &id.to_string())
}
