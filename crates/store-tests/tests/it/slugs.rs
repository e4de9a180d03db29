use std::sync::Arc;

use broadsheet_domain::{Article, ArticleWrite, ContentKind, SlugLookup, Store, StoreError, User};
use tokio::task::JoinSet;

use crate::backends::each_backend;
use crate::fixtures::{article, author, tags};

fn with_slug(author: &User, title: &str, slug: &str) -> ArticleWrite {
    article(author, title, |a| a.slug = Some(slug.into()))
}

fn page(author: &User, title: &str, slug: &str) -> ArticleWrite {
    article(author, title, |a| {
        a.kind = ContentKind::Page;
        a.slug = Some(slug.into());
    })
}

/// Moves an article to a new slug, keeping everything else.
async fn rename(store: &dyn Store, article: &Article, author: &User, slug: &str) -> Article {
    store
        .update_article(article.id, &with_slug(author, &article.title, slug))
        .await
        .unwrap()
}

fn is_slug_conflict<T: std::fmt::Debug>(result: &Result<T, StoreError>) -> bool {
    matches!(result, Err(StoreError::Conflict { field: "slug" }))
}

#[tokio::test]
async fn articles_and_pages_share_one_slug_namespace() {
    each_backend(|store| async move {
        let ada = author(&*store, "Ada Lovelace").await;
        store
            .insert_article(&page(&ada, "About us", "about"))
            .await
            .unwrap();
        let taken = store
            .insert_article(&with_slug(&ada, "About", "about"))
            .await;
        assert!(is_slug_conflict(&taken), "article over a page: {taken:?}");

        let news = store
            .insert_article(&with_slug(&ada, "News", "news"))
            .await
            .unwrap();
        let taken = store.insert_article(&page(&ada, "News page", "news")).await;
        assert!(is_slug_conflict(&taken), "page over an article: {taken:?}");
        let taken = store
            .update_article(news.id, &with_slug(&ada, "News", "about"))
            .await;
        assert!(is_slug_conflict(&taken), "update onto a page: {taken:?}");

        let found = store.find_by_slug("about").await.unwrap();
        assert!(matches!(found, SlugLookup::Current(ref a) if a.kind == ContentKind::Page));
    })
    .await;
}

#[tokio::test]
async fn a_changed_slug_keeps_redirecting_to_the_article() {
    each_backend(|store| async move {
        let ada = author(&*store, "Ada Lovelace").await;
        let first = store
            .insert_article(&with_slug(&ada, "Vote", "vote-today"))
            .await
            .unwrap();
        let moved = rename(&*store, &first, &ada, "vote-result").await;
        assert_eq!(moved.slug, "vote-result");

        assert_eq!(
            store.find_by_slug("vote-result").await.unwrap(),
            SlugLookup::Current(moved.clone())
        );
        assert_eq!(
            store.find_by_slug("vote-today").await.unwrap(),
            SlugLookup::Moved(moved.clone()),
            "the old slug answers with the article at its new slug"
        );
        let redirects = store.export_site().await.unwrap().redirects;
        assert_eq!(redirects.len(), 1);
        assert_eq!(
            (redirects[0].slug.as_str(), redirects[0].article_id),
            ("vote-today", moved.id)
        );

        // Saving again under the same slug adds no redirect.
        store
            .update_article(moved.id, &with_slug(&ada, "Vote!", "vote-result"))
            .await
            .unwrap();
        assert_eq!(store.export_site().await.unwrap().redirects.len(), 1);
    })
    .await;
}

