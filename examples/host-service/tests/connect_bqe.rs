//! Connecting BQE CORE through the host's OAuth app: the code flow (the web app's secret
//! at the token endpoint, the API base from the token response's `endpoint`) and the
//! client-credentials grant (the host's app, or one typed into the form), against the
//! BQE simulator's identity server.

use devflow_sync_core::model::ConnectionId;
use host_service::demo::{BQE_CLIENT_ID, BQE_CLIENT_SECRET};
use reqwest::StatusCode;
use serde_json::{Value, json};

mod support;
use support::{Service, service};

impl Service {
    async fn callback(&self, provider: &str, code: &str, state: &str) -> (StatusCode, String) {
        let r = self
            .http
            .get(self.url(&format!("/api/integrations/{provider}/callback")))
            .query(&[("code", code), ("state", state)])
            .send()
            .await
            .unwrap();
        (r.status(), r.text().await.unwrap())
    }

    /// The connection answers its test and reads BQE's projects with its own token.
    async fn reads_projects(&self, id: &str) {
        let (status, test) = self
            .post(&format!("/api/integrations/{id}/test"), &json!({}))
            .await;
        assert_eq!(
            (status, &test["ok"]),
            (StatusCode::OK, &json!(true)),
            "{test}"
        );
        let (status, plan) = self
            .post(
                &format!("/api/integrations/bqe/{id}/matches/suggest"),
                &json!({}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{plan}");
        let seen = plan["pairs"].as_array().map_or(0, Vec::len)
            + plan["unmatched_projects"].as_array().map_or(0, Vec::len)
            + plan["ambiguous"].as_array().map_or(0, Vec::len);
        assert!(seen > 0, "BQE's projects were read: {plan}");
    }
}

fn no_secret(body: &str) {
    for secret in [
        "bqe-access-",
        "bqe-refresh-",
        BQE_CLIENT_SECRET,
        "typed-secret",
    ] {
        assert!(!body.contains(secret), "{secret} in {body}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bqe_connects_through_the_code_flow() {
    let s = service().await;
    let (status, started) = s
        .post(
            "/api/integrations/bqe/connect",
            &json!({"id": "bqe-oauth", "oauth": true}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{started}");
    let url = started["authorize_url"].as_str().unwrap();
    assert!(url.contains("/idp/connect/authorize?"), "{url}");
    assert!(url.contains(&format!("client_id={BQE_CLIENT_ID}")), "{url}");
    assert!(
        !url.contains("code_challenge"),
        "a web app proves itself with its secret: {url}"
    );
    let state = started["state"].as_str().unwrap().to_owned();
    // The person consents at BQE, which sends them back with a code.
    let code = s
        .sims
        .bqe
        .authorize(BQE_CLIENT_ID, &["read:core", "offline_access"], None);
    // A state shown at another provider's callback is spent: a second flow is started.
    assert_eq!(
        s.callback("github", &code, &state).await.0,
        StatusCode::BAD_REQUEST,
        "a BQE state is not GitHub's"
    );
    assert_eq!(
        s.callback("bqe", &code, &state).await.0,
        StatusCode::BAD_REQUEST
    );
    let (_, started) = s
        .post(
            "/api/integrations/bqe/connect",
            &json!({"id": "bqe-oauth", "oauth": true}),
        )
        .await;
    let state = started["state"].as_str().unwrap().to_owned();
    let (status, body) = s.callback("bqe", &code, &state).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    no_secret(&body);
    assert_eq!(
        s.callback("bqe", &code, &state).await.0,
        StatusCode::BAD_REQUEST,
        "a state is used once"
    );
    s.reads_projects("bqe-oauth").await;
    let stored = s
        .state
        .engine
        .tokens()
        .get(&ConnectionId::new("bqe-oauth"))
        .await
        .unwrap()
        .unwrap();
    assert!(stored.credentials.refresh_token.is_some(), "offline_access");
    let (_, list) = s.get("/api/integrations").await;
    assert!(
        list["connections"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["id"] == "bqe-oauth" && c["provider"] == "bqe")
    );
    no_secret(&list.to_string());
    s.running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bqe_connects_with_an_apps_own_credentials() {
    let s = service().await;
    // The host's app.
    let (status, body) = s
        .post(
            "/api/integrations/bqe/connect",
            &json!({"id": "bqe-app", "client_credentials": true}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    s.reads_projects("bqe-app").await;

    // An app typed into the form; a wrong secret is refused without being echoed.
    s.sims.bqe.register_app("typed-app", Some("typed-secret"));
    let form = |secret: &str| {
        json!({"id": "bqe-typed", "client_credentials": true,
               "client_id": "typed-app", "client_secret": secret})
    };
    let (status, body) = s
        .post("/api/integrations/bqe/connect", &form("typed-secret-wrong"))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    no_secret(&body.to_string());
    let (status, body) = s
        .post("/api/integrations/bqe/connect", &form("typed-secret"))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    s.reads_projects("bqe-typed").await;

    // Half an app, an app for a provider without the grant, and API tokens for BQE.
    for (path, body) in [
        (
            "/api/integrations/bqe/connect",
            json!({"id": "x", "client_credentials": true, "client_id": "typed-app"}),
        ),
        (
            "/api/integrations/github/connect",
            json!({"id": "x", "client_credentials": true}),
        ),
        (
            "/api/integrations/bqe/connect",
            json!({"id": "x", "api_token": "t"}),
        ),
    ] {
        let (status, answer): (StatusCode, Value) = s.post(path, &body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path} {body}: {answer}");
        assert!(
            answer["message"].as_str().is_some_and(|m| !m.is_empty()),
            "{answer}"
        );
    }
    s.running.stop().await;
}
