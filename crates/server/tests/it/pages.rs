//! What a reader sees on the home page, an article, a page, and tag and author pages.

use axum::http::StatusCode;
use broadsheet_domain::{ContentKind, SiteSettings, Status, Store};

use crate::util::{BASE_URL, TestApp, article, hours_ago};

#[tokio::test]
async fn home_lists_public_articles_only() {
    let app = TestApp::new().await;
    let ada = app.user("Ada Lovelace").await;
    app.publish(
        &ada,
        "Engines announced",
        "The analytical engine.",
        &["Tech"],
    )
    .await;
    let mut draft = article(&ada, "Secret merger draft", "Not yet.", &["Tech", "Merger"]);
    draft.status = Status::Draft;
    let draft = app.insert(draft).await;
    let mut later = article(&ada, "Embargoed results", "Tomorrow.", &["Tech", "Merger"]);
    later.published_at = Some(hours_ago(-24));
    let later = app.insert(later).await;
    assert_eq!(later.status, Status::Scheduled);

    let home = app.get("/").await;
    home.assert_status(StatusCode::OK);
    assert_eq!(home.texts(".card-title"), ["Engines announced"]);

    // Not on any page readers can reach: listings, permalinks, /slug/ links, tags.
    for path in ["/", "/tag/tech/", "/author/ada-lovelace/", "/no-such-page/"] {
        let page = app.get(path).await;
        for secret in ["Secret merger", "Embargoed", "#Merger"] {
            assert!(!page.body.contains(secret), "{secret} leaked on {path}");
        }
    }
    for hidden in [&draft, &later] {
        let permalink = app.permalink(hidden).await;
        app.get(&permalink)
            .await
            .assert_status(StatusCode::NOT_FOUND);
        app.get(&format!("/{}/", hidden.slug))
            .await
            .assert_status(StatusCode::NOT_FOUND);
    }
    // A tag used only by unpublished articles does not exist for readers.
    app.get("/tag/merger/")
        .await
        .assert_status(StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn home_cards_show_title_excerpt_author_date_read_time_and_hashtags() {
    let app = TestApp::new().await;
    let ada = app.user("Ada Lovelace").await;
    let a = app
        .publish(
            &ada,
            "Hegseth in Brussels",
            &"Allies met on Wednesday. ".repeat(120),
            &["Pete Hegseth", "NATO"],
        )
        .await;
    let home = app.get("/").await;
    home.assert_status(StatusCode::OK);
    let permalink = app.permalink(&a).await;
    assert_eq!(home.attrs(".card-title a", "href"), [permalink]);
    assert!(home.texts(".card-excerpt")[0].starts_with("Allies met on Wednesday."));
    assert_eq!(home.texts(".card .card-byline a"), ["Ada Lovelace"]);
    assert_eq!(home.attrs(".card time", "datetime").len(), 1);
    // 480 words at 200 wpm.
    assert_eq!(
        home.texts(".card .read-time [aria-hidden=true]"),
        ["2 min 24 s read"]
    );
    assert_eq!(home.texts(".card .hashtags a"), ["#PeteHegseth", "#NATO"]);
    assert_eq!(
        home.attrs(".card .hashtags a", "href"),
        ["/tag/pete-hegseth/", "/tag/nato/"]
    );
}

#[tokio::test]
async fn article_page_has_every_part_in_order() {
    let app = TestApp::builder()
        .settings(SiteSettings {
            title: "The Daily Test".into(),
            language: "de-CH".into(),
            ..SiteSettings::default()
        })
        .build()
        .await;
    let ada = app.user("Ada Lovelace").await;
    let body = format!(
        "{}\n\n## Allies\n\nA *second* paragraph with [a link](https://example.org/).",
        "Defence ministers met in Brussels. ".repeat(100)
    );
    let a = app
        .publish(
            &ada,
            "Hegseth's Ukraine Plan",
            &body,
            &["Pete Hegseth", "NATO"],
        )
        .await;
    let permalink = app.permalink(&a).await;
    let page = app.get(&permalink).await;
    page.assert_status(StatusCode::OK);
    assert!(
        page.header("content-type")
            .unwrap()
            .starts_with("text/html")
    );

    assert_eq!(page.attrs("html", "lang"), ["de-CH"]);
    assert_eq!(
        page.texts("title"),
        ["Hegseth's Ukraine Plan – The Daily Test"]
    );
    assert_eq!(
        page.attrs("link[rel=canonical]", "href"),
        [format!("{BASE_URL}{permalink}")]
    );
    let description = &page.attrs("meta[name=description]", "content")[0];
    assert!(description.starts_with("Defence ministers met in Brussels."));
    assert_eq!(page.texts("h1"), ["Hegseth's Ukraine Plan"]);
    assert_eq!(page.texts("article .byline-author"), ["By Ada Lovelace"]);
    assert_eq!(
        page.attrs("article .byline-author a", "href"),
        ["/author/ada-lovelace/"]
    );
    let published = &page.attrs(".byline-date time", "datetime")[0];
    assert!(published.starts_with(&a.published_at.unwrap().format("%Y-%m-%d").to_string()));
    assert!(page.texts(".byline-updated").is_empty(), "never edited");
    // 500 + 1 + 6 words at 200 wpm: 152.1 s.
    assert_eq!(
        page.texts(".meta-row .read-time [aria-hidden=true]"),
        ["Read time: 2 min 32 s"]
    );
    assert_eq!(
        page.texts(".meta-row .read-time .visually-hidden"),
        ["Read time: 2 minutes, 32 seconds"]
    );
    assert_eq!(page.texts(".article-body h2"), ["Allies"]);
    assert_eq!(page.texts(".article-body em"), ["second"]);
    assert_eq!(page.texts("article .hashtags a"), ["#PeteHegseth", "#NATO"]);
    assert_eq!(
        page.attrs("article .hashtags a", "href"),
        ["/tag/pete-hegseth/", "/tag/nato/"]
    );

    // Engagement slots are present, and show no invented numbers: the widgets that
    // exist show a new article's real counts (zero), the others stay empty. The
    // comments slot holds the "Leave a Reply" form.
    let slots = page.attrs("[data-slot]", "data-slot");
    assert_eq!(
        slots,
        [
            "views",
            "comment-count",
            "likes",
            "reactions",
            "rating",
            "comments",
            "subscribe"
        ]
    );
    let slot_texts = page.texts("[data-slot]");
    // The newsletter form, then the notification bell, hidden until its script finds
    // a browser that can push.
    assert!(
        slot_texts[6].starts_with("Subscribe Get new articles by email"),
        "{}",
        slot_texts[6]
    );
    assert!(
        slot_texts[6].ends_with("🔔 Notify me of new articles"),
        "{}",
        slot_texts[6]
    );
    assert_eq!(
        page.attrs("[data-slot=subscribe] [data-push-bell]", "hidden"),
        [""]
    );
    assert!(
        slot_texts[5].starts_with("Leave a Reply"),
        "{}",
        slot_texts[5]
    );
    let counts = [page.texts("[data-count]"), page.texts("[data-field=count]")].concat();
    assert!(
        !counts.is_empty() && counts.iter().all(|c| c == "0"),
        "{counts:?}"
    );

    // Top to bottom: title, byline, meta row, body, hashtags, then the slots.
    let order = [
        "<h1 class=\"article-title\"",
        "class=\"byline\"",
        "class=\"meta-row\"",
        "class=\"article-body\"",
        "class=\"hashtags\"",
        "data-slot=\"reactions\"",
        "data-slot=\"rating\"",
        "data-slot=\"comments\"",
        "data-slot=\"subscribe\"",
    ];
    let positions: Vec<usize> = order
        .iter()
        .map(|needle| page.body.find(needle).unwrap_or_else(|| panic!("{needle}")))
        .collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "{positions:?}");
}

#[tokio::test]
async fn an_edited_article_shows_its_updated_date() {
    // Timestamps come from the store's clock, so an edit a day after publication is
    // made by importing a site whose article says so.
    let source = TestApp::new().await;
    let ada = source.user("Ada Lovelace").await;
    let mut input = article(&ada, "Correction", "Second version.", &[]);
    input.published_at = Some(hours_ago(48));
    let mut published_and_edited = source.insert(input.clone()).await;
    published_and_edited.created_at = hours_ago(48);
    published_and_edited.updated_at = hours_ago(24);
    input.title = "Backdated import".into();
    // Inserted now with an old date: written once, never edited after publication.
    let backdated = source.insert(input).await;
    let mut dump = source.store.export_site().await.unwrap();
    dump.articles = vec![published_and_edited.clone(), backdated.clone()];

    let app = TestApp::new().await;
    app.store.import_site(&dump).await.unwrap();
    let page = app.get(&app.permalink(&published_and_edited).await).await;
    page.assert_status(StatusCode::OK);
    let updated = page.texts(".byline-updated");
    assert_eq!(updated.len(), 1, "{}", page.body);
    assert!(updated[0].starts_with("Updated "), "{updated:?}");
    assert_eq!(
        page.attrs(".byline-updated time", "datetime")[0][..10],
        hours_ago(24).format("%Y-%m-%d").to_string()
    );
    let page = app.get(&app.permalink(&backdated).await).await;
    page.assert_status(StatusCode::OK);
    assert!(page.texts(".byline-updated").is_empty(), "{}", page.body);
}

#[tokio::test]
async fn cover_images_are_shown_when_safe() {
    let app = TestApp::new().await;
    let ada = app.user("Ada Lovelace").await;
    let mut input = article(&ada, "With a picture", "Text.", &[]);
    input.cover_image = Some("/media/cover.jpg".into());
    let with = app.insert(input).await;
    let mut input = article(&ada, "With a bad picture", "Text.", &[]);
    input.cover_image = Some("javascript:alert(1)".into());
    let bad = app.insert(input).await;
    let page = app.get(&app.permalink(&with).await).await;
    assert_eq!(page.attrs(".cover img", "src"), ["/media/cover.jpg"]);
    let page = app.get(&app.permalink(&bad).await).await;
    assert!(page.attrs(".cover img", "src").is_empty());
    assert!(!page.body.contains("javascript:"));
}

#[tokio::test]
async fn pages_live_at_their_slug_and_in_the_navigation() {
    let app = TestApp::new().await;
    let ada = app.user("Ada Lovelace").await;
    let mut about = article(&ada, "About us", "We write the news.", &[]);
    about.kind = ContentKind::Page;
    about.slug = Some("about".into());
    app.insert(about).await;
    let mut contact = article(&ada, "Contact", "Write to us.", &[]);
    contact.kind = ContentKind::Page;
    app.insert(contact).await;

    let page = app.get("/about/").await;
    page.assert_status(StatusCode::OK);
    assert_eq!(page.texts("main h1"), ["About us"]);
    assert!(page.body.contains("We write the news."));
    assert_eq!(
        page.attrs("link[rel=canonical]", "href"),
        [format!("{BASE_URL}/about/")]
    );
    assert_eq!(page.texts(".site-nav a"), ["Home", "About us", "Contact"]);
    assert_eq!(
        page.attrs(".site-nav a[aria-current=page]", "href"),
        ["/about/"]
    );
    // Pages are not articles: not on the home page.
    let home = app.get("/").await;
    assert!(home.texts(".card-title").is_empty());
    assert!(home.body.contains("Nothing has been published yet"));
}

#[tokio::test]
async fn tag_page_shows_the_hashtag_and_its_articles() {
    let app = TestApp::new().await;
    let ada = app.user("Ada Lovelace").await;
    app.publish(&ada, "On NATO", "Text.", &["NATO"]).await;
    app.publish(&ada, "On Hegseth", "Text.", &["Pete Hegseth", "NATO"])
        .await;
    app.publish(&ada, "Elsewhere", "Text.", &["Weather"]).await;

    let page = app.get("/tag/nato/").await;
    page.assert_status(StatusCode::OK);
    assert_eq!(page.texts("main h1"), ["#NATO"]);
    assert_eq!(page.texts(".card-title"), ["On Hegseth", "On NATO"]);
    assert_eq!(page.texts(".listing-count"), ["2 articles"]);
    assert_eq!(page.texts("title"), ["#NATO – Broadsheet"]);

    let page = app.get("/tag/pete-hegseth/").await;
    assert_eq!(page.texts("main h1"), ["#PeteHegseth"]);
    assert_eq!(page.texts(".listing-count"), ["1 article"]);
    app.get("/tag/nothing-here/")
        .await
        .assert_status(StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn author_page_shows_name_bio_and_articles() {
    let app = TestApp::new().await;
    let ada = app
        .user_with_bio("Ada Lovelace", "Writes about engines & numbers.")
        .await;
    let grace = app.user("Grace Hopper").await;
    app.publish(&ada, "By Ada", "Text.", &[]).await;
    app.publish(&grace, "By Grace", "Text.", &[]).await;

    let page = app.get("/author/ada-lovelace/").await;
    page.assert_status(StatusCode::OK);
    assert_eq!(page.texts("main h1"), ["Ada Lovelace"]);
    assert_eq!(
        page.texts(".author-bio"),
        ["Writes about engines & numbers."]
    );
    assert_eq!(page.texts(".card-title"), ["By Ada"]);
    assert!(
        !page.body.contains("ada-lovelace@example.com"),
        "emails stay private"
    );
    app.get("/author/nobody/")
        .await
        .assert_status(StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn pagination_has_strict_bounds_and_neighbour_links() {
    let app = TestApp::builder()
        .settings(SiteSettings {
            per_page: 2,
            ..SiteSettings::default()
        })
        .build()
        .await;
    let ada = app.user("Ada Lovelace").await;
    for n in 1..=5 {
        let mut input = article(&ada, &format!("Story {n}"), "Text.", &["Daily"]);
        input.published_at = Some(hours_ago(10 - n));
        app.insert(input).await;
    }

    let first = app.get("/").await;
    assert_eq!(first.texts(".card-title"), ["Story 5", "Story 4"]);
    assert_eq!(
        first.attrs("link[rel=next]", "href"),
        [format!("{BASE_URL}/page/2/")]
    );
    assert!(first.attrs("link[rel=prev]", "href").is_empty());

    let second = app.get("/page/2/").await;
    second.assert_status(StatusCode::OK);
    assert_eq!(second.texts(".card-title"), ["Story 3", "Story 2"]);
    assert_eq!(
        second.attrs("link[rel=prev]", "href"),
        [format!("{BASE_URL}/")]
    );
    assert_eq!(
        second.attrs("link[rel=next]", "href"),
        [format!("{BASE_URL}/page/3/")]
    );
    assert_eq!(second.attrs("a[rel=prev]", "href"), ["/"]);
    assert_eq!(second.attrs("a[rel=next]", "href"), ["/page/3/"]);
    assert_eq!(
        second.attrs("link[rel=canonical]", "href"),
        [format!("{BASE_URL}/page/2/")]
    );

    let last = app.get("/page/3/").await;
    assert_eq!(last.texts(".card-title"), ["Story 1"]);
    assert!(last.attrs("link[rel=next]", "href").is_empty());

    app.get("/page/1/").await.assert_moved_to("/");
    app.get("/tag/daily/page/1/")
        .await
        .assert_moved_to("/tag/daily/");
    for past_or_bad in [
        "/page/4/",
        "/page/0/",
        "/page/01/",
        "/page/-1/",
        "/page/two/",
        "/page/99999999999999/",
        "/tag/daily/page/4/",
        "/author/ada-lovelace/page/9/",
    ] {
        app.get(past_or_bad)
            .await
            .assert_status(StatusCode::NOT_FOUND);
    }
    app.get("/tag/daily/page/3/")
        .await
        .assert_status(StatusCode::OK);
    app.get("/author/ada-lovelace/page/2/")
        .await
        .assert_status(StatusCode::OK);
}

#[tokio::test]
async fn titles_and_user_text_are_escaped() {
    let app = TestApp::new().await;
    let ada = app
        .user_with_bio("Ada <b>Lovelace</b>", "<img src=x onerror=alert(1)>")
        .await;
    let title = "<script>alert(1)</script> Fish & Chips \"quoted\"";
    let mut input = article(&ada, title, "Plain body.", &["<i>Tag</i>"]);
    input.excerpt = Some("Excerpt with <script>alert(2)</script> & more".into());
    let a = app.insert(input).await;
    let permalink = app.permalink(&a).await;

    for path in [
        "/".to_owned(),
        permalink.clone(),
        "/author/ada-b-lovelace-b/".to_owned(),
        "/tag/i-tag-i/".to_owned(),
    ] {
        let page = app.get(&path).await;
        page.assert_status(StatusCode::OK);
        assert!(!page.body.contains("<script>"), "{path}: {}", page.body);
        assert_only_theme_scripts(&page);
        assert!(!page.body.contains("<b>Lovelace"), "{path}");
        assert!(!page.body.contains("<i>Tag"), "{path}");
        assert!(!page.body.contains("<img src=x"), "{path}");
        assert!(page.body.contains("&lt;script&gt;"), "{path}");
        assert!(page.body.contains("&amp;"), "{path}");
    }
    let page = app.get(&permalink).await;
    assert_eq!(page.texts("main h1"), [title]);
    assert_eq!(page.texts("title"), [format!("{title} – Broadsheet")]);
    assert_eq!(
        page.attrs("meta[name=description]", "content"),
        ["Excerpt with <script>alert(2)</script> & more"]
    );
    // The title reaches the JSON-LD intact, without ending its script element.
    let ld = &page.texts(r#"script[type="application/ld+json"]"#)[0];
    assert!(!ld.contains('<'), "{ld}");
    let ld: serde_json::Value = serde_json::from_str(ld).unwrap();
    assert_eq!(ld["headline"], title);
}

/// The only scripts a page may have are the theme's own: a first-party file under
/// /assets/ (no inline code), or JSON-LD data.
#[track_caller]
fn assert_only_theme_scripts(page: &crate::util::TestResponse) {
    let html = page.html();
    let selector = scraper::Selector::parse("script").unwrap();
    for script in html.select(&selector) {
        let own_file = script
            .value()
            .attr("src")
            .is_some_and(|src| src.starts_with("/assets/"))
            && script.inner_html().trim().is_empty();
        let data = script.value().attr("type") == Some("application/ld+json");
        assert!(own_file || data, "{}", script.html());
    }
}
