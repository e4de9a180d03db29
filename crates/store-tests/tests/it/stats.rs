//! The dashboard's numbers: per-day activity that moves with every cast and new view
//! (on the cast's own day, never undone by a take-back), quiet days filled with zeros,
//! the most viewed articles of a period with their counters, and the site-wide
//! reaction mix.

use broadsheet_domain::engagement::default_reactions;
use broadsheet_domain::stats::every_day;
use broadsheet_domain::{
    Activity, ArticleId, Cast, ContentKind, DayActivity, NetworkHash, ReaderAction, SiteSettings,
    Store, ViewHit, Vote,
};
use chrono::{NaiveDate, TimeDelta};

use crate::backends::{each_backend, each_backend_twice};
use crate::engagement::{by, like, react, reader, today};
use crate::fixtures::{article, author};

const NO_CAP: u32 = u32::MAX;

fn days_ago(days: i64) -> NaiveDate {
    today() - TimeDelta::days(days)
}

/// A cast by reader `n` on `day`.
fn on(day: NaiveDate, article: ArticleId, n: u32, action: ReaderAction) -> Cast {
    Cast {
        day,
        ..by(article, n, action)
    }
}

fn view(day: NaiveDate, article: ArticleId, viewer: &str) -> ViewHit {
    ViewHit {
        article,
        viewer: viewer.to_owned(),
        day,
    }
}

async fn articles(store: &dyn Store, titles: &[&str]) -> Vec<ArticleId> {
    let ada = author(store, "Ada Lovelace").await;
    let mut ids = Vec::new();
    for title in titles {
        let written = store.insert_article(&article(&ada, title, |_| {})).await;
        ids.push(written.unwrap().id);
    }
    ids
}

/// (views, votes, reactions, ratings) of each day from `from` to today.
async fn activity(store: &dyn Store, from: NaiveDate) -> Vec<(u64, u64, u64, u64)> {
    let days = store.daily_activity(from, today()).await.unwrap();
    let expected_days: Vec<NaiveDate> = from.iter_days().take_while(|d| *d <= today()).collect();
    assert_eq!(
        days.iter().map(|d| d.day).collect::<Vec<_>>(),
        expected_days,
        "one entry per day, oldest first"
    );
    days.iter()
        .map(|DayActivity { activity: a, .. }| (a.views, a.votes, a.reactions, a.ratings))
        .collect()
}

#[tokio::test]
async fn casts_count_on_their_day_and_take_backs_count_nothing() {
    each_backend(|store| async move {
        let ids = articles(&*store, &["Harbour reopens", "Ferry timetable"]).await;
        let (piece, other) = (ids[0], ids[1]);
        assert_eq!(activity(&*store, days_ago(3)).await, [(0, 0, 0, 0); 4]);

        // Two days ago: a like and a reaction by one reader, a rating by another.
        let earlier = days_ago(2);
        store
            .cast(
                &[
                    on(earlier, piece, 1, like()),
                    on(earlier, piece, 1, react("happy")),
                    on(earlier, other, 2, ReaderAction::Rate(4)),
                ],
                NO_CAP,
            )
            .await
            .unwrap();
        // Today: reader 1 switches both (one vote, one reaction more), then takes the
        // reaction back (nothing), and reader 2's rating is changed then cleared.
        store
            .cast(
                &[
                    by(piece, 1, ReaderAction::Vote(Vote::Dislike)),
                    by(piece, 1, react("sad")),
                    by(piece, 1, react("sad")),
                    by(other, 2, ReaderAction::Rate(5)),
                    by(other, 2, ReaderAction::ClearRating),
                    // An unknown article counts nowhere.
                    by(ArticleId(4242), 3, like()),
                ],
                NO_CAP,
            )
            .await
            .unwrap();
        assert_eq!(
            activity(&*store, days_ago(3)).await,
            [(0, 0, 0, 0), (0, 1, 1, 1), (0, 0, 0, 0), (0, 1, 1, 1)]
        );
        // The counters meanwhile went back down: history and standing differ.
        let counts = store.counts(piece).await.unwrap();
        assert_eq!((counts.likes, counts.dislikes), (0, 1));
        assert!(counts.reactions.is_empty());
    })
    .await;
}

