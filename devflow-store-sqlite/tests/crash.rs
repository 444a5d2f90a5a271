//! Crash safety with real process kills: a child process pulls 10,000 GitHub issues
//! from the simulator into a SQLite file, pushes 50 host items and processes a webhook
//! inbox, and is killed with SIGKILL at random points, 20 times. After every kill the
//! file is checked: no imported item without its link, no link without its item, no
//! host item created twice in GitHub, no cursor ahead of what was applied. A last run
//! completes the sync: every issue linked once, every host item created once, every
//! delivery processed. The test runs its own binary as the child
//! (`DEVFLOW_CRASH_CHILD` set).

use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use devflow_provider_github::{GitHubConfig, GitHubProvider, TokenSource};
use devflow_store_sqlite::SqliteStore;
use devflow_sync_core::Error;
use devflow_sync_core::auth::{AccessToken, WebhookSecret};
use devflow_sync_core::engine::{EngineConfig, ImportMode, PullBudget, SyncEngine};
use devflow_sync_core::http::{HttpClient, HttpConfig, RateLimitConfig};
use devflow_sync_core::model::{ConnectionId, ItemId, ObjectType, ProviderKey, Record};
use devflow_sync_core::store::{MappingStore, WorkItemStore};
use devflow_sync_testkit::github_sim::{GitHubSimulator, WEBHOOK_SECRET};
use devflow_sync_testkit::rng::SimRng;
use serde_json::{Value, json};

const CHILD: &str = "DEVFLOW_CRASH_CHILD";
const DB: &str = "DEVFLOW_CRASH_DB";
const URL: &str = "DEVFLOW_CRASH_URL";
const REPO: &str = "acme/crash";
const TOKEN: &str = "ghp_crash";
const HOST_ITEMS: usize = 50;
const EDITS: usize = 100;
const KILLS: usize = 20;

fn records() -> usize {
    std::env::var("DEVFLOW_CRASH_RECORDS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(10_000)
}

fn db_file() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("sqlite-crash");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("crash.db");
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    path
}

fn engine(url: &str, store: Arc<SqliteStore>, worker: &str) -> SyncEngine {
    let mut http = HttpConfig::default();
    http.rate_limits.insert(
        ProviderKey::new("github"),
        RateLimitConfig {
            requests_per_minute: 1_000_000,
            burst: 10_000,
            max_concurrent_per_connection: 4,
            writes_per_minute: None,
            writes_per_hour: None,
        },
    );
    let mut config = GitHubConfig::new(
        url,
        vec![REPO.into()],
        TokenSource::Static(AccessToken::new(TOKEN)),
    );
    config.webhook_secrets = vec![WebhookSecret::new(WEBHOOK_SECRET)];
    let provider =
        GitHubProvider::new(config, HttpClient::builder().config(http).build().unwrap()).unwrap();
    SyncEngine::builder()
        .provider(Arc::new(provider))
        .bind("gh", "github", "issue")
        .stores(store)
        .config(EngineConfig {
            import_mode: ImportMode::Import,
            // A killed worker's lease lapses soon, so the next one can go on.
            lease_ttl: Duration::from_secs(1),
            // ... and so do the claims on deliveries it held.
            inbox_visibility: Duration::from_secs(1),
            worker_id: format!("worker-{worker}"),
            ..EngineConfig::default()
        })
        .build()
        .unwrap()
}

