//! Projects: `/project`, deletions as `Project`; a sub-project (one with a parent) never
//! counts, whatever the server's filter let through.

use serde_json::Value;

use super::BqeObject;

/// BQE projects.
pub(crate) struct Project;

impl BqeObject for Project {
    fn key(&self) -> &'static str {
        "project"
    }

    fn path(&self) -> &'static str {
        "/project"
    }

    fn entity(&self) -> &'static str {
        "Project"
    }

    fn keep(&self, entity: &Value) -> bool {
        entity
            .get("parentId")
            .is_none_or(|p| p.is_null() || p.as_str().is_some_and(str::is_empty))
    }
}
