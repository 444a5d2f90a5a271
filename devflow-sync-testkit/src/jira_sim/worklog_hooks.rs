//! The admin webhooks Jira sends about worklogs, queued on the simulator's outbox.

use super::worklogs::Worklog;
use super::*;

/// The text of an ADF comment, as webhook bodies (REST v2) carry it.
fn plain_text(adf: &Value) -> String {
    match adf {
        Value::String(s) => s.clone(),
        Value::Object(o) => {
            let own = o
                .get("text")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned();
            let inner: Vec<String> = o
                .get("content")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .map(plain_text)
                .collect();
            let sep = if o.get("type").and_then(Value::as_str) == Some("doc") {
                "\n"
            } else {
                ""
            };
            own + &inner.join(sep)
        }
        _ => String::new(),
    }
}

/// Queues the admin webhook Jira sends for a worklog (`worklog_created`,
/// `worklog_updated`, `worklog_deleted`): the REST v2 worklog, without properties, as
/// in the recorded delivery.
pub(super) fn emit(s: &mut State, event: &str, w: &Worklog) {
    let mut worklog = super::worklogs::out(s, w, false);
    worklog["self"] = json!(format!(
        "{}/rest/api/2/issue/{}/worklog/{}",
        s.base_url, w.issue, w.id
    ));
    worklog["comment"] = json!(w.comment.as_ref().map(plain_text).unwrap_or_default());
    let body = json!({"timestamp": s.now_ms(), "webhookEvent": event, "worklog": worklog,
                      "isFromIssueLimitTransformation": false});
    s.outbox.push(
        &[
            ("X-Atlassian-Webhook-Flow", "Primary"),
            ("X-Atlassian-Webhook-Retry", "0"),
        ],
        serde_json::to_vec(&body).unwrap_or_default(),
    );
}