#[tokio::test]
async fn new_views_count_on_their_day_once_per_viewer() {
    each_backend(|store| async move {
        let ids = articles(&*store, &["Harbour reopens", "Ferry timetable"]).await;
        let yesterday = days_ago(1);
        let hits = [
            view(yesterday, ids[0], "a"),
            view(yesterday, ids[0], "b"),
            view(yesterday, ids[1], "a"),
            view(today(), ids[0], "a"),
            // Seen already: counts nothing.
            view(yesterday, ids[0], "a"),
            view(today(), ArticleId(4242), "a"),
        ];
        assert_eq!(store.record_views(&hits).await.unwrap(), 4);
        // A second node records the same views again.
        assert_eq!(store.record_views(&hits).await.unwrap(), 0);
        store
            .record_views(&[view(today(), ids[1], "c")])
            .await
            .unwrap();
        assert_eq!(
            activity(&*store, yesterday).await,
            [(3, 0, 0, 0), (2, 0, 0, 0)]
        );
    })
    .await;
}

#[tokio::test]
async fn daily_activity_is_the_domain_filling_the_stores_rows() {
    each_backend(|store| async move {
        let ids = articles(&*store, &["Harbour reopens"]).await;
        for (days, viewers) in [(9, 2), (4, 5), (0, 1)] {
            let hits: Vec<ViewHit> = (0..viewers)
                .map(|v| view(days_ago(days), ids[0], &format!("viewer-{v}")))
                .collect();
            store.record_views(&hits).await.unwrap();
        }
        let (from, to) = (days_ago(6), days_ago(1));
        let rows = store.activity_rows(from, to).await.unwrap();
        assert_eq!(rows.len(), 1, "only days with activity, within the range");
        assert_eq!((rows[0].day, rows[0].activity.views), (days_ago(4), 5));
        let filled = store.daily_activity(from, to).await.unwrap();
        assert_eq!(filled, every_day(from, to, &rows));
        assert_eq!(filled.len(), 6);
        assert!(store.daily_activity(to, from).await.unwrap().is_empty());
    })
    .await;
}

#[tokio::test]
async fn top_articles_are_the_most_viewed_of_the_period_with_their_counters() {
    each_backend(|store| async move {
        let ids = articles(
            &*store,
            &[
                "Harbour reopens",
                "Ferry timetable",
                "Tram strike",
                "Old news",
            ],
        )
        .await;
        let views = |article: ArticleId, day: NaiveDate, viewers: u32| {
            (0..viewers)
                .map(|v| view(day, article, &format!("viewer-{v}")))
                .collect::<Vec<_>>()
        };
        let mut hits = Vec::new();
        hits.extend(views(ids[0], days_ago(1), 3));
        hits.extend(views(ids[1], days_ago(2), 2));
        hits.extend(views(ids[1], today(), 2));
        hits.extend(views(ids[2], today(), 3));
        // Many views, but before the period.
        hits.extend(views(ids[3], days_ago(40), 50));
        store.record_views(&hits).await.unwrap();
        store
            .cast(
                &[
                    by(ids[2], 1, like()),
                    by(ids[2], 2, like()),
                    by(ids[2], 1, react("happy")),
                    by(ids[2], 3, ReaderAction::Rate(4)),
                    by(ids[2], 4, ReaderAction::Rate(5)),
                ],
                NO_CAP,
            )
            .await
            .unwrap();

        let top = store.top_articles(days_ago(29), 10).await.unwrap();
        let order: Vec<(ArticleId, u64)> = top.iter().map(|t| (t.id, t.period_views)).collect();
        // 4 views first; 3 and 3 by id; the old article is out of the period.
        assert_eq!(order, [(ids[1], 4), (ids[0], 3), (ids[2], 3)]);
        let tram = &top[2];
        assert_eq!(tram.title, "Tram strike");
        assert_eq!(tram.kind, ContentKind::Article);
        assert_eq!(tram.counts.views, 3, "all-time counters");
        assert_eq!(tram.counts.likes, 2);
        assert_eq!(tram.counts.reactions.get("happy"), Some(&1));
        assert_eq!(tram.counts.rating_average(), Some(4.5));
        let full = store.article_by_id(ids[2]).await.unwrap();
        let tz = SiteSettings::default().tz();
        assert_eq!(tram.permalink(tz), full.permalink(tz));

        let two = store.top_articles(days_ago(29), 2).await.unwrap();
        assert_eq!(two.len(), 2);
        let all_time = store.top_articles(days_ago(60), 1).await.unwrap();
        assert_eq!(all_time[0].id, ids[3]);
    })
    .await;
}

