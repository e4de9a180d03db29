//! Search on FTS5 (the index is kept by the triggers of migration 0012). Three
//! queries per page: the total, the page's ids with their highlighted title and body
//! passage, and the page's articles.

use async_trait::async_trait;
use broadsheet_domain::store::StoreResult;
use broadsheet_domain::{Highlighted, Paged, SearchHit, SearchQuery, SearchStore, StoreError};
use sqlx::{QueryBuilder, Sqlite};

use crate::SqliteStore;
use crate::articles;
use crate::rows::{db_error, millis};

#[async_trait]
impl SearchStore for SqliteStore {
    async fn search(&self, query: &SearchQuery) -> StoreResult<Paged<SearchHit>> {
        let mut paged = Paged {
            items: Vec::new(),
            total: 0,
            page: query.page,
            per_page: query.per_page,
        };
        if query.terms.is_empty() {
            return Ok(paged);
        }
        let mut conn = self.pool.acquire().await.map_err(db_error)?;

        let mut count = QueryBuilder::new("SELECT COUNT(*)");
        push_matches(&mut count, query);
        let total: i64 = count
            .build_query_scalar()
            .fetch_one(&mut *conn)
            .await
            .map_err(db_error)?;
        paged.total = u64::try_from(total).map_err(StoreError::backend)?;

        // The sentinels are char(57344) and char(57345): U+E000 and U+E001, see
        // broadsheet_domain::search::MARK_START.
        let mut page = QueryBuilder::new(
            "SELECT a.id, highlight(article_search, 0, char(57344), char(57345)), \
             snippet(article_search, 2, char(57344), char(57345), '…', 32)",
        );
        push_matches(&mut page, query);
        // Title matches first: the IN list is computed once for the whole query.
        page.push(
            " ORDER BY a.id IN (SELECT rowid FROM article_search WHERE article_search MATCH ",
        )
        .push_bind(query.terms.to_fts5(Some("title")))
        .push(") DESC, article_search.rank, a.published_at DESC, a.id DESC LIMIT ")
        .push_bind(i64::from(query.per_page))
        .push(" OFFSET ")
        .push_bind(i64::try_from(query.offset()).unwrap_or(i64::MAX));
        let rows: Vec<(i64, String, String)> = page
            .build_query_as()
            .fetch_all(&mut *conn)
            .await
            .map_err(db_error)?;

        let ids: Vec<i64> = rows.iter().map(|r| r.0).collect();
        let found = articles::by_ids(&mut conn, &ids).await?;
        paged.items = found
            .into_iter()
            .zip(rows)
            .map(|(article, (_, title, snippet))| SearchHit {
                article,
                title: Highlighted(title),
                snippet: Highlighted(snippet),
            })
            .collect();
        Ok(paged)
    }
}

/// FROM and WHERE: the matching rows readers may see, with the query's filters.
fn push_matches(sql: &mut QueryBuilder<Sqlite>, query: &SearchQuery) {
    sql.push(
        " FROM article_search JOIN articles a ON a.id = article_search.rowid \
         WHERE article_search MATCH ",
    )
    .push_bind(query.terms.to_fts5(None))
    .push(
        " AND a.kind = 'article' AND a.status IN ('published', 'scheduled') \
         AND a.published_at <= ",
    )
    .push_bind(millis(query.now));
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
    if let Some(from) = query.from {
        sql.push(" AND a.published_at >= ").push_bind(millis(from));
    }
    if let Some(until) = query.until {
        sql.push(" AND a.published_at < ").push_bind(millis(until));
    }
}
