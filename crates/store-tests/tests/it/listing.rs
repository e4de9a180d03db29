use broadsheet_domain::{
    Article, ArticleId, ArticleQuery, ContentKind, Status, Store, User, Visibility,
};

use crate::backends::each_backend;
use crate::fixtures::{article, author, hours_ago, hours_ahead, now, tags};

fn ids(articles: &[Article]) -> Vec<ArticleId> {
    articles.iter().map(|a| a.id).collect()
}

fn everything(kind: ContentKind) -> ArticleQuery {
    ArticleQuery {
        kind,
        visibility: Visibility::Any,
        ..ArticleQuery::public(now(), 1, 100)
    }
}

/// Inserts a published article `hours` old.
async fn published(store: &dyn Store, by: &User, title: &str, hours: i64) -> Article {
    store
        .insert_article(&article(by, title, |a| {
            a.published_at = Some(hours_ago(hours))
        }))
        .await
        .unwrap()
}

#[tokio::test]
async fn readers_see_only_what_is_published_by_now() {
    each_backend(|store| async move {
        let ada = author(&*store, "Ada Lovelace").await;
        let draft = store
            .insert_article(&article(&ada, "Draft", |a| {
                a.status = Status::Draft;
                a.published_at = None;
            }))
            .await
            .unwrap();
        let dated_draft = store
            .insert_article(&article(&ada, "Dated draft", |a| {
                a.status = Status::Draft;
                a.published_at = Some(hours_ago(5));
            }))
            .await
            .unwrap();
        let future = store
            .insert_article(&article(&ada, "Tomorrow", |a| {
                a.status = Status::Scheduled;
                a.published_at = Some(hours_ahead(24));
            }))
            .await
            .unwrap();
        let due = store
            .insert_article(&article(&ada, "Due", |a| {
                a.status = Status::Scheduled;
                a.published_at = Some(hours_ago(2));
            }))
            .await
            .unwrap();
        let live = published(&*store, &ada, "Live", 3).await;
        let this_instant = store
            .insert_article(&article(&ada, "This instant", |a| a.published_at = Some(now())))
            .await
            .unwrap();
        store
            .insert_article(&article(&ada, "About", |a| a.kind = ContentKind::Page))
            .await
            .unwrap();

        let public = store.list_articles(&ArticleQuery::public(now(), 1, 10)).await.unwrap();
        assert_eq!(
            ids(&public.items),
            [this_instant.id, due.id, live.id],
            "published and due scheduled articles, newest first; no drafts, nothing future, no pages"
        );
        assert_eq!(public.total, 3);
        assert!(public.items.iter().all(|a| a.is_public(now())));

        let newsroom = store.list_articles(&everything(ContentKind::Article)).await.unwrap();
        assert_eq!(
            ids(&newsroom.items),
            [future.id, this_instant.id, due.id, live.id, dated_draft.id, draft.id],
            "everything, undated last"
        );
        assert_eq!(newsroom.total, 6);

        let later = ArticleQuery::public(hours_ahead(25), 1, 10);
        let public_tomorrow = store.list_articles(&later).await.unwrap();
        assert_eq!(public_tomorrow.items[0].id, future.id, "scheduled turns public on time");

        let pages = store.list_articles(&everything(ContentKind::Page)).await.unwrap();
        assert_eq!(pages.total, 1);
        assert_eq!(pages.items[0].kind, ContentKind::Page);
    })
    .await;
}

#[tokio::test]
async fn equal_dates_list_the_later_article_first() {
    each_backend(|store| async move {
        let ada = author(&*store, "Ada Lovelace").await;
        let older = published(&*store, &ada, "Older", 10).await;
        let first = published(&*store, &ada, "Same time, first", 4).await;
        let second = published(&*store, &ada, "Same time, second", 4).await;
        let newest = published(&*store, &ada, "Newest", 1).await;
        let listed = store
            .list_articles(&ArticleQuery::public(now(), 1, 10))
            .await
            .unwrap();
        assert_eq!(
            ids(&listed.items),
            [newest.id, second.id, first.id, older.id]
        );
    })
    .await;
}

