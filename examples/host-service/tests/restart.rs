//! Connections made at run time come back after a restart on the same database: their
//! settings from the connection records, their secrets from the token store, which holds
//! them only sealed.

use std::sync::Arc;

use devflow_store_sqlite::SqliteStore;
use devflow_sync_core::auth::KeyRing;
use host_service::demo;
use host_service::state::AppState;
use secrecy::SecretString;

const KEY: &str = "k1:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

async fn state(db: &std::path::Path) -> (Arc<AppState>, demo::Simulators) {
    let store = Arc::new(SqliteStore::open(db).await.unwrap());
    let ring = KeyRing::parse(KEY).unwrap();
    let (engine, sims, handles) = demo::start_with_keys(store.clone(), ring).await.unwrap();
    let state = AppState::new(engine, SecretString::from("admin".to_owned()), handles)
        .with_oauth(demo::oauth_apps(&sims).unwrap())
        .with_connection_store(store);
    (Arc::new(state), sims)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_made_at_run_time_come_back_after_a_restart() {
    let dir = std::env::temp_dir().join(format!("devflow-restart-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let db = dir.join("host.db");
    let (first, sims) = state(&db).await;
    let running = host_service::serve(
        first.clone(),
        "127.0.0.1:0".parse().unwrap(),
        host_service::scheduler::Intervals::default(),
    )
    .await
    .unwrap();
    let http = reqwest::Client::new();
    let post = |path: &str, body: serde_json::Value| {
        let request = http
            .post(format!("http://{}{path}", running.addr))
            .bearer_auth("admin")
            .json(&body);
        async move {
            let r = request.send().await.unwrap();
            (r.status(), r.json::<serde_json::Value>().await.unwrap())
        }
    };
    sims.jira
        .add_api_token("second@acme.test", "second-api-token", false, None);
    let (status, body) = post(
        "/api/integrations/jira/connect",
        serde_json::json!({"id": "jira-second", "base_url": sims.jira.url(),
            "email": "second@acme.test", "api_token": "second-api-token", "project": demo::PROJECT}),
    )
    .await;
    assert_eq!(status.as_u16(), 201, "{body}");
    let (status, body) = post(
        "/api/integrations/bqe/connect",
        serde_json::json!({"id": "bqe-app", "client_credentials": true}),
    )
    .await;
    assert_eq!(status.as_u16(), 201, "{body}");
    running.stop().await;
    drop(first);

    // Only ciphertext in the file.
    let mut bytes = Vec::new();
    for suffix in ["", "-wal"] {
        if let Ok(b) = std::fs::read(format!("{}{suffix}", db.display())) {
            bytes.extend(b);
        }
    }
    let file = String::from_utf8_lossy(&bytes);
    assert!(
        !file.contains("second-api-token"),
        "the API token is sealed"
    );
    assert!(!file.contains("bqe-access-"), "the BQE token is sealed");

    // The service starts again on the same file (the first simulators still up).
    let (second, _new_sims) = state(&db).await;
    assert!(second.handle(&"jira-second".into()).is_none());
    let (resumed, failed) = host_service::resume::resume(&second).await.unwrap();
    assert!(failed.is_empty(), "{failed:?}");
    assert_eq!(resumed, 2);
    match second.handle(&"jira-second".into()).unwrap() {
        host_service::state::Handle::Jira(p) => assert_eq!(
            p.test_connection(&"jira-second".into()).await.diagnosis,
            devflow_provider_jira::Diagnosis::Ok
        ),
        other => panic!("{other:?}"),
    }
    match second.handle(&"bqe-app".into()).unwrap() {
        host_service::state::Handle::Bqe(p) => {
            p.company(&"bqe-app".into()).await.unwrap();
        }
        other => panic!("{other:?}"),
    }
    drop(second);

    // With another key the sealed tokens cannot be read: nothing comes back silently.
    let store = Arc::new(SqliteStore::open(&db).await.unwrap());
    let other = KeyRing::parse("k2:HyAeHRwbGhkYFxYVFBMSERAPDg0MCwoJCAcGBQQDAgE=").unwrap();
    let (engine, _sims3, handles) = demo::start_with_keys(store, other).await.unwrap();
    let third = AppState::new(engine, SecretString::from("admin".to_owned()), handles);
    let (resumed, failed) = host_service::resume::resume(&third).await.unwrap();
    assert_eq!((resumed, failed.len()), (0, 2), "{failed:?}");
    assert!(third.handle(&"jira-second".into()).is_none());
    drop(sims);
    let _ = std::fs::remove_dir_all(&dir);
}
