//! Tokens at rest: an AES-256-GCM key ring and a token store wrapper that encrypts.

use std::fmt;
use std::sync::Arc;

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use async_trait::async_trait;
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use secrecy::{ExposeSecret, SecretString};

use crate::error::{Error, Result};
use crate::model::{ConnectionId, ProviderKey};
use crate::store::{Credentials, StoredToken, TokenStore};

/// The environment variable the key ring loads from: comma-separated `id:key` pairs,
/// each key 32 bytes in standard base64; the last pair is the newest and encrypts,
/// every pair decrypts. For example
/// `DEVFLOW_SYNC_TOKEN_KEYS=k2025:<base64>,k2026:<base64>`.
pub const KEYS_ENV: &str = "DEVFLOW_SYNC_TOKEN_KEYS";

const FORMAT: &str = "v1";

/// AES-256-GCM keys, each with an id. The newest encrypts; every key decrypts, so keys
/// rotate without re-encrypting everything at once. Ciphertexts are bound to associated
/// data (tenant, provider, connection): a row copied to another connection does not
/// decrypt.
///
/// ```
/// use devflow_sync_core::auth::KeyRing;
/// let ring = KeyRing::new().with_key("k1", [7u8; 32]);
/// let sealed = ring.encrypt(b"gho_token", "acme", "github", "conn-1").unwrap();
/// assert!(sealed.starts_with("v1.k1."));
/// assert_eq!(ring.decrypt(&sealed, "acme", "github", "conn-1").unwrap(), b"gho_token");
/// assert!(ring.decrypt(&sealed, "acme", "github", "conn-2").is_err());
/// ```
#[derive(Clone, Default)]
pub struct KeyRing {
    keys: Vec<(String, Aes256Gcm)>,
}

impl fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyRing")
            .field(
                "key_ids",
                &self.keys.iter().map(|(id, _)| id).collect::<Vec<_>>(),
            )
            .finish()
    }
}

fn aad(tenant: &str, provider: &str, connection: &str) -> Vec<u8> {
    // Lengths first, so no two different triples give the same bytes.
    let mut out = Vec::new();
    for part in [tenant, provider, connection] {
        out.extend_from_slice(&(part.len() as u64).to_be_bytes());
        out.extend_from_slice(part.as_bytes());
    }
    out
}

impl KeyRing {
    /// An empty key ring.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a key; the last added is the newest and encrypts.
    #[must_use]
    pub fn with_key(mut self, id: impl Into<String>, key: [u8; 32]) -> Self {
        let cipher = Aes256Gcm::new(&key.into());
        self.keys.push((id.into(), cipher));
        self
    }

    /// Parses the [`KEYS_ENV`] format. Errors name the entry and never show a key.
    pub fn parse(value: &str) -> Result<Self> {
        let mut ring = KeyRing::new();
        for (i, entry) in value
            .split(',')
            .map(str::trim)
            .filter(|e| !e.is_empty())
            .enumerate()
        {
            let pointer = format!("{KEYS_ENV}[{i}]");
            let (id, key) = entry.split_once(':').ok_or_else(|| Error::InvalidConfig {
                pointer: pointer.clone(),
                message: "expected `id:base64key`".into(),
            })?;
            let id = id.trim();
            if id.is_empty() || id.contains('.') {
                return Err(Error::InvalidConfig {
                    pointer,
                    message: "a key id must be non-empty and contain no '.'".into(),
                });
            }
            if ring.keys.iter().any(|(k, _)| k == id) {
                return Err(Error::InvalidConfig {
                    pointer,
                    message: format!("key id {id} appears twice"),
                });
            }
            let bytes = STANDARD
                .decode(key.trim())
                .map_err(|_| Error::InvalidConfig {
                    pointer: pointer.clone(),
                    message: format!("key {id} is not valid base64"),
                })?;
            let key: [u8; 32] = bytes
                .as_slice()
                .try_into()
                .map_err(|_| Error::InvalidConfig {
                    pointer: pointer.clone(),
                    message: format!("key {id} is {} bytes; AES-256 needs 32", bytes.len()),
                })?;
            ring = ring.with_key(id, key);
        }
        if ring.keys.is_empty() {
            return Err(Error::InvalidConfig {
                pointer: KEYS_ENV.into(),
                message: "no key is given".into(),
            });
        }
        Ok(ring)
    }

