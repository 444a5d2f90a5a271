//! Webhook verification: HMAC-SHA256 over the raw body, compared in constant time,
//! with several secrets active at once for rotation; a weaker shared-token scheme for
//! providers that sign nothing; a body size limit; the delivery id for deduplication.

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::auth::WebhookSecret;
use crate::error::{Error, Result};
use crate::provider::Headers;

type HmacSha256 = Hmac<Sha256>;

/// How a provider signs its deliveries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SignatureScheme {
    /// `header: <prefix><hex HMAC-SHA256(secret, raw body)>`.
    HmacSha256 {
        /// The header carrying the signature.
        header: String,
        /// What comes before the hex digest (`sha256=`).
        prefix: String,
    },
    /// The header carries the secret itself, compared in constant time. Weaker than a
    /// signature: it does not bind the body, and anyone who sees one delivery can send
    /// others. Only for providers that sign nothing; keep the URL private and use TLS.
    SharedToken {
        /// The header carrying the token.
        header: String,
    },
}

impl SignatureScheme {
    /// `header: <prefix><hex HMAC-SHA256(secret, raw body)>` (GitHub:
    /// `X-Hub-Signature-256` and `sha256=`; Jira admin webhooks: `X-Hub-Signature` and
    /// `sha256=`). Each provider crate names its own.
    pub fn hmac_sha256(header: impl Into<String>, prefix: impl Into<String>) -> Self {
        SignatureScheme::HmacSha256 {
            header: header.into(),
            prefix: prefix.into(),
        }
    }

    /// A shared token in `header`.
    pub fn shared_token(header: impl Into<String>) -> Self {
        SignatureScheme::SharedToken {
            header: header.into(),
        }
    }

    /// The header carrying the signature or the shared token.
    pub fn header(&self) -> &str {
        match self {
            SignatureScheme::HmacSha256 { header, .. }
            | SignatureScheme::SharedToken { header } => header,
        }
    }
}

/// The signature a sender puts in the header: `sha256=<hex HMAC-SHA256(secret, body)>`.
///
/// ```
/// use devflow_sync_core::auth::WebhookSecret;
/// use devflow_sync_core::webhook::sign_hmac_sha256;
/// // GitHub's documented test vector.
/// let secret = WebhookSecret::new("It's a Secret to Everybody");
/// assert_eq!(
///     sign_hmac_sha256(&secret, b"Hello, World!"),
///     "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
/// );
/// ```
pub fn sign_hmac_sha256(secret: &WebhookSecret, body: &[u8]) -> String {
    let mut mac = new_mac(secret);
    mac.update(body);
    let digest = mac.finalize().into_bytes();
    let mut out = String::with_capacity(7 + 64);
    out.push_str("sha256=");
    for b in digest {
        out.push_str(&format!("{b:02x}"));
    }
    out
}

fn new_mac(secret: &WebhookSecret) -> HmacSha256 {
    // HMAC takes keys of any length; this cannot fail.
    <HmacSha256 as Mac>::new_from_slice(secret.secret().as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC accepts keys of any length"))
}

fn decode_hex(hex: &str) -> Option<Vec<u8>> {
    if hex.len() % 2 != 0 {
        return None;
    }
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok())
        .collect()
}

/// The delivery id in `header`: [`Error::InvalidInput`] naming the header when it is
/// missing, empty or blank (an empty id would make every later empty-id delivery a
/// duplicate), or longer than 256 bytes.
///
/// ```
/// use devflow_sync_core::provider::Headers;
/// use devflow_sync_core::webhook::delivery_id;
/// let h = Headers::new().with("X-GitHub-Delivery", "72d3162e").with("X-Empty", " ");
/// assert_eq!(delivery_id(&h, "x-github-delivery").unwrap(), "72d3162e");
/// assert!(delivery_id(&h, "X-Empty").unwrap_err().to_string().contains("X-Empty"));
/// assert!(delivery_id(&h, "X-Missing").is_err());
/// ```
pub fn delivery_id<'h>(headers: &'h Headers, header: &str) -> Result<&'h str> {
    let id = headers.get(header).map(str::trim).unwrap_or_default();
    if id.is_empty() {
        return Err(Error::invalid_input(
            header,
            format!("the {header} header (the delivery id) is missing or empty"),
        ));
    }
    if id.len() > 256 {
        return Err(Error::invalid_input(
            header,
            format!("the {header} header is over 256 bytes"),
        ));
    }
    Ok(id)
}