#[tokio::test]
async fn the_reaction_mix_sums_every_article_and_rounds_to_100() {
    each_backend(|store| async move {
        let ids = articles(&*store, &["Harbour reopens", "Ferry timetable"]).await;
        let set = default_reactions();
        let empty = store.reaction_mix(&set).await.unwrap();
        assert_eq!(empty.len(), set.len());
        assert!(empty.iter().all(|r| r.count == 0 && r.percent == 0));

        // One each for happy, sad and excited across two articles, then reader 3 moves
        // from excited to happy: 2 happy, 1 sad.
        store
            .cast(
                &[
                    by(ids[0], 1, react("happy")),
                    by(ids[1], 2, react("sad")),
                    by(ids[1], 3, react("excited")),
                    by(ids[1], 3, react("happy")),
                ],
                NO_CAP,
            )
            .await
            .unwrap();
        let mix = store.reaction_mix(&set).await.unwrap();
        let shown: Vec<(&str, u64, u32)> = mix
            .iter()
            .map(|r| (r.key.as_str(), r.count, r.percent))
            .collect();
        assert_eq!(
            shown,
            [
                ("happy", 2, 67),
                ("sad", 1, 33),
                ("excited", 0, 0),
                ("sleepy", 0, 0),
                ("angry", 0, 0),
                ("surprise", 0, 0)
            ]
        );
        let totals = store.reaction_totals().await.unwrap();
        assert_eq!(
            totals.len(),
            2,
            "keys back at zero are left out: {totals:?}"
        );
    })
    .await;
}

#[tokio::test]
async fn concurrent_writers_keep_the_day_equal_to_the_counters() {
    each_backend_twice(|one, two| async move {
        let ids = articles(&*one, &["Harbour reopens"]).await;
        let piece = ids[0];
        let writers = [one.clone(), two.clone(), one.clone(), two.clone()];
        let tasks = writers.into_iter().enumerate().map(|(w, store)| {
            tokio::spawn(async move {
                for batch in 0..10u32 {
                    let casts: Vec<Cast> = (0..5u32)
                        .map(|i| {
                            let n = w as u32 * 1000 + batch * 10 + i;
                            Cast {
                                network: NetworkHash(format!("net-{n}")),
                                ..by(piece, n, like())
                            }
                        })
                        .collect();
                    store.cast(&casts, NO_CAP).await.unwrap();
                    let hits: Vec<ViewHit> = (0..5u32)
                        .map(|i| {
                            view(
                                today(),
                                piece,
                                reader(w as u32 * 1000 + batch * 10 + i).as_str(),
                            )
                        })
                        .collect();
                    store.record_views(&hits).await.unwrap();
                }
            })
        });
        for task in tasks.collect::<Vec<_>>() {
            task.await.unwrap();
        }
        let counts = one.counts(piece).await.unwrap();
        assert_eq!((counts.likes, counts.views), (200, 200));
        let day: Activity = two.daily_activity(today(), today()).await.unwrap()[0].activity;
        assert_eq!((day.votes, day.views), (200, 200));
    })
    .await;
}
