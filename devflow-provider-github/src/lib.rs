#![doc = include_str!("../docs.md")]

/// The key this provider registers under in the catalog and in `ExternalRef::provider`.
///
/// ```
/// assert_eq!(devflow_provider_github::PROVIDER_KEY, "github");
/// ```
pub const PROVIDER_KEY: &str = "github";

/// The provider key as a typed [`devflow_sync_core::ProviderKey`].
///
/// ```
/// assert_eq!(devflow_provider_github::provider_key().as_str(), "github");
/// ```
pub fn provider_key() -> devflow_sync_core::ProviderKey {
    devflow_sync_core::ProviderKey::new(PROVIDER_KEY)
}