#[tokio::test]
async fn listings_filter_by_tag_and_by_author() {
    each_backend(|store| async move {
        let ada = author(&*store, "Ada Lovelace").await;
        let grace = author(&*store, "Grace Hopper").await;
        let tagged = |by: &User, title: &str, hours: i64, names: &[&str]| {
            article(by, title, |a| {
                a.published_at = Some(hours_ago(hours));
                a.tags = tags(names);
            })
        };
        let a1 = store
            .insert_article(&tagged(&ada, "A1", 1, &["NATO", "Europe"]))
            .await
            .unwrap();
        let a2 = store
            .insert_article(&tagged(&ada, "A2", 2, &["Economy"]))
            .await
            .unwrap();
        let g1 = store
            .insert_article(&tagged(&grace, "G1", 3, &["Europe"]))
            .await
            .unwrap();
        let hidden = article(&ada, "Hidden", |a| {
            a.status = Status::Draft;
            a.published_at = None;
            a.tags = tags(&["Europe"]);
        });
        let hidden = store.insert_article(&hidden).await.unwrap();

        let query = |tag: Option<&str>, author: Option<&User>| ArticleQuery {
            tag: tag.map(str::to_owned),
            author: author.map(|u| u.id),
            ..ArticleQuery::public(now(), 1, 10)
        };
        let europe = store
            .list_articles(&query(Some("europe"), None))
            .await
            .unwrap();
        assert_eq!(ids(&europe.items), [a1.id, g1.id]);
        assert_eq!(europe.total, 2);
        // Each article on the page carries all of its own tags, not just the filter's.
        assert_eq!(europe.items[0].tags, a1.tags);
        assert_eq!(europe.items[1].tags, g1.tags);

        let by_ada = store.list_articles(&query(None, Some(&ada))).await.unwrap();
        assert_eq!(ids(&by_ada.items), [a1.id, a2.id]);
        assert!(
            by_ada
                .items
                .iter()
                .all(|a| a.author.display_name == "Ada Lovelace")
        );

        let both = store
            .list_articles(&query(Some("europe"), Some(&grace)))
            .await
            .unwrap();
        assert_eq!(ids(&both.items), [g1.id]);

        let none = store
            .list_articles(&query(Some("unknown"), None))
            .await
            .unwrap();
        assert_eq!((none.items.len(), none.total), (0, 0));

        let newsroom = ArticleQuery {
            visibility: Visibility::Any,
            ..query(Some("europe"), Some(&ada))
        };
        let newsroom = store.list_articles(&newsroom).await.unwrap();
        assert_eq!(ids(&newsroom.items), [a1.id, hidden.id]);
    })
    .await;
}

#[tokio::test]
async fn pages_of_a_listing_cover_it_once_with_the_right_total() {
    each_backend(|store| async move {
        let ada = author(&*store, "Ada Lovelace").await;
        let mut newest_first = Vec::new();
        for hours in (1..=5).rev() {
            newest_first.insert(
                0,
                published(&*store, &ada, &format!("Story {hours}"), hours)
                    .await
                    .id,
            );
        }

        let mut seen = Vec::new();
        for page in 1..=3 {
            let listed = store
                .list_articles(&ArticleQuery::public(now(), page, 2))
                .await
                .unwrap();
            assert_eq!(listed.total, 5, "page {page}");
            assert_eq!((listed.page, listed.per_page, listed.pages()), (page, 2, 3));
            seen.extend(ids(&listed.items));
        }
        assert_eq!(seen, newest_first, "pages in order, each article once");

        let beyond = store
            .list_articles(&ArticleQuery::public(now(), 4, 2))
            .await
            .unwrap();
        assert!(beyond.items.is_empty(), "past the end");
        assert_eq!(beyond.total, 5, "the total still counts everything");

        let far = store
            .list_articles(&ArticleQuery::public(now(), u32::MAX, 100))
            .await
            .unwrap();
        assert!(far.items.is_empty());
        assert_eq!(far.total, 5);
    })
    .await;
}

#[tokio::test]
async fn the_newsroom_filters_by_status_and_searches_titles() {
    each_backend(|store| async move {
        let ada = author(&*store, "Ada Lovelace").await;
        let grace = author(&*store, "Grace Hopper").await;
        let live = published(&*store, &ada, "Budget vote passes", 2).await;
        let draft = store
            .insert_article(&article(&grace, "The BUDGET explained", |a| {
                a.status = Status::Draft;
                a.published_at = None;
            }))
            .await
            .unwrap();
        let scheduled = store
            .insert_article(&article(&ada, "Election night", |a| {
                a.status = Status::Scheduled;
                a.published_at = Some(hours_ahead(3));
            }))
            .await
            .unwrap();
        let wildcard = published(&*store, &ada, "100% sure_thing", 5).await;

        let search = |text: &str, status: Option<Status>| ArticleQuery {
            title_search: Some(text.to_owned()),
            status,
            ..everything(ContentKind::Article)
        };
        let budget = store.list_articles(&search("budget", None)).await.unwrap();
        assert_eq!(ids(&budget.items), [live.id, draft.id], "case ignored");
        assert_eq!(budget.total, 2);

        let drafts = store
            .list_articles(&search("budget", Some(Status::Draft)))
            .await
            .unwrap();
        assert_eq!(ids(&drafts.items), [draft.id]);

        let scheduled_only = ArticleQuery {
            status: Some(Status::Scheduled),
            ..everything(ContentKind::Article)
        };
        let listed = store.list_articles(&scheduled_only).await.unwrap();
        assert_eq!(ids(&listed.items), [scheduled.id]);

        // LIKE wildcards in the search are literal characters.
        let percent = store.list_articles(&search("0% s", None)).await.unwrap();
        assert_eq!(ids(&percent.items), [wildcard.id]);
        let underscore = store.list_articles(&search("e_t", None)).await.unwrap();
        assert_eq!(ids(&underscore.items), [wildcard.id]);
        let literal = store.list_articles(&search("%", None)).await.unwrap();
        assert_eq!(ids(&literal.items), [wildcard.id]);
        let none = store.list_articles(&search("budget_", None)).await.unwrap();
        assert_eq!(none.total, 0);

        // A blank search is no search.
        let blank = store.list_articles(&search("  ", None)).await.unwrap();
        assert_eq!(blank.total, 4);
    })
    .await;
}

