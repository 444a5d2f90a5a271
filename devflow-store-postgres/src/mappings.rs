//! [`MappingStore`]: links unique both ways per tenant, connection and object (the
//! table's keys enforce it), their bases, cursors, exclusions and create intents.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use devflow_sync_core::model::{ConnectionId, ExternalId, ItemId, ObjectType};
use devflow_sync_core::store::{Exclusion, Link, MappingStore, Snapshot, SyncCursor};
use devflow_sync_core::{Error, Result};

use crate::PgStore;
use crate::codec::{Db, count, from_json, json, parse_time, time};

fn links_from(rows: &[(String,)]) -> Result<Vec<Link>> {
    rows.iter()
        .map(|(data,)| from_json(data, "links"))
        .collect()
}

impl PgStore {
    async fn one_link(
        &self,
        connection: &ConnectionId,
        object: &ObjectType,
        column: &str,
        value: &str,
    ) -> Result<Option<Link>> {
        let sql = match column {
            "item" => {
                "SELECT data FROM links
                 WHERE tenant = $1 AND connection = $2 AND object = $3 AND item = $4"
            }
            _ => {
                "SELECT data FROM links
                 WHERE tenant = $1 AND connection = $2 AND object = $3 AND external = $4"
            }
        };
        let row: Option<(String,)> = sqlx::query_as(sql)
            .bind(&*self.tenant)
            .bind(connection.as_str())
            .bind(object.as_str())
            .bind(value)
            .fetch_optional(&self.pool)
            .await
            .db()?;
        row.map(|(data,)| from_json(&data, "links")).transpose()
    }
}

#[async_trait]
impl MappingStore for PgStore {
    async fn insert_link(&self, link: &Link) -> Result<()> {
        let (connection, object) = (&link.remote.connection, &link.remote.object);
        let inserted = sqlx::query(
            "INSERT INTO links (tenant, connection, object, item, external, data)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&*self.tenant)
        .bind(connection.as_str())
        .bind(object.as_str())
        .bind(link.item.as_str())
        .bind(link.remote.id.as_str())
        .bind(json(link)?)
        .execute(&self.pool)
        .await;
        match inserted.db() {
            Ok(_) => Ok(()),
            Err(Error::AlreadyExists(_)) => {
                // Say which side was taken, as the other stores do.
                let by_item = self.link_by_item(connection, object, &link.item).await?;
                Err(Error::already_exists(match by_item {
                    Some(_) => format!(
                        "item {} is already linked in {connection}/{object}",
                        link.item
                    ),
                    None => format!(
                        "record {} is already linked in {connection}/{object}",
                        link.remote.id
                    ),
                }))
            }
            Err(e) => Err(e),
        }
    }

    async fn link_by_item(
        &self,
        connection: &ConnectionId,
        object: &ObjectType,
        item: &ItemId,
    ) -> Result<Option<Link>> {
        self.one_link(connection, object, "item", item.as_str())
            .await
    }

    async fn link_by_external(
        &self,
        connection: &ConnectionId,
        object: &ObjectType,
        id: &ExternalId,
    ) -> Result<Option<Link>> {
        self.one_link(connection, object, "external", id.as_str())
            .await
    }

    async fn links_by_externals(
        &self,
        connection: &ConnectionId,
        object: &ObjectType,
        ids: &[ExternalId],
    ) -> Result<Vec<Link>> {
        self.links_of_externals(connection, object, ids).await
    }

    async fn item_of_external(
        &self,
        connection: &ConnectionId,
        object: &ObjectType,
        id: &ExternalId,
    ) -> Result<Option<ItemId>> {
        let item: Option<String> = sqlx::query_scalar(
            "SELECT item FROM links
             WHERE tenant = $1 AND connection = $2 AND object = $3 AND external = $4",
        )
        .bind(&*self.tenant)
        .bind(connection.as_str())
        .bind(object.as_str())
        .bind(id.as_str())
        .fetch_optional(&self.pool)
        .await
        .db()?;
        Ok(item.map(ItemId::new))
    }

    async fn update_base(
        &self,
        connection: &ConnectionId,
        object: &ObjectType,
        item: &ItemId,
        base: &Snapshot,
    ) -> Result<()> {
        let mut link = self
            .link_by_item(connection, object, item)
            .await?
            .ok_or_else(|| {
                Error::not_found(format!("link of item {item} in {connection}/{object}"))
            })?;
        link.base = base.clone();
        let written = sqlx::query(
            "UPDATE links SET data = $5
             WHERE tenant = $1 AND connection = $2 AND object = $3 AND item = $4",
        )
        .bind(&*self.tenant)
        .bind(connection.as_str())
        .bind(object.as_str())
        .bind(item.as_str())
        .bind(json(&link)?)
        .execute(&self.pool)
        .await
        .db()?;
        if written.rows_affected() == 0 {
            return Err(Error::not_found(format!(
                "link of item {item} in {connection}/{object}"
            )));
        }
        Ok(())
    }

    async fn delete_link(
        &self,
        connection: &ConnectionId,
        object: &ObjectType,
        item: &ItemId,
    ) -> Result<()> {
        sqlx::query(
            "DELETE FROM links
             WHERE tenant = $1 AND connection = $2 AND object = $3 AND item = $4",
        )
        .bind(&*self.tenant)
        .bind(connection.as_str())
        .bind(object.as_str())
        .bind(item.as_str())
        .execute(&self.pool)
        .await
        .db()?;
        Ok(())
    }

    async fn links(&self, connection: &ConnectionId, object: &ObjectType) -> Result<Vec<Link>> {
        let rows: Vec<(String,)> = sqlx::query_as(
            "SELECT data FROM links WHERE tenant = $1 AND connection = $2 AND object = $3
             ORDER BY item",
        )
        .bind(&*self.tenant)
        .bind(connection.as_str())
        .bind(object.as_str())
        .fetch_all(&self.pool)
        .await
        .db()?;
        links_from(&rows)
    }

    async fn links_of_item(&self, item: &ItemId) -> Result<Vec<Link>> {
        let rows: Vec<(String,)> = sqlx::query_as(
            "SELECT data FROM links WHERE tenant = $1 AND item = $2 ORDER BY connection, object",
        )
        .bind(&*self.tenant)
        .bind(item.as_str())
        .fetch_all(&self.pool)
        .await
        .db()?;
        links_from(&rows)
    }

    async fn cursor(
        &self,
        connection: &ConnectionId,
        object: &ObjectType,
    ) -> Result<Option<SyncCursor>> {
        self.check_resumable(&self.pool, connection, object).await?;
        let row: Option<(String,)> = sqlx::query_as(
            "SELECT data FROM cursors WHERE tenant = $1 AND connection = $2 AND object = $3",
        )
        .bind(&*self.tenant)
        .bind(connection.as_str())
        .bind(object.as_str())
        .fetch_optional(&self.pool)
        .await
        .db()?;
        row.map(|(data,)| from_json(&data, "cursors")).transpose()
    }

    async fn put_cursor(
        &self,
        connection: &ConnectionId,
        object: &ObjectType,
        cursor: &SyncCursor,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO cursors (tenant, connection, object, data) VALUES ($1, $2, $3, $4)
             ON CONFLICT (tenant, connection, object) DO UPDATE SET data = excluded.data",
        )
        .bind(&*self.tenant)
        .bind(connection.as_str())
        .bind(object.as_str())
        .bind(json(cursor)?)
        .execute(&self.pool)
        .await
        .db()?;
        Ok(())
    }

