//! The client policy on the host's `client` with a diverged local value, each deletion
//! policy (a project that disappears and comes back included), and deletions taken
//! from a complete listing only.

use std::sync::Arc;

use devflow_provider_bqe::mapping::{ClientPolicy, project_mapping};
use devflow_provider_bqe::{BqeConfig, BqeProvider};
use devflow_sync_core::auth::AccessToken;
use devflow_sync_core::engine::{
    BindingOptions, DeletionPolicy, ImportMode, PullBudget, SyncEngine,
};
use devflow_sync_core::http::{HttpClient, HttpConfig};
use devflow_sync_core::model::{ConnectionId, ExternalId, FieldChange, ObjectType};
use devflow_sync_core::store::{ItemUpdate, WorkItem};
use devflow_sync_testkit::bqe_sim::BqeSimulator;
use serde_json::json;

const TOKEN: &str = "bqe-token";

struct Case {
    sim: BqeSimulator,
    engine: SyncEngine,
}

async fn case(policy: ClientPolicy, deletion: DeletionPolicy) -> Case {
    let sim = BqeSimulator::start().await.unwrap();
    sim.accept_token(TOKEN, &["read:core"]);
    // Two tries per request, so a failing listing fails fast.
    let mut http = HttpConfig::default();
    http.retry.max_retries = 1;
    let provider = BqeProvider::new(
        BqeConfig::with_token(sim.api_url(), AccessToken::new(TOKEN)),
        HttpClient::builder().config(http).build().unwrap(),
    )
    .unwrap();
    let engine = SyncEngine::builder()
        .provider(Arc::new(provider))
        .bind_with(
            "bqe",
            "bqe",
            "project",
            BindingOptions {
                mapping: Some(project_mapping(policy).unwrap()),
                ..BindingOptions::default()
            },
        )
        .import_mode(ImportMode::Import)
        .deletion_policy(deletion)
        .build()
        .unwrap();
    Case { sim, engine }
}

impl Case {
    async fn pull(&self) -> devflow_sync_core::engine::SyncReport {
        self.engine
            .pull(
                &ConnectionId::new("bqe"),
                &ObjectType::new("project"),
                PullBudget::UNLIMITED,
            )
            .await
            .unwrap()
    }

    async fn host(&self, project: &str) -> Option<WorkItem> {
        let link = self
            .engine
            .mappings()
            .link_by_external(
                &ConnectionId::new("bqe"),
                &ObjectType::new("project"),
                &ExternalId::new(project),
            )
            .await
            .unwrap()?;
        self.engine.work_items().get(&link.item).await.unwrap()
    }

    async fn set_client(&self, project: &str, value: &str) {
        let item = self.host(project).await.unwrap();
        let update = ItemUpdate {
            changes: vec![FieldChange::new(
                "client",
                item.record.fields.get("client").clone(),
                value,
            )],
            ..ItemUpdate::default()
        };
        self.engine
            .work_items()
            .update(&item.id, &update, None)
            .await
            .unwrap();
    }
}

fn text(item: &WorkItem, field: &str) -> Option<String> {
    item.record.fields.get(field).as_str().map(str::to_owned)
}

