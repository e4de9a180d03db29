//! Readers' comments (see the `0010_comments` migration). Every write runs in one
//! `BEGIN IMMEDIATE` transaction that also moves the approved-comment counters, the
//! article's and the posting day's, so counters always equal the approved rows.

use std::collections::BTreeSet;

use async_trait::async_trait;
use broadsheet_domain::comment::{ERASED_NAME, ERASED_TEXT, render_comment};
use broadsheet_domain::store::StoreResult;
use broadsheet_domain::{
    ArticleId, Change, Comment, CommentCounts, CommentId, CommentKind, CommentPage, CommentQuery,
    CommentStatus, CommentStore, NetworkHash, NewComment, Paged, ReaderId, StoreError, clock,
};
use chrono::{DateTime, NaiveDate, Utc};
use sqlx::{QueryBuilder, SqliteConnection};

use crate::SqliteStore;
use crate::changes;
use crate::engagement::unsigned;
use crate::rows::{db_error, from_millis, millis};

/// The columns of [`CommentRow`]; `c` is `comments`.
macro_rules! select_comments {
    () => {
        "SELECT c.id, c.article_id, c.parent_id, c.status, c.author_name, c.author_email, \
         c.author_url, c.body, c.body_html, c.reader_id, c.network, c.notify_replies, \
         c.reason, c.day, c.created_at, c.updated_at, c.kind FROM comments c"
    };
}

/// What a reader may see of an article: approved comments and their own pending ones
/// (`?2` is the viewer's reader id, or NULL).
macro_rules! visible {
    ($c:literal) => {
        concat!(
            "(",
            $c,
            ".status = 'approved' OR (",
            $c,
            ".status = 'pending' AND ",
            $c,
            ".reader_id = ?2))"
        )
    };
}

#[derive(sqlx::FromRow)]
struct CommentRow {
    id: i64,
    article_id: i64,
    parent_id: Option<i64>,
    status: String,
    author_name: String,
    author_email: String,
    author_url: Option<String>,
    body: String,
    body_html: String,
    reader_id: Option<String>,
    network: String,
    notify_replies: bool,
    reason: Option<String>,
    day: NaiveDate,
    created_at: i64,
    updated_at: i64,
    kind: String,
}

impl TryFrom<CommentRow> for Comment {
    type Error = StoreError;

    fn try_from(row: CommentRow) -> StoreResult<Comment> {
        Ok(Comment {
            id: CommentId(row.id),
            article_id: ArticleId(row.article_id),
            parent_id: row.parent_id.map(CommentId),
            status: row.status.parse().map_err(StoreError::Backend)?,
            kind: row.kind.parse().map_err(StoreError::Backend)?,
            author_name: row.author_name,
            author_email: row.author_email,
            author_url: row.author_url,
            body: row.body,
            body_html: row.body_html,
            reader: row
                .reader_id
                .map(|id| ReaderId::try_from(id).map_err(StoreError::Backend))
                .transpose()?,
            network: NetworkHash(row.network),
            notify_replies: row.notify_replies,
            reason: row.reason,
            day: row.day,
            created_at: from_millis(row.created_at)?,
            updated_at: from_millis(row.updated_at)?,
        })
    }
}

fn collect(rows: Vec<CommentRow>) -> StoreResult<Vec<Comment>> {
    rows.into_iter().map(Comment::try_from).collect()
}

pub(crate) async fn by_id(conn: &mut SqliteConnection, id: CommentId) -> StoreResult<Comment> {
    let row: CommentRow = sqlx::query_as(concat!(select_comments!(), " WHERE c.id = ?"))
        .bind(id.0)
        .fetch_one(conn)
        .await
        .map_err(db_error)?;
    row.try_into()
}

/// Moves the approved-comment counters of `article` by each day's number in `days`
/// (the article's by their sum, each day's by its own).
async fn move_counts(
    conn: &mut SqliteConnection,
    article: ArticleId,
    days: &[(NaiveDate, i64)],
) -> StoreResult<()> {
    let total: i64 = days.iter().map(|(_, n)| n).sum();
    sqlx::query(
        "INSERT INTO article_counters (article_id, comments) VALUES (?, ?) \
         ON CONFLICT (article_id) DO UPDATE SET comments = comments + excluded.comments",
    )
    .bind(article.0)
    .bind(total)
    .execute(&mut *conn)
    .await
    .map_err(db_error)?;
    if days.is_empty() {
        return Ok(());
    }
    // One statement for every day (each day appears once in `days`).
    let mut daily = QueryBuilder::new("INSERT INTO daily_counters (day, article_id, comments) ");
    daily.push_values(days, |mut row, (day, n)| {
        row.push_bind(*day).push_bind(article.0).push_bind(*n);
    });
    daily.push(
        " ON CONFLICT (day, article_id) DO UPDATE SET comments = comments + excluded.comments",
    );
    daily.build().execute(&mut *conn).await.map_err(db_error)?;
    Ok(())
}

