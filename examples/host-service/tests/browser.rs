//! The dashboard in headless Chromium (Debian's `chromium` and `chromium-driver`,
//! installed by `scripts/browser` when missing), driven over WebDriver: the connected
//! integrations are listed; a story made in Jira without an epic arrives as a live
//! notification; its link leads to the conflict, which is resolved by choosing the
//! epic, and the Jira issue moves under it; an integration is disconnected. A
//! screenshot is written under `target/`.

use std::process::{Child, Command};
use std::sync::Arc;
use std::time::{Duration, Instant};

use devflow_store_sqlite::SqliteStore;
use devflow_sync_core::engine::PullBudget;
use devflow_sync_core::model::{ConnectionId, ObjectType};
use fantoccini::{Client, ClientBuilder, Locator};
use host_service::demo::{self, PROJECT};
use host_service::scheduler::Intervals;
use host_service::{AppState, serve};
use secrecy::SecretString;

const ADMIN: &str = "browser-admin-token-0123456789";

/// The driver process, killed when the test ends.
struct Driver(Child);

impl Drop for Driver {
    /// The browser goes first (a test that failed never closed its session), then the
    /// driver.
    fn drop(&mut self) {
        let _ = Command::new("pkill")
            .args(["-KILL", "-P", &self.0.id().to_string()])
            .status();
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap()
}

/// `chromedriver` on a free port, or `None` when the test is left out on purpose.
fn driver() -> Option<(Driver, u16)> {
    if std::env::var("DEVFLOW_SKIP_BROWSER").as_deref() == Ok("1") {
        return None;
    }
    let port = free_port();
    let child = Command::new("chromedriver")
        .arg(format!("--port={port}"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap_or_else(|e| {
            panic!("chromedriver ({e}): run scripts/browser (scripts/test does), or set DEVFLOW_SKIP_BROWSER=1")
        });
    let started = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "chromedriver did not start"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    Some((Driver(child), port))
}

async fn count(client: &Client, css: &str) -> usize {
    client
        .find_all(Locator::Css(css))
        .await
        .map_or(0, |v| v.len())
}

/// Waits until `css` matches `n` elements.
async fn until(client: &Client, css: &str, n: usize) {
    let started = Instant::now();
    while count(client, css).await != n {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "{css} never matched {n}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_shows_a_live_rejection_and_resolves_it_in_a_browser() {
    let Some((_driver, port)) = driver() else {
        return;
    };
    let store = Arc::new(SqliteStore::in_memory().await.unwrap());
    let (engine, sims, jira) = demo::start(store).await.unwrap();
    demo::seed(&engine, &sims).await.unwrap();
    let state = Arc::new(
        AppState::new(engine, SecretString::from(ADMIN.to_owned()), jira)
            .with_oauth(demo::oauth_apps(&sims).unwrap()),
    );
    let intervals = Intervals {
        pull: Duration::from_secs(3600),
        inbox: Duration::from_millis(50),
    };
    let running = serve(state.clone(), "127.0.0.1:0".parse().unwrap(), intervals)
        .await
        .unwrap();
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        serde_json::json!({"args": ["--headless=new", "--no-sandbox", "--disable-gpu",
            "--disable-dev-shm-usage", "--window-size=1280,1000"]}),
    );
    let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{port}"))
        .await
        .unwrap();
    client
        .goto(&format!("http://{}/", running.addr))
        .await
        .unwrap();
    client
        .find(Locator::Css("#token"))
        .await
        .unwrap()
        .send_keys(ADMIN)
        .await
        .unwrap();
    client
        .find(Locator::Css("#token-form button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    // The integrations, and the demo's first conflict.
    until(&client, "#connections tbody tr", 4).await;
    until(&client, "#conflicts .conflict", 1).await;

    // A person makes a story in Jira without an epic; the next pull brings it in.
    let key = sims
        .jira
        .create_issue(
            PROJECT,
            &serde_json::json!({"summary": "Another orphan", "issuetype": {"name": "Story"}}),
        )
        .unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    state
        .engine
        .pull(
            &ConnectionId::new("jira-acme"),
            &ObjectType::new("issue"),
            PullBudget::UNLIMITED,
        )
        .await
        .unwrap();
    // Live: a notification with a link to its conflict (after the seed's unread one).
    until(&client, "#notifications li.notification a.review", 2).await;
    let link = client
        .find(Locator::Css("#notifications a.review"))
        .await
        .unwrap();
    let href = link.attr("href").await.unwrap().unwrap();
    assert!(href.starts_with("#conflict-"), "{href}");
    link.click().await.unwrap();
    until(&client, "#conflicts .conflict", 2).await;
    // Resolve it by choosing the epic.
    let target = client.find(Locator::Css(&href)).await.unwrap();
    target
        .find(Locator::Css("button.link"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    until(&client, "#conflicts .conflict", 1).await;
    let issue = sims.jira.issue(&key).unwrap();
    assert!(
        issue["fields"]["parent"]["key"].is_string(),
        "moved under the epic: {issue}"
    );

    // A burst of rejections is one notification, not twelve.
    for n in 0..12 {
        sims.jira
            .create_issue(PROJECT, &serde_json::json!({"summary": format!("Orphan {n}"), "issuetype": {"name": "Story"}}))
            .unwrap();
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    state
        .engine
        .pull(
            &ConnectionId::new("jira-acme"),
            &ObjectType::new("issue"),
            PullBudget::UNLIMITED,
        )
        .await
        .unwrap();
    until(&client, "#notifications li.notification", 3).await;
    let newest = client
        .find(Locator::Css("#notifications li.notification"))
        .await
        .unwrap();
    let said = newest.text().await.unwrap();
    assert!(said.contains("12 records need a person"), "{said}");

    // Connect a second Jira from the form (the token typed once, never shown again).
    sims.jira
        .add_api_token("browser@acme.test", "browser-token", false, None);
    for (css, value) in [
        ("#connect-id", "jira-browser".to_owned()),
        ("#connect-url", sims.jira.url()),
        ("#connect-email", "browser@acme.test".to_owned()),
        ("#connect-token", "browser-token".to_owned()),
        ("#connect-scope", PROJECT.to_owned()),
    ] {
        client
            .find(Locator::Css(css))
            .await
            .unwrap()
            .send_keys(&value)
            .await
            .unwrap();
    }
    client
        .find(Locator::Css("#connect-form button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    until(&client, "#connections tbody tr", 5).await;
    let page = client.source().await.unwrap();
    assert!(
        !page.contains("browser-token"),
        "the token is not on the page"
    );

    // Connect BQE with the host app's own credentials (the client-credentials grant).
    client
        .find(Locator::Css(
            "#connect-provider option[value='bqe'], #connect-provider option:last-child",
        ))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let id = client.find(Locator::Css("#connect-id")).await.unwrap();
    id.clear().await.unwrap();
    id.send_keys("bqe-browser").await.unwrap();
    client
        .find(Locator::Css("#connect-app"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    until(&client, "#connections tbody tr[data-id='bqe-browser']", 1).await;

    // The mapping form, rendered from the schema and the catalog, saves a mapping.
    let option = "#mapping-connection option[value='jira-acme|jira|issue']";
    until(&client, option, 1).await;
    client
        .find(Locator::Css(option))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    client
        .find(Locator::Css("#mapping-load"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    until(&client, "#mapping tbody tr[data-i]", 7).await;
    client
        .find(Locator::Css("#mapping-form button:not([type])"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let started = Instant::now();
    while client
        .find(Locator::Css("#mapping-result"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
        != "saved"
    {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the mapping was not saved"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // Disconnect Confluence.
    client
        .find(Locator::Css("button.disconnect[data-id='wiki-acme']"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    until(&client, "#connections tbody tr", 5).await;

    client
        .execute("window.scrollTo(0, 0)", vec![])
        .await
        .unwrap();
    let shot = client.screenshot().await.unwrap();
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("..");
    std::fs::write(dir.join("host-service-dashboard.png"), shot).unwrap();
    client.close().await.unwrap();
    running.stop().await;
}
