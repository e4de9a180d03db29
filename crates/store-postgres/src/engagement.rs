//! Reader engagement: readers' choices, the counters pages show, views and the daily
//! network salt (see the `0002_engagement` migration). Helpers run inside the caller's
//! transaction; each call is one transaction.
//!
//! Several nodes cast at once, so a cast must not read a reader's row, or count a
//! network's new readers, while another transaction is about to change them. A batch
//! of casts therefore first locks the `articles` rows it touches, `FOR NO KEY UPDATE`
//! and in id order: casts on one article run one after another (they would anyway, on
//! its counters row), casts on different articles do not wait for each other, the
//! order rules out deadlocks between batches, and the lock conflicts with nothing a
//! page view, a view count or a foreign key check takes (an editor's save of that
//! article waits for the batch, a few milliseconds). Counters then move by the
//! difference each call made (`likes = likes + 1`), summed per article and written in
//! id order, once per call.

use std::collections::{BTreeMap, BTreeSet};

use broadsheet_domain::dump::{ArticleCounts, ReaderRow};
use broadsheet_domain::engagement::{CounterDelta, check_ratings};
use broadsheet_domain::stats::DailyTally;
use broadsheet_domain::store::StoreResult;
use broadsheet_domain::{
    ArticleId, Cast, CastOutcome, Counts, NetworkHash, ReaderChoices, ReaderId, StoreError,
    ViewHit, Vote, clock,
};
use chrono::{NaiveDate, TimeDelta};
use sqlx::PgConnection;

use crate::rows::db_error;
use crate::stats;

/// Days of view rows kept before the newest day recorded: enough that a viewer is
/// counted once per day even while nodes (or the site's time zone) straddle midnight.
const VIEW_DAYS_KEPT: i64 = 3;

/// The fewest old view rows one call may prune. Each call prunes at most this or twice
/// its own hits, whichever is more: pruning keeps pace with the inserts, and the call
/// after midnight does not pay for a whole day's views at once.
const PRUNE_AT_LEAST: i64 = 1_000;

/// The columns every read of counters starts with: the counters and the reaction
/// counts as a JSON object, in one statement and so from one snapshot. `c` is
/// `article_counters`; the argument the article id expression.
macro_rules! select_counts {
    ($id:literal) => {
        concat!(
            "SELECT ",
            $id,
            " AS article_id, \
             COALESCE(c.views, 0) AS views, COALESCE(c.likes, 0) AS likes, \
             COALESCE(c.dislikes, 0) AS dislikes, \
             COALESCE(c.rating_1, 0) AS rating_1, COALESCE(c.rating_2, 0) AS rating_2, \
             COALESCE(c.rating_3, 0) AS rating_3, COALESCE(c.rating_4, 0) AS rating_4, \
             COALESCE(c.rating_5, 0) AS rating_5, COALESCE(c.comments, 0) AS comments, \
             (SELECT jsonb_object_agg(r.reaction_key, r.count)::text \
              FROM article_reaction_counts r \
              WHERE r.article_id = ",
            $id,
            " AND r.count > 0) AS reactions"
        )
    };
}
pub(crate) use select_counts;

