//! The typed provider catalog.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::model::{FieldType, ObjectType, ProviderKey};

/// An OAuth flow a provider supports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuthFlowKind {
    /// Authorization code (with PKCE where the provider takes it).
    AuthorizationCode,
    /// Client credentials.
    ClientCredentials,
    /// A token a person pastes (API token, personal access token).
    ApiToken,
    /// An app installation's tokens, minted from a JWT signed with the app's private
    /// key (GitHub Apps).
    AppInstallation,
}

/// How a provider authenticates.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuthSpec {
    /// The flows offered.
    pub flows: Vec<AuthFlowKind>,
    /// The authorization endpoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_url: Option<String>,
    /// The token endpoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_url: Option<String>,
    /// The scopes asked for.
    #[serde(default)]
    pub scopes: Vec<String>,
    /// Whether PKCE is used.
    #[serde(default)]
    pub pkce: bool,
    /// The token endpoint answers errors with HTTP 200 and an `error` field (GitHub).
    #[serde(default)]
    pub errors_as_200: bool,
    /// Client credentials go in the request body rather than HTTP basic auth.
    #[serde(default)]
    pub credentials_in_body: bool,
    /// The token endpoint takes JSON bodies rather than forms (Atlassian).
    #[serde(default)]
    pub json_token_requests: bool,
    /// Extra authorization-request parameters (Atlassian: `audience`, `prompt`).
    #[serde(default)]
    pub auth_params: BTreeMap<String, String>,
}

/// A value integration rules for a provider must hold: the value at `pointer` in the
/// rule (its default when absent) must equal `equals`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RuleConstraint {
    /// A JSON pointer into the rule (`/includeChildren`).
    pub pointer: String,
    /// The only value allowed.
    pub equals: serde_json::Value,
    /// Why, for a person.
    pub message: String,
}

/// Where a required header's value comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HeaderSource {
    /// An environment variable (`envKey`).
    Env,
    /// The connection's settings.
    Connection,
}

/// A header every request must carry.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RequiredHeader {
    /// The header name.
    pub key: String,
    /// What a person reads.
    pub label: String,
    /// Where the value comes from.
    pub source: HeaderSource,
    /// The environment variable, for `env`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub env_key: Option<String>,
}

/// A provider's request limits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RateLimits {
    /// Requests per minute per provider.
    pub requests_per_minute: u32,
    /// Requests that may go at once.
    pub burst: u32,
    /// Requests in flight per connection.
    pub max_concurrent_per_connection: u32,
    /// A limit across every tenant of the app, when the provider has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub global_requests_per_minute: Option<u32>,
    /// Requests that write (create, change, delete) per minute, when the provider
    /// limits them apart (GitHub's content-creation limit: 80).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub writes_per_minute: Option<u32>,
    /// Requests that write per hour (GitHub: 500).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub writes_per_hour: Option<u32>,
}

impl RateLimits {
    /// As the HTTP client's setting.
    pub fn to_http(&self) -> crate::http::RateLimitConfig {
        crate::http::RateLimitConfig {
            requests_per_minute: self.requests_per_minute,
            burst: self.burst,
            max_concurrent_per_connection: self.max_concurrent_per_connection as usize,
            writes_per_minute: self.writes_per_minute,
            writes_per_hour: self.writes_per_hour,
        }
    }
}

/// One field a provider object offers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FieldSpec {
    /// The provider's field name.
    pub name: String,
    /// Its type.
    #[serde(rename = "type")]
    pub field_type: FieldType,
    /// Whether it may be empty.
    #[serde(default)]
    pub nullable: bool,
    /// Whether it identifies the record (an id, a key, a number).
    #[serde(default)]
    pub identifier: bool,
    /// Whether only the provider writes it.
    #[serde(default)]
    pub read_only: bool,
}

/// What can be done with an object.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CapabilitySpec {
    /// Records can be listed.
    pub list: bool,
    /// Listing can be limited to changes.
    pub delta: bool,
    /// Records can be created.
    pub create: bool,
    /// Records can be updated.
    pub update: bool,
    /// Records can be deleted.
    pub delete: bool,
    /// Changes come by webhook.
    pub webhook: bool,
    /// Updates can be made conditional on the record's version (default false).
    #[serde(default)]
    pub conditional_update: bool,
    /// A marker (the host's item id) can be written into a record and found again
    /// (default false).
    #[serde(default)]
    pub markers: bool,
}

/// How an object's records nest.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HierarchySpec {
    /// The field naming the parent.
    pub parent_key: String,
    /// Which records are children, in the provider's terms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub child_predicate: Option<String>,
}

/// A named filter a rule can use, and how it is pushed into the provider's query.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FilterSpec {
    /// The query fragment, with `{value}` where the rule's value goes.
    pub query: String,
    /// What a person reads.
    #[serde(default)]
    pub description: String,
}

/// One object type a provider offers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectCatalog {
    /// The object key (`issue`, `page`, `project`).
    pub key: ObjectType,
    /// What a person reads.
    pub label: String,
    /// The version of the mapping format for this object.
    pub mapping_schema_version: u32,
    /// The fields.
    pub fields: Vec<FieldSpec>,
    /// What can be done.
    pub capabilities: CapabilitySpec,
    /// How records nest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hierarchy: Option<HierarchySpec>,
    /// Named filters.
    #[serde(default)]
    pub filters: BTreeMap<String, FilterSpec>,
}