/// Every comment, by id, for a dump.
pub(crate) async fn export(conn: &mut SqliteConnection) -> StoreResult<Vec<Comment>> {
    let rows: Vec<CommentRow> = sqlx::query_as(concat!(select_comments!(), " ORDER BY c.id"))
        .fetch_all(conn)
        .await
        .map_err(db_error)?;
    collect(rows)
}

/// Restores a dump's comments as they are, ids included, in id order so that each
/// reply finds its parent's thread. Counters are not moved: the dump's counters
/// already count the approved comments.
pub(crate) async fn import(conn: &mut SqliteConnection, comments: &[Comment]) -> StoreResult<()> {
    for comment in comments {
        sqlx::query(
            "INSERT INTO comments (id, article_id, parent_id, thread_id, status, author_name, \
             author_email, author_url, body, body_html, reader_id, network, notify_replies, \
             reason, day, created_at, updated_at, kind) \
             VALUES (?1, ?2, ?3, COALESCE((SELECT thread_id FROM comments WHERE id = ?3), ?1), \
             ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)",
        )
        .bind(comment.id.0)
        .bind(comment.article_id.0)
        .bind(comment.parent_id.map(|p| p.0))
        .bind(comment.status.as_str())
        .bind(&comment.author_name)
        .bind(&comment.author_email)
        .bind(comment.author_url.as_deref())
        .bind(&comment.body)
        .bind(&comment.body_html)
        .bind(comment.reader.as_ref().map(ReaderId::as_str))
        .bind(&comment.network.0)
        .bind(comment.notify_replies)
        .bind(comment.reason.as_deref())
        .bind(comment.day)
        .bind(millis(comment.created_at))
        .bind(millis(comment.updated_at))
        .bind(comment.kind.as_str())
        .execute(&mut *conn)
        .await
        .map_err(db_error)?;
    }
    Ok(())
}

/// Writes a comment's row and returns it: under `id` when that is given and free (else
/// the next id), in its parent's thread, or in a thread of its own when it has no
/// parent. A parent that is not a comment on the same article is `NotFound`. One
/// statement, so a failure leaves nothing behind even without a savepoint. The
/// counters are the caller's: [`count_approved`].
pub(crate) async fn insert_row(
    conn: &mut SqliteConnection,
    id: Option<CommentId>,
    comment: &NewComment,
    kind: CommentKind,
) -> StoreResult<Comment> {
    // The next id is the one SQLite would pick itself (the largest plus one).
    let row: Option<CommentRow> = sqlx::query_as(
        "INSERT INTO comments (id, article_id, parent_id, thread_id, status, author_name, \
         author_email, author_url, body, body_html, reader_id, network, notify_replies, \
         reason, day, created_at, updated_at, kind) \
         SELECT n.id, ?2, ?3, coalesce(p.thread_id, n.id), ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, \
         ?12, ?13, ?14, ?15, ?15, ?16 \
         FROM (SELECT CASE WHEN ?1 IS NOT NULL AND NOT EXISTS \
               (SELECT 1 FROM comments WHERE id = ?1) THEN ?1 \
               ELSE (SELECT coalesce(max(id), 0) + 1 FROM comments) END AS id) n \
         LEFT JOIN comments p ON p.id = ?3 AND p.article_id = ?2 \
         WHERE ?3 IS NULL OR p.id IS NOT NULL \
         RETURNING *",
    )
    .bind(id.map(|id| id.0).filter(|id| *id > 0))
    .bind(comment.article_id.0)
    .bind(comment.parent_id.map(|p| p.0))
    .bind(comment.status.as_str())
    .bind(&comment.author_name)
    .bind(&comment.author_email)
    .bind(comment.author_url.as_deref())
    .bind(&comment.body)
    .bind(&comment.body_html)
    .bind(comment.reader.as_ref().map(ReaderId::as_str))
    .bind(&comment.network.0)
    .bind(comment.notify_replies)
    .bind(comment.reason.as_deref())
    .bind(comment.day)
    .bind(millis(comment.created_at))
    .bind(kind.as_str())
    .fetch_optional(&mut *conn)
    .await
    .map_err(db_error)?;
    row.ok_or(StoreError::NotFound)?.try_into()
}

