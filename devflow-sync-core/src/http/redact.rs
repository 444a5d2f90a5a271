//! Error bodies as they may appear in errors and logs: short, and without secrets.
//!
//! Two nets: by shape (values of secret-looking keys in JSON, `key=value`,
//! `key: value` and `Bearer`/`Basic`/`token` credentials in text) and by knowledge
//! ([`KnownSecrets`]: every token, secret, key and code the client holds or sent in the
//! request, removed wherever it appears, whatever surrounds it).

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use crate::error::Error;

/// The most bytes of a body kept in an error message.
pub const MAX_ERROR_BODY: usize = 512;

/// What stands where a secret was.
const REDACTED: &str = "[redacted]";

/// Parts of key names (lower case, without `_` and `-`) whose values are secret:
/// `access_token`, `accessToken`, `apiKey`, `client-secret`, `code_verifier`, ...
const SECRET_KEY_PARTS: [&str; 14] = [
    "token",
    "secret",
    "password",
    "passwd",
    "apikey",
    "privatekey",
    "accesskey",
    "authorization",
    "codeverifier",
    "credential",
    "cookie",
    "session",
    "assertion",
    "signature",
];

/// Whether a key names a secret value. Case, `_` and `-` do not matter; `code` (an
/// OAuth authorization code) counts only as the whole key.
///
/// ```
/// use devflow_sync_core::http::is_secret_key;
/// for key in ["access_token", "accessToken", "apiKey", "clientSecret", "client-secret",
///             "X-Api-Key", "code", "code_verifier", "password", "Authorization"] {
///     assert!(is_secret_key(key), "{key}");
/// }
/// for key in ["key", "message", "summary", "errorCode", "error_description"] {
///     assert!(!is_secret_key(key), "{key}");
/// }
/// ```
pub fn is_secret_key(key: &str) -> bool {
    let norm: String = key
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect();
    norm == "code" || SECRET_KEY_PARTS.iter().any(|part| norm.contains(part))
}

/// Replaces the values of secret-looking keys (`access_token`, `clientSecret`,
/// `apiKey`, ...) and `Bearer`/`Basic`/`token` credentials with `[redacted]`, then
/// truncates to [`MAX_ERROR_BODY`] bytes on a character boundary.
///
/// ```
/// use devflow_sync_core::http::redact_body;
/// let body = r#"{"error":"invalid_grant","refresh_token":"rt-123","note":"Bearer abc.def"}"#;
/// let clean = redact_body(body);
/// assert!(!clean.contains("rt-123") && !clean.contains("abc.def"));
/// assert!(clean.contains("invalid_grant"));
/// // Not JSON (cut short): the same keys are found in the text.
/// let cut = redact_body(r#"{"accessToken": "at-1", "apiKey":"k-2", "errors": {"client_secret": "cs-3"#);
/// assert!(!cut.contains("at-1") && !cut.contains("k-2") && !cut.contains("cs-3"), "{cut}");
/// ```
pub fn redact_body(body: &str) -> String {
    let redacted = match serde_json::from_str::<serde_json::Value>(body) {
        Ok(mut value) => {
            redact_value(&mut value);
            value.to_string()
        }
        Err(_) => body.to_owned(),
    };
    truncate(&redact_text(&redacted), MAX_ERROR_BODY)
}

