//! Saving a simulator's company to a file and loading it into a new one, so an example
//! (or a host's test) can stop and start against the same BQE CORE.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;

use super::{BqeSimulator, lock};

/// What is kept: entities, the deleted history and the id counter. Apps, codes,
/// tokens and faults are not.
#[derive(serde::Serialize, serde::Deserialize)]
struct Saved {
    entities: BTreeMap<String, BTreeMap<String, Value>>,
    deleted: Vec<(String, String, i64)>,
    next: u64,
}

impl BqeSimulator {
    /// Writes the company's entities and deleted history to `path` (JSON).
    pub fn save(&self, path: impl AsRef<Path>) -> std::io::Result<()> {
        let s = lock(&self.state);
        let saved = Saved {
            entities: s.entities.clone(),
            deleted: s.deleted.clone(),
            next: s.next,
        };
        std::fs::write(
            path,
            serde_json::to_vec(&saved).map_err(std::io::Error::other)?,
        )
    }

    /// Loads a company saved by [`BqeSimulator::save`], replacing what this one holds.
    /// `Ok(false)` when there is no such file.
    pub fn load(&self, path: impl AsRef<Path>) -> std::io::Result<bool> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
            Err(e) => return Err(e),
        };
        let saved: Saved = serde_json::from_str(&text).map_err(std::io::Error::other)?;
        let mut s = lock(&self.state);
        s.entities = saved.entities;
        s.deleted = saved.deleted;
        s.next = s.next.max(saved.next);
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_saved_company_loads_into_a_new_simulator() {
        let file = std::env::temp_dir().join(format!("bqe-sim-{}.json", std::process::id()));
        let first = BqeSimulator::start().await.unwrap();
        let acme = first.add_client("Acme");
        let project = first.add_project("P-1", "Checkout", Some(&acme), None);
        let gone = first.add_project("P-2", "Old", None, None);
        first.delete("project", &gone);
        first.save(&file).unwrap();

        let second = BqeSimulator::start().await.unwrap();
        assert!(second.load(&file).unwrap());
        assert_eq!(
            second.entity("project", &project).unwrap()["name"],
            "Checkout"
        );
        assert!(second.entity("project", &gone).is_none());
        let next = second.add_client("Globex");
        assert!(next != acme && next != project && next != gone, "ids go on");
        assert!(!second.load(file.with_extension("missing")).unwrap());
        let _ = std::fs::remove_file(&file);
    }
}
