//! Projects, clients and the deleted history: lists with the query parameters, one by
//! id, and what a person does in BQE.

use super::query;
use super::*;

pub(super) fn add_client(s: &mut State, name: &str) -> String {
    let id = s.id();
    let now = stamp(s.now_ms());
    s.entities.entry("client".into()).or_default().insert(
        id.clone(),
        json!({"id": id, "name": name, "company": name, "status": 0, "createdOn": now, "lastUpdated": now}),
    );
    id
}

pub(super) fn add_project(
    s: &mut State,
    code: &str,
    name: &str,
    client: Option<&str>,
    parent: Option<&str>,
) -> String {
    let id = s.id();
    let now = stamp(s.now_ms());
    let client_name = client.and_then(|c| {
        s.entities
            .get("client")
            .and_then(|m| m.get(c))
            .and_then(|x| x["name"].as_str().map(str::to_owned))
    });
    s.entities.entry("project".into()).or_default().insert(
        id.clone(),
        json!({
            "id": id,
            "code": code,
            "name": name,
            "status": 0,
            "clientId": client,
            "clientName": client_name,
            "parentId": parent,
            "createdOn": now,
            "lastUpdated": now,
        }),
    );
    id
}

pub(super) fn seed(s: &mut State, parents: usize, subs: usize) {
    let mut clients = Vec::new();
    let mut ids = Vec::with_capacity(parents);
    for i in 0..parents {
        if i % 10 == 0 {
            clients.push(add_client(s, &format!("Client {}", i / 10)));
        }
        let client = clients.last().cloned();
        ids.push(add_project(
            s,
            &format!("P-{i:05}"),
            &format!("Project {i}"),
            client.as_deref(),
            None,
        ));
    }
    for j in 0..subs {
        let parent = ids.get(j % ids.len().max(1)).cloned();
        add_project(
            s,
            &format!("P-S{j:05}"),
            &format!("Phase {j}"),
            None,
            parent.as_deref(),
        );
    }
}

pub(super) fn edit(s: &mut State, collection: &str, id: &str, changes: &Value) -> bool {
    let now = stamp(s.now_ms());
    let client_name = changes["clientId"].as_str().and_then(|c| {
        s.entities
            .get("client")
            .and_then(|m| m.get(c))
            .and_then(|x| x["name"].as_str().map(str::to_owned))
    });
    let Some(entity) = s.entities.get_mut(collection).and_then(|m| m.get_mut(id)) else {
        return false;
    };
    if let (Some(obj), Some(ch)) = (entity.as_object_mut(), changes.as_object()) {
        for (k, v) in ch {
            obj.insert(k.clone(), v.clone());
        }
        if let Some(name) = client_name {
            obj.insert("clientName".into(), json!(name));
        }
        obj.insert("lastUpdated".into(), json!(now));
    }
    true
}

pub(super) fn delete(s: &mut State, collection: &str, id: &str, history: bool) -> bool {
    let removed = s
        .entities
        .get_mut(collection)
        .and_then(|m| m.remove(id))
        .is_some();
    if removed && history {
        let now = s.now_ms();
        s.deleted.push((collection.to_owned(), id.to_owned(), now));
    }
    removed
}

/// A list answer: filtered, sorted, paged, projected.
pub(super) fn list(s: &mut State, collection: &str, req: &Request) -> Response {
    let q = match query::parse(&req.query) {
        Ok(q) => q,
        Err(why) => return error(400, "InvalidQuery", &why),
    };
    s.queries.push(req.query.clone());
    let mut all: Vec<Value> = match collection {
        "deletedhistory" => s
            .deleted
            .iter()
            .map(|(c, id, at)| {
                let entity = {
                    let mut chars = c.chars();
                    chars.next().map(|f| f.to_uppercase().collect::<String>() + chars.as_str()).unwrap_or_default()
                };
                json!({"id": format!("{c}-{id}"), "entityId": id, "entity": entity, "deletedOn": stamp(*at), "lastUpdated": stamp(*at)})
            })
            .collect(),
        _ => s
            .entities
            .get(collection)
            .map(|m| m.values().cloned().collect())
            .unwrap_or_default(),
    };
    all.retain(|e| q.matches(e));
    q.sort(&mut all);
    let page: Vec<Value> = match q.page {
        Some((n, size)) => {
            let index = n.saturating_sub(s.first_page);
            if n < s.first_page {
                Vec::new()
            } else {
                all.iter()
                    .skip(index.saturating_mul(size))
                    .take(size)
                    .cloned()
                    .collect()
            }
        }
        None => all.into_iter().take(25).collect(),
    };
    let out: Vec<Value> = page.iter().map(|e| q.project(e)).collect();
    Response::json(200, &Value::Array(out))
}

/// One entity by id.
pub(super) fn get(s: &State, collection: &str, id: &str) -> Response {
    match s.entities.get(collection).and_then(|m| m.get(id)) {
        Some(e) => Response::json(200, e),
        None => error(404, "NotFound", &format!("No {collection} with id {id}")),
    }
}
