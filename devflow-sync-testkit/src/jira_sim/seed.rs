//! Quick seeding of realistic issues, for benchmarks and examples.

use super::admin::{status_json, type_json};
use super::*;

const LABELS: [&str; 5] = ["backend", "frontend", "payments", "mobile", "tech-debt"];
const STATUSES: [&str; 4] = ["To Do", "In Progress", "In Review", "Done"];
const PRIORITIES: [(&str, &str); 3] = [("2", "High"), ("3", "Medium"), ("4", "Low")];

/// An ADF description of about a kilobyte: paragraphs with marks, a bullet list, code.
fn description(n: usize) -> Value {
    let para =
        |text: String| json!({"type": "paragraph", "content": [{"type": "text", "text": text}]});
    json!({"type": "doc", "version": 1, "content": [
        {"type": "heading", "attrs": {"level": 2}, "content": [{"type": "text", "text": format!("Context for item {n}")}]},
        para(format!("Customers on the annual plan see the wrong renewal date after item {n} was migrated; the billing service reads the legacy field while the portal reads the new one, so the two disagree for about one account in forty.")),
        {"type": "paragraph", "content": [
            {"type": "text", "text": "See "},
            {"type": "text", "text": "the runbook", "marks": [{"type": "link", "attrs": {"href": "https://wiki.example.test/runbooks/billing"}}]},
            {"type": "text", "text": " and ask "},
            {"type": "mention", "attrs": {"id": ACCOUNT_ID, "text": "@Simulated User"}},
            {"type": "text", "text": " before changing "},
            {"type": "text", "text": "renewal_at", "marks": [{"type": "code"}]},
            {"type": "text", "text": "."}
        ]},
        {"type": "bulletList", "content": [
            {"type": "listItem", "content": [para("Read the renewal date from the new field everywhere".into())]},
            {"type": "listItem", "content": [para("Backfill the accounts migrated before the fix".into())]},
            {"type": "listItem", "content": [para("Alert when the two fields disagree".into())]}
        ]},
        {"type": "codeBlock", "attrs": {"language": "sql"}, "content": [{"type": "text", "text": "SELECT id FROM accounts WHERE renewal_at <> legacy_renewal_at;"}]},
        para("Acceptance: no account shows two different renewal dates, and the alert fires within five minutes of a disagreement.".into())
    ]})
}

pub(super) fn seed(s: &mut State, project: &str, count: usize) {
    if !s.projects.contains_key(project) {
        admin::add_project(s, project, project, false);
    }
    let Some(p) = s.projects.get(project).cloned() else {
        return;
    };
    let ty = |name: &str| {
        p.types
            .iter()
            .find(|t| t.name == name)
            .map(|t| type_json(s, t))
    };
    let (epic, story, bug) = (ty("Epic"), ty("Story"), ty("Bug"));
    let project_json = json!({"self": format!("{}/rest/api/3/project/{}", s.base_url, p.id), "id": p.id.to_string(), "key": p.key, "name": p.name, "projectTypeKey": "software", "simplified": p.simplified});
    let me = json!({"self": format!("{}/rest/api/3/user?accountId={ACCOUNT_ID}", s.base_url), "accountId": ACCOUNT_ID, "displayName": "Simulated User", "active": true, "accountType": "atlassian"});
    let start = s
        .now_ms()
        .saturating_sub(i64::try_from(count).unwrap_or(0).saturating_mul(10));
    let mut number = p.next_number;
    let mut current_epic: Option<u64> = None;
    for i in 0..count {
        s.next_issue_id += 1;
        let id = s.next_issue_id;
        let key = format!("{}-{number}", p.key);
        number += 1;
        let (kind, parent) = if i % 50 == 0 {
            (epic.clone(), None)
        } else if i % 10 == 7 {
            (bug.clone(), None)
        } else {
            (story.clone(), current_epic)
        };
        let (pid, pname) = PRIORITIES[i % PRIORITIES.len()];
        let mut fields = Map::new();
        fields.insert(
            "summary".into(),
            json!(format!("Renewal dates disagree after migration, case {i}")),
        );
        fields.insert("description".into(), description(i));
        fields.insert("issuetype".into(), kind.unwrap_or(Value::Null));
        fields.insert("project".into(), project_json.clone());
        fields.insert(
            "status".into(),
            status_json(&s.base_url, STATUSES[i % STATUSES.len()]).unwrap_or(Value::Null),
        );
        fields.insert("priority".into(), json!({"self": format!("{}/rest/api/3/priority/{pid}", s.base_url), "name": pname, "id": pid}));
        fields.insert("labels".into(), json!([LABELS[i % 5], LABELS[(i + 2) % 5]]));
        fields.insert(
            "assignee".into(),
            if i % 3 == 0 { Value::Null } else { me.clone() },
        );
        fields.insert("reporter".into(), me.clone());
        fields.insert("creator".into(), me.clone());
        fields.insert(
            "duedate".into(),
            if i % 4 == 0 {
                json!("2026-12-31")
            } else {
                Value::Null
            },
        );
        fields.insert(
            "parent".into(),
            parent.map_or(Value::Null, |p| json!({"id": p.to_string()})),
        );
        let ms = start.saturating_add(i64::try_from(i).unwrap_or(0).saturating_mul(10));
        if i % 50 == 0 {
            current_epic = Some(id);
        }
        s.keys.insert(key.clone(), id);
        s.issues.insert(
            id,
            Issue {
                id,
                key,
                project: p.key.clone(),
                fields,
                properties: BTreeMap::new(),
                updated_ms: ms,
                created_ms: ms,
                changelog: Vec::new(),
                remote_links: Vec::new(),
                raw_description: None,
            },
        );
        s.index_now(id);
    }
    if let Some(p) = s.projects.get_mut(project) {
        p.next_number = number;
    }
}
