//! Imports (see the `0017_imports` migration): items written under the old site's ids
//! when free, each recorded in `import_map` in the same transaction, and the old paths
//! that answer 301.

use std::collections::HashMap;

use async_trait::async_trait;
use broadsheet_domain::store::StoreResult;
use broadsheet_domain::{
    Article, ArticleId, ArticleWrite, Change, Comment, CommentId, ImportKind, ImportStore,
    ImportedBatch, ImportedComment, LegacyRedirect, LegacyTarget, Mapping, NewUser, StoreError,
    User, clock,
};
use chrono::{DateTime, Utc};
use sqlx::{QueryBuilder, SqliteConnection};

use crate::rows::{UserRow, db_error};
use crate::{SqliteStore, articles, changes, comments, insert_user};

/// Records where each `(source id, local id)` of `kind` went, in statements of at
/// most [`RECORDS_PER_STATEMENT`] rows.
async fn record(
    conn: &mut SqliteConnection,
    source: &str,
    kind: ImportKind,
    mapped: &[(&str, i64)],
) -> StoreResult<()> {
    for chunk in mapped.chunks(RECORDS_PER_STATEMENT) {
        let mut insert =
            QueryBuilder::new("INSERT INTO import_map (source, kind, source_id, local_id) ");
        insert.push_values(chunk, |mut row, (source_id, local_id)| {
            row.push_bind(source)
                .push_bind(kind.as_str())
                .push_bind(*source_id)
                .push_bind(*local_id);
        });
        insert.push(
            " ON CONFLICT (source, kind, source_id) DO UPDATE SET local_id = excluded.local_id",
        );
        insert.build().execute(&mut *conn).await.map_err(db_error)?;
    }
    Ok(())
}

/// Rows per `import_map` insert: four parameters each, far below SQLite's limit.
const RECORDS_PER_STATEMENT: usize = 500;

/// Where an item of the old site went, if it was imported.
async fn imported(
    conn: &mut SqliteConnection,
    source: &str,
    kind: ImportKind,
    source_id: &str,
) -> StoreResult<Option<i64>> {
    sqlx::query_scalar(
        "SELECT local_id FROM import_map WHERE source = ? AND kind = ? AND source_id = ?",
    )
    .bind(source)
    .bind(kind.as_str())
    .bind(source_id)
    .fetch_optional(conn)
    .await
    .map_err(db_error)
}

/// `wanted` when no row of `table` has that id.
async fn free_id(
    conn: &mut SqliteConnection,
    table: &'static str,
    wanted: Option<i64>,
) -> StoreResult<Option<i64>> {
    let Some(id) = wanted.filter(|id| *id > 0) else {
        return Ok(None);
    };
    // `table` is one of our own table names, never input.
    let taken: bool = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT EXISTS (SELECT 1 FROM {table} WHERE id = ?)"
    )))
    .bind(id)
    .fetch_one(conn)
    .await
    .map_err(db_error)?;
    Ok((!taken).then_some(id))
}

/// Every old path and mapping, for a dump.
pub(crate) async fn export(
    conn: &mut SqliteConnection,
) -> StoreResult<(Vec<LegacyRedirect>, Vec<Mapping>)> {
    let redirects: Vec<(String, Option<i64>, Option<String>)> =
        sqlx::query_as("SELECT path, article_id, location FROM legacy_redirects ORDER BY path")
            .fetch_all(&mut *conn)
            .await
            .map_err(db_error)?;
    let maps: Vec<(String, String, String, i64)> = sqlx::query_as(
        "SELECT source, kind, source_id, local_id FROM import_map \
         ORDER BY source, kind, source_id",
    )
    .fetch_all(&mut *conn)
    .await
    .map_err(db_error)?;
    let redirects = redirects
        .into_iter()
        .map(|(path, article, location)| {
            let target = match (article, location) {
                (Some(id), _) => LegacyTarget::Article(ArticleId(id)),
                (None, Some(location)) => LegacyTarget::Location(location),
                (None, None) => {
                    return Err(StoreError::Backend("a redirect without target".into()));
                }
            };
            Ok(LegacyRedirect { path, target })
        })
        .collect::<StoreResult<_>>()?;
    let maps = maps
        .into_iter()
        .map(|(source, kind, source_id, local_id)| {
            Ok(Mapping {
                source,
                kind: kind.parse().map_err(StoreError::Backend)?,
                source_id,
                local_id,
            })
        })
        .collect::<StoreResult<_>>()?;
    Ok((redirects, maps))
}

/// Restores a dump's old paths and mappings.
pub(crate) async fn import(
    conn: &mut SqliteConnection,
    redirects: &[LegacyRedirect],
    maps: &[Mapping],
) -> StoreResult<()> {
    for redirect in redirects {
        put(conn, redirect).await?;
    }
    for m in maps {
        record(
            conn,
            &m.source,
            m.kind,
            &[(m.source_id.as_str(), m.local_id)],
        )
        .await?;
    }
    Ok(())
}

async fn put(conn: &mut SqliteConnection, redirect: &LegacyRedirect) -> StoreResult<u64> {
    let (article, location) = match &redirect.target {
        LegacyTarget::Article(id) => (Some(id.0), None),
        LegacyTarget::Location(location) => (None, Some(location.as_str())),
    };
    let done = sqlx::query(
        "INSERT INTO legacy_redirects (path, article_id, location) VALUES (?, ?, ?) \
         ON CONFLICT (path) DO UPDATE SET article_id = excluded.article_id, \
         location = excluded.location \
         WHERE legacy_redirects.article_id IS NOT excluded.article_id \
         OR legacy_redirects.location IS NOT excluded.location",
    )
    .bind(&redirect.path)
    .bind(article)
    .bind(location)
    .execute(conn)
    .await
    .map_err(db_error)?;
    Ok(done.rows_affected())
}

