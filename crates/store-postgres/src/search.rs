//! Search on tsvector (the index is kept by the triggers of migration 0010). Three
//! queries per page: the total, the page's ids with their highlighted title and body
//! passage (headlines are computed for the page's rows only, they are the costly part),
//! and the page's articles.

use async_trait::async_trait;
use broadsheet_domain::search::{MARK_END, MARK_START};
use broadsheet_domain::store::StoreResult;
use broadsheet_domain::{Highlighted, Paged, SearchHit, SearchQuery, SearchStore, StoreError};
use sqlx::{Postgres, QueryBuilder};

use crate::PgStore;
use crate::articles;
use crate::rows::db_error;

#[async_trait]
impl SearchStore for PgStore {
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

        let marks = format!("StartSel=\"{MARK_START}\", StopSel=\"{MARK_END}\"");
        let mut page = QueryBuilder::new("SELECT hit.id, ts_headline('simple', hit.title, hit.q, ");
        page.push_bind(format!("{marks}, HighlightAll=true"))
            .push("), ts_headline('simple', hit.body_text, hit.q, ")
            .push_bind(format!(
                "{marks}, MaxFragments=1, MinWords=15, MaxWords=40, FragmentDelimiter=\"…\""
            ))
            .push(
                ") FROM (SELECT a.id, a.title, a.body_text, a.published_at, q.q, \
                 s.title @@ q.q AS in_title, ts_rank(s.document, q.q) AS score",
            );
        push_matches(&mut page, query);
        let order = " ORDER BY in_title DESC, score DESC, published_at DESC, id DESC";
        page.push(order)
            .push(" LIMIT ")
            .push_bind(i64::from(query.per_page))
            .push(" OFFSET ")
            .push_bind(i64::try_from(query.offset()).unwrap_or(i64::MAX))
            .push(") hit")
            .push(order);
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

/// FROM and WHERE: the matching rows readers may see, with the query's filters. The
/// query is `q.q`.
fn push_matches(sql: &mut QueryBuilder<Postgres>, query: &SearchQuery) {
    sql.push(" FROM (SELECT plainto_tsquery('simple', ")
        .push_bind(query.terms.to_plain())
        .push(
            ") AS q) q, article_search s JOIN articles a ON a.id = s.article_id \
             WHERE s.document @@ q.q AND a.kind = 'article' \
             AND a.status IN ('published', 'scheduled') AND a.published_at <= ",
        )
        .push_bind(query.now);
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
        sql.push(" AND a.published_at >= ").push_bind(from);
    }
    if let Some(until) = query.until {
        sql.push(" AND a.published_at < ").push_bind(until);
    }
}