#[tokio::test]
async fn each_client_policy_with_a_diverged_local_client() {
    for (policy, expected) in [
        (ClientPolicy::FollowBqe, "Globex"),
        (ClientPolicy::PreserveLocal, "Acme (ours)"),
        (ClientPolicy::WriteOnce, "Acme (ours)"),
    ] {
        let c = case(policy, DeletionPolicy::default()).await;
        let acme = c.sim.add_client("Acme");
        let globex = c.sim.add_client("Globex");
        let project = c.sim.add_project("P-1", "Checkout", Some(&acme), None);
        c.pull().await;
        assert_eq!(
            text(&c.host(&project).await.unwrap(), "client").as_deref(),
            Some("Acme")
        );
        // People rename the client here, and BQE moves the project to another client.
        c.set_client(&project, "Acme (ours)").await;
        c.sim
            .edit("project", &project, &json!({"clientId": globex}));
        let report = c.pull().await;
        assert_eq!(report.conflicts, 0, "{policy:?}: {}", report.summary());
        let host = c.host(&project).await.unwrap();
        assert_eq!(
            text(&host, "client").as_deref(),
            Some(expected),
            "{policy:?}"
        );
        assert_eq!(
            text(&host, "bqe_client_name").as_deref(),
            Some("Globex"),
            "{policy:?}: BQE's name beside it"
        );
        assert_eq!(
            text(&host, "bqe_client_id").as_deref(),
            Some(globex.as_str()),
            "{policy:?}"
        );
        // A quiet pull changes nothing.
        let again = c.pull().await;
        assert_eq!(again.updated, 0, "{policy:?}: {}", again.summary());
    }
    // write_once: a project without a client takes BQE's first one, and keeps it.
    let c = case(ClientPolicy::WriteOnce, DeletionPolicy::default()).await;
    let (acme, globex) = (c.sim.add_client("Acme"), c.sim.add_client("Globex"));
    let project = c.sim.add_project("P-2", "Billing", None, None);
    c.pull().await;
    assert_eq!(text(&c.host(&project).await.unwrap(), "client"), None);
    c.sim.edit("project", &project, &json!({"clientId": acme}));
    c.pull().await;
    assert_eq!(
        text(&c.host(&project).await.unwrap(), "client").as_deref(),
        Some("Acme")
    );
    c.sim
        .edit("project", &project, &json!({"clientId": globex}));
    c.pull().await;
    let host = c.host(&project).await.unwrap();
    assert_eq!(
        text(&host, "client").as_deref(),
        Some("Acme"),
        "written once"
    );
    assert_eq!(text(&host, "bqe_client_name").as_deref(), Some("Globex"));
}

#[tokio::test]
async fn each_deletion_policy_and_a_project_that_comes_back() {
    // Marked inactive, link kept; back in BQE, active again.
    let c = case(
        ClientPolicy::default(),
        DeletionPolicy::MarkInactiveKeepLink,
    )
    .await;
    let project = c.sim.add_project("P-1", "Checkout", None, None);
    c.pull().await;
    let removed = c.sim.remove_silently("project", &project).unwrap();
    c.sim.delete("project", "unknown-id");
    c.sim.add_project("P-0", "Trigger", None, None);
    // Gone without a trace in the history: only a complete listing tells.
    let swept = c
        .engine
        .sweep(&ConnectionId::new("bqe"), &ObjectType::new("project"))
        .await
        .unwrap();
    assert_eq!(swept.deleted, 1, "{}", swept.summary());
    assert!(!c.host(&project).await.unwrap().active);
    c.sim.restore("project", removed);
    let back = c.pull().await;
    assert!(back.updated >= 1, "{}", back.summary());
    assert!(
        c.host(&project).await.unwrap().active,
        "active again, same link"
    );

    // Ignore: the host item stays as it was.
    let c = case(ClientPolicy::default(), DeletionPolicy::Ignore).await;
    let project = c.sim.add_project("P-1", "Checkout", None, None);
    c.pull().await;
    c.sim.delete("project", &project);
    c.pull().await;
    assert!(c.host(&project).await.unwrap().active);

    // Propagate (the soft delete of a host that deletes): the host item goes.
    let c = case(ClientPolicy::default(), DeletionPolicy::Propagate).await;
    let project = c.sim.add_project("P-1", "Checkout", None, None);
    c.pull().await;
    c.sim.delete("project", &project);
    let report = c.pull().await;
    assert_eq!(report.deleted, 1, "{}", report.summary());
    assert!(c.host(&project).await.is_none());
}

#[tokio::test]
async fn a_partial_listing_deletes_nothing() {
    let c = case(
        ClientPolicy::default(),
        DeletionPolicy::MarkInactiveKeepLink,
    )
    .await;
    let project = c.sim.add_project("P-1", "Checkout", None, None);
    c.pull().await;
    c.sim.remove_silently("project", &project);
    // The listing fails halfway (every retry answered 500): no deletion is taken.
    c.sim.fail_next(&[500; 4]);
    let err = c
        .engine
        .sweep(&ConnectionId::new("bqe"), &ObjectType::new("project"))
        .await;
    assert!(err.is_err());
    assert!(c.host(&project).await.unwrap().active);
}
