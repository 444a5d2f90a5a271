//! [`TokenStore`]: credentials per connection, written with compare-and-swap on the
//! version column in one statement each, so of two workers refreshing one rotating
//! token at once, one writes and the other learns the new version and reads it.
//! Secrets are stored as given: wrap the store in
//! [`EncryptedTokenStore`](devflow_sync_core::auth::EncryptedTokenStore) so only
//! ciphertext reaches the database.

use async_trait::async_trait;
use devflow_sync_core::model::{ConnectionId, ProviderKey};
use devflow_sync_core::store::{Credentials, StoredToken, TokenStore};
use devflow_sync_core::{Error, Result};
use secrecy::{ExposeSecret, SecretString};
use sqlx::Row;

use crate::PgStore;
use crate::codec::{Db, from_json, json, parse_time, time};

#[async_trait]
impl TokenStore for PgStore {
    async fn get(&self, connection: &ConnectionId) -> Result<Option<StoredToken>> {
        let row = sqlx::query(
            "SELECT provider, access_token, refresh_token, expires_at, scopes, version
             FROM tokens WHERE tenant = $1 AND connection = $2",
        )
        .bind(&*self.tenant)
        .bind(connection.as_str())
        .fetch_optional(&self.pool)
        .await
        .db()?;
        let Some(row) = row else {
            return Ok(None);
        };
        let expires_at: Option<String> = row.try_get("expires_at").db()?;
        let refresh: Option<String> = row.try_get("refresh_token").db()?;
        let version: i64 = row.try_get("version").db()?;
        Ok(Some(StoredToken {
            connection: connection.clone(),
            provider: ProviderKey::new(row.try_get::<String, _>("provider").db()?),
            credentials: Credentials {
                access_token: SecretString::from(row.try_get::<String, _>("access_token").db()?),
                refresh_token: refresh.map(SecretString::from),
                expires_at: expires_at
                    .map(|t| parse_time(&t, "tokens.expires_at"))
                    .transpose()?,
                scopes: from_json(&row.try_get::<String, _>("scopes").db()?, "tokens.scopes")?,
            },
            version: u64::try_from(version).unwrap_or(0),
        }))
    }

    async fn put(
        &self,
        connection: &ConnectionId,
        provider: &ProviderKey,
        credentials: &Credentials,
        expected: Option<u64>,
    ) -> Result<u64> {
        let access = credentials.access_token.expose_secret();
        let refresh = credentials
            .refresh_token
            .as_ref()
            .map(ExposeSecret::expose_secret);
        let expires = credentials.expires_at.map(time);
        let scopes = json(&credentials.scopes)?;
        let written: Option<i64> = match expected {
            // Only when nothing is stored yet.
            None => sqlx::query_scalar(
                "INSERT INTO tokens
                   (tenant, connection, provider, access_token, refresh_token, expires_at,
                    scopes, version)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, 1)
                 ON CONFLICT (tenant, connection) DO NOTHING
                 RETURNING version",
            )
            .bind(&*self.tenant)
            .bind(connection.as_str())
            .bind(provider.as_str())
            .bind(access)
            .bind(refresh)
            .bind(&expires)
            .bind(&scopes)
            .fetch_optional(&self.pool)
            .await
            .db()?,
            // Only over the version the caller read.
            Some(expected) => sqlx::query_scalar(
                "UPDATE tokens
                 SET provider = $3, access_token = $4, refresh_token = $5, expires_at = $6,
                     scopes = $7, version = version + 1
                 WHERE tenant = $1 AND connection = $2 AND version = $8
                 RETURNING version",
            )
            .bind(&*self.tenant)
            .bind(connection.as_str())
            .bind(provider.as_str())
            .bind(access)
            .bind(refresh)
            .bind(&expires)
            .bind(&scopes)
            .bind(i64::try_from(expected).unwrap_or(i64::MAX))
            .fetch_optional(&self.pool)
            .await
            .db()?,
        };
        if let Some(version) = written {
            return Ok(u64::try_from(version).unwrap_or(0));
        }
        let current: Option<i64> =
            sqlx::query_scalar("SELECT version FROM tokens WHERE tenant = $1 AND connection = $2")
                .bind(&*self.tenant)
                .bind(connection.as_str())
                .fetch_optional(&self.pool)
                .await
                .db()?;
        Err(match (current, expected) {
            (Some(_), None) => {
                Error::already_exists(format!("credentials of connection {connection}"))
            }
            _ => Error::precondition(format!(
                "credentials of connection {connection} are at version {current:?}, not {expected:?}"
            )),
        })
    }

    async fn delete(&self, connection: &ConnectionId) -> Result<()> {
        sqlx::query("DELETE FROM tokens WHERE tenant = $1 AND connection = $2")
            .bind(&*self.tenant)
            .bind(connection.as_str())
            .execute(&self.pool)
            .await
            .db()?;
        Ok(())
    }
}
