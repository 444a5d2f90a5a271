//! Initial matching on a prepared set: exact id, project number, name + client, one
//! ambiguous pair reported; confirmed together, a second confirmation skips, a
//! duplicate is refused with nothing written.

use std::sync::Arc;

use devflow_provider_bqe::mapping::{ClientPolicy, project_mapping};
use devflow_provider_bqe::matching::{LocalProject, MatchReason};
use devflow_provider_bqe::{BqeConfig, BqeProvider};
use devflow_sync_core::auth::AccessToken;
use devflow_sync_core::engine::{BindingOptions, ImportMode, PullBudget, SyncEngine};
use devflow_sync_core::http::HttpClient;
use devflow_sync_core::model::{ConnectionId, ExternalId, ItemId, ObjectType, Record};
use devflow_sync_testkit::bqe_sim::BqeSimulator;

#[tokio::test]
async fn matches_are_suggested_with_reasons_and_confirmed_together() {
    let sim = BqeSimulator::start().await.unwrap();
    sim.accept_token("t", &["read:core"]);
    let acme = sim.add_client("Acme");
    let globex = sim.add_client("Globex");
    let by_id = sim.add_project("P-100", "Checkout", Some(&acme), None);
    let by_number = sim.add_project("P-200", "Billing revamp", Some(&acme), None);
    let by_name = sim.add_project("P-300", "Data Platform", Some(&acme), None);
    let twin_a = sim.add_project("P-400", "Website", Some(&globex), None);
    let twin_b = sim.add_project("P-401", "Website", Some(&globex), None);
    let fresh = sim.add_project("P-500", "New thing", None, None);
    sim.add_project("P-100.1", "Phase 1", None, Some(&by_id));
    let provider = Arc::new(
        BqeProvider::new(
            BqeConfig::with_token(sim.api_url(), AccessToken::new("t")),
            HttpClient::builder().build().unwrap(),
        )
        .unwrap(),
    );
    let engine = SyncEngine::builder()
        .provider(provider.clone())
        .bind_with(
            "bqe",
            "bqe",
            "project",
            BindingOptions {
                mapping: Some(project_mapping(ClientPolicy::PreserveLocal).unwrap()),
                ..BindingOptions::default()
            },
        )
        .import_mode(ImportMode::Import)
        .build()
        .unwrap();
    let host = |id: &str, name: &str, client: &str| {
        let record = Record::new("project", chrono::Utc::now())
            .with_field("name", name)
            .with_field("client", client);
        let engine = &engine;
        let id = ItemId::new(id);
        async move {
            engine
                .work_items()
                .create(Some(id), record)
                .await
                .unwrap()
                .id
        }
    };
    let (h1, h2, h3, h4, h5) = (
        host("h-checkout", "Checkout (ours)", "Acme").await,
        host("h-billing", "Billing", "Acme Corp").await,
        host("h-data", "data  platform!", "ACME").await,
        host("h-web", "Website", "Globex").await,
        host("h-other", "Something else", "Initech").await,
    );
    let locals = vec![
        LocalProject {
            item: h1.clone(),
            external_id: Some(by_id.clone()),
            number: None,
            name: "Checkout (ours)".into(),
            client: Some("Acme".into()),
        },
        LocalProject {
            item: h2.clone(),
            external_id: None,
            number: Some("p-200".into()),
            name: "Billing".into(),
            client: Some("Acme Corp".into()),
        },
        LocalProject {
            item: h3.clone(),
            external_id: None,
            number: None,
            name: "data  platform!".into(),
            client: Some("ACME".into()),
        },
        LocalProject {
            item: h4.clone(),
            external_id: None,
            number: None,
            name: "Website".into(),
            client: Some("Globex".into()),
        },
        LocalProject {
            item: h5.clone(),
            external_id: None,
            number: None,
            name: "Something else".into(),
            client: Some("Initech".into()),
        },
    ];
    let conn = ConnectionId::new("bqe");
    let plan = provider.suggest_matches(&conn, &locals).await.unwrap();
    let pairs: Vec<(&str, &str, MatchReason)> = plan
        .pairs
        .iter()
        .map(|p| (p.item.as_str(), p.project.as_str(), p.reason))
        .collect();
    assert_eq!(
        pairs,
        vec![
            (h1.as_str(), by_id.as_str(), MatchReason::ExternalId),
            (h2.as_str(), by_number.as_str(), MatchReason::ProjectNumber),
            (h3.as_str(), by_name.as_str(), MatchReason::NameAndClient),
        ]
    );
    assert_eq!(plan.ambiguous.len(), 1, "{plan:#?}");
    let mut twins = plan.ambiguous[0].projects.clone();
    twins.sort();
    let mut expected = vec![ExternalId::new(twin_a), ExternalId::new(twin_b)];
    expected.sort();
    assert_eq!(
        (twins, plan.ambiguous[0].items.clone()),
        (expected, vec![h4.clone()])
    );
    assert_eq!(
        plan.unmatched_projects,
        vec![ExternalId::new(fresh.clone())],
        "sub-projects never appear"
    );
    assert_eq!(plan.unmatched_items, vec![h5.clone()]);

    // Confirmed together.
    let confirmed: Vec<(ItemId, ExternalId)> = plan
        .pairs
        .iter()
        .map(|p| (p.item.clone(), p.project.clone()))
        .collect();
    let object = ObjectType::new("project");
    let summary = engine
        .link_records(&conn, &object, &confirmed)
        .await
        .unwrap();
    assert_eq!((summary.matched, summary.skipped), (3, 0), "{summary:?}");
    assert!(
        summary.changed >= 1,
        "BQE's code and client id came in: {summary:?}"
    );
    let h1_item = engine.work_items().get(&h1).await.unwrap().unwrap();
    assert_eq!(
        h1_item.record.fields.get("name").as_str(),
        Some("Checkout (ours)"),
        "a name the host changed is its own under the merge"
    );
    assert_eq!(
        h1_item.record.fields.get("bqe_client_name").as_str(),
        Some("Acme")
    );
    // Again: nothing new.
    let again = engine
        .link_records(&conn, &object, &confirmed)
        .await
        .unwrap();
    assert_eq!((again.matched, again.skipped), (0, 3));
    // A duplicate is refused, and nothing of the batch is written.
    let clash = vec![
        (h5.clone(), ExternalId::new(fresh.clone())),
        (h4.clone(), ExternalId::new(by_number.clone())),
    ];
    let err = engine
        .link_records(&conn, &object, &clash)
        .await
        .unwrap_err();
    assert!(
        matches!(err, devflow_sync_core::Error::AlreadyExists(_)),
        "{err:?}"
    );
    assert!(
        engine
            .mappings()
            .link_by_item(&conn, &object, &h5)
            .await
            .unwrap()
            .is_none(),
        "nothing written"
    );

    // After matching, the first sync imports what nothing matched, and links no twin twice.
    let report = engine
        .pull(&conn, &object, PullBudget::UNLIMITED)
        .await
        .unwrap();
    assert_eq!(
        report.created,
        3,
        "the new project and the two twins: {}",
        report.summary()
    );
    assert_eq!(
        engine.mappings().links(&conn, &object).await.unwrap().len(),
        6
    );
}
