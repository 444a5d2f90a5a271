//! Response bodies into typed wire structs: the fast path parses once, borrowing
//! strings from the body; only a body that does not fit is parsed again to find the
//! JSON pointer of the value that failed.

use serde::de::{Deserialize, DeserializeOwned, Deserializer, IgnoredAny};

use crate::error::{Error, Result};

/// A body as `T`, borrowing from `body` where `T` borrows (`&'a str`, `Cow<'a, str>`
/// with `#[serde(borrow)]`). On failure, [`Error::InvalidInput`] with the JSON pointer
/// of the value that did not fit and a message naming `what`, the line and column.
///
/// ```
/// use std::borrow::Cow;
/// use devflow_sync_core::api::parse_borrowed;
/// #[derive(serde::Deserialize)]
/// struct Label<'a> {
///     #[serde(borrow)]
///     name: Cow<'a, str>,
/// }
/// let labels: Vec<Label> = parse_borrowed("GitHub", br#"[{"name": "bug", "color": "d73a4a"}]"#).unwrap();
/// assert!(matches!(labels[0].name, Cow::Borrowed("bug")));
///
/// let err = parse_borrowed::<Vec<Label>>("GitHub", br#"[{"name": "bug"}, {"name": 7}]"#);
/// match err.err().unwrap() {
///     devflow_sync_core::Error::InvalidInput { pointer, message } => {
///         assert_eq!(pointer.as_deref(), Some("/1/name"));
///         assert!(message.starts_with("GitHub response, line 1 column"), "{message}");
///     }
///     other => panic!("{other:?}"),
/// }
/// ```
pub fn parse_borrowed<'a, T: Deserialize<'a>>(what: &str, body: &'a [u8]) -> Result<T> {
    serde_json::from_slice(body).map_err(|e| located::<T>(what, body, &e))
}

/// A body as an owned `T`; errors as [`parse_borrowed`].
///
/// ```
/// use devflow_sync_core::api::parse_json;
/// let n: u32 = parse_json("GitHub", b"42").unwrap();
/// assert_eq!(n, 42);
/// let err = parse_json::<u32>("GitHub", b"[1").unwrap_err();
/// assert!(err.to_string().contains("GitHub response, line 1"), "{err}");
/// ```
pub fn parse_json<T: DeserializeOwned>(what: &str, body: &[u8]) -> Result<T> {
    parse_borrowed(what, body)
}

/// The error for a body that did not parse. The second, tracked parse runs only here,
/// so the fast path pays nothing for knowing where a failure was.
fn located<'a, T: Deserialize<'a>>(what: &str, body: &'a [u8], e: &serde_json::Error) -> Error {
    let mut de = serde_json::Deserializer::from_slice(body);
    let pointer = match serde_path_to_error::deserialize::<_, T>(&mut de) {
        Err(tracked) => json_pointer(tracked.path()),
        Ok(_) => String::new(),
    };
    Error::InvalidInput {
        pointer: Some(if pointer.is_empty() {
            "/".to_owned()
        } else {
            pointer
        }),
        message: format!(
            "{what} response, line {} column {}: {e}",
            e.line(),
            e.column()
        ),
    }
}

/// The JSON pointer (RFC 6901) of a tracked path; empty for the root.
fn json_pointer(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut out = String::new();
    for segment in path {
        out.push('/');
        match segment {
            Segment::Seq { index } => out.push_str(&index.to_string()),
            Segment::Map { key } | Segment::Enum { variant: key } => {
                out.push_str(&key.replace('~', "~0").replace('/', "~1"));
            }
            Segment::Unknown => out.push('?'),
        }
    }
    out
}

/// A field that is only looked at for being there: `true` when the key is present,
/// whatever its value (even `null`), `false` when absent (with `#[serde(default)]`).
///
/// ```
/// use devflow_sync_core::api::Present;
/// #[derive(serde::Deserialize)]
/// struct Issue {
///     #[serde(default)]
///     pull_request: Present,
/// }
/// let pr: Issue = serde_json::from_str(r#"{"pull_request": null}"#).unwrap();
/// let issue: Issue = serde_json::from_str("{}").unwrap();
/// assert!(pr.pull_request.0 && !issue.pull_request.0);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Present(pub bool);

impl<'de> Deserialize<'de> for Present {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        IgnoredAny::deserialize(deserializer).map(|_| Present(true))
    }
}
