//! Feeds: RSS, Atom and JSON Feed judged by real parsers (Python's `feedparser` and
//! `jsonschema` against the JSON Feed 1.1 schema in `fixtures/`), tricky titles
//! round-tripping, drafts and scheduled articles absent, conditional GET, the
//! `feed_content` setting and autodiscovery.

use std::path::{Path, PathBuf};
use std::process::Command;

use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use broadsheet_domain::{FeedContent, Role, SiteSettings, Status, Store};
use chrono::TimeDelta;

use crate::util::{TestApp, article};

const TRICKY: &str = "Tom & Jerry <b>say</b> \"hello\" 🗞️ café";

fn judge_script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/fixtures/feed_judge.py")
}

/// Whether python3 with feedparser and jsonschema is here; in CI it must be.
fn judge_available() -> bool {
    let ok = Command::new("python3")
        .args(["-c", "import feedparser, jsonschema"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI needs python3 with feedparser and jsonschema (pip install feedparser jsonschema)"
        );
        eprintln!("skipped: python3 with feedparser and jsonschema is not installed");
    }
    ok
}

/// Runs the judge on one listing's three feeds, expecting these titles, newest first.
async fn judge(app: &TestApp, listing: &str, titles: &[&str], enclosures: usize) {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut paths = Vec::new();
    for file in ["feed.xml", "atom.xml", "feed.json"] {
        let response = app.get(&format!("{listing}{file}")).await;
        assert_eq!(response.status, StatusCode::OK, "{listing}{file}");
        let path = dir.path().join(file);
        std::fs::write(&path, &response.body).expect("write feed");
        paths.push(path);
    }
    let expected = dir.path().join("expected.json");
    std::fs::write(
        &expected,
        serde_json::json!({"titles": titles, "enclosures": enclosures}).to_string(),
    )
    .expect("write expectations");
    let output = Command::new("python3")
        .arg(judge_script())
        .args(&paths)
        .arg(&expected)
        .output()
        .expect("run the judge");
    assert!(
        output.status.success(),
        "{listing}: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

#[tokio::test]
async fn feeds_pass_real_parsers_and_leak_nothing() {
    let app = TestApp::new().await;
    let ada = app.user("Ada Lovelace").await;
    let grace = app.user("Grace Hopper").await;
    let mut older = article(
        &ada,
        "Harbour bridge opens",
        "The **bridge** opened.",
        &["City"],
    );
    older.published_at = Some(crate::util::hours_ago(3));
    older.cover_image = Some("/media/7/bridge.jpg".into());
    app.insert(older).await;
    app.publish(
        &ada,
        TRICKY,
        "Body with <em>markup</em> & more.",
        &["City", "Fun"],
    )
    .await;
    app.publish(&grace, "Compilers for all", "Text.", &["Tech"])
        .await;
    let mut draft = article(&ada, "Secret draft story", "Not yet.", &["City", "Hidden"]);
    draft.status = Status::Draft;
    app.insert(draft).await;
    let mut scheduled = article(&ada, "Embargoed scoop", "Later.", &["City"]);
    scheduled.status = Status::Scheduled;
    scheduled.published_at = Some(broadsheet_domain::clock::now() + TimeDelta::hours(5));
    app.insert(scheduled).await;

    for path in [
        "/feed.xml",
        "/atom.xml",
        "/feed.json",
        "/tag/city/feed.xml",
        "/author/ada-lovelace/feed.json",
    ] {
        let body = app.get(path).await.body;
        for hidden in ["Secret draft", "Embargoed", "Hidden"] {
            assert!(!body.contains(hidden), "{path} shows {hidden}");
        }
    }
    // A tag whose only article is a draft does not exist for readers.
    assert_eq!(
        app.get("/tag/hidden/feed.xml").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.get("/author/nobody/atom.xml").await.status,
        StatusCode::NOT_FOUND
    );

    let rss = app.get("/feed.xml").await;
    assert_eq!(
        rss.header("content-type"),
        Some("application/rss+xml; charset=utf-8")
    );
    assert!(rss.body.contains(
        "<atom:link href=\"https://news.example.com/feed.xml\" rel=\"self\" type=\"application/rss+xml\"/>"
    ));
    assert!(rss.body.contains(
        "<enclosure url=\"https://news.example.com/media/7/bridge.jpg\" length=\"0\" type=\"image/jpeg\"/>"
    ));

    if !judge_available() {
        return;
    }
    judge(
        &app,
        "/",
        &["Compilers for all", TRICKY, "Harbour bridge opens"],
        1,
    )
    .await;
    judge(&app, "/tag/city/", &[TRICKY, "Harbour bridge opens"], 1).await;
    judge(&app, "/author/grace-hopper/", &["Compilers for all"], 0).await;
}

#[tokio::test]
async fn ids_are_stable_across_a_retitle() {
    let app = TestApp::new().await;
    let ada = app.user("Ada Lovelace").await;
    let first = app.publish(&ada, "First title", "Text.", &[]).await;
    let id_of = |body: &str| {
        let feed: serde_json::Value = serde_json::from_str(body).expect("json feed");
        feed["items"][0]["id"].as_str().expect("id").to_owned()
    };
    let before = id_of(&app.get("/feed.json").await.body);
    let mut changed = article(&ada, "A new title", "Text.", &[]);
    changed.slug = Some("a-new-title".into());
    changed.published_at = first.published_at;
    app.update(first.id, changed).await;
    let after = app.get("/feed.json").await.body;
    assert!(after.contains("A new title"));
    assert_eq!(id_of(&after), before);
    assert!(before.starts_with("tag:news.example.com,"), "{before}");
}

#[tokio::test]
async fn conditional_requests_get_304_until_something_changes() {
    let app = TestApp::new().await;
    let ada = app.user("Ada Lovelace").await;
    let story = app.publish(&ada, "Story", "Text.", &[]).await;
    for path in ["/feed.xml", "/atom.xml", "/feed.json"] {
        let first = app.get(path).await;
        let etag = first.header("etag").expect("etag").to_owned();
        let modified = first
            .header("last-modified")
            .expect("last-modified")
            .to_owned();
        assert!(modified.ends_with(" GMT"), "{modified}");

        let with = |name: header::HeaderName, value: &str| {
            let mut headers = HeaderMap::new();
            headers.insert(name, HeaderValue::from_str(value).unwrap());
            headers
        };
        let cached = app
            .request(Method::GET, path, with(header::IF_NONE_MATCH, &etag))
            .await;
        assert_eq!(cached.status, StatusCode::NOT_MODIFIED, "{path}");
        assert!(cached.body.is_empty());
        let since = app
            .request(
                Method::GET,
                path,
                with(header::IF_MODIFIED_SINCE, &modified),
            )
            .await;
        assert_eq!(since.status, StatusCode::NOT_MODIFIED, "{path}");
        let stale = app
            .request(Method::GET, path, with(header::IF_NONE_MATCH, "\"other\""))
            .await;
        assert_eq!(stale.status, StatusCode::OK, "{path}");
        let old = app
            .request(
                Method::GET,
                path,
                with(header::IF_MODIFIED_SINCE, "Sat, 01 Jan 2000 00:00:00 GMT"),
            )
            .await;
        assert_eq!(old.status, StatusCode::OK, "{path}");
    }
    let etag = app
        .get("/feed.xml")
        .await
        .header("etag")
        .unwrap()
        .to_owned();
    let mut edited = article(&ada, "Story, corrected", "Text.", &[]);
    edited.published_at = story.published_at;
    app.update(story.id, edited).await;
    let mut headers = HeaderMap::new();
    headers.insert(header::IF_NONE_MATCH, HeaderValue::from_str(&etag).unwrap());
    let after = app.request(Method::GET, "/feed.xml", headers).await;
    assert_eq!(after.status, StatusCode::OK);
    assert!(after.body.contains("Story, corrected"));
}

#[tokio::test]
async fn the_excerpt_setting_keeps_bodies_on_the_site() {
    let body = "Only on the site: the whole investigation.";
    let full = TestApp::new().await;
    let ada = full.user("Ada Lovelace").await;
    let mut input = article(&ada, "Investigation", body, &[]);
    input.excerpt = Some("A short teaser.".into());
    full.insert(input.clone()).await;
    assert!(full.get("/feed.json").await.body.contains(body));

    let excerpt = TestApp::builder()
        .settings(SiteSettings {
            feed_content: FeedContent::Excerpt,
            ..SiteSettings::default()
        })
        .build()
        .await;
    let ada = excerpt.user("Ada Lovelace").await;
    input.author_id = ada.id;
    excerpt.insert(input).await;
    for path in ["/feed.xml", "/atom.xml", "/feed.json"] {
        let feed = excerpt.get(path).await.body;
        assert!(!feed.contains("whole investigation"), "{path}");
        assert!(feed.contains("A short teaser."), "{path}");
    }
}

#[tokio::test]
async fn pages_announce_their_feeds() {
    let app = TestApp::new().await;
    let ada = app.user("Ada Lovelace").await;
    app.publish(&ada, "Story", "Text.", &["City Hall"]).await;
    let feeds = |page: &crate::util::TestResponse| page.attrs("link[rel=alternate]", "href");
    assert_eq!(
        feeds(&app.get("/").await),
        ["/feed.xml", "/atom.xml", "/feed.json"]
    );
    let tag = feeds(&app.get("/tag/city-hall/").await);
    assert!(
        tag.contains(&"/tag/city-hall/atom.xml".to_owned()),
        "{tag:?}"
    );
    let author = feeds(&app.get("/author/ada-lovelace/").await);
    assert!(
        author.contains(&"/author/ada-lovelace/feed.json".to_owned()),
        "{author:?}"
    );
    for href in tag.iter().chain(&author) {
        assert_eq!(app.get(href).await.status, StatusCode::OK, "{href}");
    }
}

#[tokio::test]
async fn the_admin_chooses_what_feeds_carry() {
    let app = TestApp::new().await;
    let admin = app.user(Role::Admin).await;
    let session = app.sign_in(&admin).await;
    let form = session.get("/admin/settings").await;
    assert_eq!(
        form.attrs("#f-feed_content option[selected]", "value"),
        ["full"]
    );
    let fields = |feed_content: &'static str| {
        vec![
            ("title", "Broadsheet"),
            ("description", ""),
            ("time_zone", "UTC"),
            ("language", "en"),
            ("words_per_minute", "200"),
            ("cjk_chars_per_minute", "500"),
            ("per_page", "10"),
            ("reactions", "happy | 😀 | Happy\n"),
            ("feed_content", feed_content),
        ]
    };
    let bad = session
        .post_form("/admin/settings", &fields("summary"))
        .await;
    bad.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad.texts("#f-feed_content-error").len(), 1);
    assert_eq!(
        app.store.settings().await.unwrap().feed_content,
        FeedContent::Full
    );
    session
        .post_form("/admin/settings", &fields("excerpt"))
        .await
        .assert_status(StatusCode::SEE_OTHER);
    assert_eq!(
        app.store.settings().await.unwrap().feed_content,
        FeedContent::Excerpt
    );
    let form = session.get("/admin/settings").await;
    assert_eq!(
        form.attrs("#f-feed_content option[selected]", "value"),
        ["excerpt"]
    );
}
