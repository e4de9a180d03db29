//! Reader engagement: one vote, one reaction and one rating per reader and article,
//! switched and taken back; counters that equal the readers' rows, also when hundreds
//! of readers cast at once; the per-network cap on new readers; views counted once per
//! viewer and day; the daily salt every node shares; and the notices that tell pages
//! their numbers changed.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use broadsheet_domain::{
    ArticleId, Cast, CastOutcome, Change, ChangeStream, Counts, NetworkHash, ReaderAction,
    ReaderChoices, ReaderId, Store, StoreError, ViewHit, Vote,
};
use chrono::{NaiveDate, TimeDelta};

use crate::backends::{each_backend, each_backend_twice};
use crate::changes::{assert_quiet, next};
use crate::fixtures::{article, author, now};

/// A cap no story reaches, for the stories about something else.
const NO_CAP: u32 = u32::MAX;

/// The reaction keys of the default set.
const KEYS: [&str; 6] = ["happy", "sad", "excited", "sleepy", "angry", "surprise"];

/// An article nobody wrote.
const GHOST: ArticleId = ArticleId(4242);

/// Reader number `n`, as a cookie would carry them.
pub fn reader(n: u32) -> ReaderId {
    let mut bytes = [0; 16];
    bytes[12..].copy_from_slice(&n.to_be_bytes());
    ReaderId::from_bytes(bytes)
}

pub fn today() -> NaiveDate {
    now().date_naive()
}

fn days_later(days: i64) -> NaiveDate {
    today() + TimeDelta::days(days)
}

/// A cast by reader `n` from their home network, today.
pub fn by(article: ArticleId, n: u32, action: ReaderAction) -> Cast {
    from(article, n, "home", today(), action)
}

/// A cast by reader `n` from `network` on `day`.
fn from(article: ArticleId, n: u32, network: &str, day: NaiveDate, action: ReaderAction) -> Cast {
    Cast {
        article,
        reader: reader(n),
        network: NetworkHash(network.to_owned()),
        day,
        action,
    }
}

pub fn like() -> ReaderAction {
    ReaderAction::Vote(Vote::Like)
}

fn dislike() -> ReaderAction {
    ReaderAction::Vote(Vote::Dislike)
}

pub fn react(key: &str) -> ReaderAction {
    ReaderAction::React(key.to_owned())
}

async fn one(store: &dyn Store, cast: Cast) -> CastOutcome {
    let outcomes = store.cast(&[cast], NO_CAP).await.unwrap();
    assert_eq!(outcomes.len(), 1, "one outcome per cast");
    outcomes[0]
}

async fn two_articles(store: &dyn Store) -> (ArticleId, ArticleId) {
    let ada = author(store, "Ada Lovelace").await;
    let mut ids = Vec::new();
    for title in ["Harbour reopens", "Ferry timetable"] {
        let written = store.insert_article(&article(&ada, title, |_| {})).await;
        ids.push(written.unwrap().id);
    }
    (ids[0], ids[1])
}

async fn votes(store: &dyn Store, article: ArticleId) -> (u64, u64) {
    let counts = store.counts(article).await.unwrap();
    (counts.likes, counts.dislikes)
}

async fn reactions(store: &dyn Store, article: ArticleId) -> Vec<(String, u64)> {
    let counts = store.counts(article).await.unwrap();
    counts.reactions.into_iter().collect()
}

fn pairs(counts: &[(&str, u64)]) -> Vec<(String, u64)> {
    counts.iter().map(|&(k, n)| (k.to_owned(), n)).collect()
}

async fn choices(store: &dyn Store, article: ArticleId, n: u32) -> ReaderChoices {
    store.reader_choices(article, &reader(n)).await.unwrap()
}

