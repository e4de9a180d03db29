use broadsheet_domain::{
    Article, ArticleId, AuthorRef, ContentKind, SlugLookup, SourceFormat, Status, StoreError, Tag,
    UserId, clock,
};
use chrono::{TimeZone, Utc};

use crate::backends::each_backend;
use crate::fixtures::{article, author, tags};

#[tokio::test]
async fn an_article_reads_back_exactly_as_written() {
    each_backend(|store| async move {
        let ada = author(&*store, "Ada Lovelace").await;
        // Milliseconds in the date, tags out of alphabetical order, an image for the
        // read time, HTML with markup: every field has something to lose.
        let published = Utc.with_ymd_and_hms(2026, 2, 3, 4, 5, 6).unwrap()
            + chrono::TimeDelta::milliseconds(789);
        let write = article(&ada, "Café Zürich: a <review>", |a| {
            a.source =
                "<p>Good <em>coffee</em>.</p><img src=\"/cup.jpg\" alt=\"cup\"><p>Cosy.</p>".into();
            a.format = SourceFormat::Html;
            a.excerpt = Some("Coffee, reviewed.".into());
            a.tags = tags(&["Zürich", "Coffee", "Pete Hegseth"]);
            a.published_at = Some(published);
            a.cover_image = Some("/media/cafe.jpg".into());
            a.featured = true;
        });

        let before = clock::now();
        let stored = store.insert_article(&write).await.unwrap();
        let after = clock::now();

        let expected = Article {
            id: stored.id,
            kind: ContentKind::Article,
            slug: "cafe-zurich-a-review".into(),
            title: write.title.clone(),
            excerpt: "Coffee, reviewed.".into(),
            source: write.source.clone(),
            format: SourceFormat::Html,
            body_html: write.body_html.clone(),
            body_text: write.body_text.clone(),
            tags: vec![
                Tag {
                    name: "Zürich".into(),
                    slug: "zurich".into(),
                },
                Tag {
                    name: "Coffee".into(),
                    slug: "coffee".into(),
                },
                Tag {
                    name: "Pete Hegseth".into(),
                    slug: "pete-hegseth".into(),
                },
            ],
            author: AuthorRef {
                id: ada.id,
                slug: "ada-lovelace".into(),
                display_name: "Ada Lovelace".into(),
            },
            status: Status::Published,
            published_at: Some(published),
            created_at: stored.created_at,
            updated_at: stored.created_at,
            read_time: write.read_time,
            word_count: write.word_count,
            cover_image: Some("/media/cafe.jpg".into()),
            featured: true,
        };
        assert_eq!(stored, expected);
        assert!(stored.created_at >= before && stored.created_at <= after);
        assert_eq!(
            stored.created_at,
            clock::truncate(stored.created_at),
            "kept to the ms"
        );

        assert_eq!(store.article_by_id(stored.id).await.unwrap(), expected);
        assert_eq!(
            store.find_by_slug("cafe-zurich-a-review").await.unwrap(),
            SlugLookup::Current(expected)
        );
    })
    .await;
}

#[tokio::test]
async fn a_draft_without_date_or_tags_reads_back() {
    each_backend(|store| async move {
        let ada = author(&*store, "Ada Lovelace").await;
        let write = article(&ada, "Unfinished", |a| {
            a.status = Status::Draft;
            a.published_at = None;
        });
        let stored = store.insert_article(&write).await.unwrap();
        assert_eq!(stored.status, Status::Draft);
        assert_eq!(stored.published_at, None);
        assert!(stored.tags.is_empty());
        assert_eq!(stored.cover_image, None);
        assert!(!stored.featured);
        assert_eq!(store.article_by_id(stored.id).await.unwrap(), stored);
    })
    .await;
}

#[tokio::test]
async fn missing_articles_and_authors_are_not_found() {
    each_backend(|store| async move {
        let ada = author(&*store, "Ada Lovelace").await;
        let mut write = article(&ada, "Orphan", |_| {});
        write.author_id = UserId(ada.id.0 + 1000);
        let err = store.insert_article(&write).await.unwrap_err();
        assert!(
            matches!(err, StoreError::NotFound),
            "unknown author: {err:?}"
        );

        let err = store.article_by_id(ArticleId(4242)).await.unwrap_err();
        assert!(matches!(err, StoreError::NotFound), "{err:?}");
        let err = store.find_by_slug("orphan").await.unwrap_err();
        assert!(
            matches!(err, StoreError::NotFound),
            "nothing was half-inserted: {err:?}"
        );
        let err = store
            .update_article(ArticleId(4242), &article(&ada, "Ghost", |_| {}))
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::NotFound), "{err:?}");
        let err = store.tag_by_slug("nothing").await.unwrap_err();
        assert!(matches!(err, StoreError::NotFound), "{err:?}");
    })
    .await;
}

#[tokio::test]
async fn an_update_replaces_the_article_and_its_tags() {
    each_backend(|store| async move {
        let ada = author(&*store, "Ada Lovelace").await;
        let grace = author(&*store, "Grace Hopper").await;
        let first = store
            .insert_article(&article(&ada, "Budget vote", |a| {
                a.tags = tags(&["Politics", "Budget"]);
            }))
            .await
            .unwrap();

        let revised = article(&grace, "Budget vote", |a| {
            a.source = "The vote passed, **narrowly**.".into();
            a.tags = tags(&["Economy", "Politics"]);
            a.status = Status::Draft;
            a.published_at = None;
            a.featured = true;
        });
        let updated = store.update_article(first.id, &revised).await.unwrap();
        assert_eq!(updated.id, first.id);
        assert_eq!(updated.author.id, grace.id);
        assert_eq!(updated.author.display_name, "Grace Hopper");
        assert_eq!(updated.body_html, revised.body_html);
        assert_eq!(updated.status, Status::Draft);
        assert_eq!(updated.published_at, None);
        assert!(updated.featured);
        let slugs: Vec<_> = updated.tags.iter().map(|t| t.slug.as_str()).collect();
        assert_eq!(slugs, ["economy", "politics"], "replaced, in the new order");
        assert_eq!(updated.created_at, first.created_at, "created once");
        assert!(updated.updated_at >= first.updated_at);
        assert_eq!(store.article_by_id(first.id).await.unwrap(), updated);
    })
    .await;
}

#[tokio::test]
async fn a_tag_keeps_the_name_it_was_first_written_with() {
    each_backend(|store| async move {
        let ada = author(&*store, "Ada Lovelace").await;
        store
            .insert_article(&article(&ada, "Summit", |a| a.tags = tags(&["NATO"])))
            .await
            .unwrap();
        let later = store
            .insert_article(&article(&ada, "Summit, day two", |a| {
                a.tags = tags(&["nato", "Defence"]);
            }))
            .await
            .unwrap();
        assert_eq!(
            later.tags,
            vec![
                Tag {
                    name: "NATO".into(),
                    slug: "nato".into()
                },
                Tag {
                    name: "Defence".into(),
                    slug: "defence".into()
                },
            ]
        );
        assert_eq!(
            store.tag_by_slug("nato").await.unwrap(),
            Tag {
                name: "NATO".into(),
                slug: "nato".into()
            }
        );
    })
    .await;
}
