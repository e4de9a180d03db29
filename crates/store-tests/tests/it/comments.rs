//! Comments: approved ones alone count (the article's counter and the posting day's
//! activity move with every status change, in the same write), a reader sees approved
//! comments and their own pending ones, pages hold whole threads, and a commenter's
//! data can be found, silenced and erased by email.

use broadsheet_domain::comment::{ERASED_NAME, ERASED_TEXT, render_comment};
use broadsheet_domain::{
    ArticleId, Change, Comment, CommentId, CommentQuery, CommentStatus, NetworkHash, NewComment,
    Store, StoreError,
};
use chrono::TimeDelta;

use crate::backends::each_backend;
use crate::changes::{assert_quiet, next};
use crate::engagement::{reader, today};
use crate::fixtures::{article, author, hours_ago, now};

/// A comment by `who` (whose email is `who@example.net`), read by reader `n`.
pub fn new(article: ArticleId, who: &str, n: u32, status: CommentStatus) -> NewComment {
    let body = format!("{who} says hello");
    NewComment {
        article_id: article,
        parent_id: None,
        status,
        author_name: who.to_owned(),
        author_email: format!("{who}@example.net"),
        author_url: Some(format!("https://{who}.example")),
        body_html: render_comment(&body),
        body,
        reader: Some(reader(n)),
        network: NetworkHash(format!("net-{n}")),
        notify_replies: true,
        reason: None,
        day: today(),
        created_at: now(),
    }
}

fn reply(to: &Comment, who: &str, n: u32, status: CommentStatus) -> NewComment {
    NewComment {
        parent_id: Some(to.id),
        ..new(to.article_id, who, n, status)
    }
}

async fn put(store: &dyn Store, comment: NewComment) -> Comment {
    store
        .insert_comment(&comment)
        .await
        .expect("comment stored")
}

/// Two articles by one author.
async fn a_piece(store: &dyn Store) -> (ArticleId, ArticleId) {
    let ada = author(store, "Ada Lovelace").await;
    let mut ids = Vec::new();
    for title in ["Harbour reopens", "Ferry timetable"] {
        let written = article(&ada, title, |_| {});
        ids.push(store.insert_article(&written).await.unwrap().id);
    }
    (ids[0], ids[1])
}

async fn comment_count(store: &dyn Store, article: ArticleId) -> u64 {
    store.counts(article).await.unwrap().comments
}

async fn day_comments(store: &dyn Store) -> u64 {
    let days = store.daily_activity(today(), today()).await.unwrap();
    days[0].activity.comments
}

fn ids(comments: &[Comment]) -> Vec<CommentId> {
    comments.iter().map(|c| c.id).collect()
}

#[tokio::test]
async fn only_approved_comments_count_and_every_status_change_moves_the_counters() {
    each_backend(|store| async move {
        let (piece, _) = a_piece(&*store).await;
        let mut changes = store.subscribe().await.unwrap();

        let held = put(&*store, new(piece, "ann", 1, CommentStatus::Pending)).await;
        assert_eq!(held.status, CommentStatus::Pending);
        assert_eq!(held.author_email, "ann@example.net");
        assert_eq!(held.reader, Some(reader(1)));
        assert_eq!(held.created_at, now());
        assert_eq!(store.comment_by_id(held.id).await.unwrap(), held);
        assert_eq!(comment_count(&*store, piece).await, 0);
        assert_quiet(&mut changes, "a pending comment").await;

        let shown = put(&*store, new(piece, "bob", 2, CommentStatus::Approved)).await;
        assert_eq!(next(&mut changes).await, Change::Engagement(piece));
        assert_eq!(
            (
                comment_count(&*store, piece).await,
                day_comments(&*store).await
            ),
            (1, 1)
        );

        // Approving twice, and an unknown id, change nothing more.
        let approved = store
            .set_comment_status(
                &[held.id, held.id, CommentId(9999)],
                CommentStatus::Approved,
            )
            .await
            .unwrap();
        assert_eq!(ids(&approved), [held.id]);
        assert_eq!(approved[0].status, CommentStatus::Approved);
        assert_eq!(next(&mut changes).await, Change::Engagement(piece));
        assert_eq!(comment_count(&*store, piece).await, 2);
        let again = store
            .set_comment_status(&[held.id], CommentStatus::Approved)
            .await;
        assert!(again.unwrap().is_empty());

        // Spam and trash stop counting; moving between them moves nothing.
        let out = store
            .set_comment_status(&[held.id, shown.id], CommentStatus::Spam)
            .await
            .unwrap();
        assert_eq!(out.len(), 2);
        assert_eq!(
            (
                comment_count(&*store, piece).await,
                day_comments(&*store).await
            ),
            (0, 0)
        );
        store
            .set_comment_status(&[shown.id], CommentStatus::Trash)
            .await
            .unwrap();
        assert_eq!(comment_count(&*store, piece).await, 0);

        let counts = store.comment_status_counts().await.unwrap();
        assert_eq!(
            (counts.pending, counts.approved, counts.spam, counts.trash),
            (0, 0, 1, 1)
        );
        assert_eq!(counts.of(CommentStatus::Spam), 1);
    })
    .await;
}

