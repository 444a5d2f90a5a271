use devflow_sync_core::Error;
use devflow_sync_core::model::{ConnectionId, ProviderKey};
use devflow_sync_core::store::{Credentials, TokenStore};
use secrecy::{ExposeSecret, SecretString};

/// Credentials round-trip; writes are compare-and-swap on the version; a lost race is
/// a precondition failure and keeps the winner's tokens; deleting is idempotent.
pub async fn token_store(store: &dyn TokenStore) {
    let conn = ConnectionId::new("conformance-tokens");
    let provider = ProviderKey::new("jira");
    let _ = store.delete(&conn).await;
    assert!(
        store.get(&conn).await.expect("get").is_none(),
        "a new connection has no credentials"
    );

    let mut first = Credentials::bearer("access-1");
    first.refresh_token = Some(SecretString::from("refresh-1".to_owned()));
    let v1 = store
        .put(&conn, &provider, &first, None)
        .await
        .expect("first put");
    let stored = store.get(&conn).await.expect("get").expect("stored");
    assert_eq!(stored.version, v1);
    assert_eq!(stored.provider, provider);
    assert!(
        stored.credentials.same_secrets(&first),
        "credentials round-trip"
    );

    // A second writer that thinks nothing is stored loses.
    let err = store
        .put(&conn, &provider, &first, None)
        .await
        .expect_err("put over existing");
    assert!(
        matches!(err, Error::AlreadyExists(_) | Error::Precondition(_)),
        "{err:?}"
    );

    // Two refreshes race from the same version: one wins, the other is refused.
    let mut rotated = Credentials::bearer("access-2");
    rotated.refresh_token = Some(SecretString::from("refresh-2".to_owned()));
    let v2 = store
        .put(&conn, &provider, &rotated, Some(v1))
        .await
        .expect("cas put");
    assert!(v2 > v1, "versions grow");
    let loser = Credentials::bearer("access-3");
    let err = store
        .put(&conn, &provider, &loser, Some(v1))
        .await
        .expect_err("stale cas");
    assert!(matches!(err, Error::Precondition(_)), "{err:?}");
    let kept = store.get(&conn).await.expect("get").expect("stored");
    assert_eq!(
        kept.credentials
            .refresh_token
            .as_ref()
            .map(|s| s.expose_secret().to_owned()),
        Some("refresh-2".to_owned()),
        "the rotated refresh token survives the lost race"
    );
    assert!(
        !format!("{kept:?}").contains("refresh-2"),
        "Debug never shows a token"
    );

    store.delete(&conn).await.expect("delete");
    store.delete(&conn).await.expect("delete again");
    assert!(store.get(&conn).await.expect("get").is_none());
}
