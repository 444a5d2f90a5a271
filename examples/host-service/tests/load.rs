//! 1,000 signed webhook deliveries posted at once: every one answered 202 and applied
//! by the inbox worker exactly once (the figures are in the `webhook_load` bench).

use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_deliveries_are_all_accepted_and_each_applied_once() {
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    let report = host_service::load::run(&dir, 1_000, 100, Duration::from_secs(300))
        .await
        .unwrap();
    assert_eq!(report.posted.len(), 1_000);
    assert!(report.posted.iter().all(|p| p.status == 202));
    assert_eq!(report.left, 0, "every delivery applied");
    assert_eq!(report.processed, 1_000);
    assert_eq!(report.twice, 0, "none applied twice");
    assert!(
        report.api.iter().all(|p| p.status == 200),
        "the API answers under load"
    );
}
