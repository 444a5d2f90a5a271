//! The provider catalog: each provider's `provider.json`, validated against
//! `provider.schema.json` (JSON Schema) when it is loaded, with errors that name the
//! file, the JSON pointer and the rule; rate limits overridable from host settings or the
//! environment without code changes.

mod catalog;
mod settings;

use std::collections::BTreeMap;
use std::fmt;
use std::sync::OnceLock;

pub use catalog::{
    AuthFlowKind, AuthSpec, CapabilitySpec, FieldSpec, FilterSpec, HeaderSource, HierarchySpec,
    ObjectCatalog, ProviderCatalog, RateLimits, RequiredHeader, RuleConstraint, WebhookSignature,
    WebhookSpec,
};
pub use settings::{settings_from_lookup, unknown_setting};

use crate::error::Error;
use crate::model::ProviderKey;

/// The JSON Schema every `provider.json` is checked against.
pub const PROVIDER_SCHEMA: &str = include_str!("provider.schema.json");

/// One broken rule of a document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SchemaViolation {
    /// Where in the document, as a JSON pointer (`/objects/0/fields/2/type`).
    pub pointer: String,
    /// What is wrong.
    pub message: String,
    /// The schema rule that failed, as a pointer into the schema.
    pub rule: String,
}

/// A document that did not load: the file and every broken rule.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct CatalogError {
    /// The file (or name) of the document.
    pub file: String,
    /// The broken rules, in document order.
    pub violations: Vec<SchemaViolation>,
}

impl CatalogError {
    /// `Ok` when there is no violation, else the error naming `file`.
    pub fn check(file: &str, violations: Vec<SchemaViolation>) -> Result<(), CatalogError> {
        if violations.is_empty() {
            Ok(())
        } else {
            Err(CatalogError {
                file: file.to_owned(),
                violations,
            })
        }
    }
}

impl fmt::Display for CatalogError {
    /// One line per violation: `provider.json: /objects/0/fields/2/type: "strng" is not one of [...]`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, v) in self.violations.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            let pointer = if v.pointer.is_empty() {
                "/"
            } else {
                &v.pointer
            };
            write!(f, "{}: {pointer}: {}", self.file, v.message)?;
        }
        Ok(())
    }
}

impl From<CatalogError> for Error {
    fn from(e: CatalogError) -> Self {
        let pointer = e
            .violations
            .first()
            .map(|v| format!("{}#{}", e.file, v.pointer))
            .unwrap_or_else(|| e.file.clone());
        Error::InvalidConfig {
            pointer,
            message: e.to_string(),
        }
    }
}

fn schema_validator(
    schema: &'static str,
    which: &'static OnceLock<jsonschema::Validator>,
) -> &'static jsonschema::Validator {
    which.get_or_init(|| {
        let value: serde_json::Value = serde_json::from_str(schema)
            .unwrap_or_else(|e| unreachable!("a shipped schema is JSON: {e}"));
        jsonschema::validator_for(&value)
            .unwrap_or_else(|e| unreachable!("a shipped schema is valid: {e}"))
    })
}

/// Checks a JSON document against a shipped schema, collecting every violation.
pub(crate) fn check(
    file: &str,
    text: &str,
    schema: &'static str,
    which: &'static OnceLock<jsonschema::Validator>,
) -> Result<serde_json::Value, CatalogError> {
    let value: serde_json::Value = serde_json::from_str(text).map_err(|e| CatalogError {
        file: file.to_owned(),
        violations: vec![SchemaViolation {
            pointer: String::new(),
            message: format!("not JSON: {e} (line {}, column {})", e.line(), e.column()),
            rule: "json".into(),
        }],
    })?;
    let violations: Vec<SchemaViolation> = schema_validator(schema, which)
        .iter_errors(&value)
        .map(|e| SchemaViolation {
            pointer: e.instance_path().to_string(),
            message: e.to_string(),
            rule: e.schema_path().to_string(),
        })
        .collect();
    if violations.is_empty() {
        Ok(value)
    } else {
        Err(CatalogError {
            file: file.to_owned(),
            violations,
        })
    }
}

/// Parses an already checked document into its typed view.
pub(crate) fn typed<T: serde::de::DeserializeOwned>(
    file: &str,
    value: &serde_json::Value,
) -> Result<T, CatalogError> {
    serde_json::from_value(value.clone()).map_err(|e| CatalogError {
        file: file.to_owned(),
        violations: vec![SchemaViolation {
            pointer: String::new(),
            message: e.to_string(),
            rule: "typed view".into(),
        }],
    })
}

