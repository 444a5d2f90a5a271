//! MCP tools for agents (the official Rust SDK, `rmcp`), over the same state and
//! library calls as the HTTP API: sync an item, create a PRD everywhere, import a Jira
//! issue under a host parent, read an item's sync status, list and settle conflicts,
//! search Jira. Each tool has a JSON Schema for its input and its output; a refusal
//! is a tool error carrying the library's message and, where it has one, the
//! suggested action. `cargo run -p host-service -- mcp` serves them over stdio.

pub mod http;

use std::sync::Arc;

use devflow_sync_core::Error;
use devflow_sync_core::engine::{PlatformStatus, PullBudget, Resolution};
use devflow_sync_core::model::{ConnectionId, ItemId, ItemKind, ObjectType, Record};
use devflow_sync_core::store::{ConflictStatus, ConflictType};
use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::{Implementation, ServerCapabilities, ServerConfig};
use rmcp::{Json, ServerHandler, tool, tool_handler, tool_router};

use crate::state::{AppState, Handle};

mod types;

pub use types::*;

/// The tools, over the service's state.
#[derive(Clone)]
pub struct DevflowMcp {
    state: Arc<AppState>,
    tool_router: ToolRouter<Self>,
}

impl std::fmt::Debug for DevflowMcp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DevflowMcp").finish_non_exhaustive()
    }
}

/// A library error as a tool error: its message, and the suggested action of a
/// hierarchy refusal.
#[allow(clippy::needless_pass_by_value)] // the shape `map_err` hands it
fn refusal(e: Error) -> String {
    match &e {
        Error::Hierarchy(v) => format!("{} (suggested action: {})", v.message, v.suggested_action),
        _ => e.to_string(),
    }
}

impl DevflowMcp {
    /// The Jira connection and its provider (the first, when there are several).
    fn jira(
        &self,
    ) -> Result<
        (
            ConnectionId,
            std::sync::Arc<devflow_provider_jira::JiraProvider>,
        ),
        String,
    > {
        let jira = self
            .connection_of(|h| matches!(h, Handle::Jira(_)))
            .ok_or("no Jira connection")?;
        match self.state.handle(&jira) {
            Some(Handle::Jira(provider)) => Ok((jira, provider)),
            _ => Err("no Jira connection".into()),
        }
    }

    fn connection_of(&self, wanted: impl Fn(&Handle) -> bool) -> Option<ConnectionId> {
        let mut ids: Vec<ConnectionId> = self
            .state
            .engine
            .bindings()
            .into_iter()
            .map(|b| b.connection)
            .filter(|c| self.state.handle(c).is_some_and(|h| wanted(&h)))
            .collect();
        ids.sort();
        ids.into_iter().next()
    }
}

#[tool_router]
impl DevflowMcp {
    /// The tools over `state`.
    pub fn new(state: Arc<AppState>) -> Self {
        Self {
            state,
            tool_router: Self::tool_router(),
        }
    }

