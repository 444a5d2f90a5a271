//! What the pull benches share: a provider holding `records` typical records (a 2 KB
//! description each), an epic every hundred with its stories under it.

use std::sync::Arc;

use devflow_sync::clock::ManualClock;
use devflow_sync::model::{ExternalId, FieldValue, ItemKind, ObjectType};
use devflow_sync_testkit::items::typical_fields;
use devflow_sync_testkit::memory_provider::MemoryProvider;

/// The provider, its webhooks for the creates already taken.
pub(crate) fn provider(
    clock: &Arc<ManualClock>,
    records: usize,
    secret: &str,
) -> Arc<MemoryProvider> {
    let remote = Arc::new(MemoryProvider::new("memory", clock.clone()).with_webhook_secret(secret));
    let object = ObjectType::new("issue");
    let mut fields = typical_fields();
    fields.insert("status", FieldValue::enumeration("todo"));
    let mut epic: Option<ExternalId> = None;
    for i in 0..records {
        clock.advance(std::time::Duration::from_millis(1));
        let mut f = fields.clone();
        f.insert("title", format!("record {i}"));
        if i % 100 == 0 {
            epic = Some(
                remote
                    .remote_create(&object, Some(ItemKind::Epic), None, f)
                    .id,
            );
        } else {
            remote.remote_create(&object, Some(ItemKind::Story), epic.clone(), f);
        }
    }
    remote.take_webhooks();
    remote
}