static PROVIDER_VALIDATOR: OnceLock<jsonschema::Validator> = OnceLock::new();

/// Loads and checks one `provider.json`. `file` names it in errors.
///
/// ```
/// use devflow_sync_core::registry::load_catalog;
/// let bad = r#"{"providerSchemaVersion":1,"key":"demo","displayName":"Demo","oauth":{"flows":["magic"]},
///   "rateLimits":{"requestsPerMinute":60,"burst":5,"maxConcurrentPerConnection":2},
///   "objects":[{"key":"issue","label":"Issue","mappingSchemaVersion":1,
///     "fields":[{"name":"title","type":"strng"}],
///     "capabilities":{"list":true,"delta":true,"create":true,"update":true,"delete":false,"webhook":false}}]}"#;
/// let err = load_catalog("provider.json", bad).unwrap_err();
/// let text = err.to_string();
/// assert!(text.contains("provider.json: /oauth/flows/0: "), "{text}");
/// assert!(text.contains("provider.json: /objects/0/fields/0/type: \"strng\" is not one of"), "{text}");
/// ```
pub fn load_catalog(file: &str, text: &str) -> Result<ProviderCatalog, CatalogError> {
    let value = check(file, text, PROVIDER_SCHEMA, &PROVIDER_VALIDATOR)?;
    let mut catalog: ProviderCatalog = typed(file, &value)?;
    catalog.raw = value;
    Ok(catalog)
}

/// Every loaded provider catalog, by key.
#[derive(Clone, Debug, Default)]
pub struct Registry {
    providers: BTreeMap<ProviderKey, ProviderCatalog>,
}

impl Registry {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a catalog; [`Error::AlreadyExists`] for a key already registered.
    pub fn register(&mut self, catalog: ProviderCatalog) -> crate::Result<()> {
        if self.providers.contains_key(&catalog.key) {
            return Err(Error::already_exists(format!(
                "provider {} in the registry",
                catalog.key
            )));
        }
        self.providers.insert(catalog.key.clone(), catalog);
        Ok(())
    }

    /// Loads, checks and adds a `provider.json`.
    pub fn load(&mut self, file: &str, text: &str) -> crate::Result<&ProviderCatalog> {
        let catalog = load_catalog(file, text)?;
        let key = catalog.key.clone();
        self.register(catalog)?;
        Ok(&self.providers[&key])
    }

    /// The registered providers, by key.
    pub fn providers(&self) -> impl Iterator<Item = &ProviderCatalog> {
        self.providers.values()
    }

    /// A provider's catalog.
    pub fn provider(&self, key: &str) -> Option<&ProviderCatalog> {
        self.providers.get(key)
    }

    /// An object's catalog.
    pub fn object(&self, provider: &str, object: &str) -> Option<&ObjectCatalog> {
        self.provider(provider).and_then(|p| p.object(object))
    }

    /// Applies rate-limit overrides to every provider from `lookup` (host settings or
    /// the environment): see [`RateLimits::override_from`].
    pub fn override_rate_limits(
        &mut self,
        lookup: impl Fn(&str) -> Option<String>,
    ) -> crate::Result<()> {
        for catalog in self.providers.values_mut() {
            let key = catalog.key.clone();
            catalog.rate_limits = catalog.rate_limits.override_from(key.as_str(), &lookup)?;
        }
        Ok(())
    }
}

