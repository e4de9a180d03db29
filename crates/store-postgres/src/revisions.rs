//! Revisions, deletes, the tag list and the preview-link key: the newsroom's side of
//! articles ([`RevisionStore`]). [`keep`] runs inside every article write's
//! transaction, so a save and its revision commit together.

use async_trait::async_trait;
use broadsheet_domain::store::StoreResult;
use broadsheet_domain::{
    Article, ArticleId, ArticleWrite, AuthorRef, Change, Revision, RevisionId, RevisionStore,
    Status, StoreError, Tag, UserId, clock,
};
use chrono::{DateTime, Utc};
use sqlx::PgConnection;

use crate::rows::db_error;
use crate::{PgStore, articles};

/// The columns of [`RevisionRow`], with the saver's name.
macro_rules! select_revisions {
    () => {
        "SELECT r.id, r.article_id, r.kind, r.title, r.slug, r.excerpt, r.source, r.format, \
                r.tags, r.status, r.published_at, r.cover_image, r.featured, r.saved_at, \
                r.saved_by, u.slug AS saver_slug, u.display_name AS saver_name, r.autosave \
         FROM article_revisions r JOIN users u ON u.id = r.saved_by"
    };
}

/// Keeps the revision of a save of `article`. An autosave first drops the latest
/// revision when that one is an autosave too, so consecutive autosaves leave one.
pub(crate) async fn keep(
    conn: &mut PgConnection,
    article: ArticleId,
    write: &ArticleWrite,
    saved_at: DateTime<Utc>,
    autosave: bool,
) -> StoreResult<()> {
    if autosave {
        sqlx::query(
            "DELETE FROM article_revisions WHERE id = (SELECT id FROM article_revisions \
             WHERE article_id = $1 ORDER BY id DESC LIMIT 1) AND autosave",
        )
        .bind(article.0)
        .execute(&mut *conn)
        .await
        .map_err(db_error)?;
    }
    let tags: Vec<&str> = write.tags.iter().map(|t| t.name.as_str()).collect();
    sqlx::query(
        "INSERT INTO article_revisions (article_id, kind, title, slug, excerpt, source, format, \
         tags, status, published_at, cover_image, featured, saved_at, saved_by, autosave) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
    )
    .bind(article.0)
    .bind(write.kind.as_str())
    .bind(&write.title)
    .bind(&write.slug)
    .bind(&write.excerpt)
    .bind(&write.source)
    .bind(write.format.as_str())
    .bind(tags)
    .bind(write.status.as_str())
    .bind(write.published_at)
    .bind(write.cover_image.as_deref())
    .bind(write.featured)
    .bind(saved_at)
    .bind(write.saver().0)
    .bind(autosave)
    .execute(&mut *conn)
    .await
    .map_err(db_error)?;
    Ok(())
}

#[derive(sqlx::FromRow)]
struct RevisionRow {
    id: i64,
    article_id: i64,
    kind: String,
    title: String,
    slug: String,
    excerpt: String,
    source: String,
    format: String,
    tags: Vec<String>,
    status: String,
    published_at: Option<DateTime<Utc>>,
    cover_image: Option<String>,
    featured: bool,
    saved_at: DateTime<Utc>,
    saved_by: i64,
    saver_slug: String,
    saver_name: String,
    autosave: bool,
}

impl TryFrom<RevisionRow> for Revision {
    type Error = StoreError;

    fn try_from(row: RevisionRow) -> StoreResult<Revision> {
        Ok(Revision {
            id: RevisionId(row.id),
            article_id: ArticleId(row.article_id),
            kind: row.kind.parse().map_err(StoreError::Backend)?,
            title: row.title,
            slug: row.slug,
            excerpt: row.excerpt,
            source: row.source,
            format: row.format.parse().map_err(StoreError::Backend)?,
            tags: row.tags,
            status: row.status.parse().map_err(StoreError::Backend)?,
            published_at: row.published_at,
            cover_image: row.cover_image,
            featured: row.featured,
            saved_at: row.saved_at,
            saved_by: AuthorRef {
                id: UserId(row.saved_by),
                slug: row.saver_slug,
                display_name: row.saver_name,
            },
            autosave: row.autosave,
        })
    }
}

