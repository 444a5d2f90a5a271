#![doc = include_str!("../docs.md")]

/// The key this provider registers under in the catalog and in `ExternalRef::provider`.
///
/// ```
/// assert_eq!(devflow_provider_confluence::PROVIDER_KEY, "confluence");
/// ```
pub const PROVIDER_KEY: &str = "confluence";

/// The provider key as a typed [`devflow_sync_core::ProviderKey`].
///
/// ```
/// assert_eq!(devflow_provider_confluence::provider_key().as_str(), "confluence");
/// ```
pub fn provider_key() -> devflow_sync_core::ProviderKey {
    devflow_sync_core::ProviderKey::new(PROVIDER_KEY)
}