fn redact_value(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Object(map) => {
            for (key, v) in map.iter_mut() {
                if is_secret_key(key) && !v.is_null() {
                    *v = serde_json::Value::String(REDACTED.into());
                } else {
                    redact_value(v);
                }
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(redact_value),
        _ => {}
    }
}

/// Where a value that follows `key` ends: at its closing quote when quoted, else at
/// the first delimiter.
fn value_end(tail: &str) -> (usize, usize) {
    let mut chars = tail.char_indices();
    match chars.next() {
        Some((_, q @ ('"' | '\''))) => {
            let end = tail[1..].find(q).map_or(tail.len(), |i| i + 1);
            (1, end)
        }
        _ => (
            0,
            tail.find(|c: char| c.is_whitespace() || "&,;}\"')]".contains(c))
                .unwrap_or(tail.len()),
        ),
    }
}

/// Blanks credentials after an auth scheme, and the values of secret keys written as
/// `key=value`, `key: value`, `"key": "value"` in text.
fn redact_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while !rest.is_empty() {
        // An identifier: a run of letters, digits, `_` and `-`.
        let ident_len = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
            .unwrap_or(rest.len());
        if ident_len == 0 {
            let c = rest.chars().next().map_or(1, char::len_utf8);
            out.push_str(&rest[..c]);
            rest = &rest[c..];
            continue;
        }
        let (ident, after) = rest.split_at(ident_len);
        out.push_str(ident);
        rest = after;
        let scheme = ["bearer", "basic", "token"]
            .iter()
            .any(|s| ident.eq_ignore_ascii_case(s));
        if scheme {
            if let Some(tail) = rest.strip_prefix(' ') {
                let end = tail
                    .find(|c: char| c.is_whitespace() || "\"',;".contains(c))
                    .unwrap_or(tail.len());
                let word = &tail[..end];
                // After `token`, only what looks like a credential (not "the token is
                // invalid").
                let credential = !ident.eq_ignore_ascii_case("token")
                    || (word.len() >= 8
                        && word.chars().any(|c| c.is_ascii_digit())
                        && word.chars().any(|c| c.is_ascii_alphabetic()));
                if end > 0 && credential {
                    out.push(' ');
                    out.push_str(REDACTED);
                    rest = &tail[end..];
                    continue;
                }
            }
        }
        if !is_secret_key(ident) {
            continue;
        }
        // Optional closing quote of a JSON key, spaces, then `=` or `:`.
        let sep = rest.trim_start_matches(['"', '\'']).trim_start_matches(' ');
        let Some(value) = sep.strip_prefix(['=', ':']) else {
            continue;
        };
        let mut value = value.trim_start_matches(' ');
        // `Authorization: Bearer X`: the scheme stays, the credential goes.
        if let Some((scheme, _)) = value.split_once(' ').filter(|(w, _)| {
            ["bearer", "basic", "token"]
                .iter()
                .any(|s| w.eq_ignore_ascii_case(s))
        }) {
            let consumed = rest.len() - value.len() + scheme.len() + 1;
            out.push_str(&rest[..consumed]);
            rest = &rest[consumed..];
            value = rest;
        }
        let (open, end) = value_end(value);
        if end <= open {
            continue;
        }
        let consumed = rest.len() - value.len();
        out.push_str(&rest[..consumed + open]);
        out.push_str(REDACTED);
        rest = &value[end..];
    }
    out
}

fn truncate(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_owned();
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… ({} bytes in all)", &text[..end], text.len())
}

/// The secret values a client holds or sent: tokens, client secrets, codes, PKCE
/// verifiers, passwords. [`KnownSecrets::scrub`] removes each from any text, wherever
/// it appears and whatever surrounds it ("refresh token X was revoked"); this is what
/// keeps a server that echoes a credential back in free text from putting it in an
/// error, a log line or a stored record.
///
/// ```
/// use devflow_sync_core::http::KnownSecrets;
/// let known = KnownSecrets::new().with("rt-9f8e7d6c").with("s3cr3t/+=");
/// assert_eq!(
///     known.scrub("refresh token rt-9f8e7d6c was revoked; secret s3cr3t%2F%2B%3D"),
///     "refresh token [redacted] was revoked; secret [redacted]"
/// );
/// assert_eq!(format!("{known:?}"), "KnownSecrets(3 values)"); // two raw, one URL-encoded
/// ```
#[derive(Clone, Default)]
pub struct KnownSecrets(Vec<String>);

impl fmt::Debug for KnownSecrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KnownSecrets({} values)", self.0.len())
    }
}

impl KnownSecrets {
    /// Values shorter than this are not scrubbed (they would blank ordinary words);
    /// no credential this library handles is that short.
    pub const MIN_LEN: usize = 4;

    /// None yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a value, and its URL-encoded form when that differs.
    pub fn add(&mut self, value: &str) {
        let value = value.trim();
        if value.len() < Self::MIN_LEN {
            return;
        }
        let encoded = percent_encode(value);
        for v in [value.to_owned(), encoded] {
            if !self.0.contains(&v) {
                self.0.push(v);
            }
        }
        // Longest first, so a secret containing another is removed whole.
        self.0.sort_by_key(|v| std::cmp::Reverse(v.len()));
    }

    /// With a value added.
    #[must_use]
    pub fn with(mut self, value: &str) -> Self {
        self.add(value);
        self
    }

    /// Adds every value of `other`.
    pub fn extend(&mut self, other: &KnownSecrets) {
        for v in &other.0 {
            self.add(v);
        }
    }

