//! The change feed: v1 CQL search for the space's pages modified since the cursor
//! (reaching back by the configured overlap, since search lags writes; the engine tells
//! a page seen twice by its version), each page read through v2 with its body and
//! properties; then a pass over the space's trashed and archived pages, as deletions.
//! Only pages carrying the `devflow` property are records: the rest of the space is
//! people's.

use devflow_sync_core::model::ConnectionId;
use devflow_sync_core::provider::{ChangeQuery, Page, RemoteRecord};
use devflow_sync_core::{Error, Result};
use futures_util::future::join_all;

use crate::client::ConfluenceProvider;
use crate::pages::property_of;
use crate::wire::{ListWire, PageWire, SearchResultWire};

/// Page tokens: the next search page's path, or the deletion pass.
const SEARCH: &str = "cql\t";
const GONE: &str = "gone";
/// Pages read at once.
const READS_AT_ONCE: usize = 8;
/// The most results one search page asks for.
pub const MAX_PAGE: usize = 100;

impl ConfluenceProvider {
    /// The CQL of a delta query.
    pub fn delta_cql(&self, since: Option<chrono::DateTime<chrono::Utc>>) -> String {
        let space = self.config.space.replace('\\', "\\\\").replace('"', "\\\"");
        let window = since.map(|t| {
            let overlap = chrono::Duration::from_std(self.config.overlap).unwrap_or_default();
            let from = t.checked_sub_signed(overlap).unwrap_or(t);
            format!(" AND lastmodified >= \"{}\"", from.format("%Y-%m-%d %H:%M"))
        });
        format!(
            "type = page AND space = \"{space}\"{} ORDER BY lastmodified ASC",
            window.unwrap_or_default()
        )
    }

    pub(crate) async fn list_pages(
        &self,
        connection: &ConnectionId,
        query: &ChangeQuery,
    ) -> Result<Page> {
        match query.page_token.as_deref() {
            None => {
                let cql = devflow_sync_core::http::percent_encode(&self.delta_cql(query.since));
                let limit = query.limit.clamp(1, MAX_PAGE);
                self.search_page(
                    connection,
                    &format!("/rest/api/search?cql={cql}&limit={limit}"),
                )
                .await
            }
            Some(GONE) => self.gone_pages(connection, query.limit).await,
            Some(token) => match token.strip_prefix(SEARCH) {
                Some(path) if path.starts_with("/rest/api/search?") => {
                    self.search_page(connection, path).await
                }
                _ => Err(Error::StalePageToken(format!(
                    "{token:?} is not a Confluence page token of this provider"
                ))),
            },
        }
    }

    /// Reads pages by id, a few at once, in order.
    async fn read_pages(&self, connection: &ConnectionId, ids: &[String]) -> Result<Vec<PageWire>> {
        let mut out = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(READS_AT_ONCE) {
            let read = join_all(chunk.iter().map(|id| self.fetch_page(connection, id))).await;
            for page in read {
                match page {
                    Ok(p) => out.push(p),
                    // Gone since the search saw it: the deletion pass reports it.
                    Err(Error::NotFound(_)) => {}
                    Err(e) => return Err(e),
                }
            }
        }
        Ok(out)
    }

    async fn search_page(&self, connection: &ConnectionId, path: &str) -> Result<Page> {
        let found: ListWire<SearchResultWire> =
            self.read(connection, path, "Confluence search").await?;
        let ids: Vec<String> = found
            .results
            .iter()
            .filter_map(|r| r.content.as_ref())
            .filter(|c| c.kind == "page")
            .map(|c| c.id.clone())
            .collect();
        let root = self.root_page(connection).await?;
        let records: Vec<RemoteRecord> = self
            .read_pages(connection, &ids)
            .await?
            .iter()
            .filter(|p| property_of(p).is_some())
            .map(|p| self.to_record(p, root.as_deref()))
            .collect();
        let next = match found.links.next {
            Some(next) => format!("{SEARCH}{next}"),
            None => GONE.to_owned(),
        };
        Ok(Page {
            records,
            next_page_token: Some(next),
        })
    }

    /// The space's most recently trashed or archived pages, as deletions.
    async fn gone_pages(&self, connection: &ConnectionId, limit: usize) -> Result<Page> {
        let space = self.space_info(connection).await?;
        let limit = limit.clamp(1, 250);
        let list: ListWire<PageWire> = self
            .read(
                connection,
                &format!("/api/v2/pages?space-id={}&status=trashed,archived&sort=-modified-date&limit={limit}", space.id),
                "Confluence pages",
            )
            .await?;
        let root = self.root_page(connection).await?;
        let records = list
            .results
            .iter()
            .map(|p| {
                let mut r = self.to_record(p, root.as_deref());
                r.deleted = true;
                r
            })
            .collect();
        Ok(Page {
            records,
            next_page_token: None,
        })
    }
}

/// How far back a marker search looks among created pages.
const MARKER_WINDOW_HOURS: i64 = 24;

impl ConfluenceProvider {
    /// The page created for `marker` in the last day (a create retried after a timeout
    /// finds the page it made): recently created pages of the space, read with their
    /// `devflow` property.
    pub(crate) async fn find_marker(
        &self,
        connection: &ConnectionId,
        marker: &devflow_sync_core::model::ItemId,
    ) -> Result<Option<RemoteRecord>> {
        let space = self.config.space.replace('\\', "\\\\").replace('"', "\\\"");
        let from = chrono::Utc::now() - chrono::Duration::hours(MARKER_WINDOW_HOURS);
        let cql = format!(
            "type = page AND space = \"{space}\" AND created >= \"{}\" ORDER BY created DESC",
            from.format("%Y-%m-%d %H:%M")
        );
        let mut path = format!(
            "/rest/api/search?cql={}&limit={MAX_PAGE}",
            devflow_sync_core::http::percent_encode(&cql)
        );
        let root = self.root_page(connection).await?;
        for _ in 0..10 {
            let found: ListWire<SearchResultWire> =
                self.read(connection, &path, "Confluence search").await?;
            let ids: Vec<String> = found
                .results
                .iter()
                .filter_map(|r| r.content.as_ref())
                .map(|c| c.id.clone())
                .collect();
            for page in self.read_pages(connection, &ids).await? {
                if property_of(&page).is_some_and(|(_, p)| p.id == marker.as_str()) {
                    return Ok(Some(self.to_record(&page, root.as_deref())));
                }
            }
            match found.links.next {
                Some(next) => path = next,
                None => break,
            }
        }
        Ok(None)
    }
}
