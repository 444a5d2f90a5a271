//! A connection made with an app's own credentials (the client-credentials grant) has no
//! refresh token: when its token runs out, the token manager asks for a new one by the
//! same grant instead of declaring the connection in need of a new authorization.

use std::sync::Arc;

use devflow_sync_core::Error;
use devflow_sync_core::auth::{
    AccessToken, ClientCredentials, ClientSecret, OAuthConfig, OAuthFlow, StateSigner, TokenManager,
};
use devflow_sync_core::clock::{Clock, ManualClock};
use devflow_sync_core::http::HttpClient;
use devflow_sync_core::model::{ConnectionId, ProviderKey};
use devflow_sync_core::store::memory::{MemoryJournal, MemoryTokens};
use devflow_sync_core::store::{Credentials, TokenStore};
use mockito::Matcher;
use secrecy::SecretString;

fn flow(server: &mockito::Server) -> Arc<OAuthFlow> {
    let mut config = OAuthConfig::new("bqe", "app-1", format!("{}/connect/token", server.url()));
    config.client_secret = Some(ClientSecret::new("app-secret"));
    config.scopes = vec!["read:core".into()];
    let signer = Arc::new(StateSigner::new(ClientSecret::new("state-key")));
    Arc::new(OAuthFlow::new(config, HttpClient::builder().build().unwrap(), signer).unwrap())
}

async fn store_expiring(clock: &ManualClock) -> (Arc<MemoryTokens>, ConnectionId) {
    let store = Arc::new(MemoryTokens::new());
    let conn = ConnectionId::new("bqe-app");
    let credentials = Credentials {
        access_token: SecretString::from("app-token-1".to_owned()),
        refresh_token: None,
        expires_at: Some(clock.now() + chrono::Duration::seconds(60)),
        scopes: vec![],
    };
    store
        .put(&conn, &ProviderKey::new("bqe"), &credentials, None)
        .await
        .unwrap();
    (store, conn)
}

#[tokio::test]
async fn an_expiring_app_token_is_granted_again() {
    let mut server = mockito::Server::new_async().await;
    let grant = server
        .mock("POST", "/connect/token")
        .match_body(Matcher::AllOf(vec![
            Matcher::UrlEncoded("grant_type".into(), "client_credentials".into()),
            Matcher::UrlEncoded("scope".into(), "read:core".into()),
        ]))
        .with_header("content-type", "application/json")
        .with_body(r#"{"access_token":"app-token-2","token_type":"Bearer","expires_in":3600}"#)
        .expect(1)
        .create_async()
        .await;
    let clock = ManualClock::starting_at_epoch_secs(1_780_000_000);
    let (store, conn) = store_expiring(&clock).await;
    let manager = TokenManager::new(store.clone(), Arc::new(MemoryJournal::new()))
        .refresher("bqe", Arc::new(ClientCredentials::new(flow(&server))))
        .clock(Arc::new(clock.clone()));
    assert_eq!(
        manager.access_token(&conn).await.unwrap(),
        AccessToken::new("app-token-2")
    );
    // Stored with its version moved on; a second call uses it without a request.
    assert_eq!(store.get(&conn).await.unwrap().unwrap().version, 2);
    assert_eq!(
        manager.access_token(&conn).await.unwrap(),
        AccessToken::new("app-token-2")
    );
    grant.assert_async().await;
}

#[tokio::test]
async fn a_refresh_token_refresher_still_asks_for_a_new_authorization() {
    let mut server = mockito::Server::new_async().await;
    let none = server
        .mock("POST", "/connect/token")
        .expect(0)
        .create_async()
        .await;
    let clock = ManualClock::starting_at_epoch_secs(1_780_000_000);
    let (store, conn) = store_expiring(&clock).await;
    let flow = flow(&server);
    let manager = TokenManager::new(store, Arc::new(MemoryJournal::new()))
        .refresher("bqe", flow)
        .clock(Arc::new(clock.clone()));
    let err = manager.access_token(&conn).await.unwrap_err();
    assert!(
        matches!(err, Error::NeedsReauth { .. }),
        "no refresh token, no client-credentials refresher: {err}"
    );
    none.assert_async().await;
}