    /// Syncs a host item to its platforms now.
    #[tool(
        description = "Sync a host item (PRD, epic, story, task, subtask) to every platform that carries it, or the ones named; per platform: external ref, URL, status, time."
    )]
    async fn sync_entity(
        &self,
        Parameters(input): Parameters<SyncEntity>,
    ) -> Result<Json<Outcomes>, String> {
        let platforms: Option<Vec<ConnectionId>> = input
            .platforms
            .map(|p| p.into_iter().map(ConnectionId::new).collect());
        let results = self
            .state
            .engine
            .sync_item(
                &ItemId::new(input.entity_id),
                platforms.as_deref(),
                input.force,
            )
            .await
            .map_err(refusal)?;
        Ok(Json(Outcomes {
            platforms: results
                .into_iter()
                .map(|r| PlatformOutcome {
                    platform: r.connection.as_str().to_owned(),
                    provider: r.provider.as_str().to_owned(),
                    external_ref: r.external.as_ref().map(|e| e.id.as_str().to_owned()),
                    url: r.external.and_then(|e| e.url),
                    status: format!("{:?}", r.status).to_lowercase(),
                    time: r.at.to_rfc3339(),
                })
                .collect(),
        }))
    }

    /// Creates a PRD in the host and pushes it to Confluence, Jira and GitHub at once.
    #[tool(
        description = "Create a PRD in the host and in Confluence (a page), Jira (an epic) and, optionally, GitHub, at once; returns each system's reference."
    )]
    async fn create_prd_with_integrations(
        &self,
        Parameters(input): Parameters<CreatePrd>,
    ) -> Result<Json<CreatedPrd>, String> {
        if input.title.trim().is_empty() {
            return Err("the title is empty".into());
        }
        let wiki = self
            .connection_of(|h| matches!(h, Handle::Confluence(p) if p.config().space == input.confluence_space_key))
            .ok_or_else(|| format!("no Confluence connection for space {}", input.confluence_space_key))?;
        let jira = self
            .connection_of(
                |h| matches!(h, Handle::Jira(p) if p.config().project == input.jira_project_key),
            )
            .ok_or_else(|| format!("no Jira connection for project {}", input.jira_project_key))?;
        let github = match &input.github_repo {
            Some(repo) => Some(
                self.connection_of(
                    |h| matches!(h, Handle::GitHub(p) if p.config().repositories.contains(repo)),
                )
                .ok_or_else(|| format!("no GitHub connection for {repo}"))?,
            ),
            None => None,
        };
        let record = Record::new("work_item", chrono::Utc::now())
            .with_kind(ItemKind::Prd)
            .with_field("title", input.title.trim())
            .with_field(
                "description",
                devflow_sync_core::model::FieldValue::long_text(input.description),
            )
            .with_field("status", "todo");
        let prd = self
            .state
            .engine
            .work_items()
            .create(None, record)
            .await
            .map_err(refusal)?
            .id;
        let mut platforms = vec![wiki.clone(), jira.clone()];
        platforms.extend(github.clone());
        let results = self
            .state
            .engine
            .sync_item(&prd, Some(&platforms), true)
            .await
            .map_err(refusal)?;
        let find = |c: &ConnectionId| results.iter().find(|r| r.connection == *c);
        for r in &results {
            if r.status == PlatformStatus::Failed {
                return Err(format!(
                    "{} refused the PRD: {}",
                    r.connection,
                    r.detail.clone().unwrap_or_default()
                ));
            }
        }
        let jira_key = find(&jira)
            .and_then(|r| r.external.as_ref())
            .and_then(|e| e.url.as_ref())
            .and_then(|u| u.rsplit('/').next().map(str::to_owned));
        Ok(Json(CreatedPrd {
            prd_id: prd.as_str().to_owned(),
            confluence_page_id: find(&wiki)
                .and_then(|r| r.external.as_ref())
                .map(|e| e.id.as_str().to_owned()),
            jira_epic_key: jira_key,
            github_ref: github
                .as_ref()
                .and_then(find)
                .and_then(|r| r.external.as_ref())
                .map(|e| e.id.as_str().to_owned()),
        }))
    }

    /// Imports an existing Jira issue under a host parent.
    #[tool(
        description = "Import an existing Jira issue into the host under a parent item; the hierarchy is enforced: a parent of the wrong level is refused with the suggested action."
    )]
    async fn link_jira_issue(
        &self,
        Parameters(input): Parameters<LinkJira>,
    ) -> Result<Json<Linked>, String> {
        let (jira, provider) = self.jira()?;
        let hits = provider
            .search_issues(&jira, &input.jira_key)
            .await
            .map_err(refusal)?;
        if hits.is_empty() {
            return Err(format!("Jira has no issue {}", input.jira_key));
        }
        // The issue comes in through a pull: a record made in Jira is a conflict to settle.
        self.state
            .engine
            .pull(&jira, &ObjectType::new("issue"), PullBudget::default())
            .await
            .map_err(refusal)?;
        let pending = self
            .state
            .engine
            .journal()
            .conflicts(&jira, Some(ConflictStatus::Pending))
            .await
            .map_err(refusal)?;
        let key = input.jira_key.to_ascii_uppercase();
        let conflict = pending
            .into_iter()
            .find(|c| {
                matches!(c.conflict_type, ConflictType::HierarchyViolation | ConflictType::ExternalCreation)
                    && matches!(&c.remote, devflow_sync_core::model::FieldValue::Json(r)
                        if r.get("url").and_then(|u| u.as_str()).is_some_and(|u| u.ends_with(&format!("/{key}"))))
            })
            .ok_or_else(|| format!("{key} is already in the host or not waiting to be imported"))?;
        let resolution = match input.parent_id {
            Some(parent) => Resolution::LinkToParent {
                parent: ItemId::new(parent),
            },
            None => Resolution::Import,
        };
        let report = self
            .state
            .engine
            .resolve_conflict(&conflict.id, resolution)
            .await
            .map_err(refusal)?;
        let entity = report
            .outcomes
            .iter()
            .find_map(|o| o.item.as_ref().map(|i| i.as_str().to_owned()));
        Ok(Json(Linked {
            entity_id: entity,
            conflict_id: conflict.id,
        }))
    }

    /// An item's state on every platform.
    #[tool(
        description = "Per platform: whether the item is synced, its reference there, when it last synced, and its pending conflicts."
    )]
    async fn get_sync_status(
        &self,
        Parameters(input): Parameters<Entity>,
    ) -> Result<Json<SyncStatus>, String> {
        let item = ItemId::new(input.entity_id);
        let known = self
            .state
            .engine
            .work_items()
            .get(&item)
            .await
            .map_err(refusal)?
            .is_some();
        if !known {
            return Err(refusal(Error::not_found(format!("work item {item}"))));
        }
        let states = self.state.engine.status(&item).await.map_err(refusal)?;
        Ok(Json(SyncStatus {
            platforms: states
                .into_iter()
                .map(|s| PlatformState {
                    platform: s.connection.as_str().to_owned(),
                    synced: s.synced,
                    external_ref: s.external.map(|e| e.id.as_str().to_owned()),
                    last_synced: s.last_synced_at.map(|t| t.to_rfc3339()),
                    pending_conflicts: s.pending_conflicts.into_iter().map(|c| c.id).collect(),
                })
                .collect(),
        }))
    }

    /// Conflicts by status and platform.
    #[tool(
        description = "Conflicts waiting for a person (or settled), optionally of one platform."
    )]
    async fn list_conflicts(
        &self,
        Parameters(input): Parameters<ListConflicts>,
    ) -> Result<Json<Conflicts>, String> {
        let status = match input.status.as_deref().unwrap_or("pending") {
            "pending" => ConflictStatus::Pending,
            "resolved" => ConflictStatus::Resolved,
            "ignored" => ConflictStatus::Ignored,
            other => return Err(format!("status {other:?}: pending, resolved or ignored")),
        };
        let mut connections: Vec<ConnectionId> = self
            .state
            .engine
            .bindings()
            .into_iter()
            .map(|b| b.connection)
            .collect();
        connections.sort();
        connections.dedup();
        let mut out = Vec::new();
        for c in connections {
            for conflict in self
                .state
                .engine
                .journal()
                .conflicts(&c, Some(status))
                .await
                .map_err(refusal)?
            {
                let wanted = input.platform.as_deref().is_none_or(|p| {
                    conflict.provider.as_str() == p || conflict.connection.as_str() == p
                });
                if wanted {
                    out.push(ConflictBrief {
                        id: conflict.id,
                        kind: format!("{:?}", conflict.conflict_type),
                        platform: conflict.connection.as_str().to_owned(),
                        message: conflict.message,
                        suggested_action: conflict.suggested_action,
                        entity_id: conflict.item.map(|i| i.as_str().to_owned()),
                    });
                }
            }
        }
        Ok(Json(Conflicts { conflicts: out }))
    }

    /// Settles a conflict and syncs its entity again.
    #[tool(
        description = "Settle a conflict: link_to_parent (parent_id), create_parent (title), keep_external, import, use_host, use_remote, use_side (side) or ignore."
    )]
    async fn resolve_sync_conflict(
        &self,
        Parameters(input): Parameters<Resolve>,
    ) -> Result<Json<Resolved>, String> {
        let conflict = self
            .state
            .engine
            .journal()
            .conflict(&input.conflict_id)
            .await
            .map_err(refusal)?
            .ok_or_else(|| format!("no conflict {}", input.conflict_id))?;
        let parent_kind = || match &conflict.remote {
            devflow_sync_core::model::FieldValue::Json(r) => r
                .pointer("/record/kind")
                .and_then(|k| k.as_str())
                .and_then(|k| k.parse::<ItemKind>().ok())
                .and_then(|k| k.level().checked_sub(1))
                .and_then(|l| ItemKind::ALL.get(l).copied()),
            _ => None,
        };
        let resolution = match input.action.as_str() {
            "link_to_parent" => Resolution::LinkToParent {
                parent: ItemId::new(input.parent_id.ok_or("link_to_parent needs parent_id")?),
            },
            "create_parent" => Resolution::CreateParent {
                kind: parent_kind().ok_or("this conflict has no parent level to create")?,
                title: input.title.unwrap_or_else(|| "New parent".into()),
                parent: None,
            },
            "keep_external" => Resolution::KeepExternal,
            "import" => Resolution::Import,
            "use_host" => Resolution::UseHost,
            "use_remote" => Resolution::UseRemote,
            "use_side" => Resolution::UseSide {
                side: input.side.ok_or("use_side needs side")?,
            },
            "ignore" => Resolution::Ignore,
            other => return Err(format!("action {other:?} is not a resolution")),
        };
        let report = self
            .state
            .engine
            .resolve_conflict(&input.conflict_id, resolution)
            .await
            .map_err(refusal)?;
        Ok(Json(Resolved {
            conflict_id: input.conflict_id,
            changed: report.created + report.updated,
        }))
    }

    /// Jira issue search.
    #[tool(description = "Find Jira issues by key or words of the summary.")]
    async fn search_jira_issues(
        &self,
        Parameters(input): Parameters<Search>,
    ) -> Result<Json<Issues>, String> {
        let (jira, provider) = self.jira()?;
        let hits = provider
            .search_issues(&jira, &input.query)
            .await
            .map_err(refusal)?;
        Ok(Json(Issues {
            issues: hits
                .into_iter()
                .map(|h| IssueBrief {
                    key: h.key,
                    summary: h.summary,
                    status: h.status,
                })
                .collect(),
        }))
    }
}

#[tool_handler(router = self.tool_router)]
impl ServerHandler for DevflowMcp {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new(
                "devflow-sync-host",
                env!("CARGO_PKG_VERSION"),
            ))
            .with_instructions("devflow-sync: sync work items with Jira, Confluence, GitHub and BQE; settle sync conflicts.")
    }
}
