#![doc = include_str!("../docs.md")]

/// The key this provider registers under in the catalog and in `ExternalRef::provider`.
///
/// ```
/// assert_eq!(devflow_provider_bqe::PROVIDER_KEY, "bqe");
/// ```
pub const PROVIDER_KEY: &str = "bqe";

/// The provider key as a typed [`devflow_sync_core::ProviderKey`].
///
/// ```
/// assert_eq!(devflow_provider_bqe::provider_key().as_str(), "bqe");
/// ```
pub fn provider_key() -> devflow_sync_core::ProviderKey {
    devflow_sync_core::ProviderKey::new(PROVIDER_KEY)
}