    /// Adds what an `Authorization`-like header value carries: the whole value, the
    /// credential after its scheme, and for `Basic` the decoded user and password.
    pub fn add_credential_header(&mut self, value: &str) {
        self.add(value);
        if let Some((scheme, credential)) = value.trim().split_once(' ') {
            let credential = credential.trim();
            self.add(credential);
            if scheme.eq_ignore_ascii_case("basic") {
                if let Some(decoded) = STANDARD
                    .decode(credential)
                    .ok()
                    .and_then(|b| String::from_utf8(b).ok())
                {
                    self.add(&decoded);
                    // The user of an API token pair (an email) is not secret.
                    if let Some((_, password)) = decoded.split_once(':') {
                        self.add(password);
                    }
                }
            }
        }
    }

    /// Adds the values of secret keys in a form-encoded or query string
    /// (`code=...&client_secret=...`).
    pub fn add_form(&mut self, form: &str) {
        for pair in form.split('&') {
            if let Some((key, value)) = pair.split_once('=') {
                if is_secret_key(&percent_decode(key)) {
                    self.add(&percent_decode(value));
                }
            }
        }
    }

    /// Adds the string values of secret keys anywhere in a JSON document.
    pub fn add_json(&mut self, json: &serde_json::Value) {
        match json {
            serde_json::Value::Object(map) => {
                for (key, value) in map {
                    match value {
                        serde_json::Value::String(s) if is_secret_key(key) => self.add(s),
                        other => self.add_json(other),
                    }
                }
            }
            serde_json::Value::Array(items) => items.iter().for_each(|v| self.add_json(v)),
            _ => {}
        }
    }

    /// Whether none is known.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `text` with every known value replaced by `[redacted]`.
    pub fn scrub(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for secret in &self.0 {
            if out.contains(secret.as_str()) {
                out = out.replace(secret.as_str(), REDACTED);
            }
        }
        out
    }

    /// `error` with every known value scrubbed from its messages.
    pub fn scrub_error(&self, error: Error) -> Error {
        if self.0.is_empty() {
            return error;
        }
        error.map_messages(|m| self.scrub(m))
    }
}

/// `value` percent-encoded for a URL query or form: everything but ASCII letters,
/// digits and `-._~`.
///
/// ```
/// use devflow_sync_core::http::percent_encode;
/// assert_eq!(percent_encode("devflow-id: a b/c"), "devflow-id%3A%20a%20b%2Fc");
/// ```
pub fn percent_encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn percent_decode(value: &str) -> String {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (b, hex) {
            (b'%', Some(decoded)) => {
                out.push(decoded);
                i += 3;
            }
            (b'+', _) => {
                out.push(b' ');
                i += 1;
            }
            _ => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A short message for an error response: the provider's own message when the body has
/// one (GitHub `message`, Jira `errorMessages` and `errors`, OAuth `error` and
/// `error_description`), else the redacted, truncated body. Values under secret keys
/// (`errors: {"client_secret": ...}`) are not shown.
pub(crate) fn error_message(status: u16, body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let parsed: Option<serde_json::Value> = serde_json::from_str(&text).ok();
    let mut parts: Vec<String> = Vec::new();
    if let Some(v) = &parsed {
        if let Some(m) = v.get("message").and_then(|m| m.as_str()) {
            parts.push(m.to_owned());
        }
        if let Some(list) = v.get("errorMessages").and_then(|m| m.as_array()) {
            parts.extend(list.iter().filter_map(|m| m.as_str()).map(str::to_owned));
        }
        if let Some(errors) = v.get("errors") {
            match errors {
                serde_json::Value::Object(map) => {
                    parts.extend(map.iter().map(|(k, m)| {
                        if is_secret_key(k) {
                            format!("{k}: {REDACTED}")
                        } else {
                            let mut m = m.clone();
                            redact_value(&mut m);
                            format!("{k}: {}", m.as_str().unwrap_or(&m.to_string()))
                        }
                    }));
                }
                serde_json::Value::Array(list) => {
                    parts.extend(list.iter().map(|e| {
                        let field = e.get("field").and_then(|f| f.as_str()).unwrap_or("?");
                        let code = e.get("code").and_then(|f| f.as_str()).unwrap_or("?");
                        format!("{field}: {code}")
                    }));
                }
                _ => {}
            }
        }
        if let Some(e) = v.get("error").and_then(|m| m.as_str()) {
            let description = v.get("error_description").and_then(|m| m.as_str());
            parts.push(match description {
                Some(d) => format!("{e}: {d}"),
                None => e.to_owned(),
            });
        }
    }
    let detail = if parts.is_empty() {
        redact_body(&text)
    } else {
        truncate(&redact_text(&parts.join("; ")), MAX_ERROR_BODY)
    };
    if detail.is_empty() {
        format!("HTTP {status}")
    } else {
        format!("HTTP {status}: {detail}")
    }
}
