//! Worklog webhooks: the simulator sends `worklog_created|updated|deleted` as Jira does
//! (REST v2 bodies without properties); the provider turns them into worklog events,
//! the engine reads the worklog and merges an edit made in Jira into the host record,
//! a deletion follows the deletion policy, and a worklog booked by hand (no `devflow`
//! property) is neither imported nor a conflict.

use devflow_sync_core::engine::PullBudget;
use devflow_sync_core::model::ProviderKey;
use devflow_sync_core::provider::{Provider, WebhookAction};
use devflow_sync_core::store::WorkItemStore;

#[path = "support/fixtures.rs"]
mod fixtures;
mod support;
use support::time::*;

/// Every delivery the simulator queued, accepted by the engine and applied.
async fn deliver(t: &Time) -> usize {
    let hooks = t.sim.take_webhooks();
    for (headers, body) in &hooks {
        t.engine
            .accept_webhook(&ProviderKey::new("jira"), &conn(), headers, body)
            .await
            .unwrap();
    }
    let report = t.engine.process_inbox(100).await.unwrap();
    assert_eq!(report.errors, 0, "{}", report.summary());
    hooks.len()
}

#[tokio::test]
async fn the_recorded_delivery_is_a_worklog_event() {
    let t = time_setup().await;
    let body = fixtures::fixture("webhook-worklog_created.json");
    let headers =
        devflow_sync_core::provider::Headers::new().with("X-Atlassian-Webhook-Identifier", "d-1");
    let p = provider(&t.sim);
    let delivery = p.parse_verified_webhook(&conn(), &headers, &body).unwrap();
    assert_eq!(delivery.events.len(), 1);
    assert_eq!(delivery.events[0].object, worklog());
    assert_eq!(delivery.events[0].id.as_str(), "10066");
    assert_eq!(delivery.events[0].action, WebhookAction::Upsert);
    let deleted = String::from_utf8(body)
        .unwrap()
        .replace("worklog_created", "worklog_deleted");
    let delivery = p
        .parse_verified_webhook(&conn(), &headers, deleted.as_bytes())
        .unwrap();
    assert_eq!(delivery.events[0].action, WebhookAction::Deleted);
    let no_id = br#"{"webhookEvent":"worklog_updated","worklog":{}}"#;
    let err = p
        .parse_verified_webhook(&conn(), &headers, no_id)
        .unwrap_err();
    assert!(err.to_string().contains("/worklog/id"), "{err}");
}

#[tokio::test]
async fn edits_and_deletions_made_in_jira_arrive_by_webhook() {
    let t = time_setup().await;
    t.sim.take_webhooks(); // the issues' own deliveries
    let item = record(&t, &t.issues[0], Some(1800), "first draft").await;
    t.engine.push(&conn(), &worklog(), &item).await.unwrap();
    let id = worklog_of(&t, &item).await;
    // The create's own delivery is an echo: nothing changes.
    assert_eq!(deliver(&t).await, 1);
    let host = t.items.get(&item).await.unwrap().unwrap();
    assert_eq!(
        host.record.fields.get("duration_seconds").as_f64(),
        Some(1800.0)
    );

    // A person books more time in Jira: the webhook brings it, no pull needed.
    t.sim
        .edit_worklog(&id, &serde_json::json!({"timeSpentSeconds": 4500}))
        .unwrap();
    assert_eq!(deliver(&t).await, 1);
    let host = t.items.get(&item).await.unwrap().unwrap();
    assert_eq!(
        host.record.fields.get("duration_seconds").as_f64(),
        Some(4500.0)
    );

    // A worklog booked by hand in Jira: neither imported nor a conflict.
    let before = t.items.changed_after(0, 1000).await.unwrap().len();
    let key = t.issues[1].clone();
    let status = reqwest::Client::new()
        .post(format!("{}/rest/api/3/issue/{key}/worklog", t.sim.url()))
        .basic_auth(support::EMAIL, Some(support::TOKEN))
        .json(&serde_json::json!({"timeSpentSeconds": 600, "started": "2026-12-01T09:00:00.000+0100"}))
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status.as_u16(), 201);
    assert_eq!(deliver(&t).await, 1);
    assert_eq!(t.items.changed_after(0, 1000).await.unwrap().len(), before);
    let conflicts = t.engine.journal().conflicts(&conn(), None).await.unwrap();
    assert!(conflicts.is_empty(), "{conflicts:?}");

    // Deleted in Jira: the record follows the deletion policy (propagate here).
    let status = reqwest::Client::new()
        .delete(format!(
            "{}/rest/api/3/issue/{}/worklog/{id}",
            t.sim.url(),
            t.issues[0]
        ))
        .basic_auth(support::EMAIL, Some(support::TOKEN))
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status.as_u16(), 204);
    assert_eq!(deliver(&t).await, 1);
    assert!(
        t.items.get(&item).await.unwrap().is_none_or(|i| !i.active),
        "the time record follows its deleted worklog"
    );
    // A pull finds nothing more to do.
    let report = t
        .engine
        .pull(&conn(), &worklog(), PullBudget::default())
        .await
        .unwrap();
    assert_eq!(report.created + report.errors, 0, "{}", report.summary());
}
