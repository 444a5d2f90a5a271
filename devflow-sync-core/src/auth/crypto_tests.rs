//! Tests of the key ring and the encrypted token store.

use super::*;
use crate::store::memory::MemoryTokens;

const PLAIN: &str = "ghu_16C7e42F292c6912E7710c838347Ae178B4a";

#[test]
fn round_trip_and_binding_to_tenant_provider_connection() {
    let ring = KeyRing::new().with_key("k1", [3; 32]).unwrap();
    let sealed = ring
        .encrypt(
            PLAIN.as_bytes(),
            &SealedAt::new("acme", "github", "c1", "access_token"),
        )
        .unwrap();
    assert!(!sealed.contains(PLAIN));
    assert_eq!(
        ring.decrypt(
            &sealed,
            &SealedAt::new("acme", "github", "c1", "access_token")
        )
        .unwrap(),
        PLAIN.as_bytes()
    );
    for (t, p, c) in [
        ("other", "github", "c1"),
        ("acme", "jira", "c1"),
        ("acme", "github", "c2"),
    ] {
        assert!(
            ring.decrypt(&sealed, &SealedAt::new(t, p, c, "access_token"))
                .is_err(),
            "{t}/{p}/{c} must not decrypt"
        );
    }
    let wrong = KeyRing::new().with_key("k1", [4; 32]).unwrap();
    let err = wrong
        .decrypt(
            &sealed,
            &SealedAt::new("acme", "github", "c1", "access_token"),
        )
        .unwrap_err();
    assert!(
        err.to_string().contains("does not decrypt with key k1"),
        "{err}"
    );
    let unknown = KeyRing::new().with_key("k9", [3; 32]).unwrap();
    assert!(
        unknown
            .decrypt(
                &sealed,
                &SealedAt::new("acme", "github", "c1", "access_token")
            )
            .unwrap_err()
            .to_string()
            .contains("not in the key ring")
    );
    // A flipped bit is caught by the tag.
    let mut tampered = sealed.clone().into_bytes();
    let last = tampered.len() - 3;
    tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
    assert!(
        ring.decrypt(
            std::str::from_utf8(&tampered).unwrap(),
            &SealedAt::new("acme", "github", "c1", "access_token")
        )
        .is_err()
    );
    // Two encryptions of one token differ (fresh nonce).
    assert_ne!(
        sealed,
        ring.encrypt(
            PLAIN.as_bytes(),
            &SealedAt::new("acme", "github", "c1", "access_token")
        )
        .unwrap()
    );
}

#[test]
fn rotation_keeps_old_ciphertexts_readable_and_writes_with_the_new_key() {
    let old = KeyRing::new().with_key("k2025", [5; 32]).unwrap();
    let sealed = old
        .encrypt(b"t", &SealedAt::new("a", "p", "c", "access_token"))
        .unwrap();
    let both = old.with_key("k2026", [6; 32]).unwrap();
    assert_eq!(both.current_key_id(), Some("k2026"));
    assert_eq!(
        both.decrypt(&sealed, &SealedAt::new("a", "p", "c", "access_token"))
            .unwrap(),
        b"t"
    );
    let again = both
        .re_encrypt(&sealed, &SealedAt::new("a", "p", "c", "access_token"))
        .unwrap();
    assert_eq!(KeyRing::key_id_of(&again), Some("k2026"));
    assert_eq!(KeyRing::key_id_of(&sealed), Some("k2025"));
}

#[test]
fn key_ring_from_the_environment_format() {
    use base64::engine::general_purpose::STANDARD;
    let k1 = STANDARD.encode([1u8; 32]);
    let k2 = STANDARD.encode([2u8; 32]);
    let ring = KeyRing::parse(&format!("old:{k1}, new:{k2}")).unwrap();
    assert_eq!(ring.current_key_id(), Some("new"));
    assert_eq!(
        format!("{ring:?}"),
        r#"KeyRing { key_ids: ["old", "new"] }"#
    );
    let short = STANDARD.encode([1u8; 16]);
    let err = KeyRing::parse(&format!("a:{k1},b:{short}")).unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid config at DEVFLOW_SYNC_TOKEN_KEYS[1]: key b is 16 bytes; AES-256 needs 32"
    );
    assert!(!err.to_string().contains(&short));
    assert!(KeyRing::parse("nokey").is_err());
    assert!(KeyRing::parse(&format!("a:{k1},a:{k2}")).is_err());
    assert!(KeyRing::parse("").is_err());
    let err = KeyRing::required(None).unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid config at DEVFLOW_SYNC_TOKEN_KEYS: token encryption is required but DEVFLOW_SYNC_TOKEN_KEYS is not set; set it to `id:<32 bytes in base64>`"
    );
    assert_eq!(
        KeyRing::required(Some(&format!("a:{k1}")))
            .unwrap()
            .current_key_id(),
        Some("a")
    );
    let err = KeyRing::parse("a:***").unwrap_err();
    assert!(err.to_string().contains("not valid base64"));
}

