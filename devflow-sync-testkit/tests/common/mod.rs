//! What the engine test files share.

#![allow(dead_code)]

use devflow_sync_core::model::{Fields, ItemId};
use devflow_sync_core::store::{ItemUpdate, WorkItemStore};
use devflow_sync_testkit::harness::Harness;

pub(crate) fn title(t: &str) -> Fields {
    Fields::new().with("title", t)
}

pub(crate) async fn pull(h: &Harness) -> devflow_sync_core::engine::SyncReport {
    h.pull().await.unwrap()
}

pub(crate) async fn set_title(h: &Harness, id: &ItemId, value: &str) {
    let item = h.items.get(id).await.unwrap().unwrap();
    let old = item.record.fields.get("title").clone();
    h.items
        .update(
            id,
            &ItemUpdate {
                changes: vec![devflow_sync_core::model::FieldChange::new(
                    "title", old, value,
                )],
                ..Default::default()
            },
            None,
        )
        .await
        .unwrap();
}
