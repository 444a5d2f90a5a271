//! Recorded provider payloads (`shared/fixtures/<provider>/*.nango-recording.json`,
//! beside the checkout) and shape comparison, so a simulator's answers can be checked
//! against what the real provider answered.
//!
//! ```
//! use devflow_sync_testkit::recorded::same_shape;
//! use serde_json::json;
//! same_shape(&json!({"id": "1", "version": {"number": 2}}), &json!({"id": "9", "version": {"number": 1}, "extra": true}), "");
//! ```

use std::collections::BTreeSet;
use std::path::PathBuf;

use serde_json::Value;

/// The fixtures directory: `../shared/fixtures` from the workspace root.
pub fn fixtures_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/fixtures")
}

/// The first recorded response body of a recording (`provider` is the directory,
/// `name` the file). Panics when the file is missing or not a recording: a test helper.
pub fn response(provider: &str, name: &str) -> Value {
    responses(provider, name)
        .into_iter()
        .next()
        .map(|(_, _, body)| body)
        .unwrap_or(Value::Null)
}

/// Every recorded exchange of a recording: (method, path, response body).
pub fn responses(provider: &str, name: &str) -> Vec<(String, String, Value)> {
    let path = fixtures_dir().join(provider).join(name);
    let bytes = std::fs::read(&path)
        .unwrap_or_else(|e| panic!("recording {} cannot be read: {e}", path.display()));
    let recording: Value = serde_json::from_slice(&bytes)
        .unwrap_or_else(|e| panic!("recording {} is not JSON: {e}", path.display()));
    let mut out = Vec::new();
    for (method, by_path) in recording["api"].as_object().into_iter().flatten() {
        for (p, exchange) in by_path.as_object().into_iter().flatten() {
            out.push((method.clone(), p.clone(), exchange["response"].clone()));
        }
    }
    out
}

/// The keys of an object (none for anything else).
pub fn keys(v: &Value) -> BTreeSet<String> {
    v.as_object()
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default()
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Asserts every non-null value of `ours` has the JSON type of the same key in
/// `theirs`, recursively through objects (`at` names where, in the message).
pub fn same_shape(ours: &Value, theirs: &Value, at: &str) {
    if let (Value::Object(a), Value::Object(b)) = (ours, theirs) {
        for (k, v) in a {
            if let Some(t) = b.get(k) {
                if !v.is_null() && !t.is_null() {
                    assert_eq!(kind(v), kind(t), "{at}/{k}: ours {v} theirs {t}");
                    same_shape(v, t, &format!("{at}/{k}"));
                }
            }
        }
    }
}
