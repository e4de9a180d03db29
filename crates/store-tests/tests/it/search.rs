//! Full-text search: ranking, snippets, filters, pagination, visibility, the index
//! following every write, and queries that would be syntax errors in an engine.

use broadsheet_domain::{
    Article, ArticleId, ContentKind, Paged, SearchHit, SearchQuery, SearchResults, SearchTerms,
    Status, Store,
};

use crate::backends::{Backend, each_backend};
use crate::fixtures::{article, author, hours_ago, hours_ahead, now, tags};

async fn search(store: &dyn Store, text: &str) -> Paged<SearchHit> {
    store.search(&query(text)).await.expect("search").hits
}

async fn results(store: &dyn Store, q: &SearchQuery) -> SearchResults {
    store.search(q).await.expect("search")
}

fn query(text: &str) -> SearchQuery {
    SearchQuery::new(SearchTerms::parse(text), now(), 1, 20)
}

fn ids(found: &Paged<SearchHit>) -> Vec<ArticleId> {
    found.items.iter().map(|h| h.article.id).collect()
}

fn sorted(mut ids: Vec<ArticleId>) -> Vec<ArticleId> {
    ids.sort();
    ids
}

async fn insert(store: &dyn Store, write: broadsheet_domain::ArticleWrite) -> Article {
    store.insert_article(&write).await.expect("insert")
}

#[tokio::test]
async fn title_matches_rank_first_then_relevance() {
    each_backend(|store| async move {
        let ada = author(&*store, "Ada Lovelace").await;
        let in_body = insert(
            &*store,
            article(&ada, "Council meeting", |a| {
                a.source =
                    "The budget, the budget and again the budget was all they discussed.".into();
            }),
        )
        .await;
        let in_title = insert(
            &*store,
            article(&ada, "Harbour budget approved", |a| {
                a.source = "The council agreed on new piers.".into();
            }),
        )
        .await;
        let in_tag = insert(
            &*store,
            article(&ada, "Piers", |a| {
                a.tags = tags(&["Budget"]);
            }),
        )
        .await;
        insert(
            &*store,
            article(&ada, "Weather", |a| a.source = "Rain.".into()),
        )
        .await;

        let found = search(&*store, "budget").await;
        assert_eq!(found.total, 3);
        assert_eq!(ids(&found)[0], in_title.id);
        assert_eq!(
            sorted(ids(&found)[1..].to_vec()),
            sorted(vec![in_body.id, in_tag.id])
        );

        // Every term must match, in any field.
        let both = search(&*store, "harbour piers").await;
        assert_eq!(ids(&both), [in_title.id]);
    })
    .await;
}

#[tokio::test]
async fn more_words_in_the_title_rank_higher_then_words_in_the_tags() {
    each_backend(|store| async move {
        let ada = author(&*store, "Ada Lovelace").await;
        let write = |title: &str, body: &str, tag_names: &[&str]| {
            article(&ada, title, |a| {
                a.source = body.into();
                a.tags = tags(tag_names);
            })
        };
        let both = insert(
            &*store,
            write("Harbour bridge reopens", "Traffic again.", &[]),
        )
        .await;
        // Articles without the words between the matches: the relevance passes then
        // hold to the whole query, not only to the matches' range of ids.
        for n in 0..16 {
            insert(&*store, write(&format!("Weather {n}"), "Sun.", &[])).await;
        }
        let one = insert(&*store, write("Harbour news", "The bridge is open.", &[])).await;
        let tagged = insert(
            &*store,
            write("Piers", "About the harbour bridge.", &["Harbour", "Bridge"]),
        )
        .await;
        // The newest, yet a match in the body alone comes last.
        let body_only = insert(
            &*store,
            write("Weather", "Rain over the harbour bridge.", &[]),
        )
        .await;

        let found = search(&*store, "harbour bridge").await;
        assert_eq!(ids(&found), [both.id, one.id, tagged.id, body_only.id]);
    })
    .await;
}

#[tokio::test]
async fn snippets_are_escaped_then_marked() {
    each_backend(|store| async move {
        let ada = author(&*store, "Ada Lovelace").await;
        insert(
            &*store,
            article(&ada, "Fox & <hound>", |a| {
                a.source = "Cats & dogs, 1 < 2, then the fox jumped over the fence.".into();
            }),
        )
        .await;
        let found = search(&*store, "FOX").await;
        assert_eq!(found.total, 1);
        let hit = &found.items[0];
        assert_eq!(hit.title.to_html(), "<mark>Fox</mark> &amp; &lt;hound&gt;");
        let snippet = hit.snippet.to_html();
        assert!(snippet.contains("<mark>fox</mark>"), "{snippet}");
        assert!(snippet.contains("Cats &amp; dogs, 1 &lt; 2"), "{snippet}");
    })
    .await;
}