    async fn exclude(
        &self,
        connection: &ConnectionId,
        object: &ObjectType,
        exclusion: &Exclusion,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO exclusions (tenant, connection, object, entity) VALUES ($1, $2, $3, $4)
             ON CONFLICT DO NOTHING",
        )
        .bind(&*self.tenant)
        .bind(connection.as_str())
        .bind(object.as_str())
        .bind(json(exclusion)?)
        .execute(&self.pool)
        .await
        .db()?;
        Ok(())
    }

    async fn is_excluded(
        &self,
        connection: &ConnectionId,
        object: &ObjectType,
        exclusion: &Exclusion,
    ) -> Result<bool> {
        let found: Option<i32> = sqlx::query_scalar(
            "SELECT 1 FROM exclusions
             WHERE tenant = $1 AND connection = $2 AND object = $3 AND entity = $4",
        )
        .bind(&*self.tenant)
        .bind(connection.as_str())
        .bind(object.as_str())
        .bind(json(exclusion)?)
        .fetch_optional(&self.pool)
        .await
        .db()?;
        Ok(found.is_some())
    }

    async fn excluded_among(
        &self,
        connection: &ConnectionId,
        object: &ObjectType,
        exclusions: &[Exclusion],
    ) -> Result<Vec<Exclusion>> {
        self.exclusions_among(connection, object, exclusions).await
    }

    async fn put_intent(
        &self,
        connection: &ConnectionId,
        object: &ObjectType,
        item: &ItemId,
        at: DateTime<Utc>,
    ) -> Result<()> {
        self.check_resumable(&self.pool, connection, object).await?;
        sqlx::query(
            "INSERT INTO intents (tenant, connection, object, item, at) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (tenant, connection, object, item) DO UPDATE SET at = excluded.at",
        )
        .bind(&*self.tenant)
        .bind(connection.as_str())
        .bind(object.as_str())
        .bind(item.as_str())
        .bind(time(at))
        .execute(&self.pool)
        .await
        .db()?;
        Ok(())
    }

    async fn intent(
        &self,
        connection: &ConnectionId,
        object: &ObjectType,
        item: &ItemId,
    ) -> Result<Option<DateTime<Utc>>> {
        let at: Option<String> = sqlx::query_scalar(
            "SELECT at FROM intents
             WHERE tenant = $1 AND connection = $2 AND object = $3 AND item = $4",
        )
        .bind(&*self.tenant)
        .bind(connection.as_str())
        .bind(object.as_str())
        .bind(item.as_str())
        .fetch_optional(&self.pool)
        .await
        .db()?;
        at.map(|t| parse_time(&t, "intents.at")).transpose()
    }

    async fn clear_intent(
        &self,
        connection: &ConnectionId,
        object: &ObjectType,
        item: &ItemId,
    ) -> Result<()> {
        sqlx::query(
            "DELETE FROM intents
             WHERE tenant = $1 AND connection = $2 AND object = $3 AND item = $4",
        )
        .bind(&*self.tenant)
        .bind(connection.as_str())
        .bind(object.as_str())
        .bind(item.as_str())
        .execute(&self.pool)
        .await
        .db()?;
        Ok(())
    }

    async fn purge_connection(&self, connection: &ConnectionId) -> Result<usize> {
        let mut tx = self.pool.begin().await.db()?;
        let mut removed = 0;
        for sql in [
            "DELETE FROM links WHERE tenant = $1 AND connection = $2",
            "DELETE FROM cursors WHERE tenant = $1 AND connection = $2",
            "DELETE FROM exclusions WHERE tenant = $1 AND connection = $2",
            "DELETE FROM intents WHERE tenant = $1 AND connection = $2",
        ] {
            removed += sqlx::query(sql)
                .bind(&*self.tenant)
                .bind(connection.as_str())
                .execute(&mut *tx)
                .await
                .db()?
                .rows_affected();
        }
        tx.commit().await.db()?;
        Ok(count(removed))
    }
}