#[tokio::test]
async fn readers_see_approved_comments_and_only_their_own_pending_ones_in_whole_threads() {
    each_backend(|store| async move {
        let (piece, other) = a_piece(&*store).await;
        let first = put(&*store, new(piece, "ann", 1, CommentStatus::Approved)).await;
        let second = put(&*store, new(piece, "bob", 2, CommentStatus::Approved)).await;
        let answer = put(&*store, reply(&first, "cat", 3, CommentStatus::Approved)).await;
        let deeper = put(&*store, reply(&answer, "ann", 1, CommentStatus::Approved)).await;
        let waiting = put(&*store, reply(&second, "dan", 4, CommentStatus::Pending)).await;
        let lone_pending = put(&*store, new(piece, "dan", 4, CommentStatus::Pending)).await;
        put(&*store, new(piece, "eve", 5, CommentStatus::Spam)).await;
        put(&*store, new(other, "ann", 1, CommentStatus::Approved)).await;

        let anyone = store.article_comments(piece, None, 1, 10).await.unwrap();
        assert_eq!(
            ids(&anyone.items),
            [first.id, second.id, answer.id, deeper.id]
        );
        assert_eq!(anyone.total, 2);
        let dan = reader(4);
        let dan = store
            .article_comments(piece, Some(&dan), 1, 10)
            .await
            .unwrap();
        assert_eq!(
            ids(&dan.items),
            [
                first.id,
                second.id,
                answer.id,
                deeper.id,
                waiting.id,
                lone_pending.id
            ]
        );
        assert_eq!(dan.total, 3);

        // A page of one thread carries the thread's replies; the next page the next one.
        let page1 = store.article_comments(piece, None, 1, 1).await.unwrap();
        assert_eq!(ids(&page1.items), [first.id, answer.id, deeper.id]);
        assert_eq!((page1.total, page1.pages()), (2, 2));
        let page2 = store.article_comments(piece, None, 2, 1).await.unwrap();
        assert_eq!(ids(&page2.items), [second.id]);
        let beyond = store.article_comments(piece, None, 3, 1).await.unwrap();
        assert!(beyond.items.is_empty());

        // Thread and parent survive the round trip.
        assert_eq!(deeper.parent_id, Some(answer.id));
        assert_eq!(store.comment_by_id(deeper.id).await.unwrap(), deeper);
    })
    .await;
}

#[tokio::test]
async fn a_reply_needs_a_parent_on_the_same_article_and_a_comment_an_article() {
    each_backend(|store| async move {
        let (piece, other) = a_piece(&*store).await;
        let there = put(&*store, new(other, "ann", 1, CommentStatus::Approved)).await;
        let astray = NewComment {
            article_id: piece,
            ..reply(&there, "bob", 2, CommentStatus::Approved)
        };
        assert!(matches!(
            store.insert_comment(&astray).await,
            Err(StoreError::NotFound)
        ));
        let orphan = NewComment {
            parent_id: Some(CommentId(4242)),
            ..new(piece, "bob", 2, CommentStatus::Approved)
        };
        assert!(matches!(
            store.insert_comment(&orphan).await,
            Err(StoreError::NotFound)
        ));
        let nowhere = new(ArticleId(4242), "bob", 2, CommentStatus::Approved);
        assert!(matches!(
            store.insert_comment(&nowhere).await,
            Err(StoreError::NotFound)
        ));
        assert!(matches!(
            store.comment_by_id(CommentId(4242)).await,
            Err(StoreError::NotFound)
        ));
        assert_eq!(comment_count(&*store, piece).await, 0);
    })
    .await;
}