#[tokio::test]
async fn a_vote_counts_once_switches_and_is_taken_back() {
    each_backend(|store| async move {
        let (piece, _) = two_articles(&*store).await;
        assert_eq!(store.counts(piece).await.unwrap(), Counts::default());
        assert_eq!(choices(&*store, piece, 1).await, ReaderChoices::default());

        assert_eq!(
            one(&*store, by(piece, 1, like())).await,
            CastOutcome::Applied
        );
        assert_eq!(
            one(&*store, by(piece, 2, like())).await,
            CastOutcome::Applied
        );
        assert_eq!(votes(&*store, piece).await, (2, 0));
        assert_eq!(choices(&*store, piece, 1).await.vote, Some(Vote::Like));

        one(&*store, by(piece, 1, dislike())).await;
        assert_eq!(
            votes(&*store, piece).await,
            (1, 1),
            "the switch moves the vote"
        );
        assert_eq!(choices(&*store, piece, 1).await.vote, Some(Vote::Dislike));

        one(&*store, by(piece, 1, dislike())).await;
        assert_eq!(
            votes(&*store, piece).await,
            (1, 0),
            "the same vote again takes it back"
        );
        assert_eq!(choices(&*store, piece, 1).await, ReaderChoices::default());

        one(&*store, by(piece, 1, like())).await;
        one(&*store, by(piece, 2, like())).await;
        assert_eq!(
            votes(&*store, piece).await,
            (1, 0),
            "each reader counts once, however often they changed their mind"
        );
    })
    .await;
}

#[tokio::test]
async fn a_reaction_switches_and_a_second_press_takes_it_back() {
    each_backend(|store| async move {
        let (piece, _) = two_articles(&*store).await;
        one(&*store, by(piece, 1, react("happy"))).await;
        one(&*store, by(piece, 2, react("happy"))).await;
        one(&*store, by(piece, 3, react("sad"))).await;
        assert_eq!(
            reactions(&*store, piece).await,
            pairs(&[("happy", 2), ("sad", 1)])
        );

        one(&*store, by(piece, 1, react("sad"))).await;
        assert_eq!(
            reactions(&*store, piece).await,
            pairs(&[("happy", 1), ("sad", 2)])
        );
        assert_eq!(
            choices(&*store, piece, 1).await.reaction.as_deref(),
            Some("sad")
        );

        one(&*store, by(piece, 1, react("sad"))).await;
        one(&*store, by(piece, 3, react("sad"))).await;
        assert_eq!(
            reactions(&*store, piece).await,
            pairs(&[("happy", 1)]),
            "a reaction nobody gives any more is not counted"
        );
        assert_eq!(choices(&*store, piece, 1).await.reaction, None);
        assert_eq!(
            votes(&*store, piece).await,
            (0, 0),
            "reactions are not votes"
        );
    })
    .await;
}

#[tokio::test]
async fn a_rating_moves_between_stars_and_is_cleared() {
    each_backend(|store| async move {
        let (piece, _) = two_articles(&*store).await;
        one(&*store, by(piece, 1, ReaderAction::Rate(4))).await;
        one(&*store, by(piece, 2, ReaderAction::Rate(5))).await;
        let ratings = |counts: Counts| counts.ratings;
        assert_eq!(ratings(store.counts(piece).await.unwrap()), [0, 0, 0, 1, 1]);

        one(&*store, by(piece, 1, ReaderAction::Rate(2))).await;
        assert_eq!(ratings(store.counts(piece).await.unwrap()), [0, 1, 0, 0, 1]);
        one(&*store, by(piece, 1, ReaderAction::Rate(2))).await;
        assert_eq!(
            ratings(store.counts(piece).await.unwrap()),
            [0, 1, 0, 0, 1],
            "a rating is set, not toggled"
        );

        one(&*store, by(piece, 2, ReaderAction::ClearRating)).await;
        assert_eq!(ratings(store.counts(piece).await.unwrap()), [0, 1, 0, 0, 0]);
        assert_eq!(choices(&*store, piece, 2).await.rating, None);
        assert_eq!(
            one(&*store, by(piece, 2, ReaderAction::ClearRating)).await,
            CastOutcome::Applied,
            "clearing no rating is allowed and changes nothing"
        );
        assert_eq!(ratings(store.counts(piece).await.unwrap()), [0, 1, 0, 0, 0]);

        // Vote, reaction and rating are independent choices of one reader.
        one(&*store, by(piece, 1, like())).await;
        one(&*store, by(piece, 1, react("excited"))).await;
        assert_eq!(
            choices(&*store, piece, 1).await,
            ReaderChoices {
                vote: Some(Vote::Like),
                reaction: Some("excited".into()),
                rating: Some(2),
            }
        );

        // A star that does not exist is the caller's bug: the whole call fails and
        // writes nothing, the like before it included.
        for stars in [0, 6] {
            let bad = [
                by(piece, 9, like()),
                by(piece, 9, ReaderAction::Rate(stars)),
            ];
            let err = store.cast(&bad, NO_CAP).await.unwrap_err();
            assert!(matches!(err, StoreError::Backend(_)), "{err:?}");
        }
        assert_eq!(votes(&*store, piece).await, (1, 0));
        assert_eq!(choices(&*store, piece, 9).await, ReaderChoices::default());
    })
    .await;
}

