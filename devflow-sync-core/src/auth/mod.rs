//! Credentials and their protection: secret newtypes, the AES-256-GCM key ring that
//! encrypts tokens at rest, signed OAuth `state`, PKCE, the OAuth flows on the `oauth2`
//! crate driven through [`HttpClient`](crate::http::HttpClient), and the token
//! lifecycle ([`TokenManager`]).

mod crypto;
mod oauth;
mod oauth_http;
mod pkce;
mod secrets;
mod state;
mod tokens;

pub use crypto::{EncryptedTokenStore, KEYS_ENV, KeyRing, SealedAt};
pub use oauth::{
    AuthorizationStart, MAX_TOKEN_LIFETIME, OAuthConfig, OAuthFlow, ProviderTokenFields, TokenGrant,
};
pub use pkce::{PkceChallenge, PkceVerifier};
pub use secrets::{AccessToken, ApiToken, ClientSecret, RefreshToken, WebhookSecret};
pub use state::{OAuthState, StateSigner};
pub use tokens::{ClientCredentials, TokenManager, TokenRefresher};

use subtle::ConstantTimeEq;

/// Compares two byte strings in time that does not depend on where they differ.
pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && bool::from(a.ct_eq(b))
}

/// `n` random bytes from the operating system.
pub(crate) fn random_bytes<const N: usize>() -> crate::Result<[u8; N]> {
    let mut out = [0u8; N];
    getrandom::getrandom(&mut out)
        .map_err(|e| crate::Error::transient(format!("the system random source failed: {e}")))?;
    Ok(out)
}
