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

pub(super) fn parent_json(s: &State, id: &str) -> Value {
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
    serde_json::to_value(IssueView {
        s,
        issue,
        set: &set,
        properties,
    })
    .unwrap_or(Value::Null)
}

/// An issue as [`issue_json`] writes it, serialised straight from the state (a search
/// page is written without copying its issues).
pub(super) struct IssueView<'a> {
    pub(super) s: &'a State,
    pub(super) issue: &'a Issue,
    pub(super) set: &'a FieldSet,
    pub(super) properties: &'a [String],
}

struct FieldsView<'a>(&'a IssueView<'a>);

impl serde::Serialize for FieldsView<'_> {
    fn serialize<S: serde::Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let IssueView { s, issue, set, .. } = self.0;
        let mut map = ser.serialize_map(None)?;
        for (name, value) in &issue.fields {
            if !set.wants(name) {
                continue;
            }
            if let (true, Some(raw)) = (name == "description", &issue.raw_description) {
                map.serialize_entry(name, raw)?;
            } else if name == "parent" {
                let parent = value
                    .get("id")
                    .and_then(Value::as_str)
                    .and_then(|id| id.parse::<u64>().ok())
                    .and_then(|id| s.issues.get(&id));
                match parent {
                    Some(parent) => map.serialize_entry(name, &ParentView { s, parent })?,
                    None => map.serialize_entry(name, value)?,
                }
            } else {
                map.serialize_entry(name, value)?;
            }
        }
        if set.wants("subtasks") {
            map.serialize_entry("subtasks", &subtasks_json(s, issue))?;
        }
        if set.wants("updated") {
            map.serialize_entry("updated", &s.stamp(issue.updated_ms))?;
        }
        if set.wants("created") {
            map.serialize_entry("created", &s.stamp(issue.created_ms))?;
        }
        map.end()
    }
}

/// A parent as an issue carries it: id, key, self and four fields.
struct ParentView<'a> {
    s: &'a State,
    parent: &'a Issue,
}

impl serde::Serialize for ParentView<'_> {
    fn serialize<S: serde::Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        struct Few<'a>(&'a Issue);
        impl serde::Serialize for Few<'_> {
            fn serialize<S: serde::Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
                let mut map = ser.serialize_map(Some(4))?;
                for key in ["summary", "status", "priority", "issuetype"] {
                    map.serialize_entry(key, self.0.fields.get(key).unwrap_or(&Value::Null))?;
                }
                map.end()
            }
        }
        let mut map = ser.serialize_map(Some(4))?;
        map.serialize_entry("id", &self.parent.id.to_string())?;
        map.serialize_entry("key", &self.parent.key)?;
        map.serialize_entry(
            "self",
            &format!("{}/rest/api/3/issue/{}", self.s.base_url, self.parent.id),
        )?;
        map.serialize_entry("fields", &Few(self.parent))?;
        map.end()
    }
}

struct PropertiesView<'a>(&'a IssueView<'a>);

impl serde::Serialize for PropertiesView<'_> {
    fn serialize<S: serde::Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = ser.serialize_map(None)?;
        for key in self.0.properties {
            if let Some(v) = self.0.issue.properties.get(key) {
                map.serialize_entry(key, v)?;
            }
        }
        map.end()
    }
}

impl serde::Serialize for IssueView<'_> {
    fn serialize<S: serde::Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = ser.serialize_map(None)?;
        map.serialize_entry(
            "expand",
            "renderedFields,names,schema,operations,editmeta,changelog,versionedRepresentations",
        )?;
        map.serialize_entry("id", &self.issue.id.to_string())?;
        map.serialize_entry(
            "self",
            &format!("{}/rest/api/3/issue/{}", self.s.base_url, self.issue.id),
        )?;
        map.serialize_entry("key", &self.issue.key)?;
        if *self.set != FieldSet::IdOnly {
            map.serialize_entry("fields", &FieldsView(self))?;
        }
        if !self.properties.is_empty() {
            map.serialize_entry("properties", &PropertiesView(self))?;
        }
        map.end()
    }
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
