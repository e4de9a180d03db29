//! Revisions and the newsroom's other article operations: every save keeps one
//! revision (autosaves replace a latest autosave), deleting takes everything of an
//! article with it, the tag list, and the preview-link key shared by every node.

use broadsheet_domain::{
    ArticleQuery, Change, ContentKind, NewUser, Role, SlugLookup, Status, StoreError, Visibility,
};

use crate::backends::{each_backend, each_backend_twice};
use crate::changes::next;
use crate::engagement::{by, like};
use crate::fixtures::{article, author, hours_ago, now, tags};

#[tokio::test]
async fn every_save_keeps_one_revision_naming_who_saved() {
    each_backend(|store| async move {
        let ada = author(&*store, "Ada Lovelace").await;
        let editor = NewUser::validate("Ed Itor", "ed@example.org", Role::Editor, None).unwrap();
        let editor = store.create_user(&editor).await.unwrap();

        let first = article(&ada, "First take", |a| {
            a.tags = tags(&["NATO", "Europe"]);
            a.cover_image = Some("/media/one.jpg".into());
        });
        let created = store.insert_article(&first).await.unwrap();
        let mut second = article(&ada, "Second take", |a| {
            a.source = "New words.".into();
            a.status = Status::Draft;
            a.published_at = None;
        });
        second.saved_by = Some(editor.id);
        store.update_article(created.id, &second).await.unwrap();

        let revisions = store.list_revisions(created.id).await.unwrap();
        assert_eq!(revisions.len(), 2, "one per save");
        let (newest, oldest) = (&revisions[0], &revisions[1]);
        assert!(newest.id > oldest.id, "newest first");

        assert_eq!(oldest.title, "First take");
        assert_eq!(oldest.slug, "first-take");
        assert_eq!(oldest.source, first.source);
        assert_eq!(oldest.excerpt, first.excerpt);
        assert_eq!(oldest.tags, tags(&["NATO", "Europe"]));
        assert_eq!(oldest.status, Status::Published);
        assert_eq!(oldest.published_at, Some(hours_ago(1)));
        assert_eq!(oldest.cover_image.as_deref(), Some("/media/one.jpg"));
        assert_eq!(oldest.saved_by.id, ada.id, "no saver given: the author");
        assert_eq!(oldest.saved_at, created.updated_at);
        assert!(!oldest.autosave);

        assert_eq!(newest.title, "Second take");
        assert_eq!(newest.source, "New words.");
        assert!(newest.tags.is_empty());
        assert_eq!((newest.status, newest.published_at), (Status::Draft, None));
        assert_eq!(newest.saved_by.display_name, "Ed Itor");

        assert_eq!(store.revision(oldest.id).await.unwrap(), *oldest);
        assert!(matches!(
            store
                .revision(broadsheet_domain::RevisionId(newest.id.0 + 1000))
                .await,
            Err(StoreError::NotFound)
        ));
        assert!(matches!(
            store
                .list_revisions(broadsheet_domain::ArticleId(created.id.0 + 1000))
                .await,
            Err(StoreError::NotFound)
        ));
    })
    .await;
}

#[tokio::test]
async fn autosaves_replace_the_latest_autosave_only() {
    each_backend(|store| async move {
        let ada = author(&*store, "Ada Lovelace").await;
        let draft = |body: &str| {
            let body = body.to_owned();
            article(&ada, "Draft", move |a| {
                a.status = Status::Draft;
                a.published_at = None;
                a.source = body;
            })
        };
        let created = store.insert_article(&draft("saved")).await.unwrap();
        for n in 1..=5 {
            let saved = store
                .autosave_article(created.id, &draft(&format!("typing {n}")))
                .await
                .unwrap();
            assert_eq!(
                saved.source,
                format!("typing {n}"),
                "the draft itself moves on"
            );
        }
        let revisions = store.list_revisions(created.id).await.unwrap();
        let kept: Vec<_> = revisions
            .iter()
            .map(|r| (r.source.as_str(), r.autosave))
            .collect();
        assert_eq!(kept, [("typing 5", true), ("saved", false)]);

        // A real save after an autosave keeps both; the next autosave starts anew.
        store
            .update_article(created.id, &draft("saved again"))
            .await
            .unwrap();
        store
            .autosave_article(created.id, &draft("typing on"))
            .await
            .unwrap();
        let revisions = store.list_revisions(created.id).await.unwrap();
        let kept: Vec<_> = revisions
            .iter()
            .map(|r| (r.source.as_str(), r.autosave))
            .collect();
        assert_eq!(
            kept,
            [
                ("typing on", true),
                ("saved again", false),
                ("typing 5", true),
                ("saved", false)
            ]
        );
        assert_eq!(
            store.article_by_id(created.id).await.unwrap().source,
            "typing on"
        );

        // Once a save published it, an autosave (one already on its way) changes
        // nothing.
        let published = article(&ada, "Draft", |a| a.source = "live".into());
        store.update_article(created.id, &published).await.unwrap();
        assert!(matches!(
            store.autosave_article(created.id, &draft("late")).await,
            Err(StoreError::Conflict { field: "status" })
        ));
        let now = store.article_by_id(created.id).await.unwrap();
        assert_eq!(
            (now.status, now.source.as_str()),
            (Status::Published, "live")
        );
        assert_eq!(store.list_revisions(created.id).await.unwrap().len(), 5);
    })
    .await;
}

