//! Error bodies as they may appear in errors and logs: short, and without secrets.

/// The most bytes of a body kept in an error message.
pub const MAX_ERROR_BODY: usize = 512;

const SECRET_KEYS: [&str; 9] = [
    "access_token",
    "refresh_token",
    "id_token",
    "client_secret",
    "password",
    "token",
    "secret",
    "code_verifier",
    "authorization",
];

/// Replaces the values of secret-looking JSON keys (`access_token`, `client_secret`,
/// ...) and `Bearer`/`Basic` credentials with `[redacted]`, then truncates to
/// [`MAX_ERROR_BODY`] bytes on a character boundary.
///
/// ```
/// use devflow_sync_core::http::redact_body;
/// let body = r#"{"error":"invalid_grant","refresh_token":"rt-123","note":"Bearer abc.def"}"#;
/// let clean = redact_body(body);
/// assert!(!clean.contains("rt-123") && !clean.contains("abc.def"));
/// assert!(clean.contains("invalid_grant"));
/// ```
pub fn redact_body(body: &str) -> String {
    let redacted = match serde_json::from_str::<serde_json::Value>(body) {
        Ok(mut value) => {
            redact_value(&mut value);
            value.to_string()
        }
        Err(_) => redact_text(body),
    };
    truncate(&redact_text(&redacted), MAX_ERROR_BODY)
}

fn redact_value(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Object(map) => {
            for (key, v) in map.iter_mut() {
                let k = key.to_ascii_lowercase();
                if SECRET_KEYS
                    .iter()
                    .any(|s| k == *s || k.ends_with(&format!("_{s}")))
                {
                    *v = serde_json::Value::String("[redacted]".into());
                } else {
                    redact_value(v);
                }
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(redact_value),
        _ => {}
    }
}

/// Blanks what follows `Bearer `/`Basic ` and `key=value` pairs of secret keys in text.
fn redact_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    'outer: while !rest.is_empty() {
        for scheme in ["Bearer ", "Basic ", "bearer ", "basic "] {
            if let Some(tail) = rest.strip_prefix(scheme) {
                out.push_str(scheme);
                out.push_str("[redacted]");
                let end = tail
                    .find(|c: char| c.is_whitespace() || c == '"' || c == '\'' || c == ',')
                    .unwrap_or(tail.len());
                rest = &tail[end..];
                continue 'outer;
            }
        }
        for key in SECRET_KEYS {
            let pattern = format!("{key}=");
            if let Some(head) = rest
                .get(..pattern.len())
                .filter(|h| h.eq_ignore_ascii_case(&pattern))
            {
                out.push_str(head);
                out.push_str("[redacted]");
                let tail = &rest[pattern.len()..];
                let end = tail.find(['&', ' ', '"', '\'', ',']).unwrap_or(tail.len());
                rest = &tail[end..];
                continue 'outer;
            }
        }
        let mut chars = rest.chars();
        if let Some(c) = chars.next() {
            out.push(c);
        }
        rest = chars.as_str();
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

/// A short message for an error response: the provider's own message when the body has
/// one (GitHub `message`, Jira `errorMessages` and `errors`, OAuth `error` and
/// `error_description`), else the redacted, truncated body.
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
                    parts
                        .extend(map.iter().map(|(k, m)| {
                            format!("{k}: {}", m.as_str().unwrap_or(&m.to_string()))
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
