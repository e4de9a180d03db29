//! The newsroom's dashboard numbers: activity per day, the most read articles and the
//! site-wide reaction mix.
//!
//! An article's counters ([`crate::Counts`]) say where it stands now; they cannot say
//! what happened on a given day, and the rows behind them do not either (view rows are
//! pruned after a few days, a reader's row keeps only their latest choice). So stores
//! also keep per-day activity counters per article, moved in the same transaction as
//! the article's counters by [`Store::cast`](crate::Store::cast) and
//! [`Store::record_views`](crate::Store::record_views): [`Activity`] says what counts.
//!
//! Activity counts what readers did, never undoes it: a vote, reaction or rating given
//! or changed counts one that day, taking one back counts nothing. A day's numbers
//! therefore never shrink, which is what a chart of "reactions per day" should show.

use std::collections::BTreeMap;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::article::{ArticleId, ContentKind, Status};
use crate::engagement::{Counts, ReactionDef, ReactionShare, ReaderChoices, reaction_shares};
use crate::store::StoreResult;

/// What readers did on one day (site-wide, or to one article).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Activity {
    /// New views (each viewer once per article and day).
    pub views: u64,
    /// Likes and dislikes given or switched.
    pub votes: u64,
    /// Reactions given or switched.
    pub reactions: u64,
    /// Ratings given or changed.
    pub ratings: u64,
    /// Comments posted (none until the site has comments).
    pub comments: u64,
}

impl Activity {
    /// Counts what a reader's cast did, going from `before` to `after`: each choice
    /// that now holds something new counts one; a choice taken back counts nothing.
    pub fn record(&mut self, before: &ReaderChoices, after: &ReaderChoices) {
        let given = |changed: bool, now_set: bool| u64::from(changed && now_set);
        self.votes += given(before.vote != after.vote, after.vote.is_some());
        self.reactions += given(before.reaction != after.reaction, after.reaction.is_some());
        self.ratings += given(before.rating != after.rating, after.rating.is_some());
    }

    pub fn is_zero(&self) -> bool {
        *self == Activity::default()
    }

    /// Adds `other` to these counts.
    pub fn add(&mut self, other: &Activity) {
        self.views += other.views;
        self.votes += other.votes;
        self.reactions += other.reactions;
        self.ratings += other.ratings;
        self.comments += other.comments;
    }
}

/// One batch's activity per article and day, as stores add it to their per-day
/// counters: one write per entry, in article then day order (the order PostgreSQL
/// writers lock rows in).
pub type DailyTally = BTreeMap<(ArticleId, NaiveDate), Activity>;

/// The site's activity on one day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct DayActivity {
    pub day: NaiveDate,
    #[serde(flatten)]
    pub activity: Activity,
}

/// One entry per day from `from` to `to` (both included, none when `to` is before
/// `from`): the days in `known` as they are, zeros for the others. `known` may come
/// in any order; days outside the range are left out.
pub fn every_day(from: NaiveDate, to: NaiveDate, known: &[DayActivity]) -> Vec<DayActivity> {
    let by_day: BTreeMap<NaiveDate, &Activity> =
        known.iter().map(|d| (d.day, &d.activity)).collect();
    from.iter_days()
        .take_while(|day| *day <= to)
        .map(|day| DayActivity {
            day,
            activity: by_day.get(&day).copied().copied().unwrap_or_default(),
        })
        .collect()
}

/// The sum of a run of days.
pub fn total(days: &[DayActivity]) -> Activity {
    let mut sum = Activity::default();
    for day in days {
        sum.add(&day.activity);
    }
    sum
}

/// An article among the most viewed of a period, with its all-time counters.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TopArticle {
    pub id: ArticleId,
    pub kind: ContentKind,
    pub title: String,
    pub slug: String,
    pub status: Status,
    pub published_at: Option<DateTime<Utc>>,
    /// Views in the period asked about.
    pub period_views: u64,
    /// All-time counters.
    pub counts: Counts,
}