/// A verified delivery.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verified {
    /// The delivery id, when the verifier knows its header (then it is never empty).
    pub delivery_id: Option<String>,
    /// Which active secret matched (0 is the first added), to see when an old one can go.
    pub secret_index: usize,
}

/// Verifies deliveries of one provider.
///
/// ```
/// use devflow_sync_core::auth::WebhookSecret;
/// use devflow_sync_core::provider::Headers;
/// use devflow_sync_core::webhook::{sign_hmac_sha256, SignatureScheme, WebhookVerifier};
///
/// let old = WebhookSecret::new("old secret");
/// let new = WebhookSecret::new("new secret");
/// let verifier = WebhookVerifier::new(SignatureScheme::hmac_sha256("X-Hub-Signature-256", "sha256="))
///     .secret(new)
///     .secret(old.clone())
///     .delivery_id_header("X-GitHub-Delivery");
/// let body = br#"{"action":"opened"}"#;
/// let headers = Headers::new()
///     .with("x-hub-signature-256", sign_hmac_sha256(&old, body))
///     .with("X-GitHub-Delivery", "72d3162e-cc78-11e3-81ab-4c9367dc0958");
/// let ok = verifier.verify(&headers, body).unwrap();
/// assert_eq!(ok.secret_index, 1);
/// assert_eq!(ok.delivery_id.as_deref(), Some("72d3162e-cc78-11e3-81ab-4c9367dc0958"));
/// assert!(verifier.verify(&headers, b"tampered").is_err());
/// ```
#[derive(Clone, Debug)]
pub struct WebhookVerifier {
    scheme: SignatureScheme,
    secrets: Vec<WebhookSecret>,
    delivery_header: Option<String>,
    max_body_bytes: usize,
}

impl WebhookVerifier {
    /// The default body limit: 25 MiB, GitHub's largest payload.
    pub const DEFAULT_MAX_BODY_BYTES: usize = 25 << 20;

    /// A verifier for `scheme` with no secret yet.
    pub fn new(scheme: SignatureScheme) -> Self {
        Self {
            scheme,
            secrets: Vec::new(),
            delivery_header: None,
            max_body_bytes: Self::DEFAULT_MAX_BODY_BYTES,
        }
    }

    /// Adds an active secret; during a rotation, add both the new and the old.
    #[must_use]
    pub fn secret(mut self, secret: WebhookSecret) -> Self {
        self.secrets.push(secret);
        self
    }

    /// The header carrying the delivery id (`X-GitHub-Delivery`,
    /// `X-Atlassian-Webhook-Identifier`).
    #[must_use]
    pub fn delivery_id_header(mut self, header: impl Into<String>) -> Self {
        self.delivery_header = Some(header.into());
        self
    }

    /// The largest body accepted.
    #[must_use]
    pub fn max_body_bytes(mut self, bytes: usize) -> Self {
        self.max_body_bytes = bytes;
        self
    }

