//! Host project fields from BQE projects, with the client policy on the host's `client`.

use devflow_sync_core::mapping::{FieldMapping, FieldStrategy, MappingDirection, ObjectMapping};
use devflow_sync_core::model::FieldType;
use devflow_sync_core::{Error, Result};

/// What happens to the host's `client` when BQE's differs. BQE's client name and id are
/// kept beside it in any case (`bqe_client_name`, `bqe_client_id`), always as BQE has
/// them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClientPolicy {
    /// The host's client is BQE's, always (a host edit is overwritten at the next sync).
    #[default]
    FollowBqe,
    /// A client the host changed is kept; BQE's changes reach a host client nobody
    /// changed.
    PreserveLocal,
    /// BQE's client is taken while the host has none, never after.
    WriteOnce,
}

impl ClientPolicy {
    fn strategy(self) -> FieldStrategy {
        match self {
            ClientPolicy::FollowBqe => FieldStrategy::ProviderWins,
            ClientPolicy::PreserveLocal => FieldStrategy::HostWins,
            ClientPolicy::WriteOnce => FieldStrategy::WriteOnce,
        }
    }
}

/// The host fields of a BQE project: `name`, `code`, `status`, `client` (by `policy`),
/// `bqe_client_name`, `bqe_client_id`; all read from BQE (the provider is read-only).
///
/// ```
/// use devflow_provider_bqe::mapping::{ClientPolicy, project_mapping};
/// let m = project_mapping(ClientPolicy::PreserveLocal).unwrap();
/// assert!(m.fields.iter().any(|f| f.host_field == "bqe_client_id"));
/// ```
pub fn project_mapping(policy: ClientPolicy) -> Result<ObjectMapping> {
    let catalog = crate::catalog().map_err(|e| Error::InvalidConfig {
        pointer: "bqe/provider.json".into(),
        message: e.to_string(),
    })?;
    let project = catalog
        .objects
        .into_iter()
        .find(|o| o.key.as_str() == "project")
        .ok_or_else(|| Error::InvalidConfig {
            pointer: "bqe/provider.json/objects".into(),
            message: "the BQE catalog has no project object".into(),
        })?;
    let pull = |host: &str, bqe: &str, kind: FieldType| {
        FieldMapping::identity(host, bqe, kind).with_direction(MappingDirection::Pull)
    };
    Ok(ObjectMapping::new(
        crate::PROVIDER_KEY,
        &project,
        vec![
            pull("name", "name", FieldType::Text),
            pull("code", "code", FieldType::Text),
            pull("status", "status", FieldType::Enum),
            pull("client", "clientName", FieldType::Text).with_strategy(policy.strategy()),
            pull("bqe_client_name", "clientName", FieldType::Text)
                .with_strategy(FieldStrategy::ProviderWins),
            pull("bqe_client_id", "clientId", FieldType::Text)
                .with_strategy(FieldStrategy::ProviderWins),
        ],
    ))
}
