#![doc = include_str!("../docs.md")]

/// The key this provider registers under in the catalog and in `ExternalRef::provider`.
///
/// ```
/// assert_eq!(devflow_provider_jira::PROVIDER_KEY, "jira");
/// ```
pub const PROVIDER_KEY: &str = "jira";

/// The provider key as a typed [`devflow_sync_core::ProviderKey`].
///
/// ```
/// assert_eq!(devflow_provider_jira::provider_key().as_str(), "jira");
/// ```
pub fn provider_key() -> devflow_sync_core::ProviderKey {
    devflow_sync_core::ProviderKey::new(PROVIDER_KEY)
}
