//! The host service's connection, setup and configuration endpoints on loopback:
//! connecting (an API-token form, GitHub's OAuth code flow), connection tests, setup
//! steps, BQE's initial matching, mappings and rules.

use host_service::demo::{self, REPO};
use reqwest::StatusCode;
use serde_json::json;

mod support;
use support::{ADMIN, service};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connection_tests_and_setup_steps() {
    let s = service().await;
    for id in ["github-acme", "jira-acme", "wiki-acme"] {
        let (status, body) = s
            .post(&format!("/api/integrations/{id}/test"), &json!({}))
            .await;
        assert_eq!(status, StatusCode::OK, "{id}: {body}");
        assert_eq!(body["ok"], true, "{id}: {body}");
    }
    assert_eq!(
        s.post("/api/integrations/nope/test", &json!({})).await.0,
        StatusCode::NOT_FOUND
    );
    let (status, fields) = s
        .post(
            "/api/integrations/jira/jira-acme/setup-custom-fields",
            &json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{fields}");
    let (status, again) = s
        .post(
            "/api/integrations/jira/jira-acme/setup-custom-fields",
            &json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "idempotent: {again}");
    assert_eq!(
        s.post(
            "/api/integrations/jira/github-acme/setup-custom-fields",
            &json!({})
        )
        .await
        .0,
        StatusCode::BAD_REQUEST
    );
    let (status, space) = s
        .post(
            "/api/integrations/confluence/wiki-acme/configure-space",
            &json!({"key": "PAY", "project": "Payments"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{space}");
    assert_eq!(space["key"], "PAY");
    let (status, bad) = s
        .post(
            "/api/integrations/confluence/wiki-acme/configure-space",
            &json!({"key": "no spaces!"}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
    let (status, labels) = s
        .post(
            "/api/integrations/github/github-acme/configure-repo",
            &json!({"repo": REPO}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{labels}");
    let (status, _) = s
        .post(
            "/api/integrations/github/github-acme/configure-repo",
            &json!({"repo": "acme/unknown"}),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, repos) = s
        .get("/api/integrations/github/github-acme/configure-repo")
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(repos["repositories"][0]["full_name"], REPO);
    s.running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_is_made_from_an_api_token_form_tested_first_and_reconnected() {
    let s = service().await;
    s.sims
        .jira
        .add_api_token("second@acme.test", "second-secret-token", false, None);
    let form = |token: &str| {
        json!({"id": "jira-second", "base_url": s.sims.jira.url(), "email": "second@acme.test",
               "api_token": token, "project": demo::PROJECT})
    };
    let (status, refused) = s
        .post("/api/integrations/jira/connect", &form("wrong-token"))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{refused}");
    assert!(
        refused["message"]
            .as_str()
            .unwrap()
            .contains("BadCredentials"),
        "{refused}"
    );
    assert!(!refused.to_string().contains("wrong-token"));
    let (status, made) = s
        .post(
            "/api/integrations/jira/connect",
            &form("second-secret-token"),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{made}");
    assert!(
        !made.to_string().contains("second-secret-token"),
        "write-only"
    );
    let (_, list) = s.get("/api/integrations").await;
    assert_eq!(list["connections"].as_array().unwrap().len(), 5);
    assert!(!list.to_string().contains("second-secret-token"));
    let (status, test) = s
        .post("/api/integrations/jira-second/test", &json!({}))
        .await;
    assert_eq!(
        (status, test["ok"].as_bool()),
        (StatusCode::OK, Some(true)),
        "{test}"
    );
    // The same id again: new credentials for the same connection.
    s.sims
        .jira
        .add_api_token("second@acme.test", "rotated-token", false, None);
    let (status, again) = s
        .post("/api/integrations/jira/connect", &form("rotated-token"))
        .await;
    assert_eq!(status, StatusCode::OK, "{again}");
    assert_eq!(again["reconnected"], true);
    assert_eq!(
        s.post("/api/integrations/nope/connect", &form("x")).await.0,
        StatusCode::NOT_FOUND
    );
    let bad_id =
        json!({"id": "no spaces", "base_url": "https://acme.atlassian.net", "api_token": "t"});
    assert_eq!(
        s.post("/api/integrations/jira/connect", &bad_id).await.0,
        StatusCode::BAD_REQUEST
    );
    s.running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mappings_and_rules_are_checked_and_saved() {
    let s = service().await;
    let (status, body) = s.get("/api/integrations/jira-acme/mappings").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let objects: Vec<&str> = body["mappings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["object"].as_str().unwrap())
        .collect();
    assert_eq!(objects, ["issue", "worklog"]);
    assert!(
        body["mappings"]
            .as_array()
            .unwrap()
            .iter()
            .all(|m| m["stale"] == false && m["default"].is_object())
    );
    let default = body["mappings"][0]["default"].clone();
    let r = s
        .http
        .put(s.url("/api/integrations/jira-acme/mappings/issue"))
        .bearer_auth(ADMIN)
        .json(&default)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let mut wrong = default.clone();
    wrong["fields"][0]["provider_field"] = json!("no_such_field");
    wrong["fields"][0]["providerField"] = json!("no_such_field");
    let r = s
        .http
        .put(s.url("/api/integrations/jira-acme/mappings/issue"))
        .bearer_auth(ADMIN)
        .json(&wrong)
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::BAD_REQUEST,
        "{}",
        r.text().await.unwrap()
    );
    // The mapping schema describes what is saved: every entry's keys are its properties.
    let (status, mapping_schema) = s.get("/api/integrations/schemas/mapping").await;
    assert_eq!(status, StatusCode::OK);
    let entry = &mapping_schema["properties"]["fields"]["items"]["properties"];
    for field in body["mappings"][0]["default"]["fields"].as_array().unwrap() {
        for key in field.as_object().unwrap().keys() {
            assert!(entry.get(key).is_some(), "{key} is in the mapping schema");
        }
        let direction = field["direction"].as_str().unwrap();
        assert!(
            entry["direction"]["enum"]
                .as_array()
                .unwrap()
                .iter()
                .any(|d| d == direction)
        );
    }
    let (status, schema) = s.get("/api/integrations/schemas/rule").await;
    assert_eq!(status, StatusCode::OK);
    assert!(schema["properties"]["direction"].is_object(), "{schema}");
    let rule = json!({"provider": "jira", "object": "issue", "direction": "bidirectional", "interval": {"minutes": 15}});
    let r = s
        .http
        .put(s.url("/api/integrations/jira-acme/rules/issue"))
        .bearer_auth(ADMIN)
        .json(&rule)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    let (_, rules) = s.get("/api/integrations/jira-acme/rules").await;
    assert_eq!(rules["rules"]["issue"]["direction"], "bidirectional");
    let bad = json!({"provider": "jira", "object": "issue", "direction": "sideways", "interval": {"minutes": 15}});
    let r = s
        .http
        .put(s.url("/api/integrations/jira-acme/rules/issue"))
        .bearer_auth(ADMIN)
        .json(&bad)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert!(r.text().await.unwrap().contains("/direction"));
    s.running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn github_connects_through_the_oauth_code_flow_with_pkce() {
    let s = service().await;
    let (status, started) = s
        .post(
            "/api/integrations/github/connect",
            &json!({"id": "github-oauth", "oauth": true}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{started}");
    let url = started["authorize_url"].as_str().unwrap();
    let challenge = url
        .split(['?', '&'])
        .find_map(|p| p.strip_prefix("code_challenge="))
        .unwrap();
    let state = started["state"].as_str().unwrap().to_owned();
    // The person consents at GitHub, which sends them back with a code.
    let code = s.sims.github.authorize(demo::DEMO_CLIENT_ID, challenge);
    let callback = |state: String| {
        let (http, url, code) = (
            s.http.clone(),
            s.url("/api/integrations/github/callback"),
            code.clone(),
        );
        async move {
            http.get(url)
                .query(&[("code", code.as_str()), ("state", state.as_str())])
                .send()
                .await
                .unwrap()
        }
    };
    assert_eq!(
        callback("forged".into()).await.status(),
        StatusCode::BAD_REQUEST
    );
    let back = callback(state.clone()).await;
    assert_eq!(back.status(), StatusCode::CREATED);
    let body = back.text().await.unwrap();
    assert!(
        !body.contains("gho_") && !body.contains("ghu_"),
        "no token: {body}"
    );
    assert_eq!(
        callback(state).await.status(),
        StatusCode::BAD_REQUEST,
        "a state is used once"
    );
    let (status, test) = s
        .post("/api/integrations/github-oauth/test", &json!({}))
        .await;
    assert_eq!(
        (status, test["ok"].as_bool()),
        (StatusCode::OK, Some(true)),
        "{test}"
    );
    let (_, list) = s.get("/api/integrations").await;
    assert!(
        list["connections"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["id"] == "github-oauth")
    );
    s.running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bqe_projects_are_matched_once_then_the_rest_imported() {
    let s = service().await;
    let (status, plan) = s
        .post("/api/integrations/bqe/bqe-acme/matches/suggest", &json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{plan}");
    let pairs = plan["pairs"].as_array().unwrap();
    assert_eq!(pairs.len(), 1, "{plan}");
    assert_eq!(pairs[0]["item"], "proj-billing");
    let project = pairs[0]["project"].as_str().unwrap().to_owned();
    let confirm = json!({"pairs": [{"item": "proj-billing", "project": project}]});
    let (status, done) = s
        .post("/api/integrations/bqe/bqe-acme/matches/confirm", &confirm)
        .await;
    assert_eq!(status, StatusCode::OK, "{done}");
    assert_eq!(done["matched"], 1);
    let (status, again) = s
        .post("/api/integrations/bqe/bqe-acme/matches/confirm", &confirm)
        .await;
    assert!(
        status == StatusCode::CONFLICT || again["skipped"] == 1,
        "{status} {again}"
    );
    assert_eq!(
        s.post(
            "/api/integrations/bqe/jira-acme/matches/suggest",
            &json!({})
        )
        .await
        .0,
        StatusCode::BAD_REQUEST
    );
    // The first sync imports BQE's other parent project, never the sub-project, and
    // the matched one stays the host's own.
    s.state
        .engine
        .pull(
            &devflow_sync_core::model::ConnectionId::new("bqe-acme"),
            &devflow_sync_core::model::ObjectType::new("project"),
            devflow_sync_core::engine::PullBudget::UNLIMITED,
        )
        .await
        .unwrap();
    let (_, history) = s
        .get("/api/integrations/sync/history?connection=bqe-acme&limit=100")
        .await;
    let imports = history["lines"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["operation"] == "import")
        .count();
    assert_eq!(imports, 1, "{history}");
    let (_, conflicts) = s.get("/api/integrations/conflicts?platform=bqe").await;
    assert!(
        conflicts["conflicts"].as_array().unwrap().is_empty(),
        "BQE imports, no conflicts"
    );
    s.running.stop().await;
}
