//! The SQL for articles and pages: reading them with their authors and tags in a fixed
//! number of queries whatever the page size, and the slug and tag rules of a write.
//! Write helpers expect to run inside the caller's transaction from
//! [`crate::PgStore`]'s `begin_write`, which holds the slug lock.

use std::collections::HashMap;

use broadsheet_domain::store::StoreResult;
use broadsheet_domain::{
    Article, ArticleId, ArticleQuery, ArticleWrite, Paged, SlugLookup, StoreError, Tag, Visibility,
};
use chrono::{DateTime, Utc};
use sqlx::postgres::PgArguments;
use sqlx::{PgConnection, Postgres, QueryBuilder, Row};

use crate::revisions;
use crate::rows::{ArticleRow, db_error};

/// The columns of [`ArticleRow`]: every article read starts with this, so the author's
/// name comes in the same query as the article.
macro_rules! select_articles {
    () => {
        "SELECT a.id, a.kind, a.slug, a.title, a.excerpt, a.source, a.format, a.body_html, \
                a.body_text, a.author_id, u.slug AS author_slug, u.display_name AS author_name, \
                a.status, a.published_at, a.created_at, a.updated_at, a.read_time, \
                a.word_count, a.cover_image, a.featured \
         FROM articles a JOIN users u ON u.id = a.author_id"
    };
}

pub(crate) async fn by_id(conn: &mut PgConnection, id: ArticleId) -> StoreResult<Article> {
    let row: ArticleRow = sqlx::query_as(concat!(select_articles!(), " WHERE a.id = $1"))
        .bind(id.0)
        .fetch_one(&mut *conn)
        .await
        .map_err(db_error)?;
    single(conn, row).await
}

/// One query answers both a current and an old slug; comparing the found article's
/// slug with the one asked for tells which it was.
pub(crate) async fn by_slug(conn: &mut PgConnection, slug: &str) -> StoreResult<SlugLookup> {
    let row: ArticleRow = sqlx::query_as(concat!(
        select_articles!(),
        " WHERE a.slug = $1 OR a.id = (SELECT article_id FROM slug_redirects WHERE slug = $1)"
    ))
    .bind(slug)
    .fetch_one(&mut *conn)
    .await
    .map_err(db_error)?;
    let current = row.slug == slug;
    let article = single(conn, row).await?;
    Ok(if current {
        SlugLookup::Current(article)
    } else {
        SlugLookup::Moved(article)
    })
}

/// Articles by id, in the order given (ids not found are left out): a search's page.
pub(crate) async fn by_ids(conn: &mut PgConnection, ids: &[i64]) -> StoreResult<Vec<Article>> {
    let rows: Vec<ArticleRow> =
        sqlx::query_as(concat!(select_articles!(), " WHERE a.id = ANY($1)"))
            .bind(ids.to_vec())
            .fetch_all(&mut *conn)
            .await
            .map_err(db_error)?;
    let mut found = with_tags(conn, rows).await?;
    found.sort_by_key(|a| ids.iter().position(|id| *id == a.id.0));
    Ok(found)
}

/// Every article and page, by id, for a dump.
pub(crate) async fn all(conn: &mut PgConnection) -> StoreResult<Vec<Article>> {
    let rows = sqlx::query_as(concat!(select_articles!(), " ORDER BY a.id"))
        .fetch_all(&mut *conn)
        .await
        .map_err(db_error)?;
    with_tags(conn, rows).await
}

/// Three queries for any page: the total, the page joined to its authors, and the tags
/// of every article on it.
pub(crate) async fn list(
    conn: &mut PgConnection,
    query: &ArticleQuery,
) -> StoreResult<Paged<Article>> {
    let mut count = QueryBuilder::new("SELECT COUNT(*) FROM articles a");
    push_filters(&mut count, query);
    let total: i64 = count
        .build_query_scalar()
        .fetch_one(&mut *conn)
        .await
        .map_err(db_error)?;

    let mut page = QueryBuilder::new(select_articles!());
    push_filters(&mut page, query);
    // PostgreSQL puts NULL first in DESC order unless told; undated drafts go last.
    page.push(" ORDER BY a.published_at DESC NULLS LAST, a.id DESC LIMIT ")
        .push_bind(i64::from(query.per_page))
        .push(" OFFSET ")
        // An offset past i64 is past the end either way.
        .push_bind(i64::try_from(query.offset()).unwrap_or(i64::MAX));
    let rows = page
        .build_query_as()
        .fetch_all(&mut *conn)
        .await
        .map_err(db_error)?;

    Ok(Paged {
        items: with_tags(conn, rows).await?,
        total: u64::try_from(total).map_err(StoreError::backend)?,
        page: query.page,
        per_page: query.per_page,
    })
}

