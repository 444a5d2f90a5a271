//! The first thing to run: `cargo run --example quickstart [-- --db PATH]`.
//!
//! Offline, it walks through what devflow-sync decides on every sync:
//! where an item may sit in the PRD -> Epic -> Story -> Task -> Subtask hierarchy, which
//! order a tree is pushed in, how the host's and a provider's edits of one record merge,
//! and how a conflict is recorded and then settled — first with the core alone, then
//! with the sync engine and the GitHub provider against an in-process GitHub simulator
//! (OAuth with PKCE, a tree pushed as issues, a GitHub edit by signed webhook, a conflict
//! and its resolution, an orphan refused) and the Jira provider against an in-process
//! Jira simulator (the same tree as Jira issues of the right types and parents, a status
//! moved through the workflow) and the Confluence provider against an in-process
//! Confluence simulator (the PRD and its epic as pages of the tree), and BQE CORE's
//! parent projects imported after a one-time matching with the host's own projects
//! against an in-process BQE simulator; the engine's state in a SQLite file: a temporary
//! one, or `--db PATH`, kept with the simulated GitHub, Jira, Confluence and BQE beside
//! it so the next run
//! carries on from it without creating anything twice. Every step checks what it
//! prints; the example exits non-zero if one does not hold.
#![allow(clippy::print_stdout)]

use devflow_sync_core::store::ConflictStore;
use std::process::ExitCode;

mod bqe;
mod core;
mod fan_out;
mod jira;
mod wiki;
use devflow_sync::ItemKind;

pub(crate) struct Steps {
    failed: usize,
    n: usize,
}

impl Steps {
    pub(crate) fn check(&mut self, what: &str, ok: bool) {
        self.n += 1;
        println!(
            "{:>2}. [{}] {what}",
            self.n,
            if ok { " ok " } else { "FAIL" }
        );
        if !ok {
            self.failed += 1;
        }
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let mut steps = Steps { failed: 0, n: 0 };
    core::steps(&mut steps);

    // The engine keeps its state in a SQLite file: `--db PATH` keeps it (and the
    // simulated GitHub beside it, in PATH.github.json) for the next run; without it, a
    // temporary file removed at the end.
    let args: Vec<String> = std::env::args().collect();
    let kept = args
        .iter()
        .position(|a| a == "--db")
        .and_then(|i| args.get(i + 1))
        .map(std::path::PathBuf::from);
    let db = kept.clone().unwrap_or_else(|| {
        std::env::temp_dir().join(format!("devflow-quickstart-{}.db", std::process::id()))
    });
    if let Err(e) = engine_steps(&mut steps, &db, kept.is_some()).await {
        println!("engine steps stopped: {e}");
        steps.failed += 1;
    }
    if kept.is_none() {
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
        }
    }