    /// The key ring from [`KEYS_ENV`], `None` when it is not set.
    pub fn from_env() -> Result<Option<Self>> {
        match std::env::var(KEYS_ENV) {
            Ok(value) => Self::parse(&value).map(Some),
            Err(std::env::VarError::NotPresent) => Ok(None),
            Err(std::env::VarError::NotUnicode(_)) => Err(Error::InvalidConfig {
                pointer: KEYS_ENV.into(),
                message: "is not valid UTF-8".into(),
            }),
        }
    }

    /// The key ring from [`KEYS_ENV`]; a clear error when encryption is required and no
    /// key is set.
    pub fn require_from_env() -> Result<Self> {
        Self::required(std::env::var(KEYS_ENV).ok().as_deref())
    }

    /// The key ring from the value of [`KEYS_ENV`], which must be set.
    pub fn required(value: Option<&str>) -> Result<Self> {
        match value {
            Some(value) => Self::parse(value),
            None => Err(Error::InvalidConfig {
                pointer: KEYS_ENV.into(),
                message: format!(
                    "token encryption is required but {KEYS_ENV} is not set; set it to `id:<32 bytes in base64>`"
                ),
            }),
        }
    }

    /// The id of the key that encrypts.
    pub fn current_key_id(&self) -> Option<&str> {
        self.keys.last().map(|(id, _)| id.as_str())
    }

    /// The id of the key a ciphertext was made with.
    pub fn key_id_of(ciphertext: &str) -> Option<&str> {
        let mut parts = ciphertext.splitn(3, '.');
        (parts.next() == Some(FORMAT))
            .then(|| parts.next())
            .flatten()
    }

    /// Encrypts with the newest key, bound to (tenant, provider, connection).
    pub fn encrypt(
        &self,
        plaintext: &[u8],
        tenant: &str,
        provider: &str,
        connection: &str,
    ) -> Result<String> {
        let (id, cipher) = self.keys.last().ok_or_else(|| Error::InvalidConfig {
            pointer: KEYS_ENV.into(),
            message: "the key ring has no key".into(),
        })?;
        let nonce_bytes: [u8; 12] = super::random_bytes()?;
        let nonce = Nonce::from_slice(&nonce_bytes);
        let aad = aad(tenant, provider, connection);
        let sealed = cipher
            .encrypt(
                nonce,
                Payload {
                    msg: plaintext,
                    aad: &aad,
                },
            )
            .map_err(|_| Error::transient("encryption failed"))?;
        let mut blob = nonce_bytes.to_vec();
        blob.extend_from_slice(&sealed);
        Ok(format!("{FORMAT}.{id}.{}", URL_SAFE_NO_PAD.encode(blob)))
    }