#[async_trait]
impl RevisionStore for PgStore {
    async fn autosave_article(
        &self,
        id: ArticleId,
        article: &ArticleWrite,
    ) -> StoreResult<Article> {
        self.save_article(id, article, true).await
    }

    async fn list_revisions(&self, article: ArticleId) -> StoreResult<Vec<Revision>> {
        // One snapshot for the article's existence and its revisions.
        let mut tx = self
            .pool
            .begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            .await
            .map_err(db_error)?;
        sqlx::query_scalar::<_, i64>("SELECT id FROM articles WHERE id = $1")
            .bind(article.0)
            .fetch_one(&mut *tx)
            .await
            .map_err(db_error)?;
        let rows: Vec<RevisionRow> = sqlx::query_as(concat!(
            select_revisions!(),
            " WHERE r.article_id = $1 ORDER BY r.id DESC"
        ))
        .bind(article.0)
        .fetch_all(&mut *tx)
        .await
        .map_err(db_error)?;
        tx.commit().await.map_err(db_error)?;
        rows.into_iter().map(Revision::try_from).collect()
    }

    async fn revision(&self, id: RevisionId) -> StoreResult<Revision> {
        let row: RevisionRow = sqlx::query_as(concat!(select_revisions!(), " WHERE r.id = $1"))
            .bind(id.0)
            .fetch_one(&self.pool)
            .await
            .map_err(db_error)?;
        row.try_into()
    }

    async fn delete_article(&self, id: ArticleId) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        // Tags, old slugs, revisions and engagement rows go with it (ON DELETE CASCADE).
        let deleted = sqlx::query("DELETE FROM articles WHERE id = $1")
            .bind(id.0)
            .execute(&mut *tx)
            .await
            .map_err(db_error)?;
        if deleted.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        self.publish(&mut tx, Change::Article(id)).await?;
        tx.commit().await.map_err(db_error)
    }

    async fn list_tags(&self) -> StoreResult<Vec<Tag>> {
        let rows: Vec<(String, String)> =
            sqlx::query_as("SELECT name, slug FROM tags ORDER BY lower(name), slug COLLATE \"C\"")
                .fetch_all(&self.pool)
                .await
                .map_err(db_error)?;
        Ok(rows
            .into_iter()
            .map(|(name, slug)| Tag { name, slug })
            .collect())
    }

    async fn signing_key(&self, candidate: [u8; 32]) -> StoreResult<[u8; 32]> {
        // A node inserting at once makes the insert wait for its commit and then do
        // nothing; the SELECT, a new statement, sees the key that node stored.
        let mut tx = self.pool.begin().await.map_err(db_error)?;
        sqlx::query("INSERT INTO signing_key (id, key) VALUES (1, $1) ON CONFLICT DO NOTHING")
            .bind(candidate.as_slice())
            .execute(&mut *tx)
            .await
            .map_err(db_error)?;
        let key: Vec<u8> = sqlx::query_scalar("SELECT key FROM signing_key WHERE id = 1")
            .fetch_one(&mut *tx)
            .await
            .map_err(db_error)?;
        tx.commit().await.map_err(db_error)?;
        key.try_into()
            .map_err(|key: Vec<u8>| StoreError::Backend(format!("a key of {} bytes", key.len())))
    }
}

impl PgStore {
    /// An update of an article and the revision it keeps, in one transaction; shared
    /// by saves and autosaves, which differ only in the revision.
    pub(crate) async fn save_article(
        &self,
        id: ArticleId,
        article: &ArticleWrite,
        autosave: bool,
    ) -> StoreResult<Article> {
        let mut tx = self.begin_write().await?;
        if autosave {
            // Checked under the write lock, so a save that published the article a
            // moment ago cannot be undone by an autosave that was already on its way.
            let status: String = sqlx::query_scalar("SELECT status FROM articles WHERE id = $1")
                .bind(id.0)
                .fetch_one(&mut *tx)
                .await
                .map_err(db_error)?;
            if status != Status::Draft.as_str() {
                return Err(StoreError::Conflict { field: "status" });
            }
        }
        articles::update(&mut tx, id, article, clock::now(), autosave).await?;
        let stored = articles::by_id(&mut tx, id).await?;
        self.publish(&mut tx, Change::Article(id)).await?;
        tx.commit().await.map_err(db_error)?;
        Ok(stored)
    }
}
