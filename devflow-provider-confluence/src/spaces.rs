//! Spaces: the ones a connection can see, and the space a project's pages go in (an
//! existing one by key, or "DevFlow - `project`" created for it).

use devflow_sync_core::http::Method;
use devflow_sync_core::model::ConnectionId;
use devflow_sync_core::{Error, Result};
use serde_json::json;

use crate::client::{ConfluenceProvider, SpaceInfo};
use crate::wire::{ListWire, SpaceWire};

/// The most spaces listed (pages of 250 followed).
const MAX_SPACES: usize = 5_000;

impl ConfluenceProvider {
    fn space_info_of(&self, space: SpaceWire) -> SpaceInfo {
        SpaceInfo {
            url: space
                .links
                .webui
                .as_ref()
                .map(|w| format!("{}/wiki{w}", self.site())),
            id: space.id,
            key: space.key,
            name: space.name,
            homepage: space.homepage_id,
        }
    }

    /// Every space the connection can see, by v2 id, key, name and URL.
    pub async fn list_spaces(&self, connection: &ConnectionId) -> Result<Vec<SpaceInfo>> {
        let mut out = Vec::new();
        let mut path = "/api/v2/spaces?limit=250".to_owned();
        loop {
            let list: ListWire<SpaceWire> =
                self.read(connection, &path, "Confluence spaces").await?;
            out.extend(list.results.into_iter().map(|s| self.space_info_of(s)));
            match list.links.next {
                // `_links.next` is relative to the wiki (`/wiki/api/v2/...`).
                Some(next) if out.len() < MAX_SPACES => {
                    path = next.strip_prefix("/wiki").unwrap_or(&next).to_owned();
                }
                _ => return Ok(out),
            }
        }
    }

    /// The space with `key`, or a new one named "DevFlow - `project`" with that key
    /// when there is none. The key must be letters and digits (Confluence's rule).
    pub async fn ensure_space(
        &self,
        connection: &ConnectionId,
        key: &str,
        project: &str,
    ) -> Result<SpaceInfo> {
        if key.is_empty() || !key.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(Error::invalid_input(
                "key",
                format!("{key:?} is not a Confluence space key (letters and digits)"),
            ));
        }
        let encoded = devflow_sync_core::http::percent_encode(key);
        let found: ListWire<SpaceWire> = self
            .read(
                connection,
                &format!("/api/v2/spaces?keys={encoded}"),
                "Confluence spaces",
            )
            .await?;
        if let Some(space) = found.results.into_iter().find(|s| s.key == key) {
            return Ok(self.space_info_of(space));
        }
        let body = json!({
            "name": format!("DevFlow - {project}"),
            "key": key,
            "description": {"value": format!("Product documents of {project}, synced by DevFlow."), "representation": "plain"},
        });
        let response = self
            .call(connection, Method::POST, "/api/v2/spaces", Some(&body))
            .await?;
        let space: SpaceWire =
            devflow_sync_core::api::parse_json("Confluence space", &response.body)?;
        Ok(self.space_info_of(space))
    }
}
