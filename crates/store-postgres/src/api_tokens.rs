//! [`ApiTokenStore`] on PostgreSQL (see `migrations/0014_api_tokens.sql`).

use async_trait::async_trait;
use broadsheet_domain::store::StoreResult;
use broadsheet_domain::{ApiToken, ApiTokenId, ApiTokenStore, NewApiToken, Store, User, UserId};
use chrono::{DateTime, Utc};

use crate::PgStore;
use crate::rows::db_error;

/// A query on the tokens' columns (literal SQL, so sqlx knows it is not built from
/// input).
macro_rules! select {
    ($rest:literal) => {
        concat!(
            "SELECT id, user_id, name, scope, prefix, created_at, last_used_at, revoked_at \
             FROM api_tokens ",
            $rest
        )
    };
}

type TokenRow = (
    i64,
    i64,
    String,
    String,
    String,
    DateTime<Utc>,
    Option<DateTime<Utc>>,
    Option<DateTime<Utc>>,
);

fn token_of(row: TokenRow) -> StoreResult<ApiToken> {
    let (id, user_id, name, scope, prefix, created_at, last_used_at, revoked_at) = row;
    Ok(ApiToken {
        id: ApiTokenId(id),
        user_id: UserId(user_id),
        name,
        scope: scope
            .parse()
            .map_err(broadsheet_domain::StoreError::backend)?,
        prefix,
        created_at,
        last_used_at,
        revoked_at,
    })
}

#[async_trait]
impl ApiTokenStore for PgStore {
    async fn create_api_token(&self, token: &NewApiToken) -> StoreResult<ApiToken> {
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO api_tokens (user_id, name, scope, token_hash, prefix, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(token.user_id.0)
        .bind(&token.name)
        .bind(token.scope.as_str())
        .bind(&token.token_hash)
        .bind(&token.prefix)
        .bind(token.created_at)
        .fetch_one(&self.pool)
        .await
        .map_err(db_error)?;
        self.api_token_by_id(ApiTokenId(id)).await
    }

    async fn api_token_user(&self, token_hash: &str) -> StoreResult<(ApiToken, User)> {
        let row: TokenRow = sqlx::query_as(
            "SELECT t.id, t.user_id, t.name, t.scope, t.prefix, t.created_at, \
             t.last_used_at, t.revoked_at FROM api_tokens t JOIN users u ON u.id = t.user_id \
             WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND u.active",
        )
        .bind(token_hash)
        .fetch_one(&self.pool)
        .await
        .map_err(db_error)?;
        let token = token_of(row)?;
        let user = self.user_by_id(token.user_id).await?;
        Ok((token, user))
    }

    async fn touch_api_token(&self, id: ApiTokenId, now: DateTime<Utc>) -> StoreResult<()> {
        sqlx::query("UPDATE api_tokens SET last_used_at = $1 WHERE id = $2")
            .bind(now)
            .bind(id.0)
            .execute(&self.pool)
            .await
            .map_err(db_error)?;
        Ok(())
    }

    async fn list_api_tokens(&self, user: Option<UserId>) -> StoreResult<Vec<ApiToken>> {
        let rows: Vec<TokenRow> = sqlx::query_as(select!(
            "WHERE $1::BIGINT IS NULL OR user_id = $1 ORDER BY id DESC"
        ))
        .bind(user.map(|u| u.0))
        .fetch_all(&self.pool)
        .await
        .map_err(db_error)?;
        rows.into_iter().map(token_of).collect()
    }

    async fn api_token_by_id(&self, id: ApiTokenId) -> StoreResult<ApiToken> {
        let row: TokenRow = sqlx::query_as(select!("WHERE id = $1"))
            .bind(id.0)
            .fetch_one(&self.pool)
            .await
            .map_err(db_error)?;
        token_of(row)
    }

    async fn revoke_api_token(&self, id: ApiTokenId, now: DateTime<Utc>) -> StoreResult<ApiToken> {
        sqlx::query("UPDATE api_tokens SET revoked_at = COALESCE(revoked_at, $1) WHERE id = $2")
            .bind(now)
            .bind(id.0)
            .execute(&self.pool)
            .await
            .map_err(db_error)?;
        self.api_token_by_id(id).await
    }
}
