//! Posting many webhook deliveries at once, for the load test and its bench: each
//! delivery's status and how long the intake took to answer.

use std::time::{Duration, Instant};

use devflow_sync_core::provider::Headers;
use futures_util::StreamExt;

/// What one post got.
#[derive(Clone, Copy, Debug)]
pub struct Posted {
    /// The HTTP status.
    pub status: u16,
    /// From sending to the answer.
    pub latency: Duration,
}

/// Posts every delivery to `url` (`.../api/webhooks/github`), `concurrency` at a time.
pub async fn post_all(
    client: &reqwest::Client,
    url: &str,
    deliveries: Vec<(Headers, Vec<u8>)>,
    concurrency: usize,
) -> Vec<Posted> {
    futures_util::stream::iter(deliveries)
        .map(|(headers, body)| async move {
            let mut request = client.post(url);
            for (name, value) in headers.iter() {
                request = request.header(name, value);
            }
            let started = Instant::now();
            let status = match request.body(body).send().await {
                Ok(r) => r.status().as_u16(),
                Err(_) => 0,
            };
            Posted {
                status,
                latency: started.elapsed(),
            }
        })
        .buffer_unordered(concurrency.max(1))
        .collect()
        .await
}

/// The `q` quantile (0..=1) of the latencies, in microseconds.
pub fn quantile_us(posted: &[Posted], q: f64) -> u128 {
    let mut all: Vec<u128> = posted.iter().map(|p| p.latency.as_micros()).collect();
    all.sort_unstable();
    if all.is_empty() {
        return 0;
    }
    let at = ((all.len() - 1) as f64 * q.clamp(0.0, 1.0)).round() as usize;
    all[at.min(all.len() - 1)]
}

/// What a load run found.
#[derive(Clone, Debug)]
pub struct LoadReport {
    /// Every post.
    pub posted: Vec<Posted>,
    /// From the first post to the last delivery applied.
    pub applied_after: Duration,
    /// Deliveries marked processed, and how many of them more than once.
    pub processed: usize,
    /// Deliveries applied more than once (must be 0).
    pub twice: usize,
    /// Deliveries still waiting or failed at the end.
    pub left: usize,
    /// Calls of the API (`GET /api/integrations`, `/health`, `/conflicts`, 10 at a
    /// time) after the load, each with its latency.
    pub api: Vec<Posted>,
}

/// The whole scenario: the demo service on a SQLite file under `dir`, `n` signed
/// GitHub deliveries (people editing the demo's issues), posted `concurrency` at a
/// time, then waited for until the inbox worker applied them all (at most `wait`).
pub async fn run(
    dir: &std::path::Path,
    n: usize,
    concurrency: usize,
    wait: Duration,
) -> Result<LoadReport, Box<dyn std::error::Error>> {
    use std::sync::Arc;

    use devflow_store_sqlite::SqliteStore;
    use secrecy::SecretString;

    let db = dir.join(format!("load-{}.db", std::process::id()));
    let store = Arc::new(SqliteStore::open(&db).await?);
    // Every time a delivery is marked processed, a row: two for one delivery would mean
    // it was applied twice.
    sqlx_note(&store).await?;
    let (engine, sims, jira) = crate::demo::start(store.clone()).await?;
    crate::demo::seed(&engine, &sims).await?;
    let state = Arc::new(crate::AppState::new(
        engine,
        SecretString::from("load".to_owned()),
        jira,
    ));
    let running = crate::serve(
        state,
        "127.0.0.1:0".parse()?,
        crate::scheduler::Intervals {
            pull: Duration::from_secs(3600),
            inbox: Duration::from_millis(20),
        },
    )
    .await?;
    let numbers: Vec<u64> = sims
        .github
        .issues(crate::demo::REPO)
        .iter()
        .filter_map(|i| i["number"].as_u64())
        .collect();
    // What the seeding made GitHub send is not part of the load.
    sims.github.take_webhooks();
    for k in 0..n {
        let number = numbers[k % numbers.len()];
        sims.github.edit_issue(
            crate::demo::REPO,
            number,
            &serde_json::json!({"body": format!("edit {k}")}),
        );
    }
    let deliveries = sims.github.take_webhooks();
    let url = format!("http://{}/api/webhooks/github", running.addr);
    let client = reqwest::Client::new();
    let started = Instant::now();
    let posted = post_all(&client, &url, deliveries, concurrency).await;
    let (mut processed, mut left);
    loop {
        (processed, left) = counts(&store).await?;
        if left == 0 || started.elapsed() > wait {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let applied_after = started.elapsed();
    let api = futures_util::stream::iter(0..300)
        .map(|k| {
            let client = &client;
            let path = [
                "/api/integrations",
                "/api/integrations/health",
                "/api/integrations/conflicts",
            ][k % 3];
            let url = format!("http://{}{path}", running.addr);
            async move {
                let started = Instant::now();
                let status = match client.get(url).bearer_auth("load").send().await {
                    Ok(r) => r.status().as_u16(),
                    Err(_) => 0,
                };
                Posted {
                    status,
                    latency: started.elapsed(),
                }
            }
        })
        .buffer_unordered(10)
        .collect()
        .await;
    let twice: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM (SELECT seq FROM load_applied GROUP BY seq HAVING count(*) > 1)",
    )
    .fetch_one(store.pool())
    .await?;
    running.stop().await;
    drop(sims);
    store.close().await;
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
    }
    Ok(LoadReport {
        posted,
        applied_after,
        processed,
        twice: usize::try_from(twice).unwrap_or(usize::MAX),
        left,
        api,
    })
}

async fn sqlx_note(store: &devflow_store_sqlite::SqliteStore) -> Result<(), sqlx::Error> {
    sqlx::raw_sql(
        "CREATE TABLE IF NOT EXISTS load_applied (seq INTEGER NOT NULL);
         CREATE TRIGGER IF NOT EXISTS load_note AFTER UPDATE ON inbox
           WHEN NEW.status = 'processed' BEGIN INSERT INTO load_applied (seq) VALUES (NEW.seq); END;",
    )
    .execute(store.pool())
    .await
    .map(|_| ())
}

/// (processed, waiting or failed) deliveries.
async fn counts(store: &devflow_store_sqlite::SqliteStore) -> Result<(usize, usize), sqlx::Error> {
    let (processed, left): (i64, i64) = sqlx::query_as(
        "SELECT coalesce(sum(status = 'processed'), 0), coalesce(sum(status != 'processed'), 0) FROM inbox",
    )
    .fetch_one(store.pool())
    .await?;
    Ok((
        usize::try_from(processed).unwrap_or(0),
        usize::try_from(left).unwrap_or(0),
    ))
}
