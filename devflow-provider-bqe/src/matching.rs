//! The one-time matching before a first sync: the host's projects paired with BQE's
//! parent projects by exact id, then project number, then normalised name and client,
//! each pair with its reason; a pair that is not one-to-one is reported, never guessed.
//! The person confirms; [`SyncEngine::link_records`] links them together.
//!
//! [`SyncEngine::link_records`]: devflow_sync_core::engine::SyncEngine::link_records

use std::collections::{BTreeMap, HashSet};

use devflow_sync_core::Result;
use devflow_sync_core::model::{ConnectionId, ExternalId, ItemId, ObjectType};
use devflow_sync_core::provider::ProviderExt;
use serde::{Deserialize, Serialize};

use crate::client::BqeProvider;

/// A host project, as the matching reads it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LocalProject {
    /// The host item.
    pub item: ItemId,
    /// A BQE id the host already keeps, if any.
    pub external_id: Option<String>,
    /// The project number the host keeps (BQE's `code`), if any.
    pub number: Option<String>,
    /// The name.
    pub name: String,
    /// The client's name, if any.
    pub client: Option<String>,
}

/// Why a pair was suggested.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MatchReason {
    /// The host keeps the BQE id.
    ExternalId,
    /// Same project number.
    ProjectNumber,
    /// Same name and client, after normalising (case, spaces, punctuation).
    NameAndClient,
}

/// A suggested pair.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MatchPair {
    /// The host item.
    pub item: ItemId,
    /// The BQE project.
    pub project: ExternalId,
    /// Why.
    pub reason: MatchReason,
}

/// Projects that match more than one way round: for a person to settle.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ambiguity {
    /// The BQE projects involved.
    pub projects: Vec<ExternalId>,
    /// The host items involved.
    pub items: Vec<ItemId>,
    /// On what they matched.
    pub reason: MatchReason,
}

/// The suggestion.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MatchPlan {
    /// One-to-one pairs, strongest reason first.
    pub pairs: Vec<MatchPair>,
    /// What matched ambiguously.
    pub ambiguous: Vec<Ambiguity>,
    /// BQE parent projects nothing matched (imported or skipped per the rule).
    pub unmatched_projects: Vec<ExternalId>,
    /// Host projects nothing matched.
    pub unmatched_items: Vec<ItemId>,
}

/// Lower case, letters and digits, single spaces.
fn normalise(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_alphanumeric() {
                c.to_lowercase().next().unwrap_or(c)
            } else {
                ' '
            }
        })
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

struct Remote {
    id: ExternalId,
    code: Option<String>,
    name: String,
    client: Option<String>,
}

fn key(
    reason: MatchReason,
    id: Option<&str>,
    number: Option<&str>,
    name: &str,
    client: Option<&str>,
) -> Option<String> {
    match reason {
        MatchReason::ExternalId => id.map(str::to_owned),
        MatchReason::ProjectNumber => number.map(normalise).filter(|n| !n.is_empty()),
        MatchReason::NameAndClient => {
            let name = normalise(name);
            (!name.is_empty()).then(|| format!("{name}\u{0}{}", normalise(client.unwrap_or(""))))
        }
    }
}

impl BqeProvider {
    /// Pairs `locals` with the BQE parent projects of the connection (see the module).
    pub async fn suggest_matches(
        &self,
        connection: &ConnectionId,
        locals: &[LocalProject],
    ) -> Result<MatchPlan> {
        let projects = self
            .list_all(connection, &ObjectType::new("project"), None, 100_000)
            .await?;
        let remotes: Vec<Remote> = projects
            .iter()
            .map(|p| {
                let f = &p.record.fields;
                Remote {
                    id: p.id.clone(),
                    code: f.get("code").as_str().map(str::to_owned),
                    name: f.get("name").as_str().unwrap_or_default().to_owned(),
                    client: f.get("clientName").as_str().map(str::to_owned),
                }
            })
            .collect();
        let mut plan = MatchPlan::default();
        let (mut done_items, mut done_projects) = (HashSet::new(), HashSet::new());
        for reason in [
            MatchReason::ExternalId,
            MatchReason::ProjectNumber,
            MatchReason::NameAndClient,
        ] {
            let mut by_key: BTreeMap<String, (Vec<&ItemId>, Vec<&ExternalId>)> = BTreeMap::new();
            for l in locals.iter().filter(|l| !done_items.contains(&l.item)) {
                if let Some(k) = key(
                    reason,
                    l.external_id.as_deref(),
                    l.number.as_deref(),
                    &l.name,
                    l.client.as_deref(),
                ) {
                    by_key.entry(k).or_default().0.push(&l.item);
                }
            }
            for r in remotes.iter().filter(|r| !done_projects.contains(&r.id)) {
                if let Some(k) = key(
                    reason,
                    Some(r.id.as_str()),
                    r.code.as_deref(),
                    &r.name,
                    r.client.as_deref(),
                ) {
                    by_key.entry(k).or_default().1.push(&r.id);
                }
            }
            for (items, projects) in by_key.into_values() {
                if items.is_empty() || projects.is_empty() {
                    continue;
                }
                done_items.extend(items.iter().map(|i| (*i).clone()));
                done_projects.extend(projects.iter().map(|p| (*p).clone()));
                if let ([item], [project]) = (items.as_slice(), projects.as_slice()) {
                    plan.pairs.push(MatchPair {
                        item: (*item).clone(),
                        project: (*project).clone(),
                        reason,
                    });
                } else {
                    plan.ambiguous.push(Ambiguity {
                        projects: projects.into_iter().cloned().collect(),
                        items: items.into_iter().cloned().collect(),
                        reason,
                    });
                }
            }
        }
        plan.unmatched_projects = remotes
            .iter()
            .filter(|r| !done_projects.contains(&r.id))
            .map(|r| r.id.clone())
            .collect();
        plan.unmatched_items = locals
            .iter()
            .filter(|l| !done_items.contains(&l.item))
            .map(|l| l.item.clone())
            .collect();
        Ok(plan)
    }
}