#[tokio::test]
async fn only_public_articles_are_found() {
    each_backend(|store| async move {
        let ada = author(&*store, "Ada Lovelace").await;
        let due = insert(
            &*store,
            article(&ada, "Zeppelin due", |a| {
                a.status = Status::Scheduled;
                a.published_at = Some(hours_ago(2));
            }),
        )
        .await;
        insert(
            &*store,
            article(&ada, "Zeppelin draft", |a| {
                a.status = Status::Draft;
                a.published_at = None;
            }),
        )
        .await;
        insert(
            &*store,
            article(&ada, "Zeppelin dated draft", |a| {
                a.status = Status::Draft;
                a.published_at = Some(hours_ago(3));
            }),
        )
        .await;
        insert(
            &*store,
            article(&ada, "Zeppelin tomorrow", |a| {
                a.status = Status::Scheduled;
                a.published_at = Some(hours_ahead(24));
            }),
        )
        .await;
        insert(
            &*store,
            article(&ada, "Zeppelin page", |a| a.kind = ContentKind::Page),
        )
        .await;
        assert_eq!(ids(&search(&*store, "zeppelin").await), [due.id]);
    })
    .await;
}

#[tokio::test]
async fn the_index_follows_every_write() {
    each_backend(|store| async move {
        let ada = author(&*store, "Ada Lovelace").await;
        let story = insert(
            &*store,
            article(&ada, "Lighthouse keeper", |a| {
                a.tags = tags(&["Coast"]);
            }),
        )
        .await;
        assert_eq!(ids(&search(&*store, "coast lighthouse").await), [story.id]);

        let changed = article(&ada, "Harbour master", |a| {
            a.source = "Tides and ropes.".into();
            a.tags = tags(&["Sea"]);
        });
        store.update_article(story.id, &changed).await.unwrap();
        assert_eq!(search(&*store, "lighthouse").await.total, 0);
        assert_eq!(search(&*store, "coast").await.total, 0);
        assert_eq!(ids(&search(&*store, "harbour ropes sea").await), [story.id]);

        // A move to draft hides it; republishing shows it again.
        let mut draft = changed.clone();
        draft.status = Status::Draft;
        store.update_article(story.id, &draft).await.unwrap();
        assert_eq!(search(&*store, "harbour").await.total, 0);
        store.update_article(story.id, &changed).await.unwrap();
        assert_eq!(search(&*store, "harbour").await.total, 1);

        // A copied site is searchable as it was.
        let dump = store.export_site().await.unwrap();
        let (_db, copy) = Backend::Sqlite.fresh_store().await;
        copy.import_site(&dump).await.unwrap();
        assert_eq!(ids(&search(&*copy, "harbour").await), [story.id]);
    })
    .await;
}

#[tokio::test]
async fn filters_and_pages() {
    each_backend(|store| async move {
        let ada = author(&*store, "Ada Lovelace").await;
        let bob = author(&*store, "Bob Marley").await;
        let mut by_age = Vec::new();
        for hours in 1..=5 {
            let by = if hours % 2 == 0 { &bob } else { &ada };
            let tagged = if hours <= 2 {
                tags(&["Rail"])
            } else {
                Vec::new()
            };
            let a = insert(
                &*store,
                article(by, &format!("Train report {hours}"), |a| {
                    a.published_at = Some(hours_ago(hours * 24));
                    a.tags = tagged;
                }),
            )
            .await;
            by_age.push(a.id);
        }

        let mut q = query("train");
        q.tag = Some("rail".into());
        assert_eq!(sorted(ids(&results(&*store, &q).await.hits)), by_age[..2]);

        let mut q = query("train");
        q.author = Some(bob.id);
        assert_eq!(
            sorted(ids(&results(&*store, &q).await.hits)),
            [by_age[1], by_age[3]]
        );

        let mut q = query("train");
        q.from = Some(hours_ago(4 * 24));
        q.until = Some(hours_ago(2 * 24));
        assert_eq!(
            sorted(ids(&results(&*store, &q).await.hits)),
            [by_age[2], by_age[3]]
        );

        // Pages partition the results.
        let mut seen = Vec::new();
        for page in 1..=3 {
            let mut q = query("train report");
            q.per_page = 2;
            q.page = page;
            let found = results(&*store, &q).await;
            assert!(!found.more);
            let found = found.hits;
            assert_eq!(found.total, 5);
            assert_eq!(found.pages(), 3);
            seen.extend(ids(&found));
        }
        assert_eq!(sorted(seen), by_age);
    })
    .await;
}

