//! The admin webhooks Jira sends about worklogs, queued on the simulator's outbox.

use super::worklogs::Worklog;
use super::*;

/// Queues the admin webhook Jira sends for a worklog (`worklog_created`,
/// `worklog_updated`, `worklog_deleted`): the REST v2 worklog, without properties, as
/// in the recorded delivery.
pub(super) fn emit(s: &mut State, event: &str, w: &Worklog) {
    let mut worklog = super::worklogs::out(s, w, false);
    worklog["self"] = json!(format!(
        "{}/rest/api/2/issue/{}/worklog/{}",
        s.base_url, w.issue, w.id
    ));
    worklog["comment"] = json!(
        w.comment
            .as_ref()
            .map(super::output::adf_text)
            .unwrap_or_default()
    );
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