#[tokio::test]
async fn moderation_lists_filter_page_and_edit() {
    each_backend(|store| async move {
        let (piece, other) = a_piece(&*store).await;
        let mut made = Vec::new();
        for (n, (article, status)) in [
            (piece, CommentStatus::Pending),
            (piece, CommentStatus::Approved),
            (other, CommentStatus::Pending),
            (piece, CommentStatus::Pending),
        ]
        .into_iter()
        .enumerate()
        {
            let who = format!("c{n}");
            made.push(put(&*store, new(article, &who, n as u32, status)).await);
        }
        let query = |status, article, page| CommentQuery {
            status,
            article,
            page,
            per_page: 2,
        };
        let pending = store
            .list_comments(&query(Some(CommentStatus::Pending), None, 1))
            .await
            .unwrap();
        assert_eq!(
            ids(&pending.items),
            [made[3].id, made[2].id],
            "newest first"
        );
        assert_eq!(pending.total, 3);
        let rest = query(Some(CommentStatus::Pending), None, 2);
        assert_eq!(
            ids(&store.list_comments(&rest).await.unwrap().items),
            [made[0].id]
        );
        let on_piece = store
            .list_comments(&query(None, Some(piece), 1))
            .await
            .unwrap();
        assert_eq!(on_piece.total, 3);
        let both = query(Some(CommentStatus::Approved), Some(other), 1);
        assert_eq!(store.list_comments(&both).await.unwrap().total, 0);

        let mut changes = store.subscribe().await.unwrap();
        let edited = store
            .update_comment_body(made[1].id, "Fixed typo", &render_comment("Fixed typo"))
            .await
            .unwrap();
        assert_eq!(
            (edited.body.as_str(), edited.body_html.as_str()),
            ("Fixed typo", "<p>Fixed typo</p>\n")
        );
        assert!(edited.updated_at >= edited.created_at);
        assert_eq!(next(&mut changes).await, Change::Engagement(piece));
        let missing = store.update_comment_body(CommentId(4242), "x", "<p>x</p>");
        assert!(matches!(missing.await, Err(StoreError::NotFound)));
    })
    .await;
}

#[tokio::test]
async fn known_commenters_duplicates_and_a_commenters_own_data() {
    each_backend(|store| async move {
        let (piece, other) = a_piece(&*store).await;
        assert!(
            !store
                .has_approved_comment_from("ann@example.net")
                .await
                .unwrap()
        );
        let held = put(&*store, new(piece, "ann", 1, CommentStatus::Pending)).await;
        assert!(
            !store
                .has_approved_comment_from("ann@example.net")
                .await
                .unwrap()
        );
        store
            .set_comment_status(&[held.id], CommentStatus::Approved)
            .await
            .unwrap();
        assert!(
            store
                .has_approved_comment_from("ann@example.net")
                .await
                .unwrap()
        );
        assert!(
            !store
                .has_approved_comment_from("bob@example.net")
                .await
                .unwrap()
        );

        let since = now() - TimeDelta::minutes(10);
        let dup = |article, email: &'static str, body: &'static str, since| {
            let store = store.clone();
            async move {
                store
                    .recent_duplicate(article, email, body, since)
                    .await
                    .unwrap()
            }
        };
        assert!(dup(piece, "ann@example.net", "ann says hello", since).await);
        assert!(!dup(other, "ann@example.net", "ann says hello", since).await);
        assert!(!dup(piece, "bob@example.net", "ann says hello", since).await);
        assert!(!dup(piece, "ann@example.net", "something else", since).await);
        let later = now() + TimeDelta::seconds(1);
        assert!(!dup(piece, "ann@example.net", "ann says hello", later).await);

        let bob = put(&*store, reply(&held, "bob", 2, CommentStatus::Approved)).await;
        let old = NewComment {
            created_at: hours_ago(2),
            ..new(other, "ann", 1, CommentStatus::Spam)
        };
        let ann_other = store.insert_comment(&old).await.unwrap();
        let mine = store.comments_by_email("ann@example.net").await.unwrap();
        assert_eq!(ids(&mine), [held.id, ann_other.id]);

        assert_eq!(
            store
                .stop_reply_notifications("ann@example.net")
                .await
                .unwrap(),
            2
        );
        assert_eq!(
            store
                .stop_reply_notifications("ann@example.net")
                .await
                .unwrap(),
            0
        );
        assert!(!store.comment_by_id(held.id).await.unwrap().notify_replies);
        assert!(store.comment_by_id(bob.id).await.unwrap().notify_replies);

        let mut changes = store.subscribe().await.unwrap();
        assert_eq!(store.erase_commenter("ann@example.net").await.unwrap(), 2);
        let mut touched = vec![next(&mut changes).await, next(&mut changes).await];
        touched.sort_by_key(|c| c.to_string());
        let mut expected = vec![Change::Engagement(piece), Change::Engagement(other)];
        expected.sort_by_key(|c| c.to_string());
        assert_eq!(touched, expected);
        assert!(
            store
                .comments_by_email("ann@example.net")
                .await
                .unwrap()
                .is_empty()
        );
        let erased = store.comment_by_id(held.id).await.unwrap();
        assert_eq!(erased.author_name, ERASED_NAME);
        assert_eq!(erased.body, ERASED_TEXT);
        assert!(!erased.body_html.contains("ann"));
        assert_eq!(
            (erased.author_email.as_str(), erased.author_url.as_deref()),
            ("", None)
        );
        assert_eq!((erased.reader, erased.network.0.as_str()), (None, ""));
        assert_eq!(erased.status, CommentStatus::Approved, "keeps its place");
        let thread = store.article_comments(piece, None, 1, 10).await.unwrap();
        assert_eq!(
            ids(&thread.items),
            [held.id, bob.id],
            "the reply still reads in place"
        );
        assert_eq!(store.erase_commenter("").await.unwrap(), 0);
    })
    .await;
}
