//! The engine on SQLite stores: a restart (the store reopened from its file) keeps
//! every link, cursor and delivery id, so nothing is imported, created or applied
//! twice; tokens held through the encrypting store never reach the file in plaintext.

use std::path::PathBuf;
use std::sync::Arc;

use devflow_store_sqlite::SqliteStore;
use devflow_sync_core::auth::{EncryptedTokenStore, KeyRing};
use devflow_sync_core::clock::ManualClock;
use devflow_sync_core::engine::{ImportMode, PullBudget, SyncEngine};
use devflow_sync_core::hierarchy::HierarchyRules;
use devflow_sync_core::memory_provider::MemoryProvider;
use devflow_sync_core::model::{ConnectionId, Fields, ItemKind, ObjectType, ProviderKey, Record};
use devflow_sync_core::store::{Credentials, MappingStore, TokenStore, WorkItemStore};

const SECRET: &str = "hook-secret";

fn db_file(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("sqlite-engine");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("{name}.db"));
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    path
}

fn engine(
    store: &Arc<SqliteStore>,
    remote: &Arc<MemoryProvider>,
    clock: &Arc<ManualClock>,
) -> SyncEngine {
    SyncEngine::builder()
        .provider(remote.clone())
        .bind("conn-1", "memory", "issue")
        .stores(store.clone())
        .clock(clock.clone())
        .rules(HierarchyRules::devflow())
        .import_mode(ImportMode::Import)
        .build()
        .unwrap()
}

#[tokio::test]
async fn a_restart_keeps_links_cursors_and_delivery_ids() {
    let path = db_file("restart");
    let clock = Arc::new(ManualClock::starting_at_epoch_secs(1_780_000_000));
    let remote = Arc::new(MemoryProvider::new("memory", clock.clone()).with_webhook_secret(SECRET));
    let (conn, object) = (ConnectionId::new("conn-1"), ObjectType::new("issue"));
    for i in 0..40 {
        remote.remote_create(
            &object,
            Some(ItemKind::Epic),
            None,
            Fields::new().with("title", format!("Epic {i}")),
        );
    }
    let _ = remote.take_webhooks();
    let open = || async {
        Arc::new(
            SqliteStore::builder()
                .path(&path)
                .clock(clock.clone())
                .open()
                .await
                .unwrap(),
        )
    };

    // First process: imports everything and pushes a new host item.
    let store = open().await;
    let first = engine(&store, &remote, &clock);
    let report = first
        .pull(&conn, &object, PullBudget::UNLIMITED)
        .await
        .unwrap();
    assert_eq!(report.created, 40, "{}", report.summary());
    let epic = store
        .create(
            None,
            Record::new(
                "work_item",
                devflow_sync_core::clock::Clock::now(clock.as_ref()),
            )
            .with_kind(ItemKind::Epic)
            .with_field("title", "Made in the host"),
        )
        .await
        .unwrap();
    first.push(&conn, &object, &epic.id).await.unwrap();
    assert_eq!(remote.records(&object).len(), 41);
    // The echo of the engine's own create is not this test's subject.
    let _ = remote.take_webhooks();
    drop(first);
    store.close().await;
    drop(store);

    // A person edits a record; the webhook arrives after the restart, twice.
    clock.advance(std::time::Duration::from_secs(60));
    let edited = remote.records(&object)[3].id.clone();
    remote
        .remote_edit(
            &object,
            &edited,
            Fields::new().with("title", "Edited in the provider"),
        )
        .unwrap();
    let hooks = remote.take_webhooks();
    assert_eq!(hooks.len(), 1);

    // Second process on the same file: nothing new to import, nothing pushed again.
    let store = open().await;
    let second = engine(&store, &remote, &clock);
    let again = second
        .pull(&conn, &object, PullBudget::UNLIMITED)
        .await
        .unwrap();
    assert_eq!(again.created, 0, "{}", again.summary());
    second.push(&conn, &object, &epic.id).await.unwrap();
    assert_eq!(
        remote.records(&object).len(),
        41,
        "no duplicate remote create"
    );
    assert_eq!(store.links(&conn, &object).await.unwrap().len(), 41);
    let provider = ProviderKey::new("memory");
    for hook in hooks.iter().chain(hooks.iter()) {
        let _ = second
            .accept_webhook(&provider, &conn, &hook.headers, &hook.body)
            .await;
    }
    let processed = second.process_inbox(10).await.unwrap();
    assert!(processed.errors == 0, "{}", processed.summary());
    let item = store
        .item_of_external(&conn, &object, &edited)
        .await
        .unwrap()
        .unwrap();
    let item = WorkItemStore::get(store.as_ref(), &item)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        item.record.fields.get("title").as_str(),
        Some("Edited in the provider")
    );
    // The repeated delivery was refused at the door: one inbox row.
    let rows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM inbox")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(rows, 1);
    let third = second.process_inbox(10).await.unwrap();
    assert_eq!(third.updated + third.created, 0, "{}", third.summary());
}

