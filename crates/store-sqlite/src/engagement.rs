//! Reader engagement: readers' choices, the counters pages show, views and the daily
//! network salt (see the `0003_engagement` migration).
//!
//! Every helper here runs inside the caller's `BEGIN IMMEDIATE` transaction, which
//! holds SQLite's one write lock: nothing else writes between reading a reader's row
//! and writing it back, so a cast needs no further locking, and a whole batch of casts
//! costs one commit. Counters move by the difference each call made
//! (`likes = likes + 1`), summed per article and written once per call.

use std::collections::{BTreeMap, HashMap};

use broadsheet_domain::dump::{ArticleCounts, ReaderRow};
use broadsheet_domain::engagement::{CounterDelta, check_ratings};
use broadsheet_domain::stats::DailyTally;
use broadsheet_domain::store::StoreResult;
use broadsheet_domain::{
    ArticleId, Cast, CastOutcome, Counts, NetworkHash, ReaderChoices, ReaderId, StoreError,
    ViewHit, Vote, clock,
};
use chrono::{NaiveDate, TimeDelta};
use sqlx::SqliteConnection;

use crate::rows::{db_error, millis};
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
/// `article_counters`; `{id}` the article id expression.
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
             (SELECT json_group_object(r.reaction_key, r.count) \
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
    conn: &mut SqliteConnection,
    casts: &[Cast],
    network_cap: u32,
) -> StoreResult<(Vec<CastOutcome>, Vec<ArticleId>)> {
    check_ratings(casts)?;
    let now = millis(clock::now());
    let mut exists: HashMap<ArticleId, bool> = HashMap::new();
    let mut deltas: BTreeMap<ArticleId, CounterDelta> = BTreeMap::new();
    let mut daily = DailyTally::new();
    let mut outcomes = Vec::with_capacity(casts.len());
    for cast in casts {
        let known = match exists.get(&cast.article) {
            Some(&known) => known,
            None => {
                let known: bool =
                    sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM articles WHERE id = ?)")
                        .bind(cast.article.0)
                        .fetch_one(&mut *conn)
                        .await
                        .map_err(db_error)?;
                exists.insert(cast.article, known);
                known
            }
        };
        if !known {
            outcomes.push(CastOutcome::UnknownArticle);
            continue;
        }
        // The reader's row, and how many readers their network added to the article
        // on the cast's day, in one statement.
        let state: ReaderState = sqlx::query_as(
            "SELECT c.reader_id IS NOT NULL AS has_row, c.vote, c.reaction, c.rating, \
                    (SELECT COUNT(*) FROM reader_choices n \
                     WHERE n.article_id = ?1 AND n.network = ?3 AND n.day = ?4) \
                    AS network_readers \
             FROM (SELECT 1) \
             LEFT JOIN reader_choices c ON c.article_id = ?1 AND c.reader_id = ?2",
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
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?) \
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
            .bind(after.rating)
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
pub(crate) async fn counts(conn: &mut SqliteConnection, article: ArticleId) -> StoreResult<Counts> {
    let row: CountsRow = sqlx::query_as(concat!(
        select_counts!("a.id"),
        " FROM articles a LEFT JOIN article_counters c ON c.article_id = a.id WHERE a.id = ?"
    ))
    .bind(article.0)
    .fetch_one(conn)
    .await
    .map_err(db_error)?;
    Ok(row.try_into_counts()?.counts)
}

pub(crate) async fn reader_choices(
    conn: &mut SqliteConnection,
    article: ArticleId,
    reader: &ReaderId,
) -> StoreResult<ReaderChoices> {
    let row: Option<(Option<String>, Option<String>, Option<i64>)> = sqlx::query_as(
        "SELECT vote, reaction, rating FROM reader_choices \
         WHERE article_id = ? AND reader_id = ?",
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
    conn: &mut SqliteConnection,
    hits: &[ViewHit],
) -> StoreResult<(u64, Vec<ArticleId>)> {
    let Some(newest) = hits.iter().map(|hit| hit.day).max() else {
        return Ok((0, Vec::new()));
    };
    prune_views(conn, newest, hits.len()).await?;
    let mut deltas: BTreeMap<ArticleId, CounterDelta> = BTreeMap::new();
    let mut daily = DailyTally::new();
    let mut counted = 0;
    for hit in hits {
        // The EXISTS makes a hit for an unknown article insert nothing, where the
        // foreign key would fail the statement and with it the batch.
        let inserted = sqlx::query(
            "INSERT INTO article_views (day, article_id, viewer) \
             SELECT ?1, ?2, ?3 WHERE EXISTS (SELECT 1 FROM articles WHERE id = ?2) \
             ON CONFLICT DO NOTHING",
        )
        .bind(hit.day)
        .bind(hit.article.0)
        .bind(&hit.viewer)
        .execute(&mut *conn)
        .await
        .map_err(db_error)?
        .rows_affected();
        if inserted > 0 {
            counted += inserted;
            deltas.entry(hit.article).or_default().views += 1;
            daily.entry((hit.article, hit.day)).or_default().views += 1;
        }
    }
    let grew = add_deltas(conn, deltas).await?;
    stats::add_daily(conn, &daily).await?;
    Ok((counted, grew))
}

/// Deletes view rows older than [`VIEW_DAYS_KEPT`] days before `newest`, a bounded
/// number per call (see [`PRUNE_AT_LEAST`]). The cutoff comes from the hits rather than
/// the clock, so that what counts as old is the days the site itself records.
async fn prune_views(
    conn: &mut SqliteConnection,
    newest: NaiveDate,
    hits: usize,
) -> StoreResult<()> {
    let limit = i64::try_from(hits)
        .map_or(i64::MAX, |hits| hits.saturating_mul(2))
        .max(PRUNE_AT_LEAST);
    sqlx::query(
        "DELETE FROM article_views WHERE (day, article_id, viewer) IN \
         (SELECT day, article_id, viewer FROM article_views WHERE day < ? LIMIT ?)",
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
    conn: &mut SqliteConnection,
    day: NaiveDate,
    candidate: [u8; 32],
) -> StoreResult<[u8; 32]> {
    sqlx::query("DELETE FROM network_salts WHERE day < ?")
        .bind(day - TimeDelta::days(1))
        .execute(&mut *conn)
        .await
        .map_err(db_error)?;
    sqlx::query("INSERT INTO network_salts (day, salt) VALUES (?, ?) ON CONFLICT DO NOTHING")
        .bind(day)
        .bind(candidate.as_slice())
        .execute(&mut *conn)
        .await
        .map_err(db_error)?;
    let salt: Vec<u8> = sqlx::query_scalar("SELECT salt FROM network_salts WHERE day = ?")
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
    conn: &mut SqliteConnection,
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
    let readers: Vec<ReaderRowRow> = sqlx::query_as(
        "SELECT article_id, reader_id, network, day, vote, reaction, rating \
         FROM reader_choices ORDER BY article_id, reader_id",
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

/// Restores a dump's counters and readers' rows as they are.
pub(crate) async fn import(
    conn: &mut SqliteConnection,
    counts: &[ArticleCounts],
    readers: &[ReaderRow],
) -> StoreResult<()> {
    for ArticleCounts {
        article_id,
        counts: c,
    } in counts
    {
        sqlx::query(
            "INSERT INTO article_counters (article_id, views, likes, dislikes, rating_1, \
             rating_2, rating_3, rating_4, rating_5, comments) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(article_id.0)
        .bind(signed(c.views)?)
        .bind(signed(c.likes)?)
        .bind(signed(c.dislikes)?)
        .bind(signed(c.ratings[0])?)
        .bind(signed(c.ratings[1])?)
        .bind(signed(c.ratings[2])?)
        .bind(signed(c.ratings[3])?)
        .bind(signed(c.ratings[4])?)
        .bind(signed(c.comments)?)
        .execute(&mut *conn)
        .await
        .map_err(db_error)?;
        for (key, &count) in &c.reactions {
            sqlx::query(
                "INSERT INTO article_reaction_counts (article_id, reaction_key, count) \
                 VALUES (?, ?, ?)",
            )
            .bind(article_id.0)
            .bind(key)
            .bind(signed(count)?)
            .execute(&mut *conn)
            .await
            .map_err(db_error)?;
        }
    }
    // A dump does not say when a reader last changed their mind; the import is the
    // latest that is known for sure.
    let now = millis(clock::now());
    for row in readers {
        sqlx::query(
            "INSERT INTO reader_choices \
             (article_id, reader_id, network, day, vote, reaction, rating, updated_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(row.article_id.0)
        .bind(row.reader.as_str())
        .bind(&row.network.0)
        .bind(row.day)
        .bind(row.choices.vote.map(Vote::as_str))
        .bind(row.choices.reaction.as_deref())
        .bind(row.choices.rating)
        .bind(now)
        .execute(&mut *conn)
        .await
        .map_err(db_error)?;
    }
    Ok(())
}

/// Adds each article's delta to its counters (creating the row on first need) and
/// returns the articles whose counters changed. Every article with reaction counts
/// gets a counters row this way, which the dump relies on.
async fn add_deltas(
    conn: &mut SqliteConnection,
    deltas: BTreeMap<ArticleId, CounterDelta>,
) -> StoreResult<Vec<ArticleId>> {
    let mut changed = Vec::with_capacity(deltas.len());
    for (article, delta) in deltas {
        if delta.is_zero() {
            continue;
        }
        sqlx::query(
            "INSERT INTO article_counters (article_id, views, likes, dislikes, \
             rating_1, rating_2, rating_3, rating_4, rating_5) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) \
             ON CONFLICT (article_id) DO UPDATE SET \
             views = views + excluded.views, likes = likes + excluded.likes, \
             dislikes = dislikes + excluded.dislikes, \
             rating_1 = rating_1 + excluded.rating_1, rating_2 = rating_2 + excluded.rating_2, \
             rating_3 = rating_3 + excluded.rating_3, rating_4 = rating_4 + excluded.rating_4, \
             rating_5 = rating_5 + excluded.rating_5",
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
                "INSERT INTO article_reaction_counts (article_id, reaction_key, count) \
                 VALUES (?, ?, ?) \
                 ON CONFLICT (article_id, reaction_key) DO UPDATE SET \
                 count = count + excluded.count",
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
    rating: Option<i64>,
    network_readers: i64,
}

fn choices_of(
    vote: Option<String>,
    reaction: Option<String>,
    rating: Option<i64>,
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
    rating: Option<i64>,
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