    /// Checks a delivery's raw headers and body. Every failure names what was wrong
    /// and never echoes a secret or the expected signature.
    pub fn verify(&self, headers: &Headers, body: &[u8]) -> Result<Verified> {
        if body.len() > self.max_body_bytes {
            return Err(Error::invalid_input(
                "body",
                format!(
                    "webhook body of {} bytes is over the limit of {} bytes",
                    body.len(),
                    self.max_body_bytes
                ),
            ));
        }
        if self.secrets.is_empty() {
            return Err(Error::InvalidConfig {
                pointer: "webhook.secrets".into(),
                message: "no webhook secret is configured".into(),
            });
        }
        let header = self.scheme.header();
        let value = headers
            .get(header)
            .ok_or_else(|| Error::Unauthenticated(format!("the {header} header is missing")))?
            .trim();
        let index = match &self.scheme {
            SignatureScheme::HmacSha256 { prefix, .. } => {
                let hex = value.strip_prefix(prefix.as_str()).ok_or_else(|| {
                    Error::Unauthenticated(format!(
                        "the {header} header does not start with {prefix}"
                    ))
                })?;
                let given = decode_hex(hex).filter(|d| d.len() == 32).ok_or_else(|| {
                    Error::Unauthenticated(format!(
                        "the {header} header is not a 64-digit hex SHA-256 signature"
                    ))
                })?;
                self.secrets.iter().position(|secret| {
                    let mut mac = new_mac(secret);
                    mac.update(body);
                    mac.verify_slice(&given).is_ok()
                })
            }
            SignatureScheme::SharedToken { .. } => self.secrets.iter().position(|secret| {
                crate::auth::constant_time_eq(value.as_bytes(), secret.secret().as_bytes())
            }),
        };
        let secret_index = index.ok_or_else(|| {
            Error::Unauthenticated(format!(
                "the {header} signature does not match any active secret"
            ))
        })?;
        let delivery_id = match self.delivery_header.as_deref() {
            None => None,
            Some(h) => Some(delivery_id(headers, h)?.to_owned()),
        };
        Ok(Verified {
            delivery_id,
            secret_index,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BODY: &[u8] = b"Hello, World!";

    fn github() -> WebhookVerifier {
        WebhookVerifier::new(SignatureScheme::hmac_sha256(
            "X-Hub-Signature-256",
            "sha256=",
        ))
        .secret(WebhookSecret::new("It's a Secret to Everybody"))
        .delivery_id_header("X-GitHub-Delivery")
    }

    fn headers(sig: &str) -> Headers {
        Headers::new()
            .with("X-Hub-Signature-256", sig)
            .with("X-GitHub-Delivery", "d-1")
    }

    #[test]
    fn githubs_documented_test_vector_verifies() {
        let sig = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";
        let ok = github().verify(&headers(sig), BODY).unwrap();
        assert_eq!(ok.delivery_id.as_deref(), Some("d-1"));
        // Upper-case hex is the same signature.
        github()
            .verify(
                &headers(&sig.to_uppercase().replace("SHA256=", "sha256=")),
                BODY,
            )
            .unwrap();
    }

    #[test]
    fn forged_missing_truncated_and_malformed_signatures_are_rejected() {
        let good = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";
        let forged = "sha256=857107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";
        for (headers, body, needle) in [
            (headers(forged), BODY, "does not match"),
            (headers(good), &b"Hello, World?"[..], "does not match"),
            (Headers::new(), BODY, "is missing"),
            (headers(&good[..good.len() - 2]), BODY, "64-digit hex"),
            (headers("sha256="), BODY, "64-digit hex"),
            (
                headers(&good.replace("sha256=", "sha1=")),
                BODY,
                "does not start with sha256=",
            ),
            (headers(&good.replace('7', "z")), BODY, "64-digit hex"),
        ] {
            let err = github().verify(&headers, body).unwrap_err();
            assert!(matches!(err, Error::Unauthenticated(_)), "{err:?}");
            assert!(err.to_string().contains(needle), "{err} lacks {needle}");
            assert!(!err.to_string().contains("Secret to Everybody"));
        }
    }

    #[test]
    fn a_second_active_secret_is_accepted_during_rotation() {
        let old = WebhookSecret::new("old");
        let new = WebhookSecret::new("new");
        let v = WebhookVerifier::new(SignatureScheme::hmac_sha256("X-Hub-Signature", "sha256="))
            .secret(new.clone())
            .secret(old.clone());
        for (secret, index) in [(&new, 0), (&old, 1)] {
            let h = Headers::new().with("X-Hub-Signature", sign_hmac_sha256(secret, BODY));
            assert_eq!(v.verify(&h, BODY).unwrap().secret_index, index);
        }
        let retired =
            WebhookVerifier::new(SignatureScheme::hmac_sha256("X-Hub-Signature", "sha256="))
                .secret(new);
        let h = Headers::new().with("X-Hub-Signature", sign_hmac_sha256(&old, BODY));
        assert!(retired.verify(&h, BODY).is_err());
    }

    #[test]
    fn shared_tokens_body_limit_and_missing_secrets() {
        let v = WebhookVerifier::new(SignatureScheme::shared_token("X-Token"))
            .secret(WebhookSecret::new("tok"))
            .max_body_bytes(8);
        assert!(
            v.verify(&Headers::new().with("x-token", "tok"), b"{}")
                .is_ok()
        );
        assert!(
            v.verify(&Headers::new().with("x-token", "tok2"), b"{}")
                .is_err()
        );
        let err = v
            .verify(&Headers::new().with("x-token", "tok"), b"123456789")
            .unwrap_err();
        assert!(matches!(err, Error::InvalidInput { .. }), "{err:?}");
        let none = WebhookVerifier::new(SignatureScheme::hmac_sha256(
            "X-Hub-Signature-256",
            "sha256=",
        ));
        assert!(matches!(
            none.verify(&headers("x"), BODY),
            Err(Error::InvalidConfig { .. })
        ));
    }
}
