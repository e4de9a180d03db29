//! Imports: items keep the old site's ids when free and are recorded in the import map
//! with their write; comments of every kind join threads and move counters like
//! readers' comments; imported authors are inactive; old paths lead somewhere; and a
//! dump carries all of it.

use broadsheet_domain::{
    ArticleId, CommentId, CommentKind, CommentStatus, ImportKind, ImportedComment, LegacyRedirect,
    LegacyTarget, NewUser, Role, StoreError,
};

use crate::backends::each_backend;
use crate::comments::new;
use crate::fixtures::{article, author, hours_ago, now};

const SOURCE: &str = "https://old.example";

#[tokio::test]
async fn articles_keep_their_old_ids_when_free_and_are_mapped() {
    each_backend(|store| async move {
        let ada = author(&*store, "Ada Lovelace").await;
        let first = store
            .import_article(
                SOURCE,
                "500",
                Some(ArticleId(500)),
                &article(&ada, "Old post", |_| {}),
                hours_ago(48),
                hours_ago(2),
            )
            .await
            .unwrap();
        assert_eq!(first.id, ArticleId(500));
        assert_eq!(
            (first.created_at, first.updated_at),
            (hours_ago(48), hours_ago(2))
        );
        assert_eq!(store.article_by_id(first.id).await.unwrap(), first);
        assert_eq!(
            store
                .imported_id(SOURCE, ImportKind::Post, "500")
                .await
                .unwrap(),
            Some(500)
        );
        assert_eq!(
            store
                .imported_id("https://other.example", ImportKind::Post, "500")
                .await
                .unwrap(),
            None
        );
        // Taken: the next id, still mapped.
        let second = store
            .import_article(
                SOURCE,
                "501",
                Some(ArticleId(500)),
                &article(&ada, "Another", |_| {}),
                hours_ago(3),
                hours_ago(3),
            )
            .await
            .unwrap();
        assert_ne!(second.id, first.id);
        assert_eq!(
            store
                .imported_id(SOURCE, ImportKind::Post, "501")
                .await
                .unwrap(),
            Some(second.id.0)
        );
        // Ordinary writes go on past the imported ids.
        let fresh = store
            .insert_article(&article(&ada, "Written here", |_| {}))
            .await
            .unwrap();
        assert!(fresh.id.0 > 501, "{}", fresh.id);
        // Slug rules hold as for any insert.
        let clash = store
            .import_article(
                SOURCE,
                "502",
                Some(ArticleId(502)),
                &article(&ada, "Old post", |_| {}),
                now(),
                now(),
            )
            .await;
        assert!(matches!(clash, Err(StoreError::Conflict { field: "slug" })));
        assert_eq!(
            store
                .imported_id(SOURCE, ImportKind::Post, "502")
                .await
                .unwrap(),
            None,
            "a failed write records nothing"
        );
    })
    .await;
}

#[tokio::test]
async fn comments_of_every_kind_keep_ids_threads_and_counts() {
    each_backend(|store| async move {
        let ada = author(&*store, "Ada Lovelace").await;
        let piece = store
            .insert_article(&article(&ada, "Harbour", |_| {}))
            .await
            .unwrap()
            .id;
        let item = |id: &str, wanted, parent: Option<&str>, comment, kind| ImportedComment {
            source_id: id.to_owned(),
            wanted: Some(CommentId(wanted)),
            parent: parent.map(str::to_owned),
            comment,
            kind,
        };
        let results = store
            .import_comments(
                SOURCE,
                &[
                    item(
                        "70",
                        70,
                        None,
                        new(piece, "ann", 1, CommentStatus::Approved),
                        CommentKind::Comment,
                    ),
                    // An unknown parent fails alone.
                    item(
                        "69",
                        69,
                        Some("68"),
                        new(piece, "eve", 5, CommentStatus::Approved),
                        CommentKind::Comment,
                    ),
                    item(
                        "71",
                        71,
                        Some("70"),
                        new(piece, "bob", 2, CommentStatus::Approved),
                        CommentKind::Comment,
                    ),
                    item(
                        "72",
                        70,
                        None,
                        new(piece, "blog", 3, CommentStatus::Pending),
                        CommentKind::Pingback,
                    ),
                ],
            )
            .await
            .unwrap();
        assert!(
            matches!(results[1], Err(StoreError::NotFound)),
            "{results:?}"
        );
        let [Ok(top), _, Ok(reply), Ok(ping)] = &results[..] else {
            panic!("{results:?}")
        };
        assert_eq!((top.id, top.kind), (CommentId(70), CommentKind::Comment));
        assert_eq!((reply.id, reply.parent_id), (CommentId(71), Some(top.id)));
        assert_ne!(ping.id, top.id, "a taken id gets the next one");
        assert_eq!(
            store
                .imported_id(SOURCE, ImportKind::Comment, "69")
                .await
                .unwrap(),
            None
        );
        assert_eq!(ping.kind, CommentKind::Pingback);
        assert_eq!(&store.comment_by_id(ping.id).await.unwrap(), ping);
        assert_eq!(store.counts(piece).await.unwrap().comments, 2);
        assert_eq!(
            store
                .imported_id(SOURCE, ImportKind::Comment, "72")
                .await
                .unwrap(),
            Some(ping.id.0)
        );
        // A reader's comment afterwards takes a new id.
        let later = store
            .insert_comment(&new(piece, "cy", 4, CommentStatus::Approved))
            .await
            .unwrap();
        assert!(later.id.0 > 71, "{}", later.id);
        assert_eq!(later.kind, CommentKind::Comment);

        // A reply in a later call finds its parent through the import map and joins
        // the parent's thread: page one of one thread per page holds all three.
        let results = store
            .import_comments(
                SOURCE,
                &[item(
                    "73",
                    80,
                    Some("71"),
                    new(piece, "dee", 6, CommentStatus::Approved),
                    CommentKind::Comment,
                )],
            )
            .await
            .unwrap();
        let [Ok(deep)] = &results[..] else {
            panic!("{results:?}")
        };
        assert_eq!((deep.id, deep.parent_id), (CommentId(80), Some(reply.id)));
        assert_eq!(store.counts(piece).await.unwrap().comments, 4);
        let thread = store.article_comments(piece, None, 1, 1).await.unwrap();
        assert_eq!(
            thread.items.iter().map(|c| c.id).collect::<Vec<_>>(),
            [top.id, reply.id, deep.id]
        );
    })
    .await;
}