impl ObjectCatalog {
    /// What a provider can do with the object, as the catalog declares it; a provider
    /// answers [`Provider::capabilities`](crate::provider::Provider::capabilities) with
    /// this, so the catalog is the one source. `hierarchy` is whether the object
    /// declares how its records nest.
    pub fn capabilities(&self) -> crate::provider::Capabilities {
        let c = self.capabilities;
        crate::provider::Capabilities {
            list: c.list,
            delta: c.delta,
            create: c.create,
            update: c.update,
            conditional_update: c.conditional_update,
            delete: c.delete,
            webhook: c.webhook,
            markers: c.markers,
            hierarchy: self.hierarchy.is_some(),
        }
    }

    /// A field by name.
    pub fn field(&self, name: &str) -> Option<&FieldSpec> {
        self.fields.iter().find(|f| f.name == name)
    }

    /// A stable hash of the field catalog (names, types, flags; order does not matter),
    /// stored with mappings to notice when the provider's fields change.
    ///
    /// ```
    /// use devflow_sync_core::registry::{load_catalog, ObjectCatalog};
    /// # let json = r#"{"providerSchemaVersion":1,"key":"demo","displayName":"Demo","oauth":{"flows":["api_token"]},"rateLimits":{"requestsPerMinute":60,"burst":5,"maxConcurrentPerConnection":2},"objects":[{"key":"issue","label":"Issue","mappingSchemaVersion":1,"fields":[{"name":"title","type":"text"},{"name":"labels","type":"set"}],"capabilities":{"list":true,"delta":true,"create":true,"update":true,"delete":false,"webhook":false}}]}"#;
    /// let catalog = load_catalog("demo.json", json).unwrap();
    /// let hash = catalog.objects[0].field_signature_hash();
    /// assert_eq!(hash.len(), 64);
    /// ```
    pub fn field_signature_hash(&self) -> String {
        let mut lines: Vec<String> = self
            .fields
            .iter()
            .map(|f| {
                format!(
                    "{}\u{1f}{}\u{1f}{}\u{1f}{}",
                    f.name,
                    f.field_type.as_str(),
                    f.nullable,
                    f.read_only
                )
            })
            .collect();
        lines.sort();
        let digest = Sha256::digest(lines.join("\n").as_bytes());
        digest.iter().map(|b| format!("{b:02x}")).collect()
    }
}

/// How a provider signs webhooks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WebhookSignature {
    /// HMAC-SHA256 of the raw body.
    HmacSha256,
    /// A shared token in a header.
    SharedToken,
    /// A signed JWT in `Authorization`.
    Jwt,
    /// Nothing.
    None,
}

/// The webhooks a provider sends.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookSpec {
    /// The event names.
    pub events: Vec<String>,
    /// How deliveries are signed.
    pub signature: WebhookSignature,
}

/// A provider's catalog, as read from its `provider.json`. Unknown keys are ignored by
/// the typed view and kept in [`ProviderCatalog::raw`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProviderCatalog {
    /// The catalog format version.
    pub provider_schema_version: u32,
    /// The provider key.
    pub key: ProviderKey,
    /// What a person reads.
    pub display_name: String,
    /// Authentication.
    pub oauth: AuthSpec,
    /// Headers every request carries.
    #[serde(default)]
    pub required_headers: Vec<RequiredHeader>,
    /// Base URLs by variant (`prod`, `sandbox`, regions).
    #[serde(default)]
    pub base_url_variants: BTreeMap<String, String>,
    /// Request limits.
    pub rate_limits: RateLimits,
    /// The objects offered.
    pub objects: Vec<ObjectCatalog>,
    /// What integration rules for this provider must say (BQE: never sub-projects).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rule_constraints: Vec<RuleConstraint>,
    /// Webhooks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhooks: Option<WebhookSpec>,
    /// The whole document as loaded, unknown keys included.
    #[serde(skip)]
    pub raw: serde_json::Value,
}

impl ProviderCatalog {
    /// An object's catalog.
    pub fn object(&self, key: &str) -> Option<&ObjectCatalog> {
        self.objects.iter().find(|o| o.key.as_str() == key)
    }

    /// HTTP settings with this provider's rate limits, each overridable through
    /// `lookup` (`DEVFLOW_SYNC_{KEY}_REQUESTS_PER_MINUTE`, `_BURST`, ...; see
    /// [`RateLimits::override_from`]).
    pub fn http_config(
        &self,
        lookup: impl Fn(&str) -> Option<String>,
    ) -> crate::Result<crate::http::HttpConfig> {
        let limits = self
            .rate_limits
            .override_from(self.key.as_str(), lookup)?
            .to_http();
        let mut config = crate::http::HttpConfig::default();
        config.rate_limits.insert(self.key.clone(), limits);
        Ok(config)
    }

    /// An HTTP client with [`ProviderCatalog::http_config`].
    pub fn http_client(
        &self,
        lookup: impl Fn(&str) -> Option<String>,
    ) -> crate::Result<crate::http::HttpClient> {
        crate::http::HttpClient::builder()
            .config(self.http_config(lookup)?)
            .build()
    }
}
