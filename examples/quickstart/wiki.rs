//! The quickstart's Confluence step: the PRD and its epic as pages of an in-process
//! Confluence simulator, in the page tree, with the `devflow` property naming the
//! item's records in GitHub and Jira.

use std::sync::Arc;

use devflow_provider_confluence::{ConfluenceAuth, ConfluenceConfig, ConfluenceProvider};
use devflow_sync::auth::AccessToken;
use devflow_sync::engine::{BindingOptions, SyncEngine};
use devflow_sync::http::HttpClient;
use devflow_sync::model::{ConnectionId, ItemId, ItemKind, ObjectType};
use devflow_sync_testkit::confluence_sim::ConfluenceSimulator;

use crate::Steps;

/// The space the quickstart writes in.
const SPACE: &str = "CHK";
const EMAIL: &str = "quickstart@acme.test";
const TOKEN: &str = "ATATT-quickstart-wiki";

fn transient(e: impl std::fmt::Display) -> devflow_sync::Error {
    devflow_sync::Error::transient(e.to_string())
}

/// The simulator (with the site saved beside a kept database, if any), the provider,
/// the connection, the binding (PRD and Epic pages, the default mapping) and the file.
pub(crate) async fn start(
    db_path: &std::path::Path,
    keep: bool,
) -> devflow_sync::Result<(
    ConfluenceSimulator,
    Arc<ConfluenceProvider>,
    ConnectionId,
    BindingOptions,
    std::path::PathBuf,
)> {
    let sim = ConfluenceSimulator::start().await.map_err(transient)?;
    let file = std::path::PathBuf::from(format!("{}.confluence.json", db_path.display()));
    let again = keep && sim.load(&file).map_err(transient)?;
    if !again {
        sim.add_space(SPACE, "DevFlow - Checkout");
    }
    sim.add_api_token(EMAIL, TOKEN);
    let config = ConfluenceConfig::new(
        sim.url(),
        SPACE,
        ConfluenceAuth::api_token(EMAIL, AccessToken::new(TOKEN)),
    );
    let provider = Arc::new(ConfluenceProvider::new(
        config,
        HttpClient::builder().build()?,
    )?);
    let binding = BindingOptions {
        mapping: Some(devflow_provider_confluence::mapping::default_mapping()?),
        kinds: Some([ItemKind::Prd, ItemKind::Epic].into_iter().collect()),
        ..BindingOptions::default()
    };
    Ok((sim, provider, ConnectionId::new("wiki-acme"), binding, file))
}

/// Step 16: the PRD and its epic become pages (the story and below are not pages here).
pub(crate) async fn steps(
    steps: &mut Steps,
    engine: &SyncEngine,
    sim: &ConfluenceSimulator,
    conn: &ConnectionId,
    (prd, epic): (&ItemId, &ItemId),
) -> devflow_sync::Result<()> {
    let report = engine
        .push_tree(conn, &ObjectType::new("page"), prd)
        .await?;
    let page_of = |item: &ItemId| {
        let (engine, conn, item) = (engine, conn.clone(), item.clone());
        async move {
            engine
                .mappings()
                .link_by_item(&conn, &ObjectType::new("page"), &item)
                .await
                .ok()
                .flatten()
                .and_then(|l| sim.page(l.remote.id.as_str()))
        }
    };
    let (prd_page, epic_page) = (page_of(prd).await, page_of(epic).await);
    let pages = sim.pages_in(SPACE);
    let (Some(prd_page), Some(epic_page)) = (prd_page, epic_page) else {
        steps.check("the PRD and the epic are Confluence pages", false);
        return Ok(());
    };
    let property = sim
        .property(prd_page["id"].as_str().unwrap_or_default(), "devflow")
        .unwrap_or_default();
    let links = property["links"].as_array().map_or(0, Vec::len);
    println!(
        "    pages {:?} > {:?} in space {SPACE} ({} pushed now); the PRD page's property names {links} other records",
        prd_page["title"].as_str().unwrap_or(""),
        epic_page["title"].as_str().unwrap_or(""),
        report.created
    );
    steps.check(
        "the PRD and its epic are Confluence pages (the epic's under the PRD's, under the homepage), once, with the devflow property naming their GitHub and Jira records",
        prd_page["parentId"].as_str() == sim.homepage(SPACE).as_deref()
            && epic_page["parentId"] == prd_page["id"]
            && property["type"] == "prd"
            && links >= 2
            && pages.len() == 3,
    );
    Ok(())
}