/// Counts newly approved comments on `article`, how many on each day in `days`, and
/// tells the change log.
pub(crate) async fn count_approved(
    conn: &mut SqliteConnection,
    article: ArticleId,
    days: &[(NaiveDate, i64)],
) -> StoreResult<()> {
    move_counts(conn, article, days).await?;
    changes::publish(conn, Change::Engagement(article)).await
}

#[async_trait]
impl CommentStore for SqliteStore {
    async fn insert_comment(&self, comment: &NewComment) -> StoreResult<Comment> {
        let mut tx = self.begin_write().await?;
        let stored = insert_row(&mut tx, None, comment, CommentKind::Comment).await?;
        if stored.status == CommentStatus::Approved {
            count_approved(&mut tx, stored.article_id, &[(stored.day, 1)]).await?;
        }
        tx.commit().await.map_err(db_error)?;
        Ok(stored)
    }

    async fn comment_by_id(&self, id: CommentId) -> StoreResult<Comment> {
        let mut conn = self.pool.acquire().await.map_err(db_error)?;
        by_id(&mut conn, id).await
    }

    async fn article_comments(
        &self,
        article: ArticleId,
        viewer: Option<&ReaderId>,
        page: u32,
        per_page: u32,
    ) -> StoreResult<CommentPage> {
        let page = page.max(1);
        let per_page = per_page.max(1);
        let offset = i64::from(page - 1) * i64::from(per_page);
        let viewer = viewer.map(ReaderId::as_str);
        // Both reads in one snapshot.
        let mut tx = self.pool.begin().await.map_err(db_error)?;
        let total: i64 = sqlx::query_scalar(concat!(
            "SELECT COUNT(*) FROM comments r WHERE r.article_id = ?1 AND r.parent_id IS NULL \
             AND ",
            visible!("r")
        ))
        .bind(article.0)
        .bind(viewer)
        .fetch_one(&mut *tx)
        .await
        .map_err(db_error)?;
        let rows: Vec<CommentRow> = sqlx::query_as(concat!(
            select_comments!(),
            " WHERE c.article_id = ?1 AND ",
            visible!("c"),
            " AND c.thread_id IN (SELECT r.id FROM comments r \
               WHERE r.article_id = ?1 AND r.parent_id IS NULL AND ",
            visible!("r"),
            " ORDER BY r.id LIMIT ?3 OFFSET ?4) ORDER BY c.id"
        ))
        .bind(article.0)
        .bind(viewer)
        .bind(i64::from(per_page))
        .bind(offset)
        .fetch_all(&mut *tx)
        .await
        .map_err(db_error)?;
        tx.commit().await.map_err(db_error)?;
        Ok(Paged {
            items: collect(rows)?,
            total: unsigned(total)?,
            page,
            per_page,
        })
    }

    async fn set_comment_status(
        &self,
        ids: &[CommentId],
        status: CommentStatus,
    ) -> StoreResult<Vec<Comment>> {
        let now = millis(clock::now());
        let mut tx = self.begin_write().await?;
        let mut changed = Vec::new();
        let mut moved = BTreeSet::new();
        let unique: BTreeSet<CommentId> = ids.iter().copied().collect();
        for id in unique {
            let before = match by_id(&mut tx, id).await {
                Ok(comment) => comment,
                Err(StoreError::NotFound) => continue,
                Err(err) => return Err(err),
            };
            if before.status == status {
                continue;
            }
            sqlx::query("UPDATE comments SET status = ?, updated_at = ? WHERE id = ?")
                .bind(status.as_str())
                .bind(now)
                .bind(id.0)
                .execute(&mut *tx)
                .await
                .map_err(db_error)?;
            let was = before.status == CommentStatus::Approved;
            let is = status == CommentStatus::Approved;
            if was != is {
                move_counts(
                    &mut tx,
                    before.article_id,
                    &[(before.day, if is { 1 } else { -1 })],
                )
                .await?;
                moved.insert(before.article_id);
            }
            changed.push(by_id(&mut tx, id).await?);
        }
        for article in moved {
            changes::publish(&mut tx, Change::Engagement(article)).await?;
        }
        tx.commit().await.map_err(db_error)?;
        Ok(changed)
    }

    async fn update_comment_body(
        &self,
        id: CommentId,
        body: &str,
        body_html: &str,
    ) -> StoreResult<Comment> {
        let mut tx = self.begin_write().await?;
        let updated =
            sqlx::query("UPDATE comments SET body = ?, body_html = ?, updated_at = ? WHERE id = ?")
                .bind(body)
                .bind(body_html)
                .bind(millis(clock::now()))
                .bind(id.0)
                .execute(&mut *tx)
                .await
                .map_err(db_error)?;
        if updated.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        let stored = by_id(&mut tx, id).await?;
        changes::publish(&mut tx, Change::Engagement(stored.article_id)).await?;
        tx.commit().await.map_err(db_error)?;
        Ok(stored)
    }

