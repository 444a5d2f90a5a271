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

/// The catalog file, embedded at build time.
pub const PROVIDER_JSON: &str = include_str!("../provider.json");

/// The provider's catalog, checked against the provider schema.
///
/// ```
/// let catalog = devflow_provider_confluence::catalog().unwrap();
/// assert_eq!(catalog.key.as_str(), "confluence");
/// ```
pub fn catalog()
-> Result<devflow_sync_core::registry::ProviderCatalog, devflow_sync_core::registry::CatalogError> {
    devflow_sync_core::registry::load_catalog(
        "devflow-provider-confluence/provider.json",
        PROVIDER_JSON,
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_shipped_catalog_validates_and_names_this_provider() {
        let catalog = super::catalog().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(catalog.key.as_str(), super::PROVIDER_KEY);
        assert!(!catalog.objects.is_empty());
        for object in &catalog.objects {
            assert_eq!(object.field_signature_hash().len(), 64);
            assert!(
                object.fields.iter().any(|f| f.identifier),
                "{} has an identifier",
                object.key
            );
        }
    }
}
