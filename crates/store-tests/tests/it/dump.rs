use std::sync::Arc;

use broadsheet_domain::comment::render_comment;
use broadsheet_domain::{
    ArticleId, ArticleQuery, CastOutcome, CommentStatus, ContentKind, NetworkHash, NewComment,
    NewUser, ReaderAction, ReaderChoices, Role, SiteSettings, SlugLookup, Status, Store,
    StoreError, UserId, ViewHit, Vote,
};

use crate::backends::{backends, each_backend, named};
use crate::engagement::{by, like, react, reader, today};
use crate::fixtures::{article, author, hours_ago, hours_ahead, now, tags};

/// A small site with something of everything a dump carries.
async fn build_site(store: &dyn Store) {
    store
        .save_settings(&SiteSettings {
            title: "Harbour Gazette".into(),
            per_page: 7,
            ..SiteSettings::default()
        })
        .await
        .unwrap();
    let ada = author(store, "Ada Lovelace").await;
    let with_password = NewUser::validate(
        "Grace Hopper",
        "grace@example.org",
        Role::Admin,
        Some("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into()),
    )
    .unwrap();
    let grace = store.create_user(&with_password).await.unwrap();
    // Grace wants no "a comment awaits moderation" emails; that choice moves too.
    store
        .set_comment_notices(grace.id, false, now())
        .await
        .unwrap();

    let harbour = store
        .insert_article(&article(&ada, "Harbour reopens", |a| {
            a.tags = tags(&["Harbour", "Ferries"]);
            a.published_at = Some(hours_ago(30));
            a.featured = true;
        }))
        .await
        .unwrap();
    // Two slug changes: the dump carries a redirect chain.
    for slug in ["harbour-reopens-monday", "harbour-reopened"] {
        let renamed = article(&ada, "Harbour reopened", |a| {
            a.slug = Some(slug.into());
            a.tags = tags(&["Ferries", "Harbour"]);
            a.published_at = harbour.published_at;
        });
        store.update_article(harbour.id, &renamed).await.unwrap();
    }
    let ferry = store
        .insert_article(&article(&grace, "Ferry timetable", |a| {
            a.tags = tags(&["ferries", "Timetables"]);
            a.cover_image = Some("/media/ferry.jpg".into());
        }))
        .await
        .unwrap();
    store
        .insert_article(&article(&grace, "Next week", |a| {
            a.status = Status::Scheduled;
            a.published_at = Some(hours_ahead(48));
        }))
        .await
        .unwrap();
    store
        .insert_article(&article(&ada, "Notes", |a| {
            a.status = Status::Draft;
            a.published_at = None;
        }))
        .await
        .unwrap();
    store
        .insert_article(&article(&ada, "Contact", |a| a.kind = ContentKind::Page))
        .await
        .unwrap();

    // Engagement on two articles: votes, reactions (one switched), ratings, views, and
    // a reader who took their vote back, whose row stays.
    let casts = [
        by(harbour.id, 3, like()),
        by(harbour.id, 1, like()),
        by(harbour.id, 1, react("happy")),
        by(harbour.id, 1, ReaderAction::Rate(4)),
        by(harbour.id, 2, react("sad")),
        by(harbour.id, 2, react("angry")),
        by(harbour.id, 2, ReaderAction::Rate(2)),
        by(ferry.id, 1, like()),
        by(ferry.id, 1, like()),
        by(ferry.id, 4, react("excited")),
    ];
    let outcomes = store.cast(&casts, 10).await.unwrap();
    assert!(outcomes.iter().all(|o| *o == CastOutcome::Applied));
    let views = [("a", harbour.id), ("b", harbour.id), ("a", ferry.id)];
    let hits = views.map(|(viewer, article)| ViewHit {
        article,
        viewer: viewer.into(),
        day: today(),
    });
    store.record_views(&hits).await.unwrap();
    // A thread, a held comment and a spam one: every status moves.
    let comment = |parent, status, who: &str| NewComment {
        article_id: harbour.id,
        parent_id: parent,
        status,
        author_name: who.to_owned(),
        author_email: format!("{who}@example.net"),
        author_url: None,
        body: format!("{who} writes"),
        body_html: render_comment(&format!("{who} writes")),
        reader: Some(reader(9)),
        network: NetworkHash("net".into()),
        notify_replies: true,
        reason: None,
        day: today(),
        created_at: now(),
    };
    let first = comment(None, CommentStatus::Approved, "ann");
    let first = store.insert_comment(&first).await.unwrap();
    for (parent, status, who) in [
        (Some(first.id), CommentStatus::Approved, "bob"),
        (None, CommentStatus::Pending, "cat"),
        (None, CommentStatus::Spam, "eve"),
    ] {
        store
            .insert_comment(&comment(parent, status, who))
            .await
            .unwrap();
    }
}

/// Exports a site from every backend and imports it into every backend, itself
/// included: `db copy` must work in all directions.
#[tokio::test]
async fn an_imported_export_exports_the_same_site() {
    for from in backends() {
        for to in backends() {
            let (source_db, source) = from.fresh_store().await;
            let (target_db, target) = to.fresh_store().await;
            let name = format!("{} -> {}", from.name(), to.name());
            named(&name, copy_story(source, target)).await;
            source_db.remove().await;
            target_db.remove().await;
        }
    }
}

async fn copy_story(source: Arc<dyn Store>, target: Arc<dyn Store>) {
    build_site(&*source).await;
    let dump = source.export_site().await.unwrap();
    assert_eq!(dump.users.len(), 2);
    assert_eq!(dump.articles.len(), 5);
    let redirects: Vec<_> = dump.redirects.iter().map(|r| r.slug.as_str()).collect();
    assert_eq!(
        redirects,
        ["harbour-reopens", "harbour-reopens-monday"],
        "by slug"
    );
    assert!(dump.articles.windows(2).all(|w| w[0].id < w[1].id), "by id");
    assert_eq!(
        dump.counts.len(),
        2,
        "the two articles readers engaged with"
    );
    assert!(
        dump.counts
            .windows(2)
            .all(|w| w[0].article_id < w[1].article_id)
    );
    assert_eq!(
        dump.reader_choices.len(),
        5,
        "a taken-back vote keeps its row"
    );
    assert!(
        dump.reader_choices
            .windows(2)
            .all(|w| (w[0].article_id, &w[0].reader) < (w[1].article_id, &w[1].reader)),
        "by article, then reader"
    );

    assert!(!dump.daily.is_empty(), "the dashboard's history moves too");
    assert_eq!(dump.comments.len(), 4, "comments in every status");
    assert_eq!(dump.comment_notices_off.len(), 1, "one user opted out");
    assert!(dump.comments.windows(2).all(|w| w[0].id < w[1].id), "by id");
    assert!(
        dump.daily
            .windows(2)
            .all(|w| (w[0].article_id, w[0].day) < (w[1].article_id, w[1].day)),
        "by article, then day"
    );

    target.import_site(&dump).await.unwrap();
    assert_eq!(target.export_site().await.unwrap(), dump);
    // Threads survive: the reply is still under its parent, pages still whole.
    let harbour = dump.comments[0].article_id;
    let thread = target.article_comments(harbour, None, 1, 10).await.unwrap();
    assert_eq!(thread.total, 1);
    assert_eq!(thread.items.len(), 2);
    assert_eq!(target.counts(harbour).await.unwrap().comments, 2);
    let month = (today() - chrono::TimeDelta::days(29), today());
    assert_eq!(
        target.daily_activity(month.0, month.1).await.unwrap(),
        source.daily_activity(month.0, month.1).await.unwrap()
    );
    for counted in &dump.counts {
        let id = counted.article_id;
        assert_eq!(target.counts(id).await.unwrap(), counted.counts);
        assert_eq!(
            target.counts(id).await.unwrap(),
            source.counts(id).await.unwrap()
        );
    }

    // The copy goes on from where the original was: reader 1 takes back the like
    // they gave before the move, and reader 3 is no new reader to the cap.
    let harbour = dump.counts[0].article_id;
    let likes = dump.counts[0].counts.likes;
    let again = [by(harbour, 1, like()), by(harbour, 3, react("sad"))];
    let outcomes = target.cast(&again, 0).await.unwrap();
    assert_eq!(outcomes, [CastOutcome::Applied, CastOutcome::Applied]);
    assert_eq!(target.counts(harbour).await.unwrap().likes, likes - 1);
    assert_eq!(
        target.reader_choices(harbour, &reader(3)).await.unwrap(),
        ReaderChoices {
            vote: Some(Vote::Like),
            reaction: Some("sad".into()),
            rating: None,
        }
    );

    // The copy serves like the original.
    let moved = target.find_by_slug("harbour-reopens").await.unwrap();
    assert!(matches!(moved, SlugLookup::Moved(ref a) if a.slug == "harbour-reopened"));
    assert_eq!(target.tag_by_slug("ferries").await.unwrap().name, "Ferries");
    assert_eq!(
        target
            .list_articles(&ArticleQuery::public(now(), 1, 10))
            .await
            .unwrap(),
        source
            .list_articles(&ArticleQuery::public(now(), 1, 10))
            .await
            .unwrap()
    );
    assert_eq!(
        target.user_by_email("grace@example.org").await.unwrap(),
        source.user_by_email("grace@example.org").await.unwrap()
    );
}

#[tokio::test]
async fn import_only_fills_an_empty_store() {
    each_backend(|store| async move {
        let dump = store.export_site().await.unwrap();
        store.save_settings(&SiteSettings::default()).await.unwrap();
        store
            .import_site(&dump)
            .await
            .expect("saved settings alone are no content");

        author(&*store, "Ada Lovelace").await;
        let err = store.import_site(&dump).await.unwrap_err();
        assert!(
            matches!(err, StoreError::Conflict { field: "site" }),
            "{err:?}"
        );
    })
    .await;
}

#[tokio::test]
async fn new_rows_after_an_import_get_ids_the_dump_did_not_use() {
    for backend in backends() {
        let (source_db, source) = backend.fresh_store().await;
        let (target_db, target) = backend.fresh_store().await;
        named(backend.name(), async move {
            build_site(&*source).await;
            let mut dump = source.export_site().await.unwrap();
            // Ids well past anything the target has handed out itself.
            for user in &mut dump.users {
                user.id = UserId(user.id.0 + 100);
            }
            for article in &mut dump.articles {
                article.id = ArticleId(article.id.0 + 500);
                article.author.id = UserId(article.author.id.0 + 100);
            }
            for redirect in &mut dump.redirects {
                redirect.article_id = ArticleId(redirect.article_id.0 + 500);
            }
            for counted in &mut dump.counts {
                counted.article_id = ArticleId(counted.article_id.0 + 500);
            }
            for row in &mut dump.reader_choices {
                row.article_id = ArticleId(row.article_id.0 + 500);
            }
            for comment in &mut dump.comments {
                comment.article_id = ArticleId(comment.article_id.0 + 500);
            }
            for user in &mut dump.comment_notices_off {
                *user = UserId(user.0 + 100);
            }
            target.import_site(&dump).await.unwrap();
            assert_eq!(
                target.export_site().await.unwrap(),
                dump,
                "ids kept as given"
            );

            let max_user = dump.users.iter().map(|u| u.id).max().unwrap();
            let max_article = dump.articles.iter().map(|a| a.id).max().unwrap();
            let newcomer = author(&*target, "New Hire").await;
            assert!(
                newcomer.id > max_user,
                "{:?} after {max_user:?}",
                newcomer.id
            );
            let fresh = target
                .insert_article(&article(&newcomer, "First day", |_| {}))
                .await
                .unwrap();
            assert!(
                fresh.id > max_article,
                "{:?} after {max_article:?}",
                fresh.id
            );
            let max_comment = dump.comments.iter().map(|c| c.id).max().unwrap();
            let mut later = dump.comments[0].clone();
            later.article_id = fresh.id;
            let stored = target
                .insert_comment(&NewComment {
                    article_id: fresh.id,
                    parent_id: None,
                    status: later.status,
                    author_name: later.author_name,
                    author_email: later.author_email,
                    author_url: later.author_url,
                    body: later.body,
                    body_html: later.body_html,
                    reader: later.reader,
                    network: later.network,
                    notify_replies: later.notify_replies,
                    reason: later.reason,
                    day: later.day,
                    created_at: later.created_at,
                })
                .await
                .unwrap();
            assert!(
                stored.id > max_comment,
                "{:?} after {max_comment:?}",
                stored.id
            );
        })
        .await;
        source_db.remove().await;
        target_db.remove().await;
    }
}

/// Two nodes starting at once both migrate the same database; later starts find
/// nothing to do.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrating_at_once_and_again_is_safe() {
    for backend in backends() {
        let db = backend.create();
        let (one, two) = (db.connect().await, db.connect().await);
        named(backend.name(), async move {
            let (first, second) = tokio::join!(one.migrate(), two.migrate());
            first.expect("first node migrates");
            second.expect("second node migrates");
            one.migrate().await.expect("a restart migrates again");
            let ada = author(&*one, "Ada Lovelace").await;
            assert_eq!(two.user_by_id(ada.id).await.unwrap(), ada, "one database");
        })
        .await;
        db.remove().await;
    }
}
