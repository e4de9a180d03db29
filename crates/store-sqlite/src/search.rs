//! Search on FTS5 (the index is kept by the triggers of migration 0012). Four queries
//! per page: the candidates (the most recently written public matches, at most one
//! more than the query ranks); where their words are ([`field_hits`]: how many of the
//! words each has in its title and in its tags, the relevance that
//! [`broadsheet_domain::search::rank`] orders by after title matches); the page's
//! highlighted titles and passages (for the page's rows only); and the page's articles.
//!
//! Every query's cost follows the candidates, not the index: candidates are read newest
//! first straight off the doclists and stop at the bound, their visibility comes from
//! the covering index of migration 0018, and the relevance passes walk only the
//! candidates' part of the index. So a word in every article costs a thousand rows, not
//! a hundred thousand. That is also why relevance is not FTS5's `bm25` (nor the `rank`
//! that migration 0012 configures): bm25 counts every article holding each word, on
//! every query, to weigh rare words above common ones.

use std::collections::HashMap;

use async_trait::async_trait;
use broadsheet_domain::search::rank;
use broadsheet_domain::store::StoreResult;
use broadsheet_domain::{
    ArticleId, Candidate, SearchQuery, SearchResults, SearchStore, StoreError,
};
use sqlx::{QueryBuilder, Sqlite, SqliteConnection};

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

        // The rows come back as one JSON array: sqlx hands each row over from its
        // SQLite thread separately, and a thousand hand-overs cost more than the query.
        let mut candidates = QueryBuilder::new(
            "SELECT json_group_array(json_array(id, published_at)) FROM \
             (SELECT a.id AS id, a.published_at AS published_at",
        );
        push_matches(&mut candidates, &matching, query);
        candidates
            .push(" ORDER BY article_search.rowid DESC LIMIT ")
            .push_bind(i64::from(query.ranked) + 1)
            .push(")");
        let json: String = candidates
            .build_query_scalar()
            .fetch_one(&mut *conn)
            .await
            .map_err(db_error)?;
        let found: Vec<(i64, Option<i64>)> =
            serde_json::from_str(&json).map_err(StoreError::backend)?;
        let hits = match (found.last(), found.first()) {
            (Some((lowest, _)), Some((highest, _))) => {
                let span = Span {
                    lowest: *lowest,
                    highest: *highest,
                    count: found.len(),
                };
                field_hits(&mut conn, query, &matching, &span).await?
            }
            _ => HashMap::new(),
        };
        let ranked = rank(
            found
                .into_iter()
                .map(|(id, published_at)| {
                    let (in_title, in_tags) = hits.get(&id).copied().unwrap_or_default();
                    Ok(Candidate {
                        id: ArticleId(id),
                        in_title: in_title > 0,
                        relevance: f64::from(TITLE_WEIGHT * in_title + in_tags),
                        published_at: published_at.map(from_millis).transpose()?,
                    })
                })
                .collect::<StoreResult<_>>()?,
            query,
        );

        let ids: Vec<i64> = ranked.page.iter().map(|id| id.0).collect();
        let marked = highlights(&mut conn, query, &ids).await?;
        let found = articles::by_ids(&mut conn, &ids).await?;
        Ok(SearchResults::assemble(query, &ranked, found, marked))
    }
}

/// The highlighted title and body passage of each of the page's articles (`ids`).
/// The sentinels are char(57344) and char(57345): U+E000 and U+E001, see
/// [`broadsheet_domain::search::MARK_START`].
///
/// The rows are read in one pass over the matches between the page's lowest and highest
/// id. Not `rowid IN (…)`, which FTS5 would take as one new match per row (0.3 ms each
/// for three common words) or, worse, walk every match: the list is a plain filter here
/// (`+rowid`), checked before the costly columns.
async fn highlights(
    conn: &mut SqliteConnection,
    query: &SearchQuery,
    ids: &[i64],
) -> StoreResult<HashMap<ArticleId, (String, String)>> {
    let (Some(low), Some(high)) = (ids.iter().min(), ids.iter().max()) else {
        return Ok(HashMap::new());
    };
    let rows: Vec<(i64, String, String)> = sqlx::query_as(
        "SELECT rowid, highlight(article_search, 0, char(57344), char(57345)), \
         snippet(article_search, 2, char(57344), char(57345), '…', 32) \
         FROM article_search WHERE article_search MATCH ? \
         AND rowid BETWEEN ? AND ? \
         AND +rowid IN (SELECT value FROM json_each(?))",
    )
    .bind(query.terms.to_fts5(None))
    .bind(low)
    .bind(high)
    .bind(serde_json::to_string(ids).map_err(StoreError::backend)?)
    .fetch_all(conn)
    .await
    .map_err(db_error)?;
    Ok(rows
        .into_iter()
        .map(|(id, title, snippet)| (ArticleId(id), (title, snippet)))
        .collect())
}

/// A query word in an article's title counts this many times a word in its tags.
const TITLE_WEIGHT: u32 = 2;

/// The candidates' ids: the lowest, the highest and how many.
struct Span {
    lowest: i64,
    highest: i64,
    count: usize,
}

impl Span {
    /// Few other articles fall between the candidates' ids (at most three for each
    /// candidate).
    fn dense(&self) -> bool {
        let wide = u64::try_from(self.highest - self.lowest).unwrap_or(u64::MAX);
        wide <= 4 * self.count as u64
    }
}

/// For each match between the candidates' lowest and highest ids, how many of the
/// query's words are in its title and how many in its tags: one FTS5 pass per word and
/// column over that range of the index, so a relevance that costs what the candidates
/// cost, for a word in every article as for a rare one. (FTS5's own bm25 recounts every
/// article holding each word on every query: 5 ms a word over 100,000 articles.) When
/// the candidates are sparse, a pass is also held to the whole query (`matching`), so
/// it walks the query's matches rather than every article with that word in the range.
async fn field_hits(
    conn: &mut SqliteConnection,
    query: &SearchQuery,
    matching: &str,
    span: &Span,
) -> StoreResult<HashMap<i64, (u32, u32)>> {
    let within = if span.dense() {
        String::new()
    } else {
        format!(" AND ({matching})")
    };
    let mut passes = QueryBuilder::new("SELECT json_group_array(json_array(rowid, field)) FROM (");
    let mut first = true;
    for (field, column) in ["title", "tags"].into_iter().enumerate() {
        for term in query.terms.terms() {
            if !first {
                passes.push(" UNION ALL ");
            }
            first = false;
            passes
                .push("SELECT rowid, ")
                .push(field.to_string())
                .push(" AS field FROM article_search WHERE article_search MATCH ")
                .push_bind(format!("{{{column}}} : {}{within}", fts5_string(term)))
                .push(" AND rowid BETWEEN ")
                .push_bind(span.lowest)
                .push(" AND ")
                .push_bind(span.highest);
        }
    }
    passes.push(")");
    let json: String = passes
        .build_query_scalar()
        .fetch_one(&mut *conn)
        .await
        .map_err(db_error)?;
    let found: Vec<(i64, u8)> = serde_json::from_str(&json).map_err(StoreError::backend)?;
    let mut hits: HashMap<i64, (u32, u32)> = HashMap::new();
    for (id, field) in found {
        let (title, tags) = hits.entry(id).or_default();
        if field == 0 {
            *title += 1;
        } else {
            *tags += 1;
        }
    }
    Ok(hits)
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
