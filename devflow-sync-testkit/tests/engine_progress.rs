//! Progress of long operations reaches the host's observer.

use std::sync::{Arc, Mutex};

use devflow_sync_core::engine::{ImportMode, Progress, ProgressObserver};
use devflow_sync_core::merge::Manual;
use devflow_sync_core::model::{Fields, ItemKind, Record};
use devflow_sync_core::store::WorkItemStore;
use devflow_sync_testkit::harness::Harness;

#[derive(Debug, Default)]
struct Seen(Mutex<Vec<Progress>>);

impl ProgressObserver for Seen {
    fn progress(&self, p: &Progress) {
        self.0.lock().unwrap().push(p.clone());
    }
}

#[tokio::test]
async fn a_pull_and_a_tree_push_tell_how_far_they_got() {
    let seen = Arc::new(Seen::default());
    let observer = seen.clone();
    let h = Harness::with(Manual, move |b| {
        b.import_mode(ImportMode::Import).progress(observer)
    });
    let epic = h.remote.remote_create(
        &h.object,
        Some(ItemKind::Epic),
        None,
        Fields::new().with("title", "E"),
    );
    for i in 0..249 {
        h.tick(std::time::Duration::from_millis(1));
        h.remote.remote_create(
            &h.object,
            Some(ItemKind::Story),
            Some(epic.id.clone()),
            Fields::new().with("title", format!("S{i}")),
        );
    }
    h.pull().await.unwrap();
    let pulls: Vec<(usize, usize, bool)> = seen
        .0
        .lock()
        .unwrap()
        .iter()
        .filter(|p| p.operation == "pull")
        .map(|p| (p.pages, p.done, p.finished))
        .collect();
    assert_eq!(pulls, [(1, 100, false), (2, 200, false), (3, 250, true)]);

    let prd = h
        .items
        .create(
            None,
            Record::new("work_item", chrono::Utc::now())
                .with_kind(ItemKind::Prd)
                .with_field("title", "P"),
        )
        .await
        .unwrap()
        .id;
    for i in 0..3 {
        let mut r = Record::new("work_item", chrono::Utc::now())
            .with_kind(ItemKind::Epic)
            .with_field("title", format!("E{i}"));
        r.parent = Some(prd.clone());
        h.items.create(None, r).await.unwrap();
    }
    h.engine
        .push_tree(&h.connection, &h.object, &prd)
        .await
        .unwrap();
    let pushes: Vec<(usize, Option<usize>, bool)> = seen
        .0
        .lock()
        .unwrap()
        .iter()
        .filter(|p| p.operation == "push_tree")
        .map(|p| (p.done, p.total, p.finished))
        .collect();
    assert_eq!(
        pushes,
        [(1, Some(4), false), (4, Some(4), true)],
        "level by level"
    );
}