/// The child: push the host items, process the inbox, pull until done, process the
/// inbox again.
#[tokio::test(flavor = "current_thread")]
async fn crash_child() {
    let (Ok(db), Ok(url)) = (std::env::var(DB), std::env::var(URL)) else {
        return;
    };
    if std::env::var(CHILD).is_err() {
        return;
    }
    let store = Arc::new(SqliteStore::open(&db).await.unwrap());
    let engine = engine(&url, store, &std::process::id().to_string());
    let (conn, object) = (ConnectionId::new("gh"), ObjectType::new("issue"));
    let inbox = || async {
        loop {
            let report = engine.process_inbox(20).await.unwrap();
            if report.outcomes.is_empty() {
                break;
            }
        }
    };
    // Pushes first, so early kills land among the creates.
    for i in 0..HOST_ITEMS {
        let report = engine
            .push(&conn, &object, &ItemId::new(format!("host-{i}")))
            .await
            .unwrap();
        assert_eq!(report.errors, 0, "{}", report.summary());
    }
    inbox().await;
    loop {
        match engine.pull(&conn, &object, PullBudget::UNLIMITED).await {
            Ok(report) if report.errors == 0 => break,
            Ok(_) | Err(Error::Precondition(_)) => {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(e) => panic!("pull: {e}"),
        }
    }
    inbox().await;
}

/// What must hold in the file whenever a worker stops, killed or not. Returns how many
/// records are linked.
async fn check(store: &SqliteStore, sim: &GitHubSimulator, round: usize) -> usize {
    let pool = store.pool();
    let orphans: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM work_items w
         WHERE w.id NOT LIKE 'host-%' AND NOT EXISTS (SELECT 1 FROM links l WHERE l.item = w.id)",
    )
    .fetch_one(pool)
    .await
    .unwrap();
    assert_eq!(orphans, 0, "round {round}: imported items without a link");
    let dangling: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM links l WHERE NOT EXISTS (SELECT 1 FROM work_items w WHERE w.id = l.item)",
    )
    .fetch_one(pool)
    .await
    .unwrap();
    assert_eq!(dangling, 0, "round {round}: links without an item");
    let issues = sim.issues(REPO);
    let mut host_titles: Vec<&str> = issues
        .iter()
        .filter_map(|i| i["title"].as_str())
        .filter(|t| t.starts_with("Host item "))
        .collect();
    let created = host_titles.len();
    host_titles.sort_unstable();
    host_titles.dedup();
    assert_eq!(
        created,
        host_titles.len(),
        "round {round}: a host item created twice"
    );
    let (conn, object) = (ConnectionId::new("gh"), ObjectType::new("issue"));
    let linked: std::collections::HashSet<String> = store
        .links(&conn, &object)
        .await
        .unwrap()
        .into_iter()
        .map(|l| l.remote.id.as_str().to_owned())
        .collect();
    // The cursor never runs ahead of what was applied.
    let cursor: Option<(String,)> =
        sqlx::query_as("SELECT data FROM cursors WHERE connection = 'gh' AND object = 'issue'")
            .fetch_optional(pool)
            .await
            .unwrap();
    if let Some((data,)) = cursor {
        let cursor: Value = serde_json::from_str(&data).unwrap();
        for id in cursor["boundary_ids"].as_array().into_iter().flatten() {
            let id = id.as_str().unwrap();
            assert!(
                linked.contains(id),
                "round {round}: cursor past {id}, not linked"
            );
        }
        if let Some(high) = cursor["high_water"].as_str() {
            let high = chrono::DateTime::parse_from_rfc3339(high).unwrap();
            for issue in &issues {
                let updated =
                    chrono::DateTime::parse_from_rfc3339(issue["updated_at"].as_str().unwrap())
                        .unwrap();
                let id = format!("{REPO}#{}", issue["number"]);
                assert!(
                    updated >= high || linked.contains(&id),
                    "round {round}: {id} changed before the cursor and is not linked"
                );
            }
        }
    }
    linked.len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_at_random_points_the_sync_completes_with_nothing_lost_or_doubled() {
    if std::env::var(CHILD).is_ok() {
        return;
    }
    let n = records();
    let sim = GitHubSimulator::start().await.unwrap();
    sim.add_repo(REPO);
    sim.accept_token(TOKEN);
    sim.seed_issues(REPO, n);
    let path = db_file();
    let store = Arc::new(SqliteStore::open(&path).await.unwrap());
    for i in 0..HOST_ITEMS {
        store
            .create(
                Some(ItemId::new(format!("host-{i}"))),
                Record::new("work_item", chrono::Utc::now())
                    .with_field("title", format!("Host item {i}")),
            )
            .await
            .unwrap();
    }
    // Edits in GitHub arrive as signed deliveries, into the inbox before any worker runs.
    let parent = engine(&sim.url(), store.clone(), "parent");
    for number in 1..=EDITS.min(n) as u64 {
        sim.edit_issue(REPO, number, &json!({"title": format!("Edited {number}")}));
    }
    let _ = sim.take_webhooks();
    let provider = ProviderKey::new("github");
    let conn = ConnectionId::new("gh");
    for number in 1..=EDITS.min(n) as u64 {
        sim.edit_issue(
            REPO,
            number,
            &json!({"title": format!("Edited again {number}")}),
        );
        for (headers, body) in sim.take_webhooks() {
            parent
                .accept_webhook(&provider, &conn, &headers, &body)
                .await
                .unwrap();
        }
    }

    let exe = std::env::current_exe().unwrap();
    let spawn = || {
        Command::new(&exe)
            .args([
                "--exact",
                "crash_child",
                "--nocapture",
                "--test-threads",
                "1",
            ])
            .env(CHILD, "1")
            .env(DB, &path)
            .env(URL, sim.url())
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap()
    };
    // Short lives, so the kills land all through the work: the inbox, the pages of
    // the pull, the pushes. Between two lives people keep editing in GitHub.
    let seed = std::env::var("DEVFLOW_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x5eed_c4a5);
    let mut rng = SimRng::new(seed);
    let mut progress = Vec::with_capacity(KILLS);
    let mut base_ms: u64 = 150;
    for round in 0..KILLS {
        let mut child = spawn();
        let delay = Duration::from_millis(base_ms + rng.below(3 * base_ms as usize) as u64);
        tokio::time::sleep(delay).await;
        let _ = child.kill();
        let _ = child.wait();
        let linked = check(&store, &sim, round).await;
        // On a fast machine a life gets through much of the pull: shorter lives then,
        // so the kills keep landing all through it.
        let before = progress.last().copied().unwrap_or(0);
        if linked.saturating_sub(before) > n / 10 && base_ms > 40 {
            base_ms /= 2;
        }
        progress.push(linked);
        let number = 1 + rng.below(n) as u64;
        sim.edit_issue(
            REPO,
            number,
            &json!({"body": format!("Edited in round {round}")}),
        );
        for (headers, body) in sim.take_webhooks() {
            let _ = parent
                .accept_webhook(&provider, &conn, &headers, &body)
                .await;
        }
    }
    drop(parent);
    let mid_pull = progress.iter().filter(|&&l| l > 0 && l < n).count();
    assert!(
        mid_pull >= 5,
        "kills landed mid-pull in only {mid_pull} rounds: {progress:?}"
    );
    // Shown with --nocapture: how far each life got.
    #[allow(clippy::print_stdout)]
    {
        println!("seed {seed}: linked records after each kill: {progress:?}");
    }
    // The last killed worker's lease and claims lapse; then one run to the end.
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    let started = Instant::now();
    let status = spawn().wait().unwrap();
    assert!(status.success(), "the last run failed");
    check(&store, &sim, KILLS).await;

    // Complete: every issue linked once, every host item created once, every delivery
    // processed and applied.
    let (conn, object) = (ConnectionId::new("gh"), ObjectType::new("issue"));
    let links = store.links(&conn, &object).await.unwrap();
    assert_eq!(
        links.len(),
        n + HOST_ITEMS,
        "finished in {:?}",
        started.elapsed()
    );
    let host_created = sim
        .issues(REPO)
        .iter()
        .filter(|i| {
            i["title"]
                .as_str()
                .is_some_and(|t| t.starts_with("Host item "))
        })
        .count();
    assert_eq!(host_created, HOST_ITEMS);
    let pending: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM inbox WHERE status != 'processed'")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(pending, 0);
    for number in [1u64, EDITS.min(n) as u64] {
        let item = store
            .item_of_external(&conn, &object, &format!("{REPO}#{number}").into())
            .await
            .unwrap()
            .unwrap();
        let item = WorkItemStore::get(store.as_ref(), &item)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            item.record.fields.get("title").as_str(),
            Some(format!("Edited again {number}").as_str())
        );
    }
}