    println!("\n{} of {} steps hold.", steps.n - steps.failed, steps.n);
    if steps.failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// The sync engine with the GitHub provider, against the in-process GitHub simulator.
async fn engine_steps(
    steps: &mut Steps,
    db_path: &std::path::Path,
    keep: bool,
) -> devflow_sync::Result<()> {
    use std::sync::Arc;

    use devflow_provider_github::{GitHubConfig, GitHubProvider, TokenSource};
    use devflow_store_sqlite::SqliteStore;
    use devflow_sync::auth::{AccessToken, ClientSecret, OAuthFlow, StateSigner, WebhookSecret};
    use devflow_sync::engine::{PullBudget, Resolution, SyncEngine};
    use devflow_sync::http::HttpClient;
    use devflow_sync::model::{ConnectionId, ItemId, ObjectType, ProviderKey, Record};
    use devflow_sync::store::{ConflictStatus, ItemUpdate, MappingStore, WorkItemStore};
    use devflow_sync_testkit::github_sim::{GitHubSimulator, WEBHOOK_SECRET};
    use serde_json::json;

    const REPO: &str = "acme/checkout";
    println!("\nThe sync engine and GitHub (an in-process simulator on 127.0.0.1):");
    let sim = GitHubSimulator::start()
        .await
        .map_err(|e| devflow_sync::Error::transient(format!("the simulator did not start: {e}")))?;
    // A kept database comes with the GitHub it was synced with.
    let sim_file = std::path::PathBuf::from(format!("{}.github.json", db_path.display()));
    let again = keep
        && sim
            .load(&sim_file)
            .map_err(|e| devflow_sync::Error::transient(format!("{}: {e}", sim_file.display())))?;
    if !again {
        sim.add_repo(REPO);
    }
    let http = HttpClient::builder().build()?;

    // 7. Connect through the OAuth code flow with PKCE.
    // GitHub's OAuth settings come from its catalog; only the token endpoint moves to
    // the simulator.
    let mut oauth = devflow_provider_github::oauth_config(
        "Iv1.quickstart",
        Some(ClientSecret::new("quickstart-secret")),
    )?;
    oauth.token_url = format!("{}/login/oauth/access_token", sim.url());
    oauth.redirect_url = Some("http://127.0.0.1:8080/callback".into());
    oauth.scopes = vec!["repo".into()];
    let flow = OAuthFlow::new(
        oauth,
        http.clone(),
        Arc::new(StateSigner::new(ClientSecret::new("state-key"))),
    )?;
    let conn = ConnectionId::new("github-acme");
    let start = flow.authorize("acme", &conn, "user-1")?;
    let challenge = start
        .url
        .split(['?', '&'])
        .find_map(|p| p.strip_prefix("code_challenge="))
        .unwrap_or_default()
        .to_owned();
    let code = sim.authorize("Iv1.quickstart", &challenge);
    let grant = flow
        .exchange_code("acme", &conn, &code, &start.state, start.pkce_verifier)
        .await?;
    let token = AccessToken::new(
        secrecy::ExposeSecret::expose_secret(&grant.credentials.access_token).to_owned(),
    );
    steps.check(
        "connected through the OAuth code flow with PKCE (the simulator checked the verifier)",
        token.secret().starts_with("ghu_"),
    );

    let mut config = GitHubConfig::new(sim.url(), vec![REPO.into()], TokenSource::Static(token));
    config.webhook_secrets = vec![WebhookSecret::new(WEBHOOK_SECRET)];
    let provider = Arc::new(GitHubProvider::new(config, http)?);
    // Every store in one SQLite file (a temporary one unless `--db PATH` is given).
    let store = Arc::new(SqliteStore::open(db_path).await?);
    let (items, mappings, journal) = (store.clone(), store.clone(), store.clone());
    // Jira beside GitHub: one engine, two connections (steps 13-15).
    let (jira_sim, jira, jira_conn, jira_file) = jira::start(db_path, keep).await?;
    let jira_binding = devflow_sync::engine::BindingOptions {
        mapping: Some(devflow_provider_jira::mapping::default_mapping()?),
        ..Default::default()
    };
    // And Confluence for the PRD and the epic (step 16).
    let (wiki_sim, wiki, wiki_conn, wiki_binding, wiki_file) = wiki::start(db_path, keep).await?;
    let engine = SyncEngine::builder()
        .provider(provider)
        .provider(jira.clone())
        .provider(wiki)
        .bind(conn.clone(), "github", "issue")
        .bind_with(jira_conn.clone(), "jira", "issue", jira_binding)
        .bind_with(wiki_conn.clone(), "confluence", "page", wiki_binding)
        .stores(store.clone())
        .build()?;
    let object = ObjectType::new("issue");
    // Host items with the host's own ids: a second run finds them instead of making
    // them again.
    let create = |id: &str, kind: ItemKind, parent: Option<&ItemId>, title: &str| {
        let mut record = Record::new("work_item", chrono::Utc::now())
            .with_kind(kind)
            .with_field("title", title);
        record.parent = parent.cloned();
        let (items, id) = (items.clone(), ItemId::new(id));
        async move {
            match items.create(Some(id.clone()), record).await {
                Ok(item) => Ok(item.id),
                Err(devflow_sync::Error::AlreadyExists(_)) => Ok(id),
                Err(e) => Err(e),
            }
        }
    };
    let number = |id: &ItemId| {
        let (mappings, conn, object, id) =
            (mappings.clone(), conn.clone(), object.clone(), id.clone());
        async move {
            mappings
                .link_by_item(&conn, &object, &id)
                .await
                .ok()
                .flatten()
                .and_then(|l| {
                    l.remote
                        .id
                        .as_str()
                        .rsplit('#')
                        .next()
                        .and_then(|n| n.parse::<u64>().ok())
                })
                .unwrap_or(0)
        }
    };

    // 8. Push a PRD -> Epic -> Story -> Task -> Subtask tree.
    let prd = create("prd-checkout", ItemKind::Prd, None, "Checkout").await?;
    let epic = create(
        "epic-saved-cards",
        ItemKind::Epic,
        Some(&prd),
        "Saved cards",
    )
    .await?;
    let story = create(
        "story-pay-saved",
        ItemKind::Story,
        Some(&epic),
        "Pay with a saved card",
    )
    .await?;
    let task = create(
        "task-card-vault",
        ItemKind::Task,
        Some(&story),
        "Card vault API",
    )
    .await?;
    let sub = create(
        "sub-contract-tests",
        ItemKind::Subtask,
        Some(&task),
        "Contract tests",
    )
    .await?;
    let report = engine.push_tree(&conn, &object, &prd).await?;
    let mut numbers = Vec::new();
    for id in [&prd, &epic, &story, &task, &sub] {
        numbers.push(number(id).await);
    }
    println!(
        "    PRD #{}, epic #{}, story #{}, task #{}, subtask #{} in {REPO}",
        numbers[0], numbers[1], numbers[2], numbers[3], numbers[4]
    );
    let story_issue = sim.issue(REPO, numbers[2]).unwrap_or_default();
    let milestones = sim.milestones(REPO);
    let milestone = milestones.first().cloned().unwrap_or_default();
    println!(
        "    milestone #{} {:?} holds all five",
        milestone["number"],
        milestone["title"].as_str().unwrap_or("")
    );
    steps.check(
        "the tree is five GitHub issues, parents first, with level labels, sub-issue links and the PRD's milestone",
        report.created == if again { 0 } else { 5 }
            && numbers.windows(2).all(|w| w[0] < w[1])
            && story_issue["labels"]
                .as_array()
                .is_some_and(|l| l.iter().any(|x| x["name"] == "devflow-story"))
            && story_issue["parent_issue_url"]
                == json!(format!("{}/repos/{REPO}/issues/{}", sim.url(), numbers[1]))
            && milestones.len() == 1
            && milestone["title"] == "Checkout"
            && numbers.iter().all(|n| {
                sim.issue(REPO, *n)
                    .is_some_and(|i| i["milestone"]["number"] == milestone["number"])
            }),
    );

    // 9. A GitHub-side edit arrives by signed webhook and merges into the host.
    sim.take_webhooks();
    sim.edit_issue(
        REPO,
        numbers[2],
        &json!({"title": "Pay with a stored card"}),
    );
    for (headers, body) in sim.take_webhooks() {
        engine
            .accept_webhook(&ProviderKey::new("github"), &conn, &headers, &body)
            .await?;
    }
    engine.process_inbox(100).await?;
    let host_title = items
        .get(&story)
        .await?
        .map(|i| i.record.fields.get("title").clone());
    println!(
        "    issue #{} renamed in GitHub; the host now says {:?}",
        numbers[2],
        host_title.as_ref().and_then(|t| t.as_str()).unwrap_or("?")
    );
    steps.check(
        "a GitHub edit delivered by signed webhook is merged into the host item",
        host_title.as_ref().and_then(|t| t.as_str()) == Some("Pay with a stored card"),
    );

    // 10. Both sides rename the task: a conflict, then settled with the host's value.
    // (Names new to this run, so a second run has something to disagree about.)
    let run = sim.issues(REPO).len();
    let (host_name, github_name) = (
        format!("Card vault service {run}"),
        format!("Card vault microservice {run}"),
    );
    let current = items
        .get(&task)
        .await?
        .map(|i| i.record.fields.get("title").clone())
        .unwrap_or_default();
    let update = ItemUpdate {
        changes: vec![devflow_sync::model::FieldChange::new(
            "title",
            current,
            host_name.as_str(),
        )],
        ..ItemUpdate::default()
    };
    items.update(&task, &update, None).await?;
    sim.edit_issue(REPO, numbers[3], &json!({ "title": github_name }));
    engine.pull(&conn, &object, PullBudget::UNLIMITED).await?;
    let pending = journal
        .conflicts(&conn, Some(ConflictStatus::Pending))
        .await?;
    let conflict = pending.iter().find(|c| c.field.as_deref() == Some("title"));
    if let Some(c) = conflict {
        println!(
            "    conflict on #{}: {} (host {:?}, GitHub {:?})",
            numbers[3],
            c.message,
            c.local.as_str().unwrap_or("?"),
            c.remote.as_str().unwrap_or("?")
        );
        engine.resolve_conflict(&c.id, Resolution::UseHost).await?;
    }
    let gh_title = sim
        .issue(REPO, numbers[3])
        .and_then(|i| i["title"].as_str().map(str::to_owned));
    steps.check(
        "both sides renamed the task: a recorded conflict, resolved with the host's title on both sides",
        conflict.is_some() && gh_title.as_deref() == Some(host_name.as_str()),
    );

    // 11. An orphan story opened in GitHub is refused with words a person can act on.
    let orphan = sim.open_issue(
        REPO,
        &json!({"title": "Made in GitHub", "labels": ["devflow-story"]}),
    );
    engine.pull(&conn, &object, PullBudget::UNLIMITED).await?;
    let pending = journal
        .conflicts(&conn, Some(ConflictStatus::Pending))
        .await?;
    let refused = pending.iter().find(|c| {
        c.external
            .as_ref()
            .is_some_and(|e| e.as_str().ends_with(&format!("#{orphan}")))
    });
    if let Some(c) = refused {
        println!(
            "    issue #{orphan}: {} / {}",
            c.message, c.suggested_action
        );
    }
    steps.check(
        "an orphan issue labelled devflow-story is a conflict \"Story requires a parent\" / \"Link to an epic\"",
        refused.is_some_and(|c| c.message == "Story requires a parent" && c.suggested_action == "Link to an epic"),
    );

    // 12. Nothing exists twice: each item of the tree is one GitHub issue, however many
    // runs used this file.
    let issues = sim.issues(REPO);
    let copies = |number: u64| {
        let title = sim
            .issue(REPO, number)
            .and_then(|i| i["title"].as_str().map(str::to_owned));
        issues
            .iter()
            .filter(|i| i["title"].as_str() == title.as_deref())
            .count()
    };
    println!(
        "    {} GitHub issues after {} run(s) of this file",
        issues.len(),
        issues.len().saturating_sub(5)
    );
    steps.check(
        "every host item is one GitHub issue and one link, on a first run and on every later run of the same file",
        numbers.iter().all(|n| *n > 0 && copies(*n) == 1)
            && mappings.links(&conn, &object).await?.len() == 5,
    );
    let tree = [&prd, &epic, &story, &task, &sub];
    jira::steps(steps, &engine, &jira_sim, &jira, &jira_conn, tree).await?;
    wiki::steps(steps, &engine, &wiki_sim, &wiki_conn, (&prd, &epic)).await?;
    fan_out::edit_travels(
        steps,
        &engine,
        &jira_sim,
        &sim,
        (&jira_conn, &conn, &story),
        REPO,
    )
    .await?;
    fan_out::backfill(steps).await?;
    bqe::steps(steps, &store, db_path, keep).await?;
    if keep {
        let saved = sim
            .save(&sim_file)
            .and_then(|()| jira_sim.save(&jira_file))
            .and_then(|()| wiki_sim.save(&wiki_file));
        saved
            .map_err(|e| devflow_sync::Error::transient(format!("{}: {e}", sim_file.display())))?;
    }
    Ok(())
}
