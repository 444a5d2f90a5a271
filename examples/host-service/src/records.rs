//! The connection records the service makes (one place for the demo, the connect form,
//! OAuth callbacks and `--real`): which provider objects each connection syncs, with
//! which host object and mapping.

use devflow_sync_core::Result;
use devflow_sync_core::engine::ImportMode;
use devflow_sync_core::model::ItemKind;
use devflow_sync_core::store::{BindingRecord, ConnectionRecord};

/// The host object work items are.
pub const WORK_ITEM: &str = "work_item";

/// A Jira connection: issues as work items, worklogs as time records.
pub fn jira(id: &str) -> Result<ConnectionRecord> {
    Ok(ConnectionRecord::new(id, "jira")
        .with_binding(
            BindingRecord::new("issue")
                .for_host_object(WORK_ITEM)
                .with_mapping(devflow_provider_jira::mapping::default_mapping()?),
        )
        .with_binding(
            BindingRecord::new("worklog")
                .for_host_object(devflow_provider_jira::timecard::TIME_RECORD)
                .with_mapping(devflow_provider_jira::mapping::worklog_mapping()?),
        ))
}

/// A Confluence connection: PRDs and epics as pages.
pub fn confluence(id: &str) -> Result<ConnectionRecord> {
    Ok(ConnectionRecord::new(id, "confluence").with_binding(
        BindingRecord::new("page")
            .for_host_object(WORK_ITEM)
            .with_mapping(devflow_provider_confluence::mapping::default_mapping()?)
            .carrying([ItemKind::Prd, ItemKind::Epic]),
    ))
}

/// A GitHub connection: issues as work items.
pub fn github(id: &str) -> Result<ConnectionRecord> {
    Ok(ConnectionRecord::new(id, "github").with_binding(
        BindingRecord::new("issue")
            .for_host_object(WORK_ITEM)
            .with_mapping(devflow_provider_github::mapping::default_mapping()?),
    ))
}

/// A BQE connection: parent projects imported as host projects, the host's own client
/// name kept where people changed it.
pub fn bqe(id: &str) -> Result<ConnectionRecord> {
    Ok(ConnectionRecord::new(id, "bqe").with_binding(
        BindingRecord::new("project")
            .for_host_object("project")
            .importing(ImportMode::Import)
            .with_mapping(devflow_provider_bqe::mapping::project_mapping(
                devflow_provider_bqe::mapping::ClientPolicy::PreserveLocal,
            )?),
    ))
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_record_names_its_provider_and_bindings() {
        for (record, provider, objects) in [
            (super::jira("j").unwrap(), "jira", vec!["issue", "worklog"]),
            (super::confluence("c").unwrap(), "confluence", vec!["page"]),
            (super::github("g").unwrap(), "github", vec!["issue"]),
            (super::bqe("b").unwrap(), "bqe", vec!["project"]),
        ] {
            assert_eq!(record.provider.as_str(), provider);
            let names: Vec<&str> = record.bindings.iter().map(|b| b.object.as_str()).collect();
            assert_eq!(names, objects);
        }
    }
}