#[tokio::test]
async fn deleting_an_article_takes_everything_of_it_along() {
    each_backend(|store| async move {
        let ada = author(&*store, "Ada Lovelace").await;
        let doomed = store
            .insert_article(&article(&ada, "Doomed", |a| a.tags = tags(&["Europe"])))
            .await
            .unwrap();
        let renamed = article(&ada, "Doomed", |a| {
            a.slug = Some("doomed-renamed".into());
            a.tags = tags(&["Europe"]);
        });
        store.update_article(doomed.id, &renamed).await.unwrap();
        store.cast(&[by(doomed.id, 1, like())], 100).await.unwrap();
        let kept = store
            .insert_article(&article(&ada, "Kept", |a| a.tags = tags(&["Europe"])))
            .await
            .unwrap();
        let revision = store.list_revisions(doomed.id).await.unwrap()[0].id;

        let mut changes = store.subscribe().await.unwrap();
        store.delete_article(doomed.id).await.unwrap();
        assert_eq!(next(&mut changes).await, Change::Article(doomed.id));

        assert!(matches!(
            store.article_by_id(doomed.id).await,
            Err(StoreError::NotFound)
        ));
        for slug in ["doomed", "doomed-renamed"] {
            assert!(
                matches!(store.find_by_slug(slug).await, Err(StoreError::NotFound)),
                "{slug} no longer answers, not even as a redirect"
            );
        }
        assert!(matches!(
            store.revision(revision).await,
            Err(StoreError::NotFound)
        ));
        assert!(matches!(
            store.counts(doomed.id).await,
            Err(StoreError::NotFound)
        ));
        assert!(matches!(
            store.delete_article(doomed.id).await,
            Err(StoreError::NotFound)
        ));

        let europe = ArticleQuery {
            tag: Some("europe".into()),
            visibility: Visibility::Any,
            ..ArticleQuery::public(now(), 1, 10)
        };
        let listed = store.list_articles(&europe).await.unwrap();
        assert_eq!(listed.items.len(), 1);
        assert_eq!(listed.items[0].id, kept.id);

        // Both slugs are free again.
        let again = store
            .insert_article(&article(&ada, "Doomed", |_| {}))
            .await
            .unwrap();
        assert!(matches!(
            store.find_by_slug("doomed").await,
            Ok(SlugLookup::Current(found)) if found.id == again.id
        ));
        store
            .insert_article(&article(&ada, "Doomed renamed", |_| {}))
            .await
            .unwrap();
    })
    .await;
}

#[tokio::test]
async fn tags_are_listed_by_name_once_each() {
    each_backend(|store| async move {
        assert!(store.list_tags().await.unwrap().is_empty());
        let ada = author(&*store, "Ada Lovelace").await;
        for (title, names) in [
            ("One", &["nato", "Europe"][..]),
            ("Two", &["Africa", "NATO"]),
        ] {
            store
                .insert_article(&article(&ada, title, |a| {
                    a.tags = tags(names);
                    a.kind = ContentKind::Article;
                }))
                .await
                .unwrap();
        }
        let listed: Vec<_> = store
            .list_tags()
            .await
            .unwrap()
            .into_iter()
            .map(|t| (t.name, t.slug))
            .collect();
        assert_eq!(
            listed,
            [
                ("Africa".to_owned(), "africa".to_owned()),
                ("Europe".into(), "europe".into()),
                ("nato".into(), "nato".into()),
            ],
            "by name ignoring case, with the first spelling"
        );
    })
    .await;
}

#[tokio::test]
async fn every_node_signs_with_the_first_key() {
    each_backend_twice(|first, second| async move {
        let key = first.signing_key([1; 32]).await.unwrap();
        assert_eq!(key, [1; 32], "the first candidate is kept");
        assert_eq!(second.signing_key([2; 32]).await.unwrap(), [1; 32]);
        assert_eq!(first.signing_key([3; 32]).await.unwrap(), [1; 32]);
    })
    .await;
}