#[tokio::test]
async fn the_network_cap_refuses_new_readers_only() {
    each_backend(|store| async move {
        let (piece, other) = two_articles(&*store).await;
        let cap = 2;
        let cast = |cast: Cast| {
            let store = store.clone();
            async move { store.cast(&[cast], cap).await.unwrap()[0] }
        };
        let at_home = |n, action| from(piece, n, "net-a", today(), action);

        assert_eq!(cast(at_home(1, like())).await, CastOutcome::Applied);
        assert_eq!(cast(at_home(2, like())).await, CastOutcome::Applied);
        assert_eq!(
            cast(at_home(3, like())).await,
            CastOutcome::NetworkCapReached,
            "a third new reader from the network on the same day"
        );
        assert_eq!(choices(&*store, piece, 3).await, ReaderChoices::default());
        assert_eq!(
            cast(at_home(1, dislike())).await,
            CastOutcome::Applied,
            "a reader the network already added changes their vote"
        );
        assert_eq!(
            cast(from(piece, 1, "net-b", today(), react("happy"))).await,
            CastOutcome::Applied,
            "from another network too: the reader is not new"
        );
        assert_eq!(
            cast(from(piece, 3, "net-b", today(), like())).await,
            CastOutcome::Applied,
            "another network"
        );
        assert_eq!(
            cast(from(piece, 4, "net-a", days_later(1), like())).await,
            CastOutcome::Applied,
            "another day"
        );
        assert_eq!(
            cast(from(other, 5, "net-a", today(), like())).await,
            CastOutcome::Applied,
            "another article"
        );

        // A reader who took everything back still counts as added that day.
        assert_eq!(cast(at_home(2, like())).await, CastOutcome::Applied);
        assert_eq!(choices(&*store, piece, 2).await, ReaderChoices::default());
        assert_eq!(
            cast(at_home(6, like())).await,
            CastOutcome::NetworkCapReached
        );

        // Within one batch, earlier casts count toward the cap of later ones.
        let batch: Vec<Cast> = (7..=9)
            .map(|n| from(piece, n, "net-c", today(), like()))
            .collect();
        assert_eq!(
            store.cast(&batch, cap).await.unwrap(),
            [
                CastOutcome::Applied,
                CastOutcome::Applied,
                CastOutcome::NetworkCapReached
            ]
        );

        // Readers 1 (dislike), 3, 4, 7 and 8 (like).
        assert_eq!(votes(&*store, piece).await, (4, 1));
    })
    .await;
}

#[tokio::test]
async fn an_unknown_article_in_a_batch_leaves_the_others_applied() {
    each_backend(|store| async move {
        let (piece, other) = two_articles(&*store).await;
        let batch = [
            by(piece, 1, like()),
            by(GHOST, 1, like()),
            by(other, 2, react("sad")),
            by(GHOST, 2, ReaderAction::Rate(3)),
            by(piece, 2, dislike()),
        ];
        assert_eq!(
            store.cast(&batch, NO_CAP).await.unwrap(),
            [
                CastOutcome::Applied,
                CastOutcome::UnknownArticle,
                CastOutcome::Applied,
                CastOutcome::UnknownArticle,
                CastOutcome::Applied,
            ]
        );
        assert_eq!(votes(&*store, piece).await, (1, 1));
        assert_eq!(reactions(&*store, other).await, pairs(&[("sad", 1)]));
        let err = store.counts(GHOST).await.unwrap_err();
        assert!(matches!(err, StoreError::NotFound), "{err:?}");
        assert_eq!(store.cast(&[], NO_CAP).await.unwrap(), []);
    })
    .await;
}