    /// Decrypts with the key named in the ciphertext.
    pub fn decrypt(
        &self,
        ciphertext: &str,
        tenant: &str,
        provider: &str,
        connection: &str,
    ) -> Result<Vec<u8>> {
        let bad = |message: String| Error::InvalidInput {
            pointer: Some(format!("credentials of {provider}/{connection}")),
            message,
        };
        let mut parts = ciphertext.splitn(3, '.');
        let (Some(FORMAT), Some(id), Some(blob)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(bad(
                "not a devflow-sync ciphertext (expected v1.<key id>.<data>)".into(),
            ));
        };
        let (_, cipher) = self.keys.iter().find(|(k, _)| k == id).ok_or_else(|| {
            bad(format!(
                "encrypted with key {id}, which is not in the key ring"
            ))
        })?;
        let blob = URL_SAFE_NO_PAD
            .decode(blob)
            .map_err(|_| bad("the ciphertext is not valid base64".into()))?;
        if blob.len() < 12 + 16 {
            return Err(bad("the ciphertext is too short".into()));
        }
        let (nonce, sealed) = blob.split_at(12);
        let aad = aad(tenant, provider, connection);
        cipher
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: sealed,
                    aad: &aad,
                },
            )
            .map_err(|_| {
                bad(format!(
                    "does not decrypt with key {id} for this tenant, provider and connection"
                ))
            })
    }

    /// Decrypts and encrypts again with the newest key (key rotation).
    pub fn re_encrypt(
        &self,
        ciphertext: &str,
        tenant: &str,
        provider: &str,
        connection: &str,
    ) -> Result<String> {
        let plain = self.decrypt(ciphertext, tenant, provider, connection)?;
        self.encrypt(&plain, tenant, provider, connection)
    }
}

/// A [`TokenStore`] that keeps tokens encrypted in the store it wraps. The
/// compare-and-swap versions are the inner store's.
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// use std::sync::Arc;
/// use devflow_sync_core::auth::{EncryptedTokenStore, KeyRing};
/// use devflow_sync_core::model::{ConnectionId, ProviderKey};
/// use devflow_sync_core::store::memory::MemoryTokens;
/// use devflow_sync_core::store::{Credentials, TokenStore};
///
/// let inner = Arc::new(MemoryTokens::new());
/// let store = EncryptedTokenStore::new(inner.clone(), KeyRing::new().with_key("k1", [1; 32]), "acme");
/// let conn = ConnectionId::new("c1");
/// store.put(&conn, &ProviderKey::new("jira"), &Credentials::bearer("secret-token"), None).await.unwrap();
/// let raw = inner.get(&conn).await.unwrap().unwrap();
/// assert!(raw.credentials.access_token_is_sealed());
/// let back = store.get(&conn).await.unwrap().unwrap();
/// assert!(back.credentials.same_secrets(&Credentials::bearer("secret-token")));
/// # });
/// ```
#[derive(Debug)]
pub struct EncryptedTokenStore<S> {
    inner: S,
    ring: Arc<KeyRing>,
    tenant: String,
}

impl<S: TokenStore> EncryptedTokenStore<S> {
    /// Wraps `inner`, binding ciphertexts to `tenant`.
    pub fn new(inner: S, ring: KeyRing, tenant: impl Into<String>) -> Self {
        Self {
            inner,
            ring: Arc::new(ring),
            tenant: tenant.into(),
        }
    }

    fn seal(
        &self,
        provider: &ProviderKey,
        connection: &ConnectionId,
        secret: &SecretString,
    ) -> Result<SecretString> {
        self.ring
            .encrypt(
                secret.expose_secret().as_bytes(),
                &self.tenant,
                provider.as_str(),
                connection.as_str(),
            )
            .map(SecretString::from)
    }

    fn open(
        &self,
        provider: &ProviderKey,
        connection: &ConnectionId,
        sealed: &SecretString,
    ) -> Result<SecretString> {
        let plain = self.ring.decrypt(
            sealed.expose_secret(),
            &self.tenant,
            provider.as_str(),
            connection.as_str(),
        )?;
        String::from_utf8(plain)
            .map(SecretString::from)
            .map_err(|_| {
                Error::invalid_input(
                    format!("credentials of {provider}/{connection}"),
                    "a decrypted token is not UTF-8",
                )
            })
    }

    /// Re-encrypts a connection's credentials with the newest key. Returns whether
    /// anything was rewritten (false when nothing is stored or it already uses the
    /// newest key).
    pub async fn rotate(&self, connection: &ConnectionId) -> Result<bool> {
        let Some(stored) = self.inner.get(connection).await? else {
            return Ok(false);
        };
        let current = self.ring.current_key_id();
        if KeyRing::key_id_of(stored.credentials.access_token.expose_secret()) == current {
            return Ok(false);
        }
        let plain = self.decode(stored.clone())?;
        self.put(
            connection,
            &stored.provider,
            &plain.credentials,
            Some(stored.version),
        )
        .await?;
        Ok(true)
    }

