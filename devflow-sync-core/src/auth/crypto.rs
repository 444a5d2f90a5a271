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

/// The field names bound into the ciphertexts of a token row.
const ACCESS: &str = "access_token";
const REFRESH: &str = "refresh_token";

/// AES-256-GCM keys, each with an id. The newest encrypts; every key decrypts, so keys
/// rotate without re-encrypting everything at once. Ciphertexts are bound to associated
/// data (tenant, provider, connection and field): a row copied to another connection,
/// or an access token swapped with the refresh token of its row, does not decrypt.
///
/// ```
/// use devflow_sync_core::auth::{KeyRing, SealedAt};
/// let ring = KeyRing::new().with_key("k1", [7u8; 32]).unwrap();
/// let at = SealedAt::new("acme", "github", "conn-1", "access_token");
/// let sealed = ring.encrypt(b"gho_token", &at).unwrap();
/// assert!(sealed.starts_with("v1.k1."));
/// assert_eq!(ring.decrypt(&sealed, &at).unwrap(), b"gho_token");
/// assert!(ring.decrypt(&sealed, &SealedAt { connection: "conn-2", ..at }).is_err());
/// assert!(ring.decrypt(&sealed, &SealedAt { field: "refresh_token", ..at }).is_err());
/// // Key ids are checked the same way everywhere.
/// assert!(KeyRing::new().with_key("k.1", [7u8; 32]).is_err());
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

/// Where a ciphertext belongs: it decrypts only at the same place.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SealedAt<'a> {
    /// The tenant.
    pub tenant: &'a str,
    /// The provider.
    pub provider: &'a str,
    /// The connection.
    pub connection: &'a str,
    /// The field of the row (`access_token`, `refresh_token`).
    pub field: &'a str,
}

impl<'a> SealedAt<'a> {
    /// A place.
    pub fn new(tenant: &'a str, provider: &'a str, connection: &'a str, field: &'a str) -> Self {
        Self {
            tenant,
            provider,
            connection,
            field,
        }
    }

    fn aad(&self) -> Vec<u8> {
        // Lengths first, so no two different places give the same bytes.
        let mut out = Vec::new();
        for part in [self.tenant, self.provider, self.connection, self.field] {
            out.extend_from_slice(&(part.len() as u64).to_be_bytes());
            out.extend_from_slice(part.as_bytes());
        }
        out
    }
}

/// A key id is 1 to 64 ASCII letters, digits, `-` or `_`: it is written into every
/// ciphertext between `.` separators, so anything else could never be read back.
fn check_key_id(id: &str, pointer: &str) -> Result<()> {
    let ok = !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(Error::InvalidConfig {
            pointer: pointer.to_owned(),
            message: format!("key id {id:?} must be 1 to 64 ASCII letters, digits, '-' or '_'"),
        })
    }
}

impl KeyRing {
    /// An empty key ring.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a key; the last added is the newest and encrypts. [`Error::InvalidConfig`]
    /// for a malformed key id (see [`KeyRing::parse`]) or one already in the ring.
    pub fn with_key(mut self, id: impl Into<String>, key: [u8; 32]) -> Result<Self> {
        let id = id.into();
        check_key_id(&id, "key_ring.key_id")?;
        if self.keys.iter().any(|(k, _)| *k == id) {
            return Err(Error::InvalidConfig {
                pointer: "key_ring.key_id".into(),
                message: format!("key id {id} appears twice"),
            });
        }
        let cipher = Aes256Gcm::new(&key.into());
        self.keys.push((id, cipher));
        Ok(self)
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
            check_key_id(id, &pointer)?;
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
            ring = ring.with_key(id, key)?;
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

    /// Encrypts with the newest key, bound to its place.
    pub fn encrypt(&self, plaintext: &[u8], at: &SealedAt<'_>) -> Result<String> {
        let (id, cipher) = self.keys.last().ok_or_else(|| Error::InvalidConfig {
            pointer: KEYS_ENV.into(),
            message: "the key ring has no key".into(),
        })?;
        let nonce_bytes: [u8; 12] = super::random_bytes()?;
        let nonce = Nonce::from_slice(&nonce_bytes);
        let aad = at.aad();
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

    /// Decrypts with the key named in the ciphertext, at the place it was sealed.
    pub fn decrypt(&self, ciphertext: &str, at: &SealedAt<'_>) -> Result<Vec<u8>> {
        let bad = |message: String| Error::InvalidInput {
            pointer: Some(format!(
                "credentials of {}/{} ({})",
                at.provider, at.connection, at.field
            )),
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
        let aad = at.aad();
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
                    "does not decrypt with key {id} for this tenant, provider, connection and field"
                ))
            })
    }

    /// Decrypts and encrypts again with the newest key (key rotation).
    pub fn re_encrypt(&self, ciphertext: &str, at: &SealedAt<'_>) -> Result<String> {
        let plain = self.decrypt(ciphertext, at)?;
        self.encrypt(&plain, at)
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
/// let store = EncryptedTokenStore::new(inner.clone(), KeyRing::new().with_key("k1", [1; 32]).unwrap(), "acme");
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

    fn at<'a>(
        &'a self,
        provider: &'a ProviderKey,
        connection: &'a ConnectionId,
        field: &'a str,
    ) -> SealedAt<'a> {
        SealedAt::new(&self.tenant, provider.as_str(), connection.as_str(), field)
    }

    fn seal(
        &self,
        provider: &ProviderKey,
        connection: &ConnectionId,
        field: &str,
        secret: &SecretString,
    ) -> Result<SecretString> {
        self.ring
            .encrypt(
                secret.expose_secret().as_bytes(),
                &self.at(provider, connection, field),
            )
            .map(SecretString::from)
    }

    fn open(
        &self,
        provider: &ProviderKey,
        connection: &ConnectionId,
        field: &str,
        sealed: &SecretString,
    ) -> Result<SecretString> {
        let plain = self.ring.decrypt(
            sealed.expose_secret(),
            &self.at(provider, connection, field),
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
        let plain = self.decode(connection, stored.clone())?;
        self.put(
            connection,
            &stored.provider,
            &plain.credentials,
            Some(stored.version),
        )
        .await?;
        Ok(true)
    }

    /// Opens a row read for `asked`: the ciphertexts must belong to that connection,
    /// whatever connection the row itself names.
    fn decode(&self, asked: &ConnectionId, mut stored: StoredToken) -> Result<StoredToken> {
        let p = stored.provider.clone();
        stored.credentials.access_token =
            self.open(&p, asked, ACCESS, &stored.credentials.access_token)?;
        if let Some(refresh) = &stored.credentials.refresh_token {
            stored.credentials.refresh_token = Some(self.open(&p, asked, REFRESH, refresh)?);
        }
        stored.connection = asked.clone();
        Ok(stored)
    }
}

#[async_trait]
impl<S: TokenStore> TokenStore for EncryptedTokenStore<S> {
    async fn get(&self, connection: &ConnectionId) -> Result<Option<StoredToken>> {
        match self.inner.get(connection).await? {
            Some(stored) => self.decode(connection, stored).map(Some),
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
        sealed.access_token = self.seal(provider, connection, ACCESS, &credentials.access_token)?;
        if let Some(refresh) = &credentials.refresh_token {
            sealed.refresh_token = Some(self.seal(provider, connection, REFRESH, refresh)?);
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
#[path = "crypto_tests.rs"]
mod tests;