fn push_filters(sql: &mut QueryBuilder<Postgres>, query: &ArticleQuery) {
    sql.push(" WHERE a.kind = ").push_bind(query.kind.as_str());
    if let Visibility::Public { now } = query.visibility {
        // The predicate of the articles_public_listing index.
        sql.push(" AND a.status IN ('published', 'scheduled') AND a.published_at <= ")
            .push_bind(now);
    }
    if let Some(tag) = &query.tag {
        sql.push(
            " AND a.id IN (SELECT at.article_id FROM article_tags at \
             JOIN tags t ON t.id = at.tag_id WHERE t.slug = ",
        )
        .push_bind(tag.as_str())
        .push(")");
    }
    if let Some(author) = query.author {
        sql.push(" AND a.author_id = ").push_bind(author.0);
    }
    if let Some(status) = query.status {
        sql.push(" AND a.status = ").push_bind(status.as_str());
    }
    if let Some(from) = query.published_from {
        sql.push(" AND a.published_at >= ").push_bind(from);
    }
    if let Some(before) = query.published_before {
        sql.push(" AND a.published_at < ").push_bind(before);
    }
    if let Some(pattern) = query.title_pattern() {
        sql.push(" AND lower(a.title) LIKE ")
            .push_bind(pattern)
            .push(" ESCAPE '\\'");
    }
}

async fn single(conn: &mut PgConnection, row: ArticleRow) -> StoreResult<Article> {
    with_tags(conn, vec![row])
        .await?
        .pop()
        .ok_or(StoreError::NotFound)
}

/// Completes rows with their tags in one query, whatever their number.
async fn with_tags(conn: &mut PgConnection, rows: Vec<ArticleRow>) -> StoreResult<Vec<Article>> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let tagged: Vec<(i64, String, String)> = sqlx::query_as(
        "SELECT at.article_id, t.name, t.slug FROM article_tags at \
         JOIN tags t ON t.id = at.tag_id \
         WHERE at.article_id = ANY($1) \
         ORDER BY at.article_id, at.position",
    )
    .bind(ids)
    .fetch_all(&mut *conn)
    .await
    .map_err(db_error)?;

    let mut tags: HashMap<i64, Vec<Tag>> = HashMap::new();
    for (article_id, name, slug) in tagged {
        tags.entry(article_id).or_default().push(Tag { name, slug });
    }
    rows.into_iter()
        .map(|row| {
            let own = tags.remove(&row.id).unwrap_or_default();
            row.into_article(own)
        })
        .collect()
}

/// Inserts an article with its tags. `id` is given only when restoring a dump; new
/// articles get the next one.
pub(crate) async fn insert(
    conn: &mut PgConnection,
    id: Option<ArticleId>,
    article: &ArticleWrite,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
) -> StoreResult<ArticleId> {
    claim_slug(conn, &article.slug, None).await?;
    // An explicit NULL would not fall back to the identity's default, so the default
    // is asked for by name when no id is given.
    let query = bind_fields(
        sqlx::query(
            "INSERT INTO articles (kind, slug, title, excerpt, source, format, body_html, \
             body_text, author_id, status, published_at, read_time, word_count, cover_image, \
             featured, id, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, \
             COALESCE($16, nextval(pg_get_serial_sequence('articles', 'id'))), $17, $18) \
             RETURNING id",
        ),
        article,
    );
    let id: i64 = query
        .bind(id.map(|id| id.0))
        .bind(created_at)
        .bind(updated_at)
        .fetch_one(&mut *conn)
        .await
        .map_err(db_error)?
        .try_get("id")
        .map_err(db_error)?;
    let id = ArticleId(id);
    replace_tags(conn, id, &article.tags).await?;
    revisions::keep(conn, id, article, updated_at, false).await?;
    Ok(id)
}

/// Replaces an article with its tags, keeping a changed slug as a redirect and the
/// save as a revision (an autosave's replacing a latest autosave).
pub(crate) async fn update(
    conn: &mut PgConnection,
    id: ArticleId,
    article: &ArticleWrite,
    updated_at: DateTime<Utc>,
    autosave: bool,
) -> StoreResult<()> {
    let old_slug: String = sqlx::query_scalar("SELECT slug FROM articles WHERE id = $1")
        .bind(id.0)
        .fetch_one(&mut *conn)
        .await
        .map_err(db_error)?;
    claim_slug(conn, &article.slug, Some(id)).await?;
    let query = bind_fields(
        sqlx::query(
            "UPDATE articles SET kind = $1, slug = $2, title = $3, excerpt = $4, source = $5, \
             format = $6, body_html = $7, body_text = $8, author_id = $9, status = $10, \
             published_at = $11, read_time = $12, word_count = $13, cover_image = $14, \
             featured = $15, updated_at = $16 \
             WHERE id = $17",
        ),
        article,
    );
    query
        .bind(updated_at)
        .bind(id.0)
        .execute(&mut *conn)
        .await
        .map_err(db_error)?;
    if old_slug != article.slug {
        add_redirect(conn, &old_slug, id).await?;
    }
    replace_tags(conn, id, &article.tags).await?;
    revisions::keep(conn, id, article, updated_at, autosave).await
}