/// What reader `n` does in the concurrency stories, in order: votes, perhaps switches
/// or takes the vote back, reacts, perhaps switches or takes that back, rates, perhaps
/// rates again or clears it. Many readers act several times.
fn script(n: u32) -> Vec<ReaderAction> {
    let key = |i: u32| react(KEYS[i as usize % KEYS.len()]);
    let stars = |i: u32| ReaderAction::Rate((i % 5) as u8 + 1);
    let mut actions = vec![if n.is_multiple_of(3) {
        dislike()
    } else {
        like()
    }];
    match n % 4 {
        1 => actions.push(if n.is_multiple_of(3) {
            like()
        } else {
            dislike()
        }),
        2 => actions.push(actions[0].clone()),
        _ => {}
    }
    actions.push(key(n));
    if n.is_multiple_of(5) {
        actions.push(key(n + 1));
    }
    if n.is_multiple_of(7) {
        actions.push(actions[actions.len() - 1].clone());
    }
    actions.push(stars(n));
    if n.is_multiple_of(6) {
        actions.push(stars(n + 2));
    }
    if n.is_multiple_of(8) {
        actions.push(ReaderAction::ClearRating);
    }
    actions
}

/// What a reader has chosen after `actions`, as the domain describes the actions.
fn model(actions: &[ReaderAction]) -> ReaderChoices {
    let mut choices = ReaderChoices::default();
    for action in actions {
        match action {
            ReaderAction::Vote(vote) => {
                choices.vote = (choices.vote != Some(*vote)).then_some(*vote);
            }
            ReaderAction::React(key) => {
                choices.reaction = (choices.reaction.as_ref() != Some(key)).then(|| key.clone());
            }
            ReaderAction::Rate(stars) => choices.rating = Some(*stars),
            ReaderAction::ClearRating => choices.rating = None,
        }
    }
    choices
}

/// Adds one reader's choices to an article's expected counters.
fn tally(counts: &mut Counts, choices: &ReaderChoices) {
    match choices.vote {
        Some(Vote::Like) => counts.likes += 1,
        Some(Vote::Dislike) => counts.dislikes += 1,
        None => {}
    }
    if let Some(key) = &choices.reaction {
        *counts.reactions.entry(key.clone()).or_default() += 1;
    }
    if let Some(stars) = choices.rating {
        counts.ratings[usize::from(stars) - 1] += 1;
    }
}

/// The counters every article should show, summed from the readers' rows in a dump.
async fn counts_from_rows(store: &dyn Store) -> BTreeMap<ArticleId, Counts> {
    let mut expected: BTreeMap<ArticleId, Counts> = BTreeMap::new();
    for row in store.export_site().await.unwrap().reader_choices {
        assert_eq!(
            store
                .reader_choices(row.article_id, &row.reader)
                .await
                .unwrap(),
            row.choices,
            "a reader's row reads back as dumped"
        );
        tally(expected.entry(row.article_id).or_default(), &row.choices);
    }
    expected
}

/// Fails unless every article's counters equal the sum of its readers' rows.
async fn assert_counters_match_rows(store: &dyn Store, articles: &[ArticleId]) {
    let expected = counts_from_rows(store).await;
    for article in articles {
        assert_eq!(
            store.counts(*article).await.unwrap(),
            expected.get(article).cloned().unwrap_or_default(),
            "the counters of {article:?} equal its readers' rows"
        );
    }
}

const READERS: u32 = 200;

