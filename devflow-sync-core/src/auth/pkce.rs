//! PKCE (RFC 7636) with the S256 method.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};

use crate::error::Result;

/// The code verifier: kept by the host between the redirect and the callback, used
/// once. Taking its value consumes it, so it cannot be sent twice.
pub struct PkceVerifier(SecretString);

impl fmt::Debug for PkceVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PkceVerifier([redacted])")
    }
}

/// The code challenge sent with the authorization request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PkceChallenge {
    /// `BASE64URL(SHA256(verifier))`.
    pub challenge: String,
    /// Always `S256`.
    pub method: &'static str,
}

impl PkceVerifier {
    /// A new random verifier (32 random bytes, 43 characters) and its challenge.
    ///
    /// ```
    /// use devflow_sync_core::auth::PkceVerifier;
    /// let (verifier, challenge) = PkceVerifier::generate().unwrap();
    /// assert_eq!(challenge.method, "S256");
    /// assert_eq!(PkceVerifier::challenge_of(verifier.secret()), challenge);
    /// assert_eq!(verifier.into_secret().len(), 43);
    /// ```
    pub fn generate() -> Result<(Self, PkceChallenge)> {
        let bytes: [u8; 32] = super::random_bytes()?;
        let verifier = URL_SAFE_NO_PAD.encode(bytes);
        let challenge = Self::challenge_of(&verifier);
        Ok((Self(SecretString::from(verifier)), challenge))
    }

    /// Restores a verifier kept between the redirect and the callback.
    pub fn from_secret(value: impl Into<String>) -> Self {
        Self(SecretString::from(value.into()))
    }

    /// The S256 challenge of a verifier.
    pub fn challenge_of(verifier: &str) -> PkceChallenge {
        PkceChallenge {
            challenge: URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes())),
            method: "S256",
        }
    }

    /// The verifier's value, to store it between the redirect and the callback.
    pub fn secret(&self) -> &str {
        self.0.expose_secret()
    }

    /// The value for the token request; the verifier is used up.
    pub fn into_secret(self) -> String {
        self.0.expose_secret().to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_7636_appendix_b_vector() {
        let c = PkceVerifier::challenge_of("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk");
        assert_eq!(c.challenge, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
    }

    #[test]
    fn verifiers_are_random_and_redacted() {
        let (a, _) = PkceVerifier::generate().unwrap();
        let (b, _) = PkceVerifier::generate().unwrap();
        assert_ne!(a.secret(), b.secret());
        assert!(
            a.secret()
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        );
        assert_eq!(format!("{a:?}"), "PkceVerifier([redacted])");
    }
}