#[tokio::test]
async fn an_old_slug_of_another_article_is_taken() {
    each_backend(|store| async move {
        let ada = author(&*store, "Ada Lovelace").await;
        let first = store
            .insert_article(&with_slug(&ada, "First", "first"))
            .await
            .unwrap();
        rename(&*store, &first, &ada, "first-renamed").await;

        let taken = store
            .insert_article(&with_slug(&ada, "Another first", "first"))
            .await;
        assert!(
            is_slug_conflict(&taken),
            "insert onto an old slug: {taken:?}"
        );

        let second = store
            .insert_article(&article(&ada, "Second", |a| a.tags = tags(&["Kept"])))
            .await
            .unwrap();
        let clash = article(&ada, "Second", |a| {
            a.slug = Some("first".into());
            a.tags = tags(&["Lost"]);
        });
        let taken = store.update_article(second.id, &clash).await;
        assert!(
            is_slug_conflict(&taken),
            "update onto an old slug: {taken:?}"
        );
        assert_eq!(
            store.article_by_id(second.id).await.unwrap(),
            second,
            "a refused update changes nothing, tags included"
        );
        assert!(matches!(
            store.find_by_slug("first").await.unwrap(),
            SlugLookup::Moved(ref a) if a.id == first.id
        ));
    })
    .await;
}

#[tokio::test]
async fn an_article_can_take_back_its_own_old_slug() {
    each_backend(|store| async move {
        let ada = author(&*store, "Ada Lovelace").await;
        let story = store
            .insert_article(&with_slug(&ada, "Story", "story"))
            .await
            .unwrap();
        let renamed = rename(&*store, &story, &ada, "story-updated").await;
        let back = rename(&*store, &renamed, &ada, "story").await;

        assert_eq!(
            store.find_by_slug("story").await.unwrap(),
            SlugLookup::Current(back.clone())
        );
        assert_eq!(
            store.find_by_slug("story-updated").await.unwrap(),
            SlugLookup::Moved(back.clone())
        );
        let redirects = store.export_site().await.unwrap().redirects;
        let slugs: Vec<_> = redirects.iter().map(|r| r.slug.as_str()).collect();
        assert_eq!(
            slugs,
            ["story-updated"],
            "the redirect from the slug taken back is gone"
        );
    })
    .await;
}

#[tokio::test]
async fn every_old_slug_in_a_chain_resolves_to_the_article() {
    each_backend(|store| async move {
        let ada = author(&*store, "Ada Lovelace").await;
        let a = store
            .insert_article(&with_slug(&ada, "Chain", "a"))
            .await
            .unwrap();
        let b = rename(&*store, &a, &ada, "b").await;
        let c = rename(&*store, &b, &ada, "c").await;

        for old in ["a", "b"] {
            assert_eq!(
                store.find_by_slug(old).await.unwrap(),
                SlugLookup::Moved(c.clone()),
                "old slug {old}"
            );
        }
        assert_eq!(
            store.find_by_slug("c").await.unwrap(),
            SlugLookup::Current(c)
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_saves_never_share_a_slug() {
    each_backend(|store| async move {
        let ada = author(&*store, "Ada Lovelace").await;
        let mut saves = JoinSet::new();
        for n in 0..8 {
            let store: Arc<dyn Store> = store.clone();
            let write = with_slug(&ada, &format!("Breaking {n}"), "breaking");
            saves.spawn(async move { store.insert_article(&write).await });
        }
        let results = saves.join_all().await;
        let won = results.iter().filter(|r| r.is_ok()).count();
        let refused = results.iter().filter(|r| is_slug_conflict(r)).count();
        assert_eq!((won, refused), (1, 7), "{results:?}");

        // A slug moving away and a new article taking it at once: exactly one of the two
        // sees the other, whatever the order, so the slug never names two articles.
        let held = store
            .insert_article(&with_slug(&ada, "Held", "held"))
            .await
            .unwrap();
        let (moved, taken) = tokio::join!(
            {
                let store = store.clone();
                let write = with_slug(&ada, "Held", "held-moved");
                async move { store.update_article(held.id, &write).await }
            },
            {
                let store = store.clone();
                let write = with_slug(&ada, "Newcomer", "held");
                async move { store.insert_article(&write).await }
            }
        );
        moved.unwrap();
        assert!(is_slug_conflict(&taken), "{taken:?}");
    })
    .await;
}