impl TopArticle {
    /// Whether readers may see it at `now`, as [`crate::Article::is_public`] says.
    pub fn is_public(&self, now: DateTime<Utc>) -> bool {
        crate::article::is_public(self.status, self.published_at, now)
    }

    /// The public path, as [`crate::Article::permalink`] makes it.
    pub fn permalink(&self, tz: chrono_tz::Tz) -> String {
        crate::article::permalink(self.kind, &self.slug, self.published_at, tz)
    }
}

/// The dashboard's reads. Stores implement the `*_rows` and `*_totals` methods; the
/// provided methods shape them, so both backends fill gaps and round alike.
#[async_trait]
pub trait StatsStore: Send + Sync {
    /// The site's activity on each day from `from` to `to` (both included) that has
    /// any, in no particular order.
    async fn activity_rows(&self, from: NaiveDate, to: NaiveDate) -> StoreResult<Vec<DayActivity>>;

    /// Up to `limit` articles (and pages) with activity since `from` (included), most
    /// viewed in that period first, then by id. Deleted articles are left out.
    async fn top_articles(&self, from: NaiveDate, limit: u32) -> StoreResult<Vec<TopArticle>>;

    /// Reactions on every article, by key: how many readers hold each one now.
    async fn reaction_totals(&self) -> StoreResult<BTreeMap<String, u64>>;

    /// The site's activity on every day from `from` to `to` (both included), zeros on
    /// quiet days, oldest first.
    async fn daily_activity(
        &self,
        from: NaiveDate,
        to: NaiveDate,
    ) -> StoreResult<Vec<DayActivity>> {
        let known = self.activity_rows(from, to).await?;
        Ok(every_day(from, to, &known))
    }

    /// The site-wide reaction mix in the site's reaction set, with percentages that
    /// sum to 100 once anyone reacted (see [`reaction_shares`]).
    async fn reaction_mix(&self, set: &[ReactionDef]) -> StoreResult<Vec<ReactionShare>> {
        Ok(reaction_shares(&self.reaction_totals().await?, set))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engagement::Vote;

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 2, d).unwrap()
    }

    fn views(d: u32, views: u64) -> DayActivity {
        DayActivity {
            day: day(d),
            activity: Activity {
                views,
                ..Activity::default()
            },
        }
    }

    #[test]
    fn every_day_fills_gaps_with_zeros_and_keeps_the_range() {
        // Out of order, one day before the range and one after it.
        let known = [views(5, 7), views(2, 3), views(1, 99), views(9, 99)];
        let days = every_day(day(2), day(6), &known);
        let shown: Vec<(u32, u64)> = days
            .iter()
            .map(|d| (chrono::Datelike::day(&d.day), d.activity.views))
            .collect();
        assert_eq!(shown, [(2, 3), (3, 0), (4, 0), (5, 7), (6, 0)]);
        assert_eq!(total(&days).views, 10);
        assert_eq!(every_day(day(3), day(3), &[]).len(), 1);
        assert!(every_day(day(4), day(3), &known).is_empty());
    }

    #[test]
    fn activity_counts_choices_given_or_changed_never_taken_back() {
        let none = ReaderChoices::default();
        let liked = ReaderChoices {
            vote: Some(Vote::Like),
            reaction: Some("happy".into()),
            rating: Some(4),
        };
        let switched = ReaderChoices {
            vote: Some(Vote::Dislike),
            reaction: Some("sad".into()),
            rating: Some(4),
        };
        let mut activity = Activity::default();
        activity.record(&none, &liked);
        assert_eq!(
            (activity.votes, activity.reactions, activity.ratings),
            (1, 1, 1)
        );
        activity.record(&liked, &switched);
        assert_eq!(
            (activity.votes, activity.reactions, activity.ratings),
            (2, 2, 1)
        );
        activity.record(&switched, &none);
        assert_eq!(
            (activity.votes, activity.reactions, activity.ratings),
            (2, 2, 1)
        );
        assert!(!activity.is_zero());
        assert!(Activity::default().is_zero());
    }
}