    async fn list_comments(&self, query: &CommentQuery) -> StoreResult<Paged<Comment>> {
        let per_page = query.per_page.max(1);
        let filter = "WHERE (?1 IS NULL OR c.status = ?1) AND (?2 IS NULL OR c.article_id = ?2)";
        let mut tx = self.pool.begin().await.map_err(db_error)?;
        let total: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT COUNT(*) FROM comments c {filter}"
        )))
        .bind(query.status.map(CommentStatus::as_str))
        .bind(query.article.map(|a| a.0))
        .fetch_one(&mut *tx)
        .await
        .map_err(db_error)?;
        let rows: Vec<CommentRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{} {filter} ORDER BY c.id DESC LIMIT ?3 OFFSET ?4",
            select_comments!()
        )))
        .bind(query.status.map(CommentStatus::as_str))
        .bind(query.article.map(|a| a.0))
        .bind(i64::from(per_page))
        .bind(i64::try_from(query.offset()).map_err(StoreError::backend)?)
        .fetch_all(&mut *tx)
        .await
        .map_err(db_error)?;
        tx.commit().await.map_err(db_error)?;
        Ok(Paged {
            items: collect(rows)?,
            total: unsigned(total)?,
            page: query.page.max(1),
            per_page,
        })
    }

    async fn comment_status_counts(&self) -> StoreResult<CommentCounts> {
        let rows: Vec<(String, i64)> =
            sqlx::query_as("SELECT status, COUNT(*) FROM comments GROUP BY status")
                .fetch_all(&self.pool)
                .await
                .map_err(db_error)?;
        let mut counts = CommentCounts::default();
        for (status, count) in rows {
            counts.add(
                status.parse().map_err(StoreError::Backend)?,
                unsigned(count)?,
            );
        }
        Ok(counts)
    }

    async fn has_approved_comment_from(&self, email: &str) -> StoreResult<bool> {
        sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM comments \
             WHERE author_email = ? AND status = 'approved')",
        )
        .bind(email)
        .fetch_one(&self.pool)
        .await
        .map_err(db_error)
    }

    async fn recent_duplicate(
        &self,
        article: ArticleId,
        email: &str,
        body: &str,
        since: DateTime<Utc>,
    ) -> StoreResult<bool> {
        sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM comments WHERE author_email = ? AND article_id = ? \
             AND body = ? AND created_at >= ?)",
        )
        .bind(email)
        .bind(article.0)
        .bind(body)
        .bind(millis(since))
        .fetch_one(&self.pool)
        .await
        .map_err(db_error)
    }

    async fn comments_by_email(&self, email: &str) -> StoreResult<Vec<Comment>> {
        let rows: Vec<CommentRow> = sqlx::query_as(concat!(
            select_comments!(),
            " WHERE c.author_email = ? ORDER BY c.id"
        ))
        .bind(email)
        .fetch_all(&self.pool)
        .await
        .map_err(db_error)?;
        collect(rows)
    }

    async fn stop_reply_notifications(&self, email: &str) -> StoreResult<u64> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "UPDATE comments SET notify_replies = 0 \
             WHERE author_email = ? AND notify_replies = 1",
        )
        .bind(email)
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
        tx.commit().await.map_err(db_error)?;
        Ok(done.rows_affected())
    }

    async fn erase_commenter(&self, email: &str) -> StoreResult<u64> {
        if email.is_empty() {
            return Ok(0);
        }
        let mut tx = self.begin_write().await?;
        let articles: Vec<i64> = sqlx::query_scalar(
            "UPDATE comments SET author_name = ?, author_email = '', author_url = NULL, \
             body = ?, body_html = ?, reader_id = NULL, network = '', notify_replies = 0, \
             updated_at = ? WHERE author_email = ? RETURNING article_id",
        )
        .bind(ERASED_NAME)
        .bind(ERASED_TEXT)
        .bind(render_comment(ERASED_TEXT))
        .bind(millis(clock::now()))
        .bind(email)
        .fetch_all(&mut *tx)
        .await
        .map_err(db_error)?;
        let touched: BTreeSet<i64> = articles.iter().copied().collect();
        for article in touched {
            changes::publish(&mut tx, Change::Engagement(ArticleId(article))).await?;
        }
        tx.commit().await.map_err(db_error)?;
        Ok(articles.len() as u64)
    }
}