/// Two hundred readers, each casting their script one cast per call, all at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn counters_equal_the_rows_after_concurrent_casts() {
    each_backend(|store| async move {
        let (piece, other) = two_articles(&*store).await;
        let article_of = move |n: u32| if n % 3 == 2 { other } else { piece };
        let tasks: Vec<_> = (0..READERS)
            .map(|n| {
                let store = Arc::clone(&store);
                tokio::spawn(async move {
                    for action in script(n) {
                        let cast = [by(article_of(n), n, action)];
                        let outcomes = store.cast(&cast, NO_CAP).await.unwrap();
                        assert_eq!(outcomes, [CastOutcome::Applied]);
                    }
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }

        // Each reader's casts ran in order, so their choices are known exactly.
        let mut expected: BTreeMap<ArticleId, Counts> = BTreeMap::new();
        for n in 0..READERS {
            let chosen = model(&script(n));
            assert_eq!(
                choices(&*store, article_of(n), n).await,
                chosen,
                "reader {n}"
            );
            tally(expected.entry(article_of(n)).or_default(), &chosen);
        }
        for article in [piece, other] {
            assert_eq!(store.counts(article).await.unwrap(), expected[&article]);
        }
        assert_counters_match_rows(&*store, &[piece, other]).await;
    })
    .await;
}

/// Batches of many casts at once, as the server's vote writer sends them: readers
/// appear in several batches that race each other, batches touch both articles in
/// either order, and some casts are for an article that does not exist.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn counters_equal_the_rows_after_concurrent_batches() {
    each_backend(|store| async move {
        let (piece, other) = two_articles(&*store).await;
        let tasks: Vec<_> = (0..20u32)
            .map(|batch| {
                let store = Arc::clone(&store);
                let (first, second) = if batch.is_multiple_of(2) {
                    (piece, other)
                } else {
                    (other, piece)
                };
                let mut casts = Vec::new();
                for i in 0..40u32 {
                    // 40 readers a batch out of 200: each reader is in four batches.
                    let n = (batch * 10 + i) % READERS;
                    let actions = script(n);
                    let action = actions[(batch as usize) % actions.len()].clone();
                    let article = if i % 2 == 0 { first } else { second };
                    casts.push(by(article, n, action));
                }
                casts.insert(17, by(GHOST, 1, like()));
                tokio::spawn(async move {
                    let outcomes = store.cast(&casts, NO_CAP).await.unwrap();
                    assert_eq!(outcomes.len(), casts.len());
                    for (cast, outcome) in casts.iter().zip(outcomes) {
                        let expected = if cast.article == GHOST {
                            CastOutcome::UnknownArticle
                        } else {
                            CastOutcome::Applied
                        };
                        assert_eq!(outcome, expected);
                    }
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }

        let expected = counts_from_rows(&*store).await;
        let total = |counts: &Counts| counts.likes + counts.dislikes;
        assert!(
            total(&expected[&piece]) + total(&expected[&other]) > 50,
            "the story casts many votes that stay"
        );
        assert_counters_match_rows(&*store, &[piece, other]).await;
    })
    .await;
}

#[tokio::test]
async fn views_count_once_per_viewer_article_and_day() {
    each_backend_twice(|store, other| async move {
        let (piece, second) = two_articles(&*store).await;
        let hit = |article, viewer: &str, day| ViewHit {
            article,
            viewer: viewer.to_owned(),
            day,
        };
        let hits = [
            hit(piece, "reader-1", today()),
            hit(piece, "reader-1", today()),
            hit(piece, "network-x", today()),
            hit(second, "reader-1", today()),
            hit(GHOST, "reader-1", today()),
        ];
        assert_eq!(
            store.record_views(&hits).await.unwrap(),
            3,
            "twice in one call counts once; an unknown article is ignored"
        );
        assert_eq!(store.record_views(&hits).await.unwrap(), 0, "again");
        assert_eq!(
            other.record_views(&hits[..1]).await.unwrap(),
            0,
            "on another node"
        );
        assert_eq!(
            other
                .record_views(&[hit(piece, "reader-1", days_later(1))])
                .await
                .unwrap(),
            1,
            "the next day counts again"
        );
        assert_eq!(store.record_views(&[]).await.unwrap(), 0);
        assert_eq!(store.counts(piece).await.unwrap().views, 3);
        assert_eq!(store.counts(second).await.unwrap().views, 1);

        // Days more than three before the newest one recorded are forgotten, so the
        // table does not grow forever; the three days before it are kept.
        store
            .record_views(&[hit(second, "reader-2", days_later(4))])
            .await
            .unwrap();
        let again = [
            hit(piece, "reader-1", days_later(1)),
            hit(piece, "reader-1", today()),
        ];
        assert_eq!(store.record_views(&again).await.unwrap(), 1);
        assert_eq!(store.counts(piece).await.unwrap().views, 4);
    })
    .await;
}

#[tokio::test]
async fn every_node_gets_the_first_salt_of_the_day() {
    each_backend_twice(|store, other| async move {
        let today = today();
        assert_eq!(store.network_salt(today, [1; 32]).await.unwrap(), [1; 32]);
        assert_eq!(other.network_salt(today, [2; 32]).await.unwrap(), [1; 32]);
        assert_eq!(store.network_salt(today, [3; 32]).await.unwrap(), [1; 32]);

        let tomorrow = days_later(1);
        let (here, there) = tokio::join!(
            store.network_salt(tomorrow, [4; 32]),
            other.network_salt(tomorrow, [5; 32])
        );
        let (here, there) = (here.unwrap(), there.unwrap());
        assert_eq!(here, there, "two nodes asking at once agree");
        assert!(here == [4; 32] || here == [5; 32]);
        assert_eq!(
            other.network_salt(today, [6; 32]).await.unwrap(),
            [1; 32],
            "yesterday's salt is kept"
        );

        // The day after tomorrow, today's salt is gone: nobody can recompute today's
        // hashes any more, and asking for it again stores a new one.
        store.network_salt(days_later(2), [7; 32]).await.unwrap();
        assert_eq!(other.network_salt(today, [8; 32]).await.unwrap(), [8; 32]);
    })
    .await;
}

async fn notices(changes: &mut ChangeStream, count: usize) -> HashSet<Change> {
    let mut heard = Vec::new();
    for _ in 0..count {
        heard.push(next(changes).await);
    }
    let distinct: HashSet<_> = heard.iter().copied().collect();
    assert_eq!(distinct.len(), heard.len(), "each article once: {heard:?}");
    distinct
}

#[tokio::test]
async fn casts_and_views_publish_each_changed_article_once() {
    each_backend(|store| async move {
        let (piece, other) = two_articles(&*store).await;
        let mut changes = store.subscribe().await.unwrap();
        let both = HashSet::from([Change::Engagement(piece), Change::Engagement(other)]);

        let batch = [
            by(piece, 1, like()),
            by(other, 2, like()),
            by(piece, 3, react("happy")),
            by(piece, 1, dislike()),
            by(GHOST, 1, like()),
        ];
        store.cast(&batch, NO_CAP).await.unwrap();
        assert_eq!(notices(&mut changes, 2).await, both);
        assert_quiet(&mut changes, "the rest of the batch").await;

        store.cast(&[by(piece, 4, like())], 0).await.unwrap();
        store.cast(&[by(GHOST, 4, like())], NO_CAP).await.unwrap();
        store
            .cast(&[by(piece, 1, ReaderAction::ClearRating)], NO_CAP)
            .await
            .unwrap();
        assert_quiet(&mut changes, "casts that changed no counter").await;

        let hit = |article, viewer: &str| ViewHit {
            article,
            viewer: viewer.to_owned(),
            day: today(),
        };
        let hits = [hit(piece, "a"), hit(piece, "b"), hit(other, "a")];
        store.record_views(&hits).await.unwrap();
        assert_eq!(notices(&mut changes, 2).await, both);
        assert_quiet(&mut changes, "the rest of the views").await;
        store.record_views(&hits).await.unwrap();
        assert_quiet(&mut changes, "views counted before").await;
    })
    .await;
}
