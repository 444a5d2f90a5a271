//! Provider builders take their settings by string key (a host's settings store, the
//! environment): what every builder shares, so each keeps only its own keys.

use crate::error::{Error, Result};

/// Applies `set` to `builder` for every key of `keys` (`(variable, key)` pairs) that
/// `lookup` has a value for, in `keys`' order.
///
/// ```
/// use devflow_sync_core::registry::settings_from_lookup;
/// const KEYS: [(&str, &str); 2] = [("APP_URL", "url"), ("APP_NAME", "name")];
/// let set = |mut b: Vec<String>, k: &str, v: &str| {
///     b.push(format!("{k}={v}"));
///     Ok(b)
/// };
/// let got = settings_from_lookup(Vec::new(), &KEYS, |k| (k == "APP_NAME").then(|| "x".into()), set);
/// assert_eq!(got.unwrap(), ["name=x"]);
/// ```
pub fn settings_from_lookup<B>(
    builder: B,
    keys: &[(&str, &str)],
    lookup: impl Fn(&str) -> Option<String>,
    set: impl Fn(B, &str, &str) -> Result<B>,
) -> Result<B> {
    let mut builder = builder;
    for (var, key) in keys {
        if let Some(value) = lookup(var) {
            builder = set(builder, key, &value)?;
        }
    }
    Ok(builder)
}

/// [`Error::InvalidConfig`] at `{provider}.{key}` for a key the builder does not know,
/// listing the ones it does.
///
/// ```
/// let e = devflow_sync_core::registry::unknown_setting("jira", "colour", &[("V", "project")]);
/// assert!(e.to_string().contains("known: project"), "{e}");
/// ```
pub fn unknown_setting(provider: &str, key: &str, keys: &[(&str, &str)]) -> Error {
    Error::InvalidConfig {
        pointer: format!("{provider}.{key}"),
        message: format!(
            "unknown setting; known: {}",
            keys.iter().map(|(_, k)| *k).collect::<Vec<_>>().join(", ")
        ),
    }
}
