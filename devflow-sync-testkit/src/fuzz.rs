//! Mutations of real payloads for property tests: a recorded body cut short, bytes
//! flipped, inserted or deleted, and JSON values swapped for hostile ones (huge
//! numbers, wrong types, deep nesting). Pure functions of their inputs, so a failing
//! case shrinks and replays.
//!
//! ```
//! use devflow_sync_testkit::fuzz::{Mutation, mutate};
//! let body = br#"{"number":1,"title":"x"}"#;
//! assert_eq!(mutate(body, &[Mutation::Truncate(5)]), br#"{"num"#);
//! assert_eq!(mutate(body, &[Mutation::Flip(0, 0x01)]), br#"z"number":1,"title":"x"}"#.to_vec());
//! ```

use serde_json::Value;

/// One change to a byte string; positions wrap around its length.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mutation {
    /// Keep only the first `n` bytes.
    Truncate(usize),
    /// XOR the byte at a position with a mask.
    Flip(usize, u8),
    /// Insert a byte at a position.
    Insert(usize, u8),
    /// Delete up to `len` bytes from a position.
    Delete(usize, usize),
    /// Copy a range to another position (duplicates structure).
    Splice(usize, usize, usize),
}

/// `bytes` with the mutations applied in order.
pub fn mutate(bytes: &[u8], mutations: &[Mutation]) -> Vec<u8> {
    let mut out = bytes.to_vec();
    for m in mutations {
        let len = out.len();
        let at = |i: usize| if len == 0 { 0 } else { i % len };
        match *m {
            Mutation::Truncate(n) => out.truncate(n.min(len)),
            Mutation::Flip(i, mask) if len > 0 => {
                let i = at(i);
                out[i] ^= mask;
            }
            Mutation::Flip(..) => {}
            Mutation::Insert(i, b) => out.insert(if len == 0 { 0 } else { i % (len + 1) }, b),
            Mutation::Delete(i, n) if len > 0 => {
                let i = at(i);
                let end = i.saturating_add(n).min(len);
                out.drain(i..end);
            }
            Mutation::Delete(..) => {}
            Mutation::Splice(from, n, to) if len > 0 => {
                let from = at(from);
                let end = from.saturating_add(n % 64).min(len);
                let piece = out[from..end].to_vec();
                let to = at(to);
                out.splice(to..to, piece);
            }
            Mutation::Splice(..) => {}
        }
    }
    out
}

/// Values a hostile or careless server may put where a well-formed one is expected.
pub fn hostile_values() -> Vec<Value> {
    vec![
        Value::Null,
        Value::Bool(true),
        serde_json::json!(-1),
        serde_json::json!(u64::MAX),
        serde_json::json!(i64::MIN),
        serde_json::json!(1e308),
        serde_json::json!(""),
        serde_json::json!("\u{0}\u{202e}"),
        serde_json::json!("9999-99-99T99:99:99Z"),
        serde_json::json!("-262144-01-01T00:00:00Z"),
        serde_json::json!([]),
        serde_json::json!({}),
        serde_json::from_str(&format!("{}1{}", "[".repeat(100), "]".repeat(100)))
            .unwrap_or_default(),
        serde_json::json!("x".repeat(10_000)),
    ]
}

/// `value` with the node at the `index`-th position (in a depth-first walk) replaced
/// by `replacement`; unchanged when the walk is shorter.
pub fn replace_nth(value: &Value, index: usize, replacement: &Value) -> Value {
    fn walk(v: &mut Value, left: &mut usize, replacement: &Value) -> bool {
        if *left == 0 {
            *v = replacement.clone();
            return true;
        }
        *left -= 1;
        match v {
            Value::Object(map) => map.values_mut().any(|c| walk(c, left, replacement)),
            Value::Array(items) => items.iter_mut().any(|c| walk(c, left, replacement)),
            _ => false,
        }
    }
    let mut out = value.clone();
    let mut left = index;
    walk(&mut out, &mut left, replacement);
    out
}

/// How many nodes a depth-first walk of `value` visits.
pub fn node_count(value: &Value) -> usize {
    1 + match value {
        Value::Object(map) => map.values().map(node_count).sum(),
        Value::Array(items) => items.iter().map(node_count).sum(),
        _ => 0,
    }
}

/// [`proptest`] strategies over the mutations (feature `proptest`, on by default).
#[cfg(feature = "proptest")]
pub mod strategies {
    use proptest::prelude::*;

    use super::{Mutation, mutate};

    /// Any one mutation.
    pub fn mutation() -> impl Strategy<Value = Mutation> {
        prop_oneof![
            any::<usize>().prop_map(Mutation::Truncate),
            (any::<usize>(), any::<u8>()).prop_map(|(i, m)| Mutation::Flip(i, m)),
            (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Mutation::Insert(i, b)),
            (any::<usize>(), 0usize..64).prop_map(|(i, n)| Mutation::Delete(i, n)),
            (any::<usize>(), any::<usize>(), any::<usize>())
                .prop_map(|(a, n, b)| Mutation::Splice(a, n, b)),
        ]
    }

    /// `real`, cut and mutated up to five times.
    pub fn mutated(real: Vec<u8>) -> impl Strategy<Value = Vec<u8>> {
        prop::collection::vec(mutation(), 0..6).prop_map(move |m| mutate(&real, &m))
    }

    /// A run of 1,000 cases that keeps no regression file (the suites name their
    /// failing inputs in the failure itself).
    pub fn thousand_cases() -> ProptestConfig {
        ProptestConfig {
            cases: 1000,
            failure_persistence: None,
            ..ProptestConfig::default()
        }
    }
}