/// Applies `casts` in order (see [`broadsheet_domain::Store::cast`]). Returns each
/// cast's outcome and the articles whose counters changed, by id.
pub(crate) async fn cast(
    conn: &mut PgConnection,
    casts: &[Cast],
    network_cap: u32,
) -> StoreResult<(Vec<CastOutcome>, Vec<ArticleId>)> {
    check_ratings(casts)?;
    let now = clock::now();
    let ids: Vec<i64> = casts
        .iter()
        .map(|cast| cast.article.0)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    // The lock described in the module docs; it also tells which articles exist.
    let known: BTreeSet<i64> = sqlx::query_scalar(
        "SELECT id FROM articles WHERE id = ANY($1) ORDER BY id FOR NO KEY UPDATE",
    )
    .bind(&ids)
    .fetch_all(&mut *conn)
    .await
    .map_err(db_error)?
    .into_iter()
    .collect();
    let mut deltas: BTreeMap<ArticleId, CounterDelta> = BTreeMap::new();
    let mut daily = DailyTally::new();
    let mut outcomes = Vec::with_capacity(casts.len());
    for cast in casts {
        if !known.contains(&cast.article.0) {
            outcomes.push(CastOutcome::UnknownArticle);
            continue;
        }
        // The reader's row, and how many readers their network added to the article
        // on the cast's day, in one round trip.
        let state: ReaderState = sqlx::query_as(
            "SELECT c.reader_id IS NOT NULL AS has_row, c.vote, c.reaction, c.rating, \
                    (SELECT COUNT(*) FROM reader_choices n \
                     WHERE n.article_id = $1 AND n.network = $3 AND n.day = $4) \
                    AS network_readers \
             FROM (SELECT 1) AS one \
             LEFT JOIN reader_choices c ON c.article_id = $1 AND c.reader_id = $2",
        )
        .bind(cast.article.0)
        .bind(cast.reader.as_str())
        .bind(&cast.network.0)
        .bind(cast.day)
        .fetch_one(&mut *conn)
        .await
        .map_err(db_error)?;
        if !state.has_row && state.network_readers >= i64::from(network_cap) {
            outcomes.push(CastOutcome::NetworkCapReached);
            continue;
        }
        let before = choices_of(state.vote, state.reaction, state.rating)?;
        let after = before.after(&cast.action);
        if after != before {
            // A new row takes the cast's network and day; an existing one keeps those of
            // the reader's first cast, which is what the cap counts.
            sqlx::query(
                "INSERT INTO reader_choices \
                 (article_id, reader_id, network, day, vote, reaction, rating, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
                 ON CONFLICT (article_id, reader_id) DO UPDATE SET \
                 vote = excluded.vote, reaction = excluded.reaction, \
                 rating = excluded.rating, updated_at = excluded.updated_at",
            )
            .bind(cast.article.0)
            .bind(cast.reader.as_str())
            .bind(&cast.network.0)
            .bind(cast.day)
            .bind(after.vote.map(Vote::as_str))
            .bind(after.reaction.as_deref())
            .bind(after.rating.map(i16::from))
            .bind(now)
            .execute(&mut *conn)
            .await
            .map_err(db_error)?;
            deltas
                .entry(cast.article)
                .or_default()
                .record(&before, &after);
            daily
                .entry((cast.article, cast.day))
                .or_default()
                .record(&before, &after);
        }
        outcomes.push(CastOutcome::Applied);
    }
    let changed = add_deltas(conn, deltas).await?;
    stats::add_daily(conn, &daily).await?;
    Ok((outcomes, changed))
}

/// An article's counters; `NotFound` for an unknown article.
pub(crate) async fn counts(conn: &mut PgConnection, article: ArticleId) -> StoreResult<Counts> {
    let row: CountsRow = sqlx::query_as(concat!(
        select_counts!("a.id"),
        " FROM articles a LEFT JOIN article_counters c ON c.article_id = a.id WHERE a.id = $1"
    ))
    .bind(article.0)
    .fetch_one(conn)
    .await
    .map_err(db_error)?;
    Ok(row.try_into_counts()?.counts)
}

pub(crate) async fn reader_choices(
    conn: &mut PgConnection,
    article: ArticleId,
    reader: &ReaderId,
) -> StoreResult<ReaderChoices> {
    let row: Option<(Option<String>, Option<String>, Option<i16>)> = sqlx::query_as(
        "SELECT vote, reaction, rating FROM reader_choices \
         WHERE article_id = $1 AND reader_id = $2",
    )
    .bind(article.0)
    .bind(reader.as_str())
    .fetch_optional(conn)
    .await
    .map_err(db_error)?;
    match row {
        Some((vote, reaction, rating)) => choices_of(vote, reaction, rating),
        None => Ok(ReaderChoices::default()),
    }
}

/// Counts each new (day, article, viewer) once. Returns how many were new and the
/// articles whose views grew, by id.
pub(crate) async fn record_views(
    conn: &mut PgConnection,
    hits: &[ViewHit],
) -> StoreResult<(u64, Vec<ArticleId>)> {
    let Some(newest) = hits.iter().map(|hit| hit.day).max() else {
        return Ok((0, Vec::new()));
    };
    prune_views(conn, newest, hits.len()).await?;
    let days: Vec<NaiveDate> = hits.iter().map(|hit| hit.day).collect();
    let articles: Vec<i64> = hits.iter().map(|hit| hit.article.0).collect();
    let viewers: Vec<&str> = hits.iter().map(|hit| hit.viewer.as_str()).collect();
    // One statement for the whole batch. Rows go in key order, and counters in id
    // order, so two nodes recording the same views wait for each other rather than
    // deadlock. The EXISTS makes a hit for an unknown article insert nothing, where the
    // foreign key would fail the statement and with it the batch.
    let grew: Vec<(i64, NaiveDate, i64)> = sqlx::query_as(
        "WITH inserted AS ( \
             INSERT INTO article_views (day, article_id, viewer) \
             SELECT h.day, h.article_id, h.viewer \
             FROM unnest($1::date[], $2::bigint[], $3::text[]) AS h (day, article_id, viewer) \
             WHERE EXISTS (SELECT 1 FROM articles a WHERE a.id = h.article_id) \
             ORDER BY h.day, h.article_id, h.viewer \
             ON CONFLICT DO NOTHING \
             RETURNING article_id, day) \
         SELECT article_id, day, COUNT(*) FROM inserted \
         GROUP BY article_id, day ORDER BY article_id, day",
    )
    .bind(&days)
    .bind(&articles)
    .bind(&viewers)
    .fetch_all(&mut *conn)
    .await
    .map_err(db_error)?;
    let mut counted = 0;
    let mut deltas: BTreeMap<ArticleId, CounterDelta> = BTreeMap::new();
    let mut daily = DailyTally::new();
    for (article, day, views) in grew {
        let article = ArticleId(article);
        let new_views = unsigned(views)?;
        counted += new_views;
        deltas.entry(article).or_default().views += views;
        daily.entry((article, day)).or_default().views += new_views;
    }
    let grew = add_deltas(conn, deltas).await?;
    stats::add_daily(conn, &daily).await?;
    Ok((counted, grew))
}

