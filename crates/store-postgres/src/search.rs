//! Search on tsvector (the index is kept by the triggers of migration 0010). Three
//! queries per page: the candidates (the most recently written public matches, at most
//! one more than the query ranks, each with its scores), ranked by
//! [`broadsheet_domain::search::rank`]; the page's headlines (the costly part, for the
//! page's rows only); and the page's articles.

use std::collections::HashMap;

use async_trait::async_trait;
use broadsheet_domain::search::{MARK_END, MARK_START, rank};
use broadsheet_domain::store::StoreResult;
use broadsheet_domain::{ArticleId, Candidate, SearchQuery, SearchResults, SearchStore};
use chrono::{DateTime, Utc};
use sqlx::{Postgres, QueryBuilder};

use crate::PgStore;
use crate::articles;
use crate::rows::db_error;

#[async_trait]
impl SearchStore for PgStore {
    async fn search(&self, query: &SearchQuery) -> StoreResult<SearchResults> {
        if query.terms.is_empty() {
            return Ok(SearchResults::empty(query));
        }
        let mut conn = self.pool.acquire().await.map_err(db_error)?;

        // A query word in the title: the words' queries joined by `||` (or).
        let mut candidates = QueryBuilder::new("SELECT a.id, s.title @@ (");
        let mut any = candidates.separated(" || ");
        for term in query.terms.terms() {
            any.push("plainto_tsquery('simple', ")
                .push_bind_unseparated(term.as_str())
                .push_unseparated(")");
        }
        candidates.push("), ts_rank(s.document, q.q)::float8, a.published_at");
        push_matches(&mut candidates, query);
        candidates
            .push(" ORDER BY a.id DESC LIMIT ")
            .push_bind(i64::from(query.ranked) + 1);
        let rows: Vec<(i64, bool, f64, Option<DateTime<Utc>>)> = candidates
            .build_query_as()
            .fetch_all(&mut *conn)
            .await
            .map_err(db_error)?;
        let ranked = rank(
            rows.into_iter()
                .map(|(id, in_title, relevance, published_at)| Candidate {
                    id: ArticleId(id),
                    in_title,
                    relevance,
                    published_at,
                })
                .collect(),
            query,
        );

        let ids: Vec<i64> = ranked.page.iter().map(|id| id.0).collect();
        let marks = format!("StartSel=\"{MARK_START}\", StopSel=\"{MARK_END}\"");
        let marked: HashMap<ArticleId, (String, String)> = if ids.is_empty() {
            HashMap::new()
        } else {
            sqlx::query_as::<_, (i64, String, String)>(
                "SELECT a.id, ts_headline('simple', a.title, q.q, $2), \
                 ts_headline('simple', a.body_text, q.q, $3) \
                 FROM articles a, plainto_tsquery('simple', $1) AS q(q) WHERE a.id = ANY($4)",
            )
            .bind(query.terms.to_plain())
            .bind(format!("{marks}, HighlightAll=true"))
            .bind(format!(
                "{marks}, MaxFragments=1, MinWords=15, MaxWords=40, FragmentDelimiter=\"…\""
            ))
            .bind(&ids)
            .fetch_all(&mut *conn)
            .await
            .map_err(db_error)?
            .into_iter()
            .map(|(id, title, snippet)| (ArticleId(id), (title, snippet)))
            .collect()
        };

        let found = articles::by_ids(&mut conn, &ids).await?;
        Ok(SearchResults::assemble(query, &ranked, found, marked))
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