#[tokio::test]
async fn the_store_never_holds_the_plaintext_and_rotates() {
    let inner = Arc::new(MemoryTokens::new());
    let conn = ConnectionId::new("c1");
    let provider = ProviderKey::new("github");
    let mut creds = Credentials::bearer(PLAIN);
    creds.refresh_token = Some(SecretString::from("ghr_refresh_plaintext".to_owned()));
    let store = EncryptedTokenStore::new(
        inner.clone(),
        KeyRing::new().with_key("k1", [9; 32]).unwrap(),
        "acme",
    );
    let v = store.put(&conn, &provider, &creds, None).await.unwrap();
    let raw = inner.get(&conn).await.unwrap().unwrap();
    let raw_access = raw.credentials.access_token.expose_secret().to_owned();
    let raw_refresh = raw
        .credentials
        .refresh_token
        .as_ref()
        .unwrap()
        .expose_secret()
        .to_owned();
    assert!(!raw_access.contains(PLAIN) && !raw_refresh.contains("ghr_refresh_plaintext"));
    assert!(raw.credentials.access_token_is_sealed());
    let back = store.get(&conn).await.unwrap().unwrap();
    assert!(back.credentials.same_secrets(&creds));
    // A row copied to another connection does not decrypt there.
    inner
        .put(&ConnectionId::new("c2"), &provider, &raw.credentials, None)
        .await
        .unwrap();
    assert!(store.get(&ConnectionId::new("c2")).await.is_err());
    // Rotation: a new key is added; the stored row moves to it.
    let rotated = EncryptedTokenStore::new(
        inner.clone(),
        KeyRing::new()
            .with_key("k1", [9; 32])
            .unwrap()
            .with_key("k2", [10; 32])
            .unwrap(),
        "acme",
    );
    assert!(rotated.rotate(&conn).await.unwrap());
    assert!(
        !rotated.rotate(&conn).await.unwrap(),
        "already on the newest key"
    );
    let raw = inner.get(&conn).await.unwrap().unwrap();
    assert_eq!(
        KeyRing::key_id_of(raw.credentials.access_token.expose_secret()),
        Some("k2")
    );
    assert!(raw.version > v);
    assert!(
        rotated
            .get(&conn)
            .await
            .unwrap()
            .unwrap()
            .credentials
            .same_secrets(&creds)
    );
    // The old ring alone can no longer read it.
    assert!(store.get(&conn).await.is_err());
}

#[test]
fn key_ids_are_checked_the_same_way_everywhere() {
    use base64::engine::general_purpose::STANDARD;
    for bad in ["", "k.1", "a b", "k:1", "é", &"k".repeat(65)] {
        let err = KeyRing::new().with_key(bad, [1; 32]).unwrap_err();
        assert!(matches!(err, Error::InvalidConfig { .. }), "{bad:?}: {err}");
        if !bad.is_empty() && !bad.contains(':') && !bad.contains(' ') {
            let env = format!("{bad}:{}", STANDARD.encode([1u8; 32]));
            assert!(
                KeyRing::parse(&env).is_err(),
                "{bad:?} parsed from the environment"
            );
        }
    }
    let ring = KeyRing::new().with_key("k-2026_a", [1; 32]).unwrap();
    let at = SealedAt::new("t", "p", "c", "access_token");
    let sealed = ring.encrypt(b"x", &at).unwrap();
    assert_eq!(ring.decrypt(&sealed, &at).unwrap(), b"x");
    assert!(ring.with_key("k-2026_a", [2; 32]).is_err(), "a repeated id");
}

#[tokio::test]
async fn access_and_refresh_ciphertexts_of_one_row_cannot_be_swapped() {
    let inner = Arc::new(MemoryTokens::new());
    let conn = ConnectionId::new("c1");
    let provider = ProviderKey::new("github");
    let store = EncryptedTokenStore::new(
        inner.clone(),
        KeyRing::new().with_key("k1", [9; 32]).unwrap(),
        "acme",
    );
    let mut creds = Credentials::bearer("at-plaintext-1");
    creds.refresh_token = Some(SecretString::from("rt-plaintext-2".to_owned()));
    store.put(&conn, &provider, &creds, None).await.unwrap();
    let raw = inner.get(&conn).await.unwrap().unwrap();
    let mut swapped = raw.credentials.clone();
    swapped.access_token = raw.credentials.refresh_token.clone().unwrap();
    swapped.refresh_token = Some(raw.credentials.access_token.clone());
    inner
        .put(&conn, &provider, &swapped, Some(raw.version))
        .await
        .unwrap();
    let err = store.get(&conn).await.unwrap_err();
    assert!(err.to_string().contains("access_token"), "{err}");
}

/// A store that answers every read with the row of another connection.
#[derive(Debug)]
struct Misfiling(Arc<MemoryTokens>, ConnectionId);

#[async_trait]
impl TokenStore for Misfiling {
    async fn get(&self, _connection: &ConnectionId) -> Result<Option<StoredToken>> {
        self.0.get(&self.1).await
    }
    async fn put(
        &self,
        connection: &ConnectionId,
        provider: &ProviderKey,
        credentials: &Credentials,
        expected: Option<u64>,
    ) -> Result<u64> {
        self.0
            .put(connection, provider, credentials, expected)
            .await
    }
    async fn delete(&self, connection: &ConnectionId) -> Result<()> {
        self.0.delete(connection).await
    }
}

#[tokio::test]
async fn the_encrypted_store_opens_rows_for_the_connection_asked_for() {
    let memory = Arc::new(MemoryTokens::new());
    let victim = ConnectionId::new("victim");
    let ring = KeyRing::new().with_key("k1", [9; 32]).unwrap();
    let honest = EncryptedTokenStore::new(memory.clone(), ring.clone(), "acme");
    honest
        .put(
            &victim,
            &ProviderKey::new("github"),
            &Credentials::bearer("victim-token"),
            None,
        )
        .await
        .unwrap();
    // An inner store that hands back the victim's row (its `connection` says victim)
    // when asked for the attacker's connection: it must not decrypt.
    let lying = EncryptedTokenStore::new(Misfiling(memory, victim.clone()), ring, "acme");
    let err = lying.get(&ConnectionId::new("attacker")).await.unwrap_err();
    assert!(err.to_string().contains("attacker"), "{err}");
    assert!(!err.to_string().contains("victim-token"));
}
