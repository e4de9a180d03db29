//! Search on FTS5 (the index is kept by the triggers of migration 0012). Three
//! queries per page: the candidates (the most recently written public matches, at most
//! one more than the query ranks, each with the engine's scores), ranked by
//! [`broadsheet_domain::search::rank`]; the page's highlighted titles and passages (the
//! costly part, for the page's rows only); and the page's articles.
//!
//! Candidates are read newest first straight off the index's doclists and stop at the
//! bound, and their visibility comes from the covering index of migration 0018, so a
//! word in every article costs a thousand rows, not a hundred thousand.

use std::collections::HashMap;

use async_trait::async_trait;
use broadsheet_domain::search::rank;
use broadsheet_domain::store::StoreResult;
use broadsheet_domain::{ArticleId, Candidate, SearchQuery, SearchResults, SearchStore};
use sqlx::{QueryBuilder, Sqlite};

use crate::SqliteStore;
use crate::articles;
use crate::rows::{db_error, from_millis, millis};

#[async_trait]
impl SearchStore for SqliteStore {
    async fn search(&self, query: &SearchQuery) -> StoreResult<SearchResults> {
        if query.terms.is_empty() {
            return Ok(SearchResults::empty(query));
        }
        let mut conn = self.pool.acquire().await.map_err(db_error)?;
        let mut matching = query.terms.to_fts5(None);
        if let Some(slug) = &query.tag {
            let name: Option<String> = sqlx::query_scalar("SELECT name FROM tags WHERE slug = ?")
                .bind(slug)
                .fetch_optional(&mut *conn)
                .await
                .map_err(db_error)?;
            let Some(name) = name else {
                return Ok(SearchResults::empty(query));
            };
            // The tag's name in the index's tags column: FTS5 intersects the two
            // lists, so a rare tag does not mean probing every article with a
            // common word. The name's words may straddle two tags there, so the
            // exact check stays in `push_matches`.
            matching = format!("({matching}) AND {{tags}} : {}", fts5_string(&name));
        }

        // bm25 with the title alone weighted is below zero exactly when a term is in
        // the title; `rank` is bm25 with the weights of migration 0012.
        let mut candidates = QueryBuilder::new(
            "SELECT a.id, bm25(article_search, 1.0, 0.0, 0.0, 0.0) < 0, article_search.rank, \
             a.published_at",
        );
        push_matches(&mut candidates, &matching, query);
        candidates
            .push(" ORDER BY article_search.rowid DESC LIMIT ")
            .push_bind(i64::from(query.ranked) + 1);
        let rows: Vec<(i64, bool, f64, Option<i64>)> = candidates
            .build_query_as()
            .fetch_all(&mut *conn)
            .await
            .map_err(db_error)?;
        let ranked = rank(
            rows.into_iter()
                .map(|(id, in_title, bm25, published_at)| {
                    Ok(Candidate {
                        id: ArticleId(id),
                        in_title,
                        relevance: -bm25,
                        published_at: published_at.map(from_millis).transpose()?,
                    })
                })
                .collect::<StoreResult<_>>()?,
            query,
        );

        // The sentinels are char(57344) and char(57345): U+E000 and U+E001, see
        // broadsheet_domain::search::MARK_START.
        let ids: Vec<i64> = ranked.page.iter().map(|id| id.0).collect();
        let mut marks = QueryBuilder::new(
            "SELECT rowid, highlight(article_search, 0, char(57344), char(57345)), \
             snippet(article_search, 2, char(57344), char(57345), '…', 32) \
             FROM article_search WHERE article_search MATCH ",
        );
        marks
            .push_bind(query.terms.to_fts5(None))
            .push(" AND rowid IN (");
        let mut list = marks.separated(", ");
        for id in &ids {
            list.push_bind(id);
        }
        marks.push(")");
        let marked: HashMap<ArticleId, (String, String)> = if ids.is_empty() {
            HashMap::new()
        } else {
            marks
                .build_query_as::<(i64, String, String)>()
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

/// `text` as an FTS5 string: a phrase of its words, whatever it contains.
fn fts5_string(text: &str) -> String {
    format!("\"{}\"", text.replace('"', "\"\""))
}

/// FROM and WHERE: the rows `matching` (an FTS5 query) finds that readers may see,
/// with the query's filters.
fn push_matches(sql: &mut QueryBuilder<Sqlite>, matching: &str, query: &SearchQuery) {
    sql.push(
        " FROM article_search \
         JOIN articles a INDEXED BY articles_search_visibility ON a.id = article_search.rowid \
         WHERE article_search MATCH ",
    )
    .push_bind(matching.to_owned())
    .push(
        " AND a.kind = 'article' AND a.status IN ('published', 'scheduled') \
         AND a.published_at <= ",
    )
    .push_bind(millis(query.now));
    // A probe of each candidate's own tags. Not `a.id IN (SELECT …)`:
    // SQLite may hand that list to FTS5 as rowids to look up, one MATCH each, which
    // took minutes for a tag of 11,000 articles.
    if let Some(tag) = &query.tag {
        sql.push(
            " AND EXISTS (SELECT 1 FROM article_tags at WHERE at.article_id = a.id \
             AND at.tag_id = (SELECT id FROM tags WHERE slug = ",
        )
        .push_bind(tag.as_str())
        .push("))");
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