impl RateLimits {
    /// These limits with overrides from `lookup`, which is asked for
    /// `DEVFLOW_SYNC_<PROVIDER>_REQUESTS_PER_MINUTE`, `..._BURST`,
    /// `..._MAX_CONCURRENT_PER_CONNECTION` and `..._GLOBAL_REQUESTS_PER_MINUTE` (the
    /// provider key upper-cased, `-` as `_`). Pass `|k| std::env::var(k).ok()` for the
    /// environment, or a host's settings map.
    ///
    /// ```
    /// use std::collections::HashMap;
    /// use devflow_sync_core::registry::RateLimits;
    /// let limits = RateLimits { requests_per_minute: 600, burst: 50, max_concurrent_per_connection: 4, global_requests_per_minute: None, writes_per_minute: None, writes_per_hour: None };
    /// let host = HashMap::from([("DEVFLOW_SYNC_GITHUB_BURST".to_owned(), "10".to_owned())]);
    /// let tuned = limits.override_from("github", |k| host.get(k).cloned()).unwrap();
    /// assert_eq!((tuned.requests_per_minute, tuned.burst), (600, 10));
    /// assert!(limits.override_from("github", |_| Some("lots".into())).is_err());
    /// ```
    pub fn override_from(
        &self,
        provider: &str,
        lookup: impl Fn(&str) -> Option<String>,
    ) -> crate::Result<RateLimits> {
        let prefix = format!(
            "DEVFLOW_SYNC_{}_",
            provider.to_ascii_uppercase().replace('-', "_")
        );
        let read = |name: &str, current: u32| -> crate::Result<u32> {
            let var = format!("{prefix}{name}");
            match lookup(&var) {
                None => Ok(current),
                Some(value) => value
                    .trim()
                    .parse::<u32>()
                    .ok()
                    .filter(|v| *v >= 1)
                    .ok_or_else(|| Error::InvalidConfig {
                        pointer: var.clone(),
                        message: format!("{value:?} is not a whole number of at least 1"),
                    }),
            }
        };
        Ok(RateLimits {
            requests_per_minute: read("REQUESTS_PER_MINUTE", self.requests_per_minute)?,
            burst: read("BURST", self.burst)?,
            max_concurrent_per_connection: read(
                "MAX_CONCURRENT_PER_CONNECTION",
                self.max_concurrent_per_connection,
            )?,
            global_requests_per_minute: match self.global_requests_per_minute {
                Some(g) => Some(read("GLOBAL_REQUESTS_PER_MINUTE", g)?),
                None => lookup(&format!("{prefix}GLOBAL_REQUESTS_PER_MINUTE"))
                    .map(|_| read("GLOBAL_REQUESTS_PER_MINUTE", 1))
                    .transpose()?,
            },
            writes_per_minute: self.writes_per_minute,
            writes_per_hour: self.writes_per_hour,
        })
    }
}

#[cfg(test)]
mod tests;

/// Declares the items every provider crate has: `PROVIDER_KEY`, `provider_key()`,
/// `PROVIDER_JSON` (the crate's `provider.json`, embedded at build time), `catalog()`
/// (it, checked against the provider schema), and a test that the shipped catalog
/// validates. Invoke it at the crate root:
///
/// ```ignore
/// devflow_sync_core::provider_catalog!(devflow_provider_github, "github", "../provider.json");
/// ```
#[macro_export]
macro_rules! provider_catalog {
    ($krate:ident, $key:literal, $json:literal) => {
        #[doc = concat!(
            "The key this provider registers under in the catalog and in `ExternalRef::provider`.\n\n```\nassert_eq!(",
            stringify!($krate), "::PROVIDER_KEY, \"", $key, "\");\n```"
        )]
        pub const PROVIDER_KEY: &str = $key;

        #[doc = concat!(
            "The provider key as a typed [`ProviderKey`](devflow_sync_core::ProviderKey).\n\n```\nassert_eq!(",
            stringify!($krate), "::provider_key().as_str(), \"", $key, "\");\n```"
        )]
        pub fn provider_key() -> $crate::ProviderKey {
            $crate::ProviderKey::new(PROVIDER_KEY)
        }

        /// The catalog file, embedded at build time.
        pub const PROVIDER_JSON: &str = include_str!($json);

        #[doc = concat!(
            "The provider's catalog, checked against the provider schema.\n\n```\nlet catalog = ",
            stringify!($krate), "::catalog().unwrap();\nassert_eq!(catalog.key.as_str(), \"", $key, "\");\n```"
        )]
        pub fn catalog() -> ::std::result::Result<$crate::registry::ProviderCatalog, $crate::registry::CatalogError> {
            $crate::registry::load_catalog(concat!(stringify!($krate), "/provider.json"), PROVIDER_JSON)
        }

        #[cfg(test)]
        mod provider_catalog_tests {
            #[test]
            fn the_shipped_catalog_validates_and_names_this_provider() {
                let catalog = super::catalog().unwrap_or_else(|e| panic!("{e}"));
                assert_eq!(catalog.key.as_str(), super::PROVIDER_KEY);
                assert!(!catalog.objects.is_empty());
                for object in &catalog.objects {
                    assert_eq!(object.field_signature_hash().len(), 64);
                    assert!(object.fields.iter().any(|f| f.identifier), "{} has an identifier", object.key);
                }
            }
        }
    };
}
