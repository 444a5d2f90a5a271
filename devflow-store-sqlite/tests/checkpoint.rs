//! The write-ahead log is copied into the database file in the background after pages
//! are written, not left for a commit to do (SQLite's automatic checkpoint would wait
//! for 256 MiB of log here).

use std::time::{Duration, Instant};

use chrono::Utc;
use devflow_store_sqlite::SqliteStore;
use devflow_sync_core::model::{ConnectionId, ObjectType, ProviderKey};
use devflow_sync_core::store::{
    Direction, LogStatus, PageStore, PageWrites, SyncLogEntry, Trigger,
};

fn line(n: usize) -> SyncLogEntry {
    SyncLogEntry {
        run_id: format!("run-{n}"),
        connection: ConnectionId::new("gh"),
        provider: ProviderKey::new("github"),
        object: ObjectType::new("issue"),
        item: None,
        external: None,
        operation: "update".into(),
        direction: Direction::Pull,
        changes: Vec::new(),
        status: LogStatus::Ok,
        error: Some("x".repeat(4_000)),
        duration_ms: 1,
        trigger: Trigger::Poll,
        request_id: None,
        at: Utc::now(),
    }
}

#[tokio::test]
async fn pages_are_checkpointed_into_the_file_in_the_background() {
    let dir = std::env::temp_dir().join(format!("devflow-checkpoint-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("store.db");
    let store = SqliteStore::open(&path).await.unwrap();
    let before = std::fs::metadata(&path).unwrap().len();
    for page in 0..3 {
        let mut writes = PageWrites::default();
        writes.logs = (0..300).map(|i| line(page * 300 + i)).collect();
        store.apply_page(&writes).await.unwrap();
    }
    // 3.6 MB of log lines: in the log file until a checkpoint copies them over.
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut size = before;
    while Instant::now() < deadline {
        size = std::fs::metadata(&path).unwrap().len();
        if size > before + 3_000_000 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        size > before + 3_000_000,
        "the database file grew from {before} to {size} bytes only: no checkpoint ran"
    );
    drop(store);
    let _ = std::fs::remove_dir_all(&dir);
}
