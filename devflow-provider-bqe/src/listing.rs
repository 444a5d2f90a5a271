//! Lists: BQE's `page=<n>,<size>` over `where` (the delta on `lastUpdated`, reaching back
//! the overlap, and the catalog's filter, e.g. projects without a parent), ordered by
//! `lastUpdated`, stopping on a short page; entities deduplicated by id within a page
//! and checked by their module's guard; then the deleted history since the same time,
//! as deletions.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use devflow_sync_core::model::{ConnectionId, ExternalId, ObjectType, Record};
use devflow_sync_core::provider::{ChangeQuery, Page, RemoteRecord};
use devflow_sync_core::{Error, Result};
use serde_json::Value;

use crate::client::BqeProvider;
use crate::objects::{parse_time, record, where_time};

/// Page tokens: `bqe1 <list|gone> <page>`.
const TOKEN: &str = "bqe1";

fn parse_token(token: &str) -> Result<(bool, usize)> {
    let parts: Vec<&str> = token.split(' ').collect();
    match parts.as_slice() {
        [TOKEN, phase @ ("list" | "gone"), page] => page
            .parse::<usize>()
            .map(|p| (*phase == "gone", p))
            .map_err(|_| Error::StalePageToken(format!("{token:?}: not a page number"))),
        _ => Err(Error::StalePageToken(format!(
            "{token:?} is not a BQE page token of this provider"
        ))),
    }
}

fn quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

impl BqeProvider {
    fn since(&self, since: Option<DateTime<Utc>>) -> Option<DateTime<Utc>> {
        let overlap = chrono::Duration::from_std(self.config.overlap).unwrap_or_default();
        since.map(|t| t.checked_sub_signed(overlap).unwrap_or(t))
    }

    /// The `where` of a list of `object` since `since` (the catalog's filters of the
    /// object included, e.g. `parentId eq null` for projects).
    pub fn list_where(&self, object: &ObjectType, since: Option<DateTime<Utc>>) -> Result<String> {
        let (catalog, _) = self.object(object)?;
        let mut parts: Vec<String> = catalog.filters.values().map(|f| f.query.clone()).collect();
        if let Some(t) = self.since(since) {
            parts.push(format!("lastUpdated ge {}", quote(&where_time(t))));
        }
        Ok(parts.join(" and "))
    }

    pub(crate) async fn list(
        &self,
        connection: &ConnectionId,
        object: &ObjectType,
        query: &ChangeQuery,
    ) -> Result<Page> {
        let (gone, page) = match &query.page_token {
            Some(token) => parse_token(token)?,
            None => (false, 0),
        };
        if gone {
            return self.gone(connection, object, query, page).await;
        }
        let (catalog, module) = self.object(object)?;
        let size = self.config.page_size;
        let fields: Vec<&str> = catalog.fields.iter().map(|f| f.name.as_str()).collect();
        let mut path = format!(
            "{}?page={},{size}&orderBy={}&fields={}",
            module.path(),
            self.config.first_page + page,
            devflow_sync_core::http::percent_encode("lastUpdated asc"),
            devflow_sync_core::http::percent_encode(&fields.join(","))
        );
        let filter = self.list_where(object, query.since)?;
        if !filter.is_empty() {
            path.push_str(&format!(
                "&where={}",
                devflow_sync_core::http::percent_encode(&filter)
            ));
        }
        let answer = self.read(connection, &path).await?;
        let rows = answer.as_array().ok_or_else(|| {
            Error::invalid_input("/", format!("BQE answered a {object} list with no array"))
        })?;
        let mut seen = HashSet::new();
        let mut records = Vec::with_capacity(rows.len());
        for row in rows {
            if !module.keep(row) {
                continue;
            }
            let r = record(catalog, row)?;
            if seen.insert(r.id.clone()) {
                records.push(r);
            }
        }
        let next = if rows.len() >= size {
            Some(format!("{TOKEN} list {}", page + 1))
        } else if self.config.deleted_history {
            Some(format!("{TOKEN} gone 0"))
        } else {
            None
        };
        Ok(Page {
            records,
            next_page_token: next,
        })
    }

    /// The deleted history of the object's entity since the query's time.
    async fn gone(
        &self,
        connection: &ConnectionId,
        object: &ObjectType,
        query: &ChangeQuery,
        page: usize,
    ) -> Result<Page> {
        let (_, module) = self.object(object)?;
        let size = self.config.page_size;
        let mut filter = format!("entity eq {}", quote(module.entity()));
        if let Some(t) = self.since(query.since) {
            filter.push_str(&format!(" and deletedOn ge {}", quote(&where_time(t))));
        }
        let path = format!(
            "/deletedhistory?page={},{size}&where={}",
            self.config.first_page + page,
            devflow_sync_core::http::percent_encode(&filter)
        );
        let answer = self.read(connection, &path).await?;
        let rows = answer.as_array().cloned().unwrap_or_default();
        let records = rows
            .iter()
            .filter_map(|row| {
                let id = row.get("entityId").and_then(Value::as_str)?;
                let at = row
                    .get("deletedOn")
                    .and_then(Value::as_str)
                    .and_then(parse_time)
                    .unwrap_or_else(Utc::now);
                Some(RemoteRecord {
                    id: ExternalId::new(id),
                    url: None,
                    record: Record::new(object.clone(), at),
                    marker: None,
                    deleted: true,
                })
            })
            .collect();
        Ok(Page {
            records,
            next_page_token: (rows.len() >= size).then(|| format!("{TOKEN} gone {}", page + 1)),
        })
    }

    /// One entity; a sub-project (or anything the module's guard refuses) is not found.
    pub(crate) async fn get_one(
        &self,
        connection: &ConnectionId,
        object: &ObjectType,
        id: &ExternalId,
    ) -> Result<RemoteRecord> {
        let (catalog, module) = self.object(object)?;
        if id.as_str().is_empty() || id.as_str().contains(['/', '?', '#']) {
            return Err(Error::invalid_input(
                "id",
                format!("{id:?} is not a BQE id"),
            ));
        }
        let entity = self
            .read(connection, &format!("{}/{}", module.path(), id.as_str()))
            .await?;
        if !module.keep(&entity) {
            return Err(Error::not_found(format!(
                "BQE {object} {id} (a sub-project is not synced)"
            )));
        }
        record(catalog, &entity)
    }
}