/// Binds the fields an insert and an update share, as `$1` to `$15`.
fn bind_fields<'q>(
    query: sqlx::query::Query<'q, Postgres, PgArguments>,
    article: &ArticleWrite,
) -> sqlx::query::Query<'q, Postgres, PgArguments> {
    query
        .bind(article.kind.as_str())
        .bind(article.slug.as_str())
        .bind(article.title.as_str())
        .bind(article.excerpt.as_str())
        .bind(article.source.as_str())
        .bind(article.format.as_str())
        .bind(article.body_html.as_str())
        .bind(article.body_text.as_str())
        .bind(article.author_id.0)
        .bind(article.status.as_str())
        .bind(article.published_at)
        .bind(i64::from(article.read_time.0))
        .bind(i64::from(article.word_count))
        .bind(article.cover_image.as_deref())
        .bind(article.featured)
}

/// Makes `slug` usable by `owner` (`None` for an article not created yet): an old slug
/// of the same article is taken back by dropping its redirect, an old slug of another
/// is a conflict. A clash with a current slug is left to the unique index.
async fn claim_slug(
    conn: &mut PgConnection,
    slug: &str,
    owner: Option<ArticleId>,
) -> StoreResult<()> {
    let holder: Option<i64> =
        sqlx::query_scalar("SELECT article_id FROM slug_redirects WHERE slug = $1")
            .bind(slug)
            .fetch_optional(&mut *conn)
            .await
            .map_err(db_error)?;
    match holder {
        None => Ok(()),
        Some(holder) if owner == Some(ArticleId(holder)) => {
            sqlx::query("DELETE FROM slug_redirects WHERE slug = $1")
                .bind(slug)
                .execute(&mut *conn)
                .await
                .map_err(db_error)?;
            Ok(())
        }
        Some(_) => Err(StoreError::Conflict { field: "slug" }),
    }
}

/// Keeps `slug` as an old slug of `article`, refusing one that is some article's
/// current slug (which a hand-edited dump could ask for).
pub(crate) async fn add_redirect(
    conn: &mut PgConnection,
    slug: &str,
    article: ArticleId,
) -> StoreResult<()> {
    let added = sqlx::query(
        "INSERT INTO slug_redirects (slug, article_id) SELECT $1, $2 \
         WHERE NOT EXISTS (SELECT 1 FROM articles WHERE slug = $1)",
    )
    .bind(slug)
    .bind(article.0)
    .execute(&mut *conn)
    .await
    .map_err(db_error)?;
    if added.rows_affected() == 1 {
        Ok(())
    } else {
        Err(StoreError::Conflict { field: "slug" })
    }
}

/// Replaces an article's tags, creating the tags it is the first to use. Each step is
/// one statement for all tags: names and slugs travel as arrays.
async fn replace_tags(conn: &mut PgConnection, id: ArticleId, tags: &[Tag]) -> StoreResult<()> {
    sqlx::query("DELETE FROM article_tags WHERE article_id = $1")
        .bind(id.0)
        .execute(&mut *conn)
        .await
        .map_err(db_error)?;
    if tags.is_empty() {
        return Ok(());
    }
    let names: Vec<&str> = tags.iter().map(|t| t.name.as_str()).collect();
    let slugs: Vec<&str> = tags.iter().map(|t| t.slug.as_str()).collect();
    // A tag that exists keeps the name it was first written with.
    sqlx::query(
        "INSERT INTO tags (name, slug) SELECT * FROM UNNEST($1::text[], $2::text[]) \
         ON CONFLICT (slug) DO NOTHING",
    )
    .bind(&names)
    .bind(&slugs)
    .execute(&mut *conn)
    .await
    .map_err(db_error)?;
    sqlx::query(
        "INSERT INTO article_tags (article_id, tag_id, position) \
         SELECT $1, t.id, n.position FROM UNNEST($2::text[]) WITH ORDINALITY AS n (slug, position) \
         JOIN tags t ON t.slug = n.slug",
    )
    .bind(id.0)
    .bind(&slugs)
    .execute(&mut *conn)
    .await
    .map_err(db_error)?;
    Ok(())
}