#[async_trait]
impl ImportStore for SqliteStore {
    async fn imported_id(
        &self,
        source: &str,
        kind: ImportKind,
        source_id: &str,
    ) -> StoreResult<Option<i64>> {
        let mut conn = self.pool.acquire().await.map_err(db_error)?;
        imported(&mut conn, source, kind, source_id).await
    }

    async fn import_user(
        &self,
        source: &str,
        source_id: &str,
        user: &NewUser,
    ) -> StoreResult<User> {
        let mut tx = self.begin_write().await?;
        let existing: Option<UserRow> =
            sqlx::query_as(concat!(select_users!(), " WHERE email = ?"))
                .bind(&user.email)
                .fetch_optional(&mut *tx)
                .await
                .map_err(db_error)?;
        let stored = match existing {
            Some(row) => User::try_from(row)?,
            None => {
                let created = insert_user(&mut tx, None, user, false, clock::now()).await?;
                changes::publish(&mut tx, Change::Users).await?;
                created
            }
        };
        record(
            &mut tx,
            source,
            ImportKind::User,
            &[(source_id, stored.id.0)],
        )
        .await?;
        tx.commit().await.map_err(db_error)?;
        Ok(stored)
    }

    async fn import_article(
        &self,
        source: &str,
        source_id: &str,
        wanted: Option<ArticleId>,
        article: &ArticleWrite,
        created_at: DateTime<Utc>,
        updated_at: DateTime<Utc>,
    ) -> StoreResult<Article> {
        let mut tx = self.begin_write().await?;
        let id = free_id(&mut tx, "articles", wanted.map(|id| id.0)).await?;
        let id =
            articles::insert(&mut tx, id.map(ArticleId), article, created_at, updated_at).await?;
        record(&mut tx, source, ImportKind::Post, &[(source_id, id.0)]).await?;
        let stored = articles::by_id(&mut tx, id).await?;
        changes::publish(&mut tx, Change::Article(id)).await?;
        tx.commit().await.map_err(db_error)?;
        Ok(stored)
    }

    async fn import_comments(
        &self,
        source: &str,
        comments: &[ImportedComment],
    ) -> StoreResult<Vec<StoreResult<Comment>>> {
        let mut tx = self.begin_write().await?;
        let mut results = Vec::with_capacity(comments.len());
        // This call's comments by source id, so a reply finds its parent without a query.
        let mut placed: HashMap<&str, CommentId> = HashMap::new();
        for item in comments {
            // Each comment is one statement (`insert_row`), so one comment's failure
            // leaves the others standing without a savepoint each.
            let result = async {
                let mut comment = item.comment.clone();
                comment.parent_id = match &item.parent {
                    Some(parent) => Some(match placed.get(parent.as_str()) {
                        Some(id) => *id,
                        None => CommentId(
                            imported(&mut tx, source, ImportKind::Comment, parent)
                                .await?
                                .ok_or(StoreError::NotFound)?,
                        ),
                    }),
                    None => None,
                };
                comments::insert_row(&mut tx, item.wanted, &comment, item.kind).await
            }
            .await;
            if let Ok(stored) = &result {
                placed.insert(&item.source_id, stored.id);
            }
            results.push(result);
        }
        let batch = ImportedBatch::of(comments, &results);
        record(&mut tx, source, ImportKind::Comment, &batch.mapped).await?;
        for (article, days) in batch.approved {
            comments::count_approved(&mut tx, article, &days).await?;
        }
        tx.commit().await.map_err(db_error)?;
        Ok(results)
    }

    async fn put_legacy_redirects(&self, redirects: &[LegacyRedirect]) -> StoreResult<u64> {
        let mut tx = self.begin_write().await?;
        let mut changed = 0;
        for redirect in redirects {
            changed += put(&mut tx, redirect).await?;
        }
        tx.commit().await.map_err(db_error)?;
        Ok(changed)
    }

    async fn legacy_redirect(&self, path: &str) -> StoreResult<LegacyTarget> {
        let row: (Option<i64>, Option<String>) =
            sqlx::query_as("SELECT article_id, location FROM legacy_redirects WHERE path = ?")
                .bind(path)
                .fetch_one(&self.pool)
                .await
                .map_err(db_error)?;
        match row {
            (Some(id), _) => Ok(LegacyTarget::Article(ArticleId(id))),
            (None, Some(location)) => Ok(LegacyTarget::Location(location)),
            (None, None) => Err(StoreError::NotFound),
        }
    }

    async fn replace_signing_key(&self, key: [u8; 32]) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO signing_key (id, key) VALUES (1, ?) \
             ON CONFLICT (id) DO UPDATE SET key = excluded.key",
        )
        .bind(key.as_slice())
        .execute(&self.pool)
        .await
        .map_err(db_error)?;
        Ok(())
    }

    async fn import_records(&self) -> StoreResult<(Vec<LegacyRedirect>, Vec<Mapping>)> {
        let mut conn = self.pool.acquire().await.map_err(db_error)?;
        export(&mut conn).await
    }
}
