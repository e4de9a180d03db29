//! Sitemaps and robots.txt: every file validates with `xmllint --schema` against the
//! sitemaps.org and Google News schemas shipped in `fixtures/sitemaps/` (its README says
//! where each comes from), every public article is listed exactly once, and drafts and
//! scheduled stories (and tags only they use) appear nowhere.
//!
//! Without `xmllint` the schema checks say why and are skipped, except in CI
//! (`CI=true`), where `.ci/run` installs it (Debian `libxml2-utils`).

use std::path::PathBuf;
use std::process::Command;

use axum::http::StatusCode;
use broadsheet_domain::{ContentKind, Status};

use crate::util::{BASE_URL, TestApp, article, hours_ago};

/// Asserts that `xml` validates against the fixture schema `xsd`; skips (saying why)
/// when xmllint is missing outside CI.
fn assert_valid(xsd: &str, xml: &str) {
    let schema = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/it/fixtures/sitemaps")
        .join(xsd);
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("sitemap.xml");
    std::fs::write(&file, xml).expect("write sitemap");
    let output = match Command::new("xmllint")
        .arg("--noout")
        .arg("--schema")
        .arg(&schema)
        .arg(&file)
        .output()
    {
        Ok(output) => output,
        Err(e) => {
            let fix = "apt-get install -y libxml2-utils";
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "sitemap tests need xmllint ({e}), which CI must install ({fix}, as .ci/run does)"
            );
            eprintln!("skipping the schema check: xmllint not found ({e}; {fix})");
            return;
        }
    };
    assert!(
        output.status.success(),
        "{xsd} rejects:\n{xml}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// The text of every `<loc>`, unescaped.
fn locs(xml: &str) -> Vec<String> {
    xml.split("<loc>")
        .skip(1)
        .map(|rest| {
            let loc = rest.split_once("</loc>").expect("closed loc").0;
            loc.replace("&lt;", "<")
                .replace("&gt;", ">")
                .replace("&quot;", "\"")
                .replace("&#39;", "'")
                .replace("&amp;", "&")
        })
        .collect()
}

/// The site path of an absolute URL on the test site.
fn path(url: &str) -> &str {
    url.strip_prefix(BASE_URL).expect("a URL on this site")
}

async fn get_xml(app: &TestApp, path: &str) -> String {
    let response = app.get(path).await;
    response.assert_status(StatusCode::OK);
    assert_eq!(
        response.header("content-type"),
        Some("application/xml; charset=utf-8"),
        "{path}"
    );
    response.body
}

/// A site with one of everything the sitemaps must list or leave out.
struct Site {
    app: TestApp,
    published: Vec<String>,
    old: String,
    hidden_slugs: Vec<String>,
}

async fn site() -> Site {
    let app = TestApp::new().await;
    let ada = app.user("Ada Lovelace").await;
    let mut published = Vec::new();
    for (title, tags) in [
        ("Fish & <chips> \"tonight\" 🐟", &["Food & Drink"][..]),
        ("Harbour reopens", &["Port"][..]),
    ] {
        let a = app.publish(&ada, title, "Body.", tags).await;
        published.push(app.permalink(&a).await);
    }
    let mut old = article(&ada, "Last week's storm", "Body.", &["Weather"]);
    old.published_at = Some(hours_ago(24 * 3));
    let old = app.insert(old).await;
    let old = app.permalink(&old).await;
    published.push(old.clone());

    let mut draft = article(&ada, "Secret draft", "Body.", &["Embargoed"]);
    draft.status = Status::Draft;
    draft.slug = Some("secret-draft".into());
    app.insert(draft).await;
    let mut scheduled = article(&ada, "Tomorrow's scoop", "Body.", &["Embargoed"]);
    scheduled.status = Status::Scheduled;
    scheduled.slug = Some("tomorrows-scoop".into());
    scheduled.published_at = Some(hours_ago(-24));
    app.insert(scheduled).await;

    let mut about = article(&ada, "About us", "We write the news.", &[]);
    about.kind = ContentKind::Page;
    about.slug = Some("about".into());
    app.insert(about).await;
    let mut hidden_page = article(&ada, "Unfinished page", "Soon.", &[]);
    hidden_page.kind = ContentKind::Page;
    hidden_page.status = Status::Draft;
    hidden_page.slug = Some("unfinished".into());
    app.insert(hidden_page).await;

    Site {
        app,
        published,
        old,
        hidden_slugs: ["secret-draft", "tomorrows-scoop", "embargoed", "unfinished"]
            .map(String::from)
            .to_vec(),
    }
}

#[tokio::test]
async fn the_index_names_chunks_that_list_every_public_url_once() {
    let Site {
        app,
        published,
        hidden_slugs,
        ..
    } = site().await;

    let index = get_xml(&app, "/sitemap.xml").await;
    assert_valid("siteindex.xsd", &index);
    let chunks = locs(&index);
    assert_eq!(
        chunks,
        [
            format!("{BASE_URL}/sitemap-pages.xml"),
            format!("{BASE_URL}/sitemap-articles-1.xml"),
        ]
    );

    let mut listed = Vec::new();
    for chunk in &chunks {
        let xml = get_xml(&app, path(chunk)).await;
        assert_valid("sitemap.xsd", &xml);
        for hidden in &hidden_slugs {
            assert!(
                !xml.contains(hidden.as_str()),
                "{hidden} leaked into {chunk}"
            );
        }
        listed.extend(locs(&xml).iter().map(|l| path(l).to_owned()));
    }
    for article in &published {
        let times = listed.iter().filter(|l| *l == article).count();
        assert_eq!(times, 1, "{article} listed {times} times in {listed:?}");
    }
    for expected in [
        "/",
        "/about/",
        "/tag/food-drink/",
        "/tag/port/",
        "/tag/weather/",
    ] {
        assert!(
            listed.iter().any(|l| l == expected),
            "{expected} missing from {listed:?}"
        );
    }
    let mut unique = listed.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(
        unique.len(),
        listed.len(),
        "a URL is listed twice: {listed:?}"
    );
    // Every listed URL really is a public page.
    for url in &listed {
        app.get(url).await.assert_status(StatusCode::OK);
    }
}

#[tokio::test]
async fn chunks_exist_only_in_their_one_spelling() {
    let app = TestApp::new().await;
    // An empty site still has its first (empty, valid) chunk, so the index never
    // names a missing file.
    let empty = get_xml(&app, "/sitemap-articles-1.xml").await;
    assert!(locs(&empty).is_empty());
    let ada = app.user("Ada Lovelace").await;
    app.publish(&ada, "Only story", "Body.", &[]).await;
    for missing in [
        "/sitemap-articles-2.xml",
        "/sitemap-articles-0.xml",
        "/sitemap-articles-01.xml",
        "/sitemap-articles-x.xml",
        "/sitemap-articles-1",
        "/sitemap-articles-99999999999999.xml",
    ] {
        assert_eq!(
            app.get(missing).await.status,
            StatusCode::NOT_FOUND,
            "{missing}"
        );
    }
}

#[tokio::test]
async fn the_news_sitemap_lists_the_last_48_hours() {
    let Site {
        app,
        published,
        old,
        hidden_slugs,
    } = site().await;

    let xml = get_xml(&app, "/news-sitemap.xml").await;
    assert_valid("sitemap-news.xsd", &xml);
    let listed: Vec<String> = locs(&xml).iter().map(|l| path(l).to_owned()).collect();
    let recent: Vec<&String> = published.iter().filter(|p| **p != old).collect();
    assert_eq!(listed.len(), recent.len(), "{listed:?}");
    for article in recent {
        assert!(
            listed.contains(article),
            "{article} missing from {listed:?}"
        );
    }
    assert!(!listed.contains(&old), "a three-day-old story is not news");
    for hidden in &hidden_slugs {
        assert!(!xml.contains(hidden.as_str()), "{hidden} leaked");
    }
    assert!(xml.contains("<news:name>Broadsheet</news:name>"));
    assert!(xml.contains("<news:language>en</news:language>"));
    assert!(
        xml.contains("<news:title>Fish &amp; &lt;chips&gt; &quot;tonight&quot; 🐟</news:title>"),
        "{xml}"
    );
    assert!(xml.contains("<news:keywords>Food &amp; Drink</news:keywords>"));
}

#[tokio::test]
async fn robots_txt_names_the_sitemap_and_keeps_crawlers_out_of_the_newsroom() {
    let app = TestApp::new().await;
    let response = app.get("/robots.txt").await;
    response.assert_status(StatusCode::OK);
    assert_eq!(
        response.header("content-type"),
        Some("text/plain; charset=utf-8")
    );
    let lines: Vec<&str> = response.body.lines().collect();
    assert!(lines.contains(&"User-agent: *"));
    assert!(lines.contains(&"Disallow: /admin"));
    assert!(lines.contains(&"Disallow: /preview/"));
    assert!(lines.contains(&format!("Sitemap: {BASE_URL}/sitemap.xml").as_str()));
    assert!(lines.contains(&format!("Sitemap: {BASE_URL}/news-sitemap.xml").as_str()));
}