#[tokio::test]
async fn tokens_reach_the_file_only_as_ciphertext() {
    let path = db_file("tokens");
    let store = SqliteStore::open(&path).await.unwrap();
    let ring = KeyRing::new().with_key("k1", [7u8; 32]).unwrap();
    let tokens = EncryptedTokenStore::new(store.clone(), ring, "acme");
    let access = "gho_plaintext_access_token_0123456789";
    let refresh = "ghr_plaintext_refresh_token_9876543210";
    let mut credentials = Credentials::bearer(access);
    credentials.refresh_token = Some(refresh.to_owned().into());
    let conn = ConnectionId::new("gh");
    tokens
        .put(&conn, &ProviderKey::new("github"), &credentials, None)
        .await
        .unwrap();
    let back = tokens.get(&conn).await.unwrap().unwrap();
    assert!(back.credentials.same_secrets(&credentials));
    store.close().await;
    let mut bytes = Vec::new();
    for suffix in ["", "-wal"] {
        bytes.extend(std::fs::read(format!("{}{suffix}", path.display())).unwrap_or_default());
    }
    assert!(bytes.len() > 4096, "the database was written");
    for secret in [access, refresh] {
        assert!(
            !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
            "{secret} is in the file"
        );
    }
}

/// The same provider history pulled through memory stores (one write per step) and
/// through SQLite with its page store (a page's writes together) ends the same: the
/// same reports, the same tree in the host, the same conflicts, and the orphan's
/// conflict settled once its parent is set.
#[tokio::test]
async fn pages_written_together_sync_the_same_as_one_write_at_a_time() {
    use devflow_sync_core::engine::EngineConfig;
    use devflow_sync_core::store::{ConflictStatus, ConflictStore};

    async fn run(with_sqlite: bool) -> (Vec<String>, Vec<(String, Option<String>)>, usize) {
        let clock = Arc::new(ManualClock::starting_at_epoch_secs(1_780_000_000));
        let remote = Arc::new(MemoryProvider::new("memory", clock.clone()));
        let (conn, object) = (ConnectionId::new("conn-1"), ObjectType::new("issue"));
        let mut epics = Vec::new();
        for e in 0..3 {
            clock.advance(std::time::Duration::from_secs(1));
            let epic = remote.remote_create(
                &object,
                Some(ItemKind::Epic),
                None,
                Fields::new().with("title", format!("Epic {e}")),
            );
            for s in 0..7 {
                remote.remote_create(
                    &object,
                    Some(ItemKind::Story),
                    Some(epic.id.clone()),
                    Fields::new().with("title", format!("Story {e}.{s}")),
                );
            }
            epics.push(epic.id);
        }
        let orphan = remote.remote_create(
            &object,
            Some(ItemKind::Story),
            None,
            Fields::new().with("title", "Orphan story"),
        );
        let config = EngineConfig {
            import_mode: ImportMode::Import,
            page_size: 5,
            ..EngineConfig::default()
        };
        let builder = SyncEngine::builder()
            .provider(remote.clone())
            .bind("conn-1", "memory", "issue")
            .clock(clock.clone())
            .rules(HierarchyRules::devflow())
            .config(config);
        let sqlite = Arc::new(
            SqliteStore::builder()
                .clock(clock.clone())
                .open()
                .await
                .unwrap(),
        );
        let memory_items =
            Arc::new(devflow_sync_core::store::memory::MemoryWorkItems::with_clock(clock.clone()));
        let memory_maps = Arc::new(devflow_sync_core::store::memory::MemoryMappings::new());
        let memory_journal = Arc::new(devflow_sync_core::store::memory::MemoryJournal::new());
        let engine = if with_sqlite {
            builder.stores(sqlite.clone()).build().unwrap()
        } else {
            builder
                .work_items(memory_items.clone())
                .mappings(memory_maps.clone())
                .journal(memory_journal.clone())
                .build()
                .unwrap()
        };
        let items: &dyn WorkItemStore = if with_sqlite {
            sqlite.as_ref()
        } else {
            memory_items.as_ref()
        };
        let maps: &dyn MappingStore = if with_sqlite {
            sqlite.as_ref()
        } else {
            memory_maps.as_ref()
        };
        let journal: &dyn ConflictStore = if with_sqlite {
            sqlite.as_ref()
        } else {
            memory_journal.as_ref()
        };
        let mut reports = Vec::new();
        let first = engine
            .pull(&conn, &object, PullBudget::UNLIMITED)
            .await
            .unwrap();
        reports.push(format!(
            "{} {} {}",
            first.created, first.conflicts, first.errors
        ));
        let pending = journal
            .conflicts(&conn, Some(ConflictStatus::Pending))
            .await
            .unwrap();
        assert_eq!(pending.len(), 1, "the orphan is a conflict");
        // The orphan gets a parent in the provider; the next pull imports it.
        clock.advance(std::time::Duration::from_secs(5));
        remote
            .remote_set_parent(&object, &orphan.id, Some(epics[1].clone()))
            .unwrap();
        let second = engine
            .pull(&conn, &object, PullBudget::UNLIMITED)
            .await
            .unwrap();
        reports.push(format!(
            "{} {} {}",
            second.created, second.conflicts, second.errors
        ));
        let settled = journal
            .conflicts(&conn, Some(ConflictStatus::Pending))
            .await
            .unwrap()
            .len();
        // The host tree, by titles: each item's title and its parent's title.
        let mut tree = Vec::new();
        for link in maps.links(&conn, &object).await.unwrap() {
            let item = items.get(&link.item).await.unwrap().unwrap();
            let parent = match &item.record.parent {
                Some(p) => items
                    .get(p)
                    .await
                    .unwrap()
                    .and_then(|p| p.record.fields.get("title").as_str().map(str::to_owned)),
                None => None,
            };
            tree.push((
                item.record
                    .fields
                    .get("title")
                    .as_str()
                    .unwrap_or("")
                    .to_owned(),
                parent,
            ));
        }
        tree.sort();
        (reports, tree, settled)
    }

    let (memory_reports, memory_tree, memory_pending) = run(false).await;
    let (sqlite_reports, sqlite_tree, sqlite_pending) = run(true).await;
    assert_eq!(memory_reports, ["24 1 0", "1 0 0"]);
    assert_eq!(sqlite_reports, memory_reports);
    assert_eq!(sqlite_tree, memory_tree);
    assert_eq!(memory_tree.len(), 25);
    assert!(memory_tree.contains(&("Orphan story".into(), Some("Epic 1".into()))));
    assert!(memory_tree.contains(&("Story 2.6".into(), Some("Epic 2".into()))));
    assert_eq!((memory_pending, sqlite_pending), (0, 0));
}