/// Deletes view rows older than [`VIEW_DAYS_KEPT`] days before `newest`, a bounded
/// number per call (see [`PRUNE_AT_LEAST`]). The cutoff comes from the hits rather than
/// the clock, so that what counts as old is the days the site itself records. Rows
/// another node is pruning are skipped rather than waited for.
async fn prune_views(conn: &mut PgConnection, newest: NaiveDate, hits: usize) -> StoreResult<()> {
    let limit = i64::try_from(hits)
        .map_or(i64::MAX, |hits| hits.saturating_mul(2))
        .max(PRUNE_AT_LEAST);
    // `ORDER BY day` makes the planner walk the key from its oldest end, which stops at
    // once when nothing is old (a filtered sequential scan would read the whole table
    // on every call), and the ctids then delete exactly the rows found and locked.
    sqlx::query(
        "DELETE FROM article_views WHERE ctid = ANY (ARRAY ( \
             SELECT ctid FROM article_views WHERE day < $1 \
             ORDER BY day LIMIT $2 FOR UPDATE SKIP LOCKED))",
    )
    .bind(newest - TimeDelta::days(VIEW_DAYS_KEPT))
    .bind(limit)
    .execute(conn)
    .await
    .map_err(db_error)?;
    Ok(())
}

/// The salt for `day`: `candidate` if nobody stored one yet. Deletes salts of the days
/// before yesterday.
pub(crate) async fn network_salt(
    conn: &mut PgConnection,
    day: NaiveDate,
    candidate: [u8; 32],
) -> StoreResult<[u8; 32]> {
    sqlx::query("DELETE FROM network_salts WHERE day < $1")
        .bind(day - TimeDelta::days(1))
        .execute(&mut *conn)
        .await
        .map_err(db_error)?;
    // A node inserting the same day at once makes this wait for its commit, and then
    // do nothing; the SELECT, a new statement, sees the salt that node stored.
    sqlx::query("INSERT INTO network_salts (day, salt) VALUES ($1, $2) ON CONFLICT DO NOTHING")
        .bind(day)
        .bind(candidate.as_slice())
        .execute(&mut *conn)
        .await
        .map_err(db_error)?;
    let salt: Vec<u8> = sqlx::query_scalar("SELECT salt FROM network_salts WHERE day = $1")
        .bind(day)
        .fetch_one(conn)
        .await
        .map_err(db_error)?;
    salt.try_into()
        .map_err(|salt: Vec<u8>| StoreError::Backend(format!("a salt of {} bytes", salt.len())))
}

/// Every article's counters and every reader's row, for a dump. View rows and salts
/// stay behind: they only matter for a day or two, and to this database.
pub(crate) async fn export(
    conn: &mut PgConnection,
) -> StoreResult<(Vec<ArticleCounts>, Vec<ReaderRow>)> {
    // Every article with reaction counts has a counters row (see `add_deltas` and
    // `import`), so reading the counters rows reads them all.
    let counts: Vec<CountsRow> = sqlx::query_as(concat!(
        select_counts!("c.article_id"),
        " FROM article_counters c ORDER BY c.article_id"
    ))
    .fetch_all(&mut *conn)
    .await
    .map_err(db_error)?;
    // Byte order, as SQLite sorts, rather than the database's collation.
    let readers: Vec<ReaderRowRow> = sqlx::query_as(
        "SELECT article_id, reader_id, network, day, vote, reaction, rating \
         FROM reader_choices ORDER BY article_id, reader_id COLLATE \"C\"",
    )
    .fetch_all(conn)
    .await
    .map_err(db_error)?;
    Ok((
        counts
            .into_iter()
            .map(CountsRow::try_into_counts)
            .collect::<StoreResult<_>>()?,
        readers
            .into_iter()
            .map(ReaderRowRow::try_into_row)
            .collect::<StoreResult<_>>()?,
    ))
}