#[tokio::test]
async fn public_tags_are_those_of_articles_readers_see_now() {
    each_backend(|store| async move {
        let ada = author(&*store, "Ada Lovelace").await;
        let old = store
            .insert_article(&article(&ada, "Old", |a| {
                a.tags = tags(&["Ferries", "Port"]);
                a.published_at = Some(hours_ago(5));
            }))
            .await
            .unwrap();
        let new = store
            .insert_article(&article(&ada, "New", |a| {
                a.tags = tags(&["port"]);
                a.published_at = Some(hours_ago(1));
            }))
            .await
            .unwrap();
        store
            .insert_article(&article(&ada, "Draft", |a| {
                a.tags = tags(&["Embargo", "Ferries"]);
                a.status = Status::Draft;
                a.published_at = None;
            }))
            .await
            .unwrap();
        store
            .insert_article(&article(&ada, "Tomorrow", |a| {
                a.tags = tags(&["Scoop"]);
                a.status = Status::Scheduled;
                a.published_at = Some(hours_ahead(2));
            }))
            .await
            .unwrap();
        store
            .insert_article(&article(&ada, "About", |a| {
                a.kind = ContentKind::Page;
                a.tags = tags(&["Masthead"]);
            }))
            .await
            .unwrap();

        let found: Vec<(String, String, _)> = store
            .public_tags(now())
            .await
            .unwrap()
            .into_iter()
            .map(|(tag, at)| (tag.slug, tag.name, at))
            .collect();
        assert_eq!(
            found,
            [
                ("ferries".into(), "Ferries".into(), old.updated_at),
                (
                    "port".into(),
                    "Port".into(),
                    old.updated_at.max(new.updated_at)
                ),
            ]
        );
        // The scheduled story's tag appears once its time has come.
        let later: Vec<String> = store
            .public_tags(hours_ahead(3))
            .await
            .unwrap()
            .into_iter()
            .map(|(tag, _)| tag.slug)
            .collect();
        assert_eq!(later, ["ferries", "port", "scoop"]);
    })
    .await;
}

#[tokio::test]
async fn a_listing_can_be_narrowed_to_a_publication_window() {
    each_backend(|store| async move {
        let ada = author(&*store, "Ada Lovelace").await;
        let old = published(&*store, &ada, "Three days old", 72).await;
        let mid = published(&*store, &ada, "Two days old", 48).await;
        let new = published(&*store, &ada, "One hour old", 1).await;
        let window = |from: Option<i64>, before: Option<i64>| ArticleQuery {
            published_from: from.map(hours_ago),
            published_before: before.map(hours_ago),
            ..ArticleQuery::public(now(), 1, 10)
        };
        let list = |q: ArticleQuery| {
            let store = store.clone();
            async move { store.list_articles(&q).await.unwrap() }
        };
        assert_eq!(
            ids(&list(window(Some(50), None)).await.items),
            [new.id, mid.id]
        );
        assert_eq!(
            ids(&list(window(None, Some(24))).await.items),
            [mid.id, old.id]
        );
        let both = list(window(Some(50), Some(24))).await;
        assert_eq!((ids(&both.items), both.total), (vec![mid.id], 1));
        // The start is inclusive, the end is not.
        let exact = ArticleQuery {
            published_from: mid.published_at,
            published_before: new.published_at,
            ..ArticleQuery::public(now(), 1, 10)
        };
        assert_eq!(ids(&list(exact).await.items), [mid.id]);
    })
    .await;
}
