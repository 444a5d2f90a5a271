//! A pull writes consecutive pages together (`EngineConfig::write_group`): fewer
//! transactions, the cursor always with the last page written; a listing that fails
//! midway keeps what was applied, and the next pull goes on from there without a
//! duplicate.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use devflow_sync_core::Result;
use devflow_sync_core::clock::ManualClock;
use devflow_sync_core::engine::{
    EngineConfig, ImportMode, Progress, ProgressObserver, PullBudget, SyncEngine,
};
use devflow_sync_core::merge::Manual;
use devflow_sync_core::model::{ConnectionId, Fields, ItemId, ItemKind, ObjectType};
use devflow_sync_core::store::memory::{
    MemoryJournal, MemoryMappings, MemoryPageStore, MemoryWorkItems,
};
use devflow_sync_core::store::{MappingStore, PageStore, PageWrites};
use devflow_sync_testkit::memory_provider::{FaultKind, MemoryProvider, Op};

/// The in-memory page store, counting what it is asked to write.
#[derive(Debug)]
struct Counting {
    inner: MemoryPageStore,
    /// Records written by each call, and whether it carried the cursor.
    writes: Mutex<Vec<(usize, bool)>>,
}

#[async_trait]
impl PageStore for Counting {
    async fn reserve_item_ids(&self, n: usize) -> Result<Vec<ItemId>> {
        self.inner.reserve_item_ids(n).await
    }

    async fn apply_page(&self, page: &PageWrites) -> Result<()> {
        self.writes
            .lock()
            .unwrap()
            .push((page.items.len(), page.cursor.is_some()));
        self.inner.apply_page(page).await
    }
}

/// After the second page is applied, the fetch after the next one fails (the next page
/// is fetched while one is applied).
#[derive(Debug)]
struct FailFourthFetch {
    remote: Arc<MemoryProvider>,
    armed: AtomicUsize,
}

impl ProgressObserver for FailFourthFetch {
    fn progress(&self, p: &Progress) {
        if p.operation == "pull" && p.pages == 2 && self.armed.swap(0, Ordering::SeqCst) == 1 {
            self.remote.fail_next(Op::List, FaultKind::Transient);
        }
    }
}

struct Case {
    remote: Arc<MemoryProvider>,
    mappings: Arc<MemoryMappings>,
    pages: Arc<Counting>,
    engine: SyncEngine,
}

fn case(group: usize, fail_midway: bool) -> Case {
    let clock = Arc::new(ManualClock::starting_at_epoch_secs(1_780_000_000));
    let remote = Arc::new(MemoryProvider::new("memory", clock.clone()));
    let object = ObjectType::new("issue");
    for i in 0..1000 {
        clock.advance(std::time::Duration::from_millis(1));
        remote.remote_create(
            &object,
            Some(ItemKind::Epic),
            None,
            Fields::new().with("title", format!("epic {i}")),
        );
    }
    let items = Arc::new(MemoryWorkItems::with_clock(clock.clone()));
    let mappings = Arc::new(MemoryMappings::new());
    let journal = Arc::new(MemoryJournal::new());
    let pages = Arc::new(Counting {
        inner: MemoryPageStore::new(items.clone(), mappings.clone(), journal.clone()),
        writes: Mutex::new(Vec::new()),
    });
    let config = EngineConfig {
        import_mode: ImportMode::Import,
        write_group: group,
        ..EngineConfig::default()
    };
    let mut builder = SyncEngine::builder()
        .provider(remote.clone())
        .bind("conn", "memory", "issue")
        .work_items(items)
        .mappings(mappings.clone())
        .journal(journal)
        .page_store(pages.clone())
        .clock(clock)
        .policy(Arc::new(Manual))
        .config(config);
    if fail_midway {
        builder = builder.progress(Arc::new(FailFourthFetch {
            remote: remote.clone(),
            armed: AtomicUsize::new(1),
        }));
    }
    Case {
        remote,
        mappings,
        pages,
        engine: builder.build().unwrap(),
    }
}

impl Case {
    async fn pull(&self) -> Result<devflow_sync_core::engine::SyncReport> {
        self.engine
            .pull(
                &ConnectionId::new("conn"),
                &ObjectType::new("issue"),
                PullBudget::UNLIMITED,
            )
            .await
    }

    async fn links(&self) -> usize {
        self.mappings
            .links(&ConnectionId::new("conn"), &ObjectType::new("issue"))
            .await
            .unwrap()
            .len()
    }

    fn writes(&self) -> Vec<(usize, bool)> {
        self.pages.writes.lock().unwrap().clone()
    }
}

#[tokio::test]
async fn ten_pages_are_two_writes_of_five_each_with_the_cursor() {
    let c = case(500, false);
    let report = c.pull().await.unwrap();
    assert_eq!(report.created, 1000);
    assert_eq!(c.writes(), vec![(500, true), (500, true)]);
    assert_eq!(c.links().await, 1000);
    // A quiet pull finds everything and writes no item.
    let again = c.pull().await.unwrap();
    assert_eq!(again.created, 0, "{}", again.summary());
    assert_eq!(c.links().await, 1000);
    assert_eq!(
        c.remote.calls_of(Op::Create),
        0,
        "a pull creates nothing remotely"
    );
}

#[tokio::test]
async fn a_group_of_one_writes_every_page() {
    let c = case(1, false);
    c.pull().await.unwrap();
    assert_eq!(c.writes(), vec![(100, true); 10]);
}

#[tokio::test]
async fn a_failed_fetch_keeps_the_pages_held_and_the_next_pull_goes_on() {
    let c = case(500, true);
    let err = c.pull().await.unwrap_err();
    assert!(err.is_retryable(), "{err:?}");
    // The three pages applied before the failure are written, with the cursor after
    // the third.
    assert_eq!(c.writes(), vec![(300, true)]);
    assert_eq!(c.links().await, 300);
    let cursor = c
        .mappings
        .cursor(&ConnectionId::new("conn"), &ObjectType::new("issue"))
        .await
        .unwrap()
        .unwrap();
    assert!(cursor.pass.is_some(), "the cursor is midway: {cursor:?}");
    let report = c.pull().await.unwrap();
    assert_eq!(report.created, 700, "{}", report.summary());
    assert_eq!(c.links().await, 1000, "nothing twice");
}