    fn decode(&self, mut stored: StoredToken) -> Result<StoredToken> {
        let (p, c) = (stored.provider.clone(), stored.connection.clone());
        stored.credentials.access_token = self.open(&p, &c, &stored.credentials.access_token)?;
        if let Some(refresh) = &stored.credentials.refresh_token {
            stored.credentials.refresh_token = Some(self.open(&p, &c, refresh)?);
        }
        Ok(stored)
    }
}

#[async_trait]
impl<S: TokenStore> TokenStore for EncryptedTokenStore<S> {
    async fn get(&self, connection: &ConnectionId) -> Result<Option<StoredToken>> {
        match self.inner.get(connection).await? {
            Some(stored) => self.decode(stored).map(Some),
            None => Ok(None),
        }
    }

    async fn put(
        &self,
        connection: &ConnectionId,
        provider: &ProviderKey,
        credentials: &Credentials,
        expected: Option<u64>,
    ) -> Result<u64> {
        let mut sealed = credentials.clone();
        sealed.access_token = self.seal(provider, connection, &credentials.access_token)?;
        if let Some(refresh) = &credentials.refresh_token {
            sealed.refresh_token = Some(self.seal(provider, connection, refresh)?);
        }
        self.inner
            .put(connection, provider, &sealed, expected)
            .await
    }

    async fn delete(&self, connection: &ConnectionId) -> Result<()> {
        self.inner.delete(connection).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::memory::MemoryTokens;

    const PLAIN: &str = "ghu_16C7e42F292c6912E7710c838347Ae178B4a";

    #[test]
    fn round_trip_and_binding_to_tenant_provider_connection() {
        let ring = KeyRing::new().with_key("k1", [3; 32]);
        let sealed = ring
            .encrypt(PLAIN.as_bytes(), "acme", "github", "c1")
            .unwrap();
        assert!(!sealed.contains(PLAIN));
        assert_eq!(
            ring.decrypt(&sealed, "acme", "github", "c1").unwrap(),
            PLAIN.as_bytes()
        );
        for (t, p, c) in [
            ("other", "github", "c1"),
            ("acme", "jira", "c1"),
            ("acme", "github", "c2"),
        ] {
            assert!(
                ring.decrypt(&sealed, t, p, c).is_err(),
                "{t}/{p}/{c} must not decrypt"
            );
        }
        let wrong = KeyRing::new().with_key("k1", [4; 32]);
        let err = wrong.decrypt(&sealed, "acme", "github", "c1").unwrap_err();
        assert!(
            err.to_string().contains("does not decrypt with key k1"),
            "{err}"
        );
        let unknown = KeyRing::new().with_key("k9", [3; 32]);
        assert!(
            unknown
                .decrypt(&sealed, "acme", "github", "c1")
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
                "acme",
                "github",
                "c1"
            )
            .is_err()
        );
        // Two encryptions of one token differ (fresh nonce).
        assert_ne!(
            sealed,
            ring.encrypt(PLAIN.as_bytes(), "acme", "github", "c1")
                .unwrap()
        );
    }

    #[test]
    fn rotation_keeps_old_ciphertexts_readable_and_writes_with_the_new_key() {
        let old = KeyRing::new().with_key("k2025", [5; 32]);
        let sealed = old.encrypt(b"t", "a", "p", "c").unwrap();
        let both = old.with_key("k2026", [6; 32]);
        assert_eq!(both.current_key_id(), Some("k2026"));
        assert_eq!(both.decrypt(&sealed, "a", "p", "c").unwrap(), b"t");
        let again = both.re_encrypt(&sealed, "a", "p", "c").unwrap();
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
            KeyRing::new().with_key("k1", [9; 32]),
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
                .with_key("k2", [10; 32]),
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
}
