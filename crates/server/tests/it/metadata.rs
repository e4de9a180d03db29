//! What pages tell search engines and link previews: canonical URLs, descriptions,
//! OpenGraph and Twitter card tags, and schema.org JSON-LD parsed as JSON.

use axum::http::StatusCode;
use serde_json::Value;

use crate::util::{TestApp, TestResponse, article};

/// Every JSON-LD block of a page, parsed.
fn json_ld(page: &TestResponse) -> Vec<Value> {
    page.texts(r#"script[type="application/ld+json"]"#)
        .iter()
        .map(|text| serde_json::from_str(text).expect("JSON-LD parses as JSON"))
        .collect()
}

fn of_type<'a>(docs: &'a [Value], kind: &str) -> &'a Value {
    docs.iter()
        .find(|d| d["@type"] == kind)
        .unwrap_or_else(|| panic!("no {kind} in {docs:?}"))
}

fn one(page: &TestResponse, selector: &str, attr: &str) -> String {
    let found = page.attrs(selector, attr);
    assert_eq!(found.len(), 1, "{selector}: {found:?}");
    found[0].clone()
}

#[tokio::test]
async fn an_article_carries_link_previews_news_article_and_breadcrumbs() {
    let app = TestApp::new().await;
    let ada = app.user("Ada Lovelace").await;
    let title = r#"Tom & Jerry say "</script><!-- hi" 🐭"#;
    let mut input = article(&ada, title, "The body.", &["Harbour News", "Bridges"]);
    input.excerpt = Some("Short & sweet.".into());
    input.cover_image = Some("/media/bridge.jpg".into());
    let post = app.insert(input).await;
    let page = app.get(&app.permalink(&post).await).await;
    page.assert_status(StatusCode::OK);

    let canonical = one(&page, r#"link[rel="canonical"]"#, "href");
    assert!(
        canonical.ends_with(&app.permalink(&post).await),
        "{canonical}"
    );
    let base = canonical
        .trim_end_matches(&app.permalink(&post).await)
        .to_owned();
    let image = format!("{base}/media/bridge.jpg");
    for (selector, expected) in [
        (r#"meta[name="description"]"#, "Short & sweet."),
        (r#"meta[property="og:type"]"#, "article"),
        (r#"meta[property="og:title"]"#, title),
        (r#"meta[property="og:description"]"#, "Short & sweet."),
        (r#"meta[property="og:url"]"#, canonical.as_str()),
        (r#"meta[property="og:image"]"#, image.as_str()),
        (r#"meta[name="twitter:card"]"#, "summary_large_image"),
        (r#"meta[name="twitter:title"]"#, title),
        (r#"meta[name="twitter:description"]"#, "Short & sweet."),
        (r#"meta[name="twitter:image"]"#, image.as_str()),
    ] {
        assert_eq!(one(&page, selector, "content"), expected, "{selector}");
    }
    // The title cannot end the script element it sits in.
    assert!(!page.body.contains("</script><!--"));

    let docs = json_ld(&page);
    assert_eq!(docs.len(), 2, "{docs:?}");
    let news = of_type(&docs, "NewsArticle");
    assert_eq!(news["@context"], "https://schema.org");
    assert_eq!(news["headline"], title);
    assert_eq!(news["description"], "Short & sweet.");
    assert_eq!(news["url"], canonical.as_str());
    assert_eq!(news["mainEntityOfPage"], canonical.as_str());
    assert_eq!(news["author"]["@type"], "Person");
    assert_eq!(news["author"]["name"], "Ada Lovelace");
    assert_eq!(
        news["author"]["url"],
        format!("{base}/author/ada-lovelace/")
    );
    assert_eq!(news["image"], serde_json::json!([image]));
    assert_eq!(
        news["keywords"],
        serde_json::json!(["Harbour News", "Bridges"])
    );
    let published = news["datePublished"].as_str().expect("datePublished");
    chrono::DateTime::parse_from_rfc3339(published).expect("an RFC 3339 date");
    assert_eq!(news["dateModified"], published, "never edited");
    assert!(news.get("aggregateRating").is_none(), "nobody rated yet");

    let crumbs = of_type(&docs, "BreadcrumbList")["itemListElement"]
        .as_array()
        .expect("a list")
        .clone();
    let trail: Vec<_> = crumbs
        .iter()
        .map(|c| (c["position"].clone(), c["name"].clone(), c["item"].clone()))
        .collect();
    assert_eq!(
        trail,
        [
            (1.into(), "Broadsheet".into(), format!("{base}/").into()),
            (
                2.into(),
                "Harbour News".into(),
                format!("{base}/tag/harbour-news/").into()
            ),
            (3.into(), title.into(), canonical.clone().into()),
        ]
    );
}

#[tokio::test]
async fn the_home_page_describes_the_site_and_its_search() {
    let app = TestApp::new().await;
    let ada = app.user("Ada Lovelace").await;
    app.publish(&ada, "Plain", "No cover.", &[]).await;
    let home = app.get("/").await;
    home.assert_status(StatusCode::OK);
    let canonical = one(&home, r#"link[rel="canonical"]"#, "href");
    assert_eq!(
        one(&home, r#"meta[property="og:type"]"#, "content"),
        "website"
    );
    assert_eq!(
        one(&home, r#"meta[property="og:url"]"#, "content"),
        canonical
    );
    assert_eq!(
        one(&home, r#"meta[name="twitter:card"]"#, "content"),
        "summary"
    );
    assert!(
        home.attrs(r#"meta[property="og:image"]"#, "content")
            .is_empty()
    );

    let docs = json_ld(&home);
    assert_eq!(docs.len(), 1, "{docs:?}");
    let site = of_type(&docs, "WebSite");
    assert_eq!(site["url"], canonical.as_str());
    let action = &site["potentialAction"];
    assert_eq!(action["@type"], "SearchAction");
    assert_eq!(
        action["target"]["urlTemplate"],
        format!("{canonical}search?q={{search_term_string}}")
    );
    assert_eq!(action["query-input"], "required name=search_term_string");
}

#[tokio::test]
async fn tag_pages_and_pages_have_previews_but_no_article_data() {
    let app = TestApp::new().await;
    let ada = app.user("Ada Lovelace").await;
    app.publish(&ada, "Tagged", "Body.", &["Nato"]).await;
    let mut about = article(&ada, "About us", "Who we are.", &[]);
    about.kind = broadsheet_domain::ContentKind::Page;
    let about = app.insert(about).await;

    let tag = app.get("/tag/nato/").await;
    tag.assert_status(StatusCode::OK);
    assert_eq!(
        one(&tag, r#"meta[property="og:title"]"#, "content"),
        "#Nato"
    );
    assert!(json_ld(&tag).is_empty());

    let page = app.get(&app.permalink(&about).await).await;
    page.assert_status(StatusCode::OK);
    assert_eq!(
        one(&page, r#"meta[property="og:type"]"#, "content"),
        "website"
    );
    assert_eq!(
        one(&page, r#"meta[property="og:title"]"#, "content"),
        "About us"
    );
    assert!(json_ld(&page).is_empty());
}
