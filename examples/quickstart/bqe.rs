//! The quickstart's BQE CORE steps: the host's projects matched with BQE's parent
//! projects once, confirmed together, then the rest imported, sub-projects never,
//! against an in-process BQE simulator (saved beside a kept database).

use std::sync::Arc;

use devflow_provider_bqe::mapping::{ClientPolicy, project_mapping};
use devflow_provider_bqe::matching::{LocalProject, MatchReason};
use devflow_provider_bqe::{BqeConfig, BqeProvider};
use devflow_store_sqlite::SqliteStore;
use devflow_sync::auth::AccessToken;
use devflow_sync::engine::{BindingOptions, ImportMode, PullBudget, SyncEngine};
use devflow_sync::http::HttpClient;
use devflow_sync::model::{ConnectionId, ExternalId, ItemId, ObjectType, Record};

use crate::Steps;

const TOKEN: &str = "bqe-quickstart";

fn transient(e: impl std::fmt::Display) -> devflow_sync::Error {
    devflow_sync::Error::transient(e.to_string())
}

/// The host's own projects, made once (a later run finds them).
async fn local_projects(engine: &SyncEngine) -> devflow_sync::Result<Vec<LocalProject>> {
    let mut locals = Vec::new();
    for (id, name, number, client) in [
        ("proj-checkout", "checkout", None, "ACME"),
        ("proj-billing", "Billing (2027)", Some("P-200"), "Acme"),
    ] {
        let record = Record::new("project", chrono::Utc::now())
            .with_field("name", name)
            .with_field("client", client);
        let item = match engine
            .work_items()
            .create(Some(ItemId::new(id)), record)
            .await
        {
            Ok(item) => item.id,
            Err(devflow_sync::Error::AlreadyExists(_)) => ItemId::new(id),
            Err(e) => return Err(e),
        };
        locals.push(LocalProject {
            item,
            external_id: None,
            number: number.map(str::to_owned),
            name: name.to_owned(),
            client: Some(client.to_owned()),
        });
    }
    Ok(locals)
}

/// Steps 19-20: initial matching, then the import of BQE's other parent projects.
pub(crate) async fn steps(
    steps: &mut Steps,
    store: &Arc<SqliteStore>,
    db_path: &std::path::Path,
    keep: bool,
) -> devflow_sync::Result<()> {
    println!("\nBQE CORE (an in-process simulator): matching once, then parent projects only:");
    let sim = devflow_sync_testkit::bqe_sim::BqeSimulator::start()
        .await
        .map_err(transient)?;
    let file = std::path::PathBuf::from(format!("{}.bqe.json", db_path.display()));
    let again = keep && sim.load(&file).map_err(transient)?;
    if !again {
        let acme = sim.add_client("Acme");
        let checkout = sim.add_project("P-100", "Checkout", Some(&acme), None);
        sim.add_project(
            "P-100.1",
            "Checkout - phase 1",
            Some(&acme),
            Some(&checkout),
        );
        sim.add_project("P-200", "Billing", Some(&acme), None);
        sim.add_project("P-300", "Mobile app", Some(&acme), None);
    }
    sim.accept_token(TOKEN, &["read:core"]);
    let provider = Arc::new(BqeProvider::new(
        BqeConfig::with_token(sim.api_url(), AccessToken::new(TOKEN)),
        HttpClient::builder().build()?,
    )?);
    let engine = SyncEngine::builder()
        .provider(provider.clone())
        .bind_with(
            "bqe-acme",
            "bqe",
            "project",
            BindingOptions {
                mapping: Some(project_mapping(ClientPolicy::PreserveLocal)?),
                ..BindingOptions::default()
            },
        )
        .import_mode(ImportMode::Import)
        .stores(store.clone())
        .build()?;
    let (conn, object) = (ConnectionId::new("bqe-acme"), ObjectType::new("project"));

    // 19. The host's projects paired with BQE's by number and by name + client.
    let locals = local_projects(&engine).await?;
    let plan = provider.suggest_matches(&conn, &locals).await?;
    for pair in &plan.pairs {
        println!(
            "    {} <-> BQE {} ({:?})",
            pair.item, pair.project, pair.reason
        );
    }
    let pairs: Vec<(ItemId, ExternalId)> = plan
        .pairs
        .iter()
        .map(|p| (p.item.clone(), p.project.clone()))
        .collect();
    let summary = engine.link_records(&conn, &object, &pairs).await?;
    println!(
        "    confirmed: {} linked, {} already linked",
        summary.matched, summary.skipped
    );
    let reasons: Vec<MatchReason> = plan.pairs.iter().map(|p| p.reason).collect();
    steps.check(
        "the host's two projects match BQE's by project number and by name + client, linked in one transaction (once)",
        reasons.contains(&MatchReason::ProjectNumber)
            && reasons.contains(&MatchReason::NameAndClient)
            && plan.ambiguous.is_empty()
            && if again {
                (summary.matched, summary.skipped) == (0, 2)
            } else {
                (summary.matched, summary.skipped) == (2, 0)
            },
    );

    // 20. The first sync imports the parent project nothing matched; the sub-project is
    // filtered out by BQE itself.
    let report = engine.pull(&conn, &object, PullBudget::UNLIMITED).await?;
    let links = engine.mappings().links(&conn, &object).await?;
    let mut names = Vec::new();
    for link in &links {
        if let Some(item) = engine.work_items().get(&link.item).await? {
            names.push(
                item.record
                    .fields
                    .get("name")
                    .as_str()
                    .unwrap_or("")
                    .to_owned(),
            );
        }
    }
    names.sort();
    let filtered = sim.queries().iter().any(|q| {
        q.iter()
            .any(|(k, v)| k == "where" && v.contains("parentId eq null"))
    });
    println!(
        "    {} imported this run; the host's BQE projects: {names:?}",
        report.created
    );
    steps.check(
        "BQE's other parent project is imported (once), the sub-project never, and BQE filtered it (where=parentId eq null)",
        report.created == usize::from(!again)
            && names == ["Billing (2027)", "Mobile app", "checkout"]
            && filtered,
    );
    if keep {
        sim.save(&file).map_err(transient)?;
    }
    Ok(())
}