/// Restores a dump's counters and readers' rows as they are, a statement per table
/// whatever the number of rows.
pub(crate) async fn import(
    conn: &mut PgConnection,
    counts: &[ArticleCounts],
    readers: &[ReaderRow],
) -> StoreResult<()> {
    let column = |count: fn(&Counts) -> u64| -> StoreResult<Vec<i64>> {
        counts.iter().map(|c| signed(count(&c.counts))).collect()
    };
    let articles: Vec<i64> = counts.iter().map(|c| c.article_id.0).collect();
    sqlx::query(
        "INSERT INTO article_counters (article_id, views, likes, dislikes, rating_1, \
         rating_2, rating_3, rating_4, rating_5, comments) \
         SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::bigint[], \
         $5::bigint[], $6::bigint[], $7::bigint[], $8::bigint[], $9::bigint[], $10::bigint[])",
    )
    .bind(&articles)
    .bind(column(|c| c.views)?)
    .bind(column(|c| c.likes)?)
    .bind(column(|c| c.dislikes)?)
    .bind(column(|c| c.ratings[0])?)
    .bind(column(|c| c.ratings[1])?)
    .bind(column(|c| c.ratings[2])?)
    .bind(column(|c| c.ratings[3])?)
    .bind(column(|c| c.ratings[4])?)
    .bind(column(|c| c.comments)?)
    .execute(&mut *conn)
    .await
    .map_err(db_error)?;

    let reactions = counts.iter().flat_map(|c| {
        c.counts
            .reactions
            .iter()
            .map(|(key, &count)| (c.article_id.0, key.as_str(), count))
    });
    let mut articles = Vec::new();
    let mut keys = Vec::new();
    let mut values = Vec::new();
    for (article, key, count) in reactions {
        articles.push(article);
        keys.push(key);
        values.push(signed(count)?);
    }
    sqlx::query(
        "INSERT INTO article_reaction_counts (article_id, reaction_key, count) \
         SELECT * FROM unnest($1::bigint[], $2::text[], $3::bigint[])",
    )
    .bind(&articles)
    .bind(&keys)
    .bind(&values)
    .execute(&mut *conn)
    .await
    .map_err(db_error)?;

    // A dump does not say when a reader last changed their mind; the import is the
    // latest that is known for sure.
    sqlx::query(
        "INSERT INTO reader_choices \
         (article_id, reader_id, network, day, vote, reaction, rating, updated_at) \
         SELECT r.*, $8 FROM unnest($1::bigint[], $2::text[], $3::text[], $4::date[], \
         $5::text[], $6::text[], $7::smallint[]) AS r",
    )
    .bind(readers.iter().map(|r| r.article_id.0).collect::<Vec<_>>())
    .bind(
        readers
            .iter()
            .map(|r| r.reader.as_str())
            .collect::<Vec<_>>(),
    )
    .bind(
        readers
            .iter()
            .map(|r| r.network.0.as_str())
            .collect::<Vec<_>>(),
    )
    .bind(readers.iter().map(|r| r.day).collect::<Vec<_>>())
    .bind(
        readers
            .iter()
            .map(|r| r.choices.vote.map(Vote::as_str))
            .collect::<Vec<_>>(),
    )
    .bind(
        readers
            .iter()
            .map(|r| r.choices.reaction.as_deref())
            .collect::<Vec<_>>(),
    )
    .bind(
        readers
            .iter()
            .map(|r| r.choices.rating.map(i16::from))
            .collect::<Vec<_>>(),
    )
    .bind(clock::now())
    .execute(conn)
    .await
    .map_err(db_error)?;
    Ok(())
}