#[tokio::test]
async fn past_the_ranked_bound_the_most_recently_written_matches_are_ranked() {
    each_backend(|store| async move {
        let ada = author(&*store, "Ada Lovelace").await;
        // Written oldest first: the two oldest have the word in their titles.
        let mut written = Vec::new();
        for n in 0..6 {
            let title = if n < 2 {
                "Ferry timetable"
            } else {
                "Harbour news"
            };
            let a = insert(
                &*store,
                article(&ada, &format!("{title} {n}"), |a| {
                    a.source = "The ferry runs on time.".into();
                }),
            )
            .await;
            written.push(a.id);
        }
        let mut q = query("ferry");
        q.ranked = 3;
        let found = results(&*store, &q).await;
        assert!(found.more, "six match, three are ranked");
        assert_eq!(found.hits.total, 3);
        assert_eq!(sorted(ids(&found.hits)), written[3..]);

        // Once the title matches are among the ranked, they come first.
        q.ranked = 5;
        let found = results(&*store, &q).await;
        assert!(found.more);
        assert_eq!(ids(&found.hits)[0], written[1]);

        q.ranked = 6;
        let found = results(&*store, &q).await;
        assert!(!found.more, "exactly as many as ranked is not more");
        assert_eq!(sorted(ids(&found.hits)[..2].to_vec()), written[..2]);
    })
    .await;
}

#[tokio::test]
async fn a_tag_filter_matches_that_tag_exactly_whatever_its_name() {
    each_backend(|store| async move {
        let ada = author(&*store, "Ada Lovelace").await;
        let rail = insert(
            &*store,
            article(&ada, "Train one", |a| a.tags = tags(&["Rail"])),
        )
        .await;
        // "Rail" is a word of these tags' names, and of two tags side by side.
        insert(
            &*store,
            article(&ada, "Train two", |a| a.tags = tags(&["Night Rail"])),
        )
        .await;
        insert(
            &*store,
            article(&ada, "Train three", |a| {
                a.tags = tags(&["Rail works", "Bus"])
            }),
        )
        .await;
        let odd = insert(
            &*store,
            article(&ada, "Train four", |a| {
                a.tags = tags(&["東京 \"Live\" (AND)"])
            }),
        )
        .await;

        let mut q = query("train");
        q.tag = Some("rail".into());
        assert_eq!(ids(&results(&*store, &q).await.hits), [rail.id]);
        let odd_slug = odd.tags[0].slug.clone();
        q.tag = Some(odd_slug);
        assert_eq!(ids(&results(&*store, &q).await.hits), [odd.id]);
        q.tag = Some("no-such-tag".into());
        assert_eq!(results(&*store, &q).await.hits.total, 0);
    })
    .await;
}

#[tokio::test]
async fn any_input_is_plain_words() {
    each_backend(|store| async move {
        let ada = author(&*store, "Ada Lovelace").await;
        let tokyo = insert(&*store, article(&ada, "東京 オリンピック", |_| {})).await;
        let ops = insert(&*store, article(&ada, "Near and not or", |_| {})).await;
        assert_eq!(ids(&search(&*store, "東京").await), [tokyo.id]);
        assert_eq!(ids(&search(&*store, "NEAR AND NOT OR").await), [ops.id]);
        assert_eq!(
            ids(&search(&*store, "\"near\" -and* (not) {or}:").await),
            [ops.id]
        );

        let garbage = "\u{0}\u{E000}'\"\\%_;--*^:()[]{}<>~!@#$&|+ NEAR( AND OR NOT 👍🏽 𝕏";
        let long = "ab\"c ".repeat(5_000);
        for input in [
            "", "\"", "'", "*", "AND", "OR NOT", "NEAR(a b", "title:x", "a:b", "-x", "^a",
            "x\u{0}y", garbage, &long,
        ] {
            let found = store.search(&query(input)).await;
            assert!(found.is_ok(), "{input:?}: {found:?}");
        }
        assert_eq!(search(&*store, "").await.total, 0);
    })
    .await;
}
