//! The site lookup against a mock of api.atlassian.com, on the recorded payload.

use devflow_sync_core::auth::AccessToken;
use devflow_sync_core::http::HttpClient;
use devflow_sync_core::model::ConnectionId;

#[tokio::test]
async fn atlassian_cloud_id_lookup_reads_the_recorded_shape() {
    let recorded = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/fixtures/confluence/rest-accessible-resources-and-delete-page.nango-recording.json"
    ));
    let body = match recorded {
        Ok(text) => {
            let v: serde_json::Value = serde_json::from_str(&text).unwrap();
            v["api"]["get"]["/oauth/token/accessible-resources"]["response"].to_string()
        }
        Err(_) => r#"[{"id":"07779958-e747-4285-ad18-0f5252a97bff","url":"https://nango-team-test.atlassian.net","name":"nango-team-test","scopes":[]}]"#.to_owned(),
    };
    let mut server = mockito::Server::new_async().await;
    server
        .mock("GET", "/oauth/token/accessible-resources")
        .match_header("authorization", "Bearer at-1")
        .with_header("content-type", "application/json")
        .with_body(body)
        .create_async()
        .await;
    let sites = devflow_atlassian::accessible_resources(
        &HttpClient::builder().build().unwrap(),
        &server.url(),
        &ConnectionId::new("c"),
        &AccessToken::new("at-1"),
    )
    .await
    .unwrap();
    assert_eq!(sites[0].id, "07779958-e747-4285-ad18-0f5252a97bff");
    assert_eq!(sites[0].url, "https://nango-team-test.atlassian.net");
}