/// Adds each article's delta to its counters (creating the row on first need), in id
/// order, and returns the articles whose counters changed. Every article with reaction
/// counts gets a counters row this way, which the dump relies on.
async fn add_deltas(
    conn: &mut PgConnection,
    deltas: BTreeMap<ArticleId, CounterDelta>,
) -> StoreResult<Vec<ArticleId>> {
    let mut changed = Vec::with_capacity(deltas.len());
    for (article, delta) in deltas {
        if delta.is_zero() {
            continue;
        }
        sqlx::query(
            "INSERT INTO article_counters AS c (article_id, views, likes, dislikes, \
             rating_1, rating_2, rating_3, rating_4, rating_5) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
             ON CONFLICT (article_id) DO UPDATE SET \
             views = c.views + excluded.views, likes = c.likes + excluded.likes, \
             dislikes = c.dislikes + excluded.dislikes, \
             rating_1 = c.rating_1 + excluded.rating_1, \
             rating_2 = c.rating_2 + excluded.rating_2, \
             rating_3 = c.rating_3 + excluded.rating_3, \
             rating_4 = c.rating_4 + excluded.rating_4, \
             rating_5 = c.rating_5 + excluded.rating_5",
        )
        .bind(article.0)
        .bind(delta.views)
        .bind(delta.likes)
        .bind(delta.dislikes)
        .bind(delta.ratings[0])
        .bind(delta.ratings[1])
        .bind(delta.ratings[2])
        .bind(delta.ratings[3])
        .bind(delta.ratings[4])
        .execute(&mut *conn)
        .await
        .map_err(db_error)?;
        for (key, by) in delta.reactions.iter().filter(|(_, by)| **by != 0) {
            sqlx::query(
                "INSERT INTO article_reaction_counts AS r (article_id, reaction_key, count) \
                 VALUES ($1, $2, $3) \
                 ON CONFLICT (article_id, reaction_key) DO UPDATE SET \
                 count = r.count + excluded.count",
            )
            .bind(article.0)
            .bind(key)
            .bind(by)
            .execute(&mut *conn)
            .await
            .map_err(db_error)?;
        }
        changed.push(article);
    }
    Ok(changed)
}

#[derive(sqlx::FromRow)]
struct ReaderState {
    has_row: bool,
    vote: Option<String>,
    reaction: Option<String>,
    rating: Option<i16>,
    network_readers: i64,
}

fn choices_of(
    vote: Option<String>,
    reaction: Option<String>,
    rating: Option<i16>,
) -> StoreResult<ReaderChoices> {
    Ok(ReaderChoices {
        vote: vote
            .map(|vote| vote.parse())
            .transpose()
            .map_err(StoreError::Backend)?,
        reaction,
        rating: rating
            .map(u8::try_from)
            .transpose()
            .map_err(StoreError::backend)?,
    })
}

#[derive(sqlx::FromRow)]
pub(crate) struct CountsRow {
    article_id: i64,
    views: i64,
    likes: i64,
    dislikes: i64,
    rating_1: i64,
    rating_2: i64,
    rating_3: i64,
    rating_4: i64,
    rating_5: i64,
    comments: i64,
    /// A JSON object of reaction key to count; NULL when there are none.
    reactions: Option<String>,
}

impl CountsRow {
    pub(crate) fn try_into_counts(self) -> StoreResult<ArticleCounts> {
        let reactions = match self.reactions {
            Some(json) => serde_json::from_str(&json).map_err(StoreError::backend)?,
            None => BTreeMap::new(),
        };
        Ok(ArticleCounts {
            article_id: ArticleId(self.article_id),
            counts: Counts {
                views: unsigned(self.views)?,
                likes: unsigned(self.likes)?,
                dislikes: unsigned(self.dislikes)?,
                reactions,
                ratings: [
                    unsigned(self.rating_1)?,
                    unsigned(self.rating_2)?,
                    unsigned(self.rating_3)?,
                    unsigned(self.rating_4)?,
                    unsigned(self.rating_5)?,
                ],
                comments: unsigned(self.comments)?,
            },
        })
    }
}

#[derive(sqlx::FromRow)]
struct ReaderRowRow {
    article_id: i64,
    reader_id: String,
    network: String,
    day: NaiveDate,
    vote: Option<String>,
    reaction: Option<String>,
    rating: Option<i16>,
}

impl ReaderRowRow {
    fn try_into_row(self) -> StoreResult<ReaderRow> {
        Ok(ReaderRow {
            article_id: ArticleId(self.article_id),
            reader: ReaderId::parse(&self.reader_id).ok_or_else(|| {
                StoreError::Backend(format!("\"{}\" is not a reader id", self.reader_id))
            })?,
            network: NetworkHash(self.network),
            day: self.day,
            choices: choices_of(self.vote, self.reaction, self.rating)?,
        })
    }
}

/// A counter as the domain counts it; a negative one means the counters no longer
/// match the rows, which is worth an error rather than a number.
pub(crate) fn unsigned(count: i64) -> StoreResult<u64> {
    u64::try_from(count).map_err(|_| StoreError::Backend(format!("a counter of {count}")))
}

pub(crate) fn signed(count: u64) -> StoreResult<i64> {
    i64::try_from(count).map_err(StoreError::backend)
}
