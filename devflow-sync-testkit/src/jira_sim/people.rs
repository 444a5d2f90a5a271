//! What a test reads and does on the simulated site directly: issues as Jira returns
//! them, edits by a person, webhooks emitted, seeding.

use super::*;

impl JiraSimulator {
    /// An issue as `GET /rest/api/3/issue/{idOrKey}` returns it.
    pub fn issue(&self, id_or_key: &str) -> Option<Value> {
        let s = lock(&self.state);
        let id = s.issue_id(id_or_key)?;
        s.issues
            .get(&id)
            .map(|i| output::issue_json(&s, i, None, &[]))
    }

    /// An issue property's value.
    pub fn property(&self, id_or_key: &str, key: &str) -> Option<Value> {
        let s = lock(&self.state);
        let id = s.issue_id(id_or_key)?;
        s.issues.get(&id)?.properties.get(key).cloned()
    }

    /// Every issue of a project, as `GET issue` returns them, by id.
    pub fn issues(&self, project: &str) -> Vec<Value> {
        let s = lock(&self.state);
        s.issues
            .values()
            .filter(|i| i.project == project)
            .map(|i| output::issue_json(&s, i, None, &[]))
            .collect()
    }

    /// The custom fields created so far, as `GET /rest/api/3/field` lists them.
    pub fn custom_fields(&self) -> Vec<Value> {
        let s = lock(&self.state);
        s.fields.iter().map(admin::field_json).collect()
    }

    /// A person creates an issue in Jira (`fields` as in `POST /issue`: `summary`,
    /// `issuetype` by name or id, `parent` by key or id, `labels`, ...); returns its key.
    pub fn create_issue(&self, project: &str, fields: &Value) -> Result<String, String> {
        let mut s = lock(&self.state);
        let mut f = fields.clone();
        f["project"] = json!({"key": project});
        issues::create(&mut s, &json!({"fields": f}))
            .map(|v| v["key"].as_str().unwrap_or_default().to_owned())
            .map_err(|r| String::from_utf8_lossy(&r.body).into_owned())
    }

    /// A person edits an issue (`fields` as in `PUT /issue`).
    pub fn edit_issue(&self, id_or_key: &str, fields: &Value) -> Result<(), String> {
        let mut s = lock(&self.state);
        issues::edit(&mut s, id_or_key, &json!({"fields": fields}))
            .map(|_| ())
            .map_err(|r| String::from_utf8_lossy(&r.body).into_owned())
    }

    /// A person moves an issue to `status` (any status, as an admin can).
    pub fn set_status(&self, id_or_key: &str, status: &str) -> Result<(), String> {
        let mut s = lock(&self.state);
        workflow::force_status(&mut s, id_or_key, status)
    }

    /// Takes the signed webhook deliveries emitted since the last call.
    pub fn take_webhooks(&self) -> Vec<(Headers, Vec<u8>)> {
        lock(&self.state)
            .outbox
            .take()
            .into_iter()
            .map(|w| (w.headers, w.body))
            .collect()
    }

    /// The dynamic webhooks registered through `POST /rest/api/3/webhook`.
    pub fn dynamic_webhooks(&self) -> Vec<Value> {
        lock(&self.state).webhooks.clone()
    }

    /// Seeds `count` issues quickly (no webhooks), shaped like a real project's: a
    /// paragraph-and-list ADF description of about a kilobyte, two labels, a priority, an
    /// assignee, statuses spread over the workflow.
    pub fn seed_issues(&self, project: &str, count: usize) {
        let mut s = lock(&self.state);
        seed::seed(&mut s, project, count);
    }
}