#[tokio::test]
async fn imported_authors_are_inactive_and_known_emails_are_the_same_user() {
    each_backend(|store| async move {
        let ada = author(&*store, "Ada Lovelace").await;
        let new =
            NewUser::validate("Mara Quill", "mara@old.example", Role::Contributor, None).unwrap();
        let mara = store.import_user(SOURCE, "mara", &new).await.unwrap();
        assert!(!mara.active);
        assert_eq!(
            (mara.role, mara.password_hash.as_deref()),
            (Role::Contributor, None)
        );
        assert_eq!(
            store
                .imported_id(SOURCE, ImportKind::User, "mara")
                .await
                .unwrap(),
            Some(mara.id.0)
        );
        let same = NewUser::validate("Ada L.", &ada.email, Role::Contributor, None).unwrap();
        let mapped = store.import_user(SOURCE, "ada", &same).await.unwrap();
        assert_eq!(mapped, ada);
        let clash =
            NewUser::validate("Mara Quill", "other@old.example", Role::Contributor, None).unwrap();
        assert!(matches!(
            store.import_user(SOURCE, "mara2", &clash).await,
            Err(StoreError::Conflict { field: "slug" })
        ));
    })
    .await;
}

#[tokio::test]
async fn old_paths_lead_to_articles_or_places_and_travel_in_a_dump() {
    each_backend(|store| async move {
        let ada = author(&*store, "Ada Lovelace").await;
        let piece = store
            .insert_article(&article(&ada, "Harbour", |_| {}))
            .await
            .unwrap()
            .id;
        let redirects = [
            LegacyRedirect {
                path: "/?p=12".into(),
                target: LegacyTarget::Article(piece),
            },
            LegacyRedirect {
                path: "/category/news/".into(),
                target: LegacyTarget::Location("/tag/news/".into()),
            },
        ];
        assert_eq!(store.put_legacy_redirects(&redirects).await.unwrap(), 2);
        assert_eq!(
            store.put_legacy_redirects(&redirects).await.unwrap(),
            0,
            "the same again changes nothing"
        );
        assert_eq!(
            store.legacy_redirect("/?p=12").await.unwrap(),
            LegacyTarget::Article(piece)
        );
        let moved = LegacyRedirect {
            path: "/category/news/".into(),
            target: LegacyTarget::Location("/tag/latest/".into()),
        };
        assert_eq!(
            store
                .put_legacy_redirects(std::slice::from_ref(&moved))
                .await
                .unwrap(),
            1
        );
        assert_eq!(
            store.legacy_redirect("/category/news/").await.unwrap(),
            moved.target
        );
        assert!(matches!(
            store.legacy_redirect("/nothing/").await,
            Err(StoreError::NotFound)
        ));
        let dangling = LegacyRedirect {
            path: "/?p=13".into(),
            target: LegacyTarget::Article(ArticleId(9999)),
        };
        assert!(matches!(
            store.put_legacy_redirects(&[dangling]).await,
            Err(StoreError::NotFound)
        ));
        store
            .import_user(
                SOURCE,
                "mara",
                &NewUser::validate("Mara", "mara@old.example", Role::Contributor, None).unwrap(),
            )
            .await
            .unwrap();
        let done = store
            .import_comments(
                SOURCE,
                &[ImportedComment {
                    source_id: "5".into(),
                    wanted: None,
                    parent: None,
                    comment: new(piece, "blog", 3, CommentStatus::Approved),
                    kind: CommentKind::Trackback,
                }],
            )
            .await
            .unwrap();
        assert!(done[0].is_ok(), "{done:?}");

        let dump = store.export_site().await.unwrap();
        assert_eq!(dump.legacy_redirects.len(), 2);
        assert_eq!(dump.import_map.len(), 2);
        assert_eq!(dump.comments[0].kind, CommentKind::Trackback);
        let (redirects, maps) = store.import_records().await.unwrap();
        assert_eq!(
            (redirects, maps),
            (dump.legacy_redirects.clone(), dump.import_map.clone())
        );
    })
    .await;
}
