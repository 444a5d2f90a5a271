//! The host service's endpoints on loopback, against the demo's simulators: status
//! codes, bodies, the admin check, secrets never returned, and the effects in the
//! simulators.

use std::time::Duration;

use host_service::demo::{self, REPO};
use host_service::scheduler::Intervals;
use reqwest::StatusCode;
use serde_json::{Value, json};

mod support;
use support::{ADMIN, service, service_with};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_integrations_endpoint_needs_the_admin_token_and_returns_no_secret() {
    let s = service().await;
    let bare = s.http.get(s.url("/api/integrations")).send().await.unwrap();
    assert_eq!(bare.status(), StatusCode::UNAUTHORIZED);
    // Every integrations endpoint: 401 without the admin token, whatever the method.
    for (method, path) in [
        ("GET", "/api/integrations/health"),
        ("GET", "/api/integrations/jira/catalog"),
        ("DELETE", "/api/integrations/jira-acme"),
        ("POST", "/api/integrations/jira/connect"),
        ("POST", "/api/integrations/jira-acme/test"),
        (
            "POST",
            "/api/integrations/jira/jira-acme/setup-custom-fields",
        ),
        (
            "POST",
            "/api/integrations/confluence/wiki-acme/configure-space",
        ),
        ("GET", "/api/integrations/github/github-acme/configure-repo"),
        (
            "POST",
            "/api/integrations/github/github-acme/configure-repo",
        ),
        ("POST", "/api/integrations/bqe/bqe-acme/matches/suggest"),
        ("POST", "/api/integrations/bqe/bqe-acme/matches/confirm"),
        ("GET", "/api/integrations/jira-acme/mappings"),
        ("PUT", "/api/integrations/jira-acme/mappings/issue"),
        ("GET", "/api/integrations/jira-acme/rules"),
        ("PUT", "/api/integrations/jira-acme/rules/issue"),
        ("GET", "/api/integrations/schemas/rule"),
        ("GET", "/api/integrations/schemas/mapping"),
        ("POST", "/api/integrations/sync/trigger"),
        ("GET", "/api/integrations/sync/job-1/status"),
        ("GET", "/api/integrations/sync/history"),
        ("GET", "/api/integrations/conflicts/1"),
        ("POST", "/api/integrations/conflicts/1/resolve"),
        ("GET", "/api/integrations/events"),
        ("GET", "/api/integrations/events/history"),
        ("GET", "/api/integrations/notifications"),
        ("POST", "/api/integrations/notifications/read"),
        ("GET", "/api/integrations/jira/search?q=x"),
        ("POST", "/api/integrations/jira/worklogs/sync"),
        ("GET", "/api/integrations/jira/worklogs/r/history"),
    ] {
        let request = s
            .http
            .request(method.parse().unwrap(), s.url(path))
            .json(&json!({}));
        let r = request.send().await.unwrap();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "{method} {path}");
    }
    let wrong = s
        .http
        .get(s.url("/api/integrations/conflicts"))
        .bearer_auth("not-the-token")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    let (status, body) = s.get("/api/integrations").await;
    assert_eq!(status, StatusCode::OK);
    let ids: Vec<&str> = body["connections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["bqe-acme", "github-acme", "jira-acme", "wiki-acme"]);
    assert!(
        body["connections"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["status"] == "active")
    );
    let text = body.to_string();
    assert!(
        !text.contains("demo-api-token") && !text.contains(ADMIN),
        "no secret: {text}"
    );
    let (status, health) = s.get("/api/integrations/health").await;
    assert_eq!(
        (status, health["status"].as_str()),
        (StatusCode::OK, Some("ok"))
    );
    let (status, catalog) = s.get("/api/integrations/jira/catalog").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        catalog["objects"]
            .as_array()
            .unwrap()
            .iter()
            .any(|o| o["key"] == "worklog")
    );
    assert_eq!(
        s.get("/api/integrations/nope/catalog").await.0,
        StatusCode::NOT_FOUND
    );
    // The OpenAPI document, generated from the handlers, names every endpoint.
    let doc: Value = s
        .http
        .get(s.url("/api/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let paths = doc["paths"].as_object().unwrap();
    for path in [
        "/api/integrations",
        "/api/integrations/{provider}/connect",
        "/api/integrations/sync/trigger",
        "/api/integrations/conflicts/{id}/resolve",
        "/api/webhooks/{provider}",
        "/api/integrations/jira/worklogs/sync",
    ] {
        assert!(paths.contains_key(path), "{path} in the OpenAPI document");
    }
    assert_eq!(paths.len(), 32, "{:?}", paths.keys().collect::<Vec<_>>());
    assert!(doc["components"]["schemas"]["Trigger"].is_object());
    // The dashboard's page is public; its data is not.
    let page = s.http.get(s.url("/")).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page.text().await.unwrap().contains("Integrations"));
    s.running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hierarchy_conflict_offers_parents_and_is_resolved_by_linking_to_the_epic() {
    let s = service().await;
    let (status, body) = s
        .get("/api/integrations/conflicts?status=pending&platform=jira")
        .await;
    assert_eq!(status, StatusCode::OK);
    let conflicts = body["conflicts"].as_array().unwrap();
    assert_eq!(conflicts.len(), 1, "{body}");
    let id = conflicts[0]["id"].as_str().unwrap().to_owned();
    assert_eq!(conflicts[0]["suggested_action"], "Link to an epic");
    let (_, detail) = s.get(&format!("/api/integrations/conflicts/{id}")).await;
    let candidates = detail["candidate_parents"].as_array().unwrap();
    assert_eq!(candidates.len(), 1, "{detail}");
    assert_eq!(candidates[0]["title"], "One-page checkout");
    assert_eq!(candidates[0]["children"], 1);
    let epic = candidates[0]["id"].as_str().unwrap().to_owned();
    let (status, bad) = s
        .post(
            &format!("/api/integrations/conflicts/{id}/resolve"),
            &json!({"action": "make_it_so"}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
    let (status, done) = s
        .post(
            &format!("/api/integrations/conflicts/{id}/resolve"),
            &json!({"action": "link_to_parent", "parent": epic}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{done}");
    let (_, left) = s.get("/api/integrations/conflicts").await;
    assert!(left["conflicts"].as_array().unwrap().is_empty());
    // In Jira the orphan now sits under the epic's issue.
    let orphan = s.sims.jira.issue("CHK-4").unwrap();
    assert!(orphan["fields"]["parent"]["key"].is_string(), "{orphan}");
    assert_eq!(
        s.post(
            "/api/integrations/conflicts/999/resolve",
            &json!({"resolution": "ignore"})
        )
        .await
        .0,
        StatusCode::NOT_FOUND
    );
    // The dashboard's notifications: both moments are in the event history.
    let (_, events) = s.get("/api/integrations/events/history").await;
    let kinds: Vec<&str> = events["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"]["type"].as_str().unwrap())
        .collect();
    assert!(
        kinds.contains(&"conflict_recorded") && kinds.contains(&"conflict_resolved"),
        "{kinds:?}"
    );
    s.running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_triggered_sync_reports_each_platform_and_history_lists_it() {
    let s = service().await;
    let (status, body) = s
        .post(
            "/api/integrations/sync/trigger",
            &json!({"entity_id": "item-1", "force": true}),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    let job = body["job_id"].as_str().unwrap().to_owned();
    let mut result = Value::Null;
    for _ in 0..100 {
        let (_, j) = s.get(&format!("/api/integrations/sync/{job}/status")).await;
        if j["status"] != "running" {
            result = j;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(result["status"], "done", "{result}");
    let platforms: Vec<&str> = result["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["connection"].as_str().unwrap())
        .collect();
    assert_eq!(platforms.len(), 3, "{result}");
    assert_eq!(
        s.post(
            "/api/integrations/sync/trigger",
            &json!({"entity_id": "nope"})
        )
        .await
        .0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        s.post("/api/integrations/sync/trigger", &json!({"entity_id": " "}))
            .await
            .0,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        s.get("/api/integrations/sync/job-999/status").await.0,
        StatusCode::NOT_FOUND
    );
    let (status, plan) = s
        .post(
            "/api/integrations/sync/trigger",
            &json!({"entity_id": "item-1", "dry_run": true}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{plan}");
    let (status, history) = s
        .get("/api/integrations/sync/history?item=item-1&status=ok")
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        !history["lines"].as_array().unwrap().is_empty(),
        "{history}"
    );
    s.running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signed_webhooks_are_accepted_and_applied_and_others_refused() {
    let s = service().await;
    // A person edits the story's issue on GitHub; GitHub's delivery comes in.
    let number = s
        .sims
        .github
        .issues(REPO)
        .iter()
        .find(|i| i["title"] == "Pay with a saved card")
        .unwrap()["number"]
        .as_u64()
        .unwrap();
    s.sims.github.edit_issue(
        REPO,
        number,
        &json!({"title": "Pay with a saved card or wallet"}),
    );
    let hooks = s.sims.github.take_webhooks();
    assert!(!hooks.is_empty());
    for (headers, body) in &hooks {
        let mut request = s.http.post(s.url("/api/webhooks/github"));
        for (name, value) in headers.iter() {
            request = request.header(name, value);
        }
        let r = request.body(body.clone()).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::ACCEPTED);
        // The same delivery again: accepted as a duplicate, stored once.
        let mut again = s.http.post(s.url("/api/webhooks/github"));
        for (name, value) in headers.iter() {
            again = again.header(name, value);
        }
        let dup: Value = again
            .body(body.clone())
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(dup["duplicate"], true);
    }
    let (headers, body) = &hooks[0];
    let mut forged = s.http.post(s.url("/api/webhooks/github"));
    for (name, value) in headers.iter() {
        if name.eq_ignore_ascii_case("x-hub-signature-256") {
            forged = forged.header(name, "sha256=00");
        } else {
            forged = forged.header(name, value);
        }
    }
    let refused = forged.body(body.clone()).send().await.unwrap();
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    let said = refused.text().await.unwrap();
    assert!(!said.contains("simulator-webhook-secret"));
    let unknown = s
        .http
        .post(s.url("/api/webhooks/github?connection=nope"))
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
    // The worker applies it: the host story has the new title.
    let mut applied = false;
    for _ in 0..100 {
        let (_, h) = s
            .get("/api/integrations/sync/history?connection=github-acme&status=ok")
            .await;
        if h["lines"]
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l["direction"] == "pull")
        {
            applied = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(30)).await;
    }
    assert!(applied, "the inbox worker applied the delivery");
    s.running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn time_tracking_and_disconnect() {
    let s = service().await;
    let (status, found) = s.get("/api/integrations/jira/search?q=checkout").await;
    assert_eq!(status, StatusCode::OK, "{found}");
    assert!(
        found["issues"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["summary"] == "One-page checkout")
    );
    let (status, summary) = s
        .post(
            "/api/integrations/jira/worklogs/sync",
            &json!({"records": ["item-1", "no-such-record"]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        (summary["total"].as_u64(), summary["failed"].as_u64()),
        (Some(2), Some(2)),
        "{summary}"
    );
    let (status, _) = s
        .get("/api/integrations/jira/worklogs/no-such-record/history")
        .await;
    assert_eq!(status, StatusCode::OK);
    let r = s
        .http
        .delete(s.url("/api/integrations/wiki-acme"))
        .bearer_auth(ADMIN)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let (_, list) = s.get("/api/integrations").await;
    assert_eq!(list["connections"].as_array().unwrap().len(), 3);
    let again = s
        .http
        .delete(s.url("/api/integrations/wiki-acme"))
        .bearer_auth(ADMIN)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::NOT_FOUND);
    s.running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notifications_are_unread_per_person_and_a_burst_is_one() {
    let s = service().await;
    let (status, first) = s.get("/api/integrations/notifications?person=ana").await;
    assert_eq!(status, StatusCode::OK);
    let unread = first["unread"].as_array().unwrap();
    assert_eq!(unread.len(), 1, "the demo's rejection: {first}");
    assert_eq!(unread[0]["title"], "Sync rejected");
    assert!(
        unread[0]["link"]
            .as_str()
            .unwrap()
            .starts_with("#conflict-")
    );
    for n in 0..12 {
        s.sims
            .jira
            .create_issue(
                demo::PROJECT,
                &json!({"summary": format!("Orphan {n}"), "issuetype": {"name": "Story"}}),
            )
            .unwrap();
    }
    tokio::time::sleep(Duration::from_millis(50)).await;
    // A pull through the scheduler's own path.
    s.running_pull().await;
    let (_, burst) = s.get("/api/integrations/notifications?person=ana").await;
    let unread = burst["unread"].as_array().unwrap();
    assert_eq!(
        unread.len(),
        1,
        "thirteen rejections, one notification: {burst}"
    );
    assert_eq!(unread[0]["count"], 13);
    let up_to = unread[0]["id"].as_u64().unwrap();
    let (status, _) = s
        .post(
            "/api/integrations/notifications/read",
            &json!({"person": "ana", "up_to": up_to}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, after) = s.get("/api/integrations/notifications?person=ana").await;
    assert!(after["unread"].as_array().unwrap().is_empty(), "{after}");
    // Another person has read nothing yet.
    let (_, bob) = s.get("/api/integrations/notifications?person=bob").await;
    assert_eq!(bob["unread"].as_array().unwrap().len(), 1);
    s.running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_scheduler_pulls_what_is_due_and_an_edit_in_jira_arrives() {
    let s = service_with(Intervals {
        pull: Duration::from_millis(300),
        inbox: Duration::from_millis(50),
    })
    .await;
    s.sims
        .jira
        .edit_issue("CHK-2", &json!({"summary": "One-page checkout, v2"}))
        .unwrap();
    let mut arrived = false;
    for _ in 0..100 {
        let (_, h) = s
            .get("/api/integrations/sync/history?connection=jira-acme&status=ok")
            .await;
        if h["lines"].as_array().unwrap().iter().any(|l| {
            l["direction"] == "pull"
                && l["changes"]
                    .as_array()
                    .is_some_and(|c| c.iter().any(|c| c["field"] == "title"))
        }) {
            arrived = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(arrived, "the scheduled pull brought the edit");
    s.running.stop().await;
}
