//! The dashboard's numbers (see the `0007_daily_stats` migration): per-day activity
//! written alongside the engagement counters, and the reads behind the admin
//! dashboard.

use std::collections::BTreeMap;

use async_trait::async_trait;
use broadsheet_domain::stats::{Activity, DailyTally, DayActivity, StatsStore, TopArticle};
use broadsheet_domain::store::StoreResult;
use broadsheet_domain::{ArticleId, DailyRow, StoreError};
use chrono::{DateTime, NaiveDate, Utc};
use sqlx::PgConnection;

use crate::PgStore;
use crate::engagement::{CountsRow, select_counts, signed, unsigned};
use crate::rows::db_error;

/// Adds a batch's activity to the per-day counters, inside the caller's transaction
/// (the one that moved the articles' counters): one statement for the whole batch,
/// each (article, day) once. Rows go in article then day order, the order every
/// writer takes, so two nodes adding to the same rows wait rather than deadlock.
pub(crate) async fn add_daily(conn: &mut PgConnection, tally: &DailyTally) -> StoreResult<()> {
    let mut days = Vec::with_capacity(tally.len());
    let mut articles = Vec::with_capacity(tally.len());
    let mut columns: [Vec<i64>; 5] = Default::default();
    for ((article, day), activity) in tally.iter().filter(|(_, a)| !a.is_zero()) {
        days.push(*day);
        articles.push(article.0);
        let values = [
            activity.views,
            activity.votes,
            activity.reactions,
            activity.ratings,
            activity.comments,
        ];
        for (column, value) in columns.iter_mut().zip(values) {
            column.push(signed(value)?);
        }
    }
    if days.is_empty() {
        return Ok(());
    }
    let [views, votes, reactions, ratings, comments] = columns;
    sqlx::query(
        "INSERT INTO daily_counters AS d \
         (day, article_id, views, votes, reactions, ratings, comments) \
         SELECT * FROM unnest($1::date[], $2::bigint[], $3::bigint[], $4::bigint[], \
         $5::bigint[], $6::bigint[], $7::bigint[]) AS t \
         ORDER BY 2, 1 \
         ON CONFLICT (day, article_id) DO UPDATE SET \
         views = d.views + excluded.views, votes = d.votes + excluded.votes, \
         reactions = d.reactions + excluded.reactions, \
         ratings = d.ratings + excluded.ratings, comments = d.comments + excluded.comments",
    )
    .bind(&days)
    .bind(&articles)
    .bind(&views)
    .bind(&votes)
    .bind(&reactions)
    .bind(&ratings)
    .bind(&comments)
    .execute(conn)
    .await
    .map_err(db_error)?;
    Ok(())
}

/// Every article's activity per day, for a dump.
pub(crate) async fn export(conn: &mut PgConnection) -> StoreResult<Vec<DailyRow>> {
    let rows: Vec<DailyExportRow> = sqlx::query_as(
        "SELECT article_id, day, views, votes, reactions, ratings, comments \
         FROM daily_counters ORDER BY article_id, day",
    )
    .fetch_all(conn)
    .await
    .map_err(db_error)?;
    rows.into_iter()
        .map(|row| {
            let day = row.activity.try_into_day()?;
            Ok(DailyRow {
                article_id: ArticleId(row.article_id),
                day: day.day,
                activity: day.activity,
            })
        })
        .collect()
}

/// Restores a dump's activity per day into the (empty) per-day counters.
pub(crate) async fn import(conn: &mut PgConnection, rows: &[DailyRow]) -> StoreResult<()> {
    let tally: DailyTally = rows
        .iter()
        .map(|row| ((row.article_id, row.day), row.activity))
        .collect();
    add_daily(conn, &tally).await
}

#[async_trait]
impl StatsStore for PgStore {
    async fn activity_rows(&self, from: NaiveDate, to: NaiveDate) -> StoreResult<Vec<DayActivity>> {
        // SUM of BIGINT is NUMERIC in PostgreSQL; a day's total fits a BIGINT.
        let rows: Vec<ActivityRow> = sqlx::query_as(
            "SELECT day, SUM(views)::bigint AS views, SUM(votes)::bigint AS votes, \
             SUM(reactions)::bigint AS reactions, SUM(ratings)::bigint AS ratings, \
             SUM(comments)::bigint AS comments \
             FROM daily_counters WHERE day BETWEEN $1 AND $2 GROUP BY day",
        )
        .bind(from)
        .bind(to)
        .fetch_all(&self.pool)
        .await
        .map_err(db_error)?;
        rows.into_iter().map(ActivityRow::try_into_day).collect()
    }

    async fn top_articles(&self, from: NaiveDate, limit: u32) -> StoreResult<Vec<TopArticle>> {
        let rows: Vec<TopRow> = sqlx::query_as(concat!(
            "WITH top AS ( \
                 SELECT d.article_id, SUM(d.views)::bigint AS period_views \
                 FROM daily_counters d JOIN articles a ON a.id = d.article_id \
                 WHERE d.day >= $1 \
                 GROUP BY d.article_id \
                 ORDER BY period_views DESC, d.article_id \
                 LIMIT $2) ",
            select_counts!("t.article_id"),
            ", t.period_views, a.kind, a.title, a.slug, a.status, a.published_at \
             FROM top t JOIN articles a ON a.id = t.article_id \
             LEFT JOIN article_counters c ON c.article_id = t.article_id \
             ORDER BY t.period_views DESC, t.article_id"
        ))
        .bind(from)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(db_error)?;
        rows.into_iter().map(TopRow::try_into_top).collect()
    }

    async fn reaction_totals(&self) -> StoreResult<BTreeMap<String, u64>> {
        let rows: Vec<(String, i64)> = sqlx::query_as(
            "SELECT reaction_key, SUM(count)::bigint FROM article_reaction_counts \
             GROUP BY reaction_key HAVING SUM(count) > 0",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(db_error)?;
        rows.into_iter()
            .map(|(key, count)| Ok((key, unsigned(count)?)))
            .collect()
    }
}

#[derive(sqlx::FromRow)]
struct ActivityRow {
    day: NaiveDate,
    views: i64,
    votes: i64,
    reactions: i64,
    ratings: i64,
    comments: i64,
}

impl ActivityRow {
    fn try_into_day(self) -> StoreResult<DayActivity> {
        Ok(DayActivity {
            day: self.day,
            activity: Activity {
                views: unsigned(self.views)?,
                votes: unsigned(self.votes)?,
                reactions: unsigned(self.reactions)?,
                ratings: unsigned(self.ratings)?,
                comments: unsigned(self.comments)?,
            },
        })
    }
}

#[derive(sqlx::FromRow)]
struct DailyExportRow {
    article_id: i64,
    #[sqlx(flatten)]
    activity: ActivityRow,
}

#[derive(sqlx::FromRow)]
struct TopRow {
    #[sqlx(flatten)]
    counts: CountsRow,
    period_views: i64,
    kind: String,
    title: String,
    slug: String,
    status: String,
    published_at: Option<DateTime<Utc>>,
}

impl TopRow {
    fn try_into_top(self) -> StoreResult<TopArticle> {
        let counts = self.counts.try_into_counts()?;
        Ok(TopArticle {
            id: counts.article_id,
            kind: self.kind.parse().map_err(StoreError::Backend)?,
            title: self.title,
            slug: self.slug,
            status: self.status.parse().map_err(StoreError::Backend)?,
            published_at: self.published_at,
            period_views: unsigned(self.period_views)?,
            counts: counts.counts,
        })
    }
}
