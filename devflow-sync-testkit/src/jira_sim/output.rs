//! Issues as Jira writes them: v3 for REST (ADF descriptions, expanded `parent`,
//! `subtasks`), v2 for webhooks (wiki-markup descriptions).

use super::*;

/// Which fields an answer carries.
#[derive(Clone, Debug, PartialEq)]
pub(super) enum FieldSet {
    /// Every field (`*all`, `*navigable`, or no `fields` on `GET issue`).
    All,
    /// These fields, with `-name` exclusions applied to `*all`.
    Only(Vec<String>),
    /// `id` only (no `fields` on `search/jql`).
    IdOnly,
}

impl FieldSet {
    /// From a `fields` parameter (comma-separated, or a JSON array).
    pub(super) fn parse(names: &[String], default: FieldSet) -> FieldSet {
        let names: Vec<String> = names
            .iter()
            .flat_map(|n| n.split(','))
            .map(|n| n.trim().to_owned())
            .filter(|n| !n.is_empty())
            .collect();
        if names.is_empty() {
            return default;
        }
        if names.iter().any(|n| n == "*all" || n == "*navigable") {
            return FieldSet::All;
        }
        if names.iter().all(|n| n == "id" || n == "key") {
            return FieldSet::IdOnly;
        }
        FieldSet::Only(names)
    }

    fn wants(&self, name: &str) -> bool {
        match self {
            FieldSet::All => true,
            FieldSet::IdOnly => false,
            FieldSet::Only(names) => names.iter().any(|n| n == name),
        }
    }
}

fn parent_json(s: &State, id: &str) -> Value {
    let Some(parent) = id.parse().ok().and_then(|id: u64| s.issues.get(&id)) else {
        return json!({"id": id});
    };
    let f = &parent.fields;
    json!({
        "id": parent.id.to_string(),
        "key": parent.key,
        "self": format!("{}/rest/api/3/issue/{}", s.base_url, parent.id),
        "fields": {
            "summary": f.get("summary").cloned().unwrap_or(Value::Null),
            "status": f.get("status").cloned().unwrap_or(Value::Null),
            "priority": f.get("priority").cloned().unwrap_or(Value::Null),
            "issuetype": f.get("issuetype").cloned().unwrap_or(Value::Null),
        }
    })
}

fn subtasks_json(s: &State, issue: &Issue) -> Value {
    let id = issue.id.to_string();
    Value::Array(
        s.issues
            .values()
            .filter(|i| {
                i.fields
                    .get("parent")
                    .and_then(|p| p.get("id"))
                    .and_then(Value::as_str)
                    == Some(id.as_str())
                    && i.fields
                        .get("issuetype")
                        .and_then(|t| t.get("hierarchyLevel"))
                        .and_then(Value::as_i64)
                        == Some(-1)
            })
            .map(|i| parent_json(s, &i.id.to_string()))
            .collect(),
    )
}

/// An issue in v3's shape with `fields` chosen and `properties` added.
pub(super) fn issue_json(
    s: &State,
    issue: &Issue,
    only: Option<&FieldSet>,
    properties: &[String],
) -> Value {
    let set = only.cloned().unwrap_or(FieldSet::All);
    let mut out = Map::new();
    out.insert(
        "expand".into(),
        json!("renderedFields,names,schema,operations,editmeta,changelog,versionedRepresentations"),
    );
    out.insert("id".into(), json!(issue.id.to_string()));
    out.insert(
        "self".into(),
        json!(format!("{}/rest/api/3/issue/{}", s.base_url, issue.id)),
    );
    out.insert("key".into(), json!(issue.key));
    if set != FieldSet::IdOnly {
        let mut fields = Map::new();
        for (name, value) in &issue.fields {
            if !set.wants(name) {
                continue;
            }
            let value = match name.as_str() {
                "parent" => value
                    .get("id")
                    .and_then(Value::as_str)
                    .map_or(Value::Null, |id| parent_json(s, id)),
                _ => value.clone(),
            };
            fields.insert(name.clone(), value);
        }
        if set.wants("subtasks") {
            fields.insert("subtasks".into(), subtasks_json(s, issue));
        }
        if set.wants("updated") {
            fields.insert("updated".into(), json!(s.stamp(issue.updated_ms)));
        }
        if set.wants("created") {
            fields.insert("created".into(), json!(s.stamp(issue.created_ms)));
        }
        out.insert("fields".into(), Value::Object(fields));
    }
    if !properties.is_empty() {
        let props: Map<String, Value> = properties
            .iter()
            .filter_map(|k| issue.properties.get(k).map(|v| (k.clone(), v.clone())))
            .collect();
        out.insert("properties".into(), Value::Object(props));
    }
    Value::Object(out)
}

/// The plain text of an ADF node, paragraphs on their own lines: the wiki markup a v2
/// representation would carry for simple content.
pub(super) fn adf_text(node: &Value) -> String {
    let mut out = String::new();
    fn walk(node: &Value, out: &mut String) {
        if let Some(text) = node.get("text").and_then(Value::as_str) {
            out.push_str(text);
        }
        if let Some(children) = node.get("content").and_then(Value::as_array) {
            for child in children {
                walk(child, out);
            }
        }
        if matches!(
            node.get("type").and_then(Value::as_str),
            Some("paragraph" | "heading" | "listItem" | "codeBlock")
        ) {
            out.push('\n');
        }
    }
    walk(node, &mut out);
    out.trim_end().to_owned()
}

/// An issue as a webhook carries it: v2, the description as wiki markup.
pub(super) fn webhook_issue(s: &State, issue: &Issue) -> Value {
    let mut v = issue_json(s, issue, None, &[]);
    if let Some(d) = v.pointer_mut("/fields/description") {
        if !d.is_null() {
            *d = Value::String(adf_text(d));
        }
    }
    if let Some(url) = v.get_mut("self") {
        *url = json!(format!("{}/rest/api/2/issue/{}", s.base_url, issue.id));
    }
    v
}
