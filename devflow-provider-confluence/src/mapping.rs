//! The default mapping of host fields to page fields, and the kinds pages stand for.

use devflow_sync_core::hierarchy::KindSet;
use devflow_sync_core::mapping::{FieldMapping, ObjectMapping};
use devflow_sync_core::model::{FieldType, ItemKind};
use devflow_sync_core::{Error, Result};

/// The kinds a page stands for by default: PRD, Epic and Story (Task and Subtask are
/// not pages unless a binding asks for them).
pub fn default_kinds() -> KindSet {
    [ItemKind::Prd, ItemKind::Epic, ItemKind::Story]
        .into_iter()
        .collect()
}

/// The host's `title` is the page title; its `description` (Markdown) is the page's
/// DevFlow section.
///
/// ```
/// let mapping = devflow_provider_confluence::mapping::default_mapping().unwrap();
/// assert_eq!(mapping.provider.as_str(), "confluence");
/// ```
pub fn default_mapping() -> Result<ObjectMapping> {
    let catalog = crate::catalog().map_err(|e| Error::InvalidConfig {
        pointer: "confluence/provider.json".into(),
        message: e.to_string(),
    })?;
    let page = catalog
        .objects
        .into_iter()
        .find(|o| o.key.as_str() == "page")
        .ok_or_else(|| Error::InvalidConfig {
            pointer: "confluence/provider.json/objects".into(),
            message: "the Confluence catalog has no page object".into(),
        })?;
    Ok(ObjectMapping::new(
        crate::PROVIDER_KEY,
        &page,
        vec![
            FieldMapping::identity("title", crate::TITLE, FieldType::Text),
            FieldMapping::identity("description", crate::BODY, FieldType::LongText),
        ],
    ))
}
