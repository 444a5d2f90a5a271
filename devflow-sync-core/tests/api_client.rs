//! The provider kit's API client against local mock servers: the auth schemes, one
//! refresh after a 401, a provider's own error codes, and page following.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;
use devflow_sync_core::api::{
    ApiClient, ApiRequest, AuthScheme, ErrorMapper, StaticToken, TokenSource,
};
use devflow_sync_core::auth::AccessToken;
use devflow_sync_core::http::HttpClient;
use devflow_sync_core::model::ConnectionId;
use devflow_sync_core::{Error, Result};
use mockito::Matcher;
use serde_json::Value;

/// Hands out `old`, and `new` after a refusal, counting refusals.
#[derive(Debug, Default)]
struct Rotating(AtomicUsize);

#[async_trait]
impl TokenSource for Rotating {
    async fn token(&self, _: &ConnectionId) -> Result<AccessToken> {
        Ok(AccessToken::new("old-token"))
    }
    async fn refused(&self, _: &ConnectionId, rejected: &AccessToken) -> Result<AccessToken> {
        assert_eq!(rejected.secret(), "old-token");
        self.0.fetch_add(1, Ordering::SeqCst);
        Ok(AccessToken::new("new-token"))
    }
}

fn api(server: &mockito::Server, tokens: Arc<dyn TokenSource>) -> ApiClient {
    ApiClient::new(
        HttpClient::builder().build().unwrap(),
        "jira",
        &server.url(),
        "jira.base_url",
        tokens,
    )
    .unwrap()
    .with_header("Accept", "application/json")
}

fn conn() -> ConnectionId {
    ConnectionId::new("c")
}

#[tokio::test]
async fn a_401_gets_one_fresh_token_and_one_more_try() {
    let mut server = mockito::Server::new_async().await;
    let refused = server
        .mock("GET", "/x")
        .match_header("authorization", "Bearer old-token")
        .with_status(401)
        .expect(1)
        .create_async()
        .await;
    let ok = server
        .mock("GET", "/x")
        .match_header("authorization", "Bearer new-token")
        .match_header("accept", "application/json")
        .with_body(r#"{"n":1}"#)
        .expect(1)
        .create_async()
        .await;
    let tokens = Arc::new(Rotating::default());
    let api = api(&server, tokens.clone());
    let v: Value = api
        .json(&conn(), &ApiRequest::get(api.url("/x")))
        .await
        .unwrap();
    assert_eq!(v["n"], 1);
    assert_eq!(tokens.0.load(Ordering::SeqCst), 1);
    refused.assert_async().await;
    ok.assert_async().await;

    // A second 401 after the fresh token is the answer; no third try.
    server.reset();
    let always = server
        .mock("GET", "/y")
        .with_status(401)
        .with_body(r#"{"message":"Bad credentials"}"#)
        .expect(2)
        .create_async()
        .await;
    let err = api
        .send(&conn(), &ApiRequest::get(api.url("/y")))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Unauthenticated(_)), "{err:?}");
    always.assert_async().await;
}

#[tokio::test]
async fn a_static_token_refused_keeps_the_providers_answer_and_basic_auth_is_encoded() {
    let mut server = mockito::Server::new_async().await;
    server
        .mock("GET", "/z")
        .with_status(401)
        .with_body(r#"{"errorMessages":["Client must be authenticated"]}"#)
        .expect(1)
        .create_async()
        .await;
    let api = api(
        &server,
        Arc::new(StaticToken::new(AccessToken::new("tok-1"))),
    );
    let err = api
        .send(&conn(), &ApiRequest::get(api.url("/z")))
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("Client must be authenticated"),
        "{err}"
    );

    // user:token, base64 (RFC 7617), as Atlassian API tokens are sent.
    let basic = server
        .mock("GET", "/me")
        .match_header("authorization", "Basic YW5uQGFjbWUudGVzdDp0b2stMQ==")
        .with_body("{}")
        .expect(1)
        .create_async()
        .await;
    let api = api.with_scheme(AuthScheme::Basic {
        user: "ann@acme.test".into(),
    });
    api.send(&conn(), &ApiRequest::get(api.url("/me")))
        .await
        .unwrap();
    basic.assert_async().await;
}

#[derive(Debug)]
struct Taken;

impl ErrorMapper for Taken {
    fn map(&self, status: u16, body: &[u8]) -> Option<Error> {
        (status == 409)
            .then(|| Error::AlreadyExists(format!("taken: {}", String::from_utf8_lossy(body))))
    }
}

#[tokio::test]
async fn a_providers_error_codes_are_its_own_and_carry_no_secret() {
    let mut server = mockito::Server::new_async().await;
    server
        .mock("POST", "/things")
        .match_header("content-type", "application/json")
        .match_body(Matcher::Json(serde_json::json!({"name": "a"})))
        .with_status(409)
        .with_body("name a exists (your token tok-SECRET-1 was used)")
        .create_async()
        .await;
    server
        .mock("GET", "/other")
        .with_status(404)
        .with_body(r#"{"message":"Not Found"}"#)
        .create_async()
        .await;
    let api = api(
        &server,
        Arc::new(StaticToken::new(AccessToken::new("tok-SECRET-1"))),
    )
    .with_errors(Arc::new(Taken));
    let request = ApiRequest::new(devflow_sync_core::http::Method::POST, api.url("/things"))
        .json(&serde_json::json!({"name": "a"}))
        .unwrap();
    let err = api.send(&conn(), &request).await.unwrap_err();
    assert!(matches!(err, Error::AlreadyExists(_)), "{err:?}");
    assert!(!err.to_string().contains("tok-SECRET-1"), "{err}");
    // What the mapper leaves keeps the common classification.
    let err = api
        .send(&conn(), &ApiRequest::get(api.url("/other")))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::NotFound(_)), "{err:?}");
}

fn link(response: &devflow_sync_core::http::HttpResponse) -> Option<String> {
    response.headers.get("x-next").map(str::to_owned)
}

#[tokio::test]
async fn every_page_follows_the_next_url_and_stops_a_circle() {
    let mut server = mockito::Server::new_async().await;
    let url = server.url();
    server
        .mock("GET", "/list")
        .match_query(Matcher::Missing)
        .with_header("x-next", &format!("{url}/list?page=2"))
        .with_body("[1,2]")
        .create_async()
        .await;
    server
        .mock("GET", "/list")
        .match_query(Matcher::UrlEncoded("page".into(), "2".into()))
        .with_body("[3]")
        .create_async()
        .await;
    server
        .mock("GET", "/circle")
        .with_header("x-next", &format!("{url}/circle"))
        .with_body("[9]")
        .create_async()
        .await;
    let api = api(&server, Arc::new(StaticToken::new(AccessToken::new("t"))));
    let all: Vec<u32> = api
        .every_page(&conn(), api.url("/list"), link)
        .await
        .unwrap();
    assert_eq!(all, [1, 2, 3]);
    let err = api
        .every_page::<u32>(&conn(), api.url("/circle"), link)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("circle"), "{err}");
    // A next page at another origin gets no token.
    let other = mockito::Server::new_async().await;
    server
        .mock("GET", "/away")
        .with_header("x-next", &format!("{}/steal", other.url()))
        .with_body("[1]")
        .create_async()
        .await;
    let err = api
        .every_page::<u32>(&conn(), api.url("/away"), link)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::PermissionDenied(_)), "{err:?}");
}
