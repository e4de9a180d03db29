//! Theme assets: versioned URLs, long caching, revalidation.

use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};

use crate::util::TestApp;

#[tokio::test]
async fn pages_link_versioned_assets_that_cache_for_a_year() {
    let app = TestApp::new().await;
    let home = app.get("/").await;
    let css = home.attrs("link[rel=stylesheet]", "href");
    assert_eq!(css.len(), 1);
    assert!(css[0].starts_with("/assets/style.css?v="), "{css:?}");

    let response = app.get(&css[0]).await;
    response.assert_status(StatusCode::OK);
    assert_eq!(
        response.header("content-type"),
        Some("text/css; charset=utf-8")
    );
    assert_eq!(
        response.header("cache-control"),
        Some("public, max-age=31536000, immutable")
    );
    assert!(response.body.contains("prefers-color-scheme: dark"));

    // Without the current version, the file is served but only briefly cached.
    let unversioned = app.get("/assets/style.css?v=0ld").await;
    unversioned.assert_status(StatusCode::OK);
    assert_eq!(
        unversioned.header("cache-control"),
        Some("public, max-age=300")
    );

    let etag = response.header("etag").unwrap().to_owned();
    let mut headers = HeaderMap::new();
    headers.insert(header::IF_NONE_MATCH, HeaderValue::from_str(&etag).unwrap());
    let revalidated = app.request(Method::GET, &css[0], headers).await;
    revalidated.assert_status(StatusCode::NOT_MODIFIED);
    assert!(revalidated.body.is_empty());
}

#[tokio::test]
async fn unknown_assets_and_paths_are_404() {
    let app = TestApp::new().await;
    for path in [
        "/assets/nope.css",
        "/assets/..%2Fsrc%2Flib.rs",
        "/assets/",
        "/assets/style.css/",
    ] {
        app.get(path).await.assert_status(StatusCode::NOT_FOUND);
    }
}

#[tokio::test]
async fn the_favicon_is_served_and_linked() {
    let app = TestApp::new().await;
    let icon = app.get("/favicon.ico").await;
    icon.assert_status(StatusCode::OK);
    assert_eq!(icon.header("content-type"), Some("image/svg+xml"));
    assert!(icon.body.starts_with("<svg"));
    let home = app.get("/").await;
    let linked = home.attrs("link[rel=icon]", "href");
    assert!(
        linked[0].starts_with("/assets/favicon.svg?v="),
        "{linked:?}"
    );
}

#[tokio::test]
async fn pages_make_no_third_party_requests() {
    let app = TestApp::new().await;
    let ada = app.user("Ada Lovelace").await;
    let a = app.publish(&ada, "Local only", "Text.", &["Tag"]).await;
    for path in ["/".to_owned(), app.permalink(&a).await, "/nope/".to_owned()] {
        let page = app.get(&path).await;
        for attr in ["src", "href"] {
            for url in page.attrs(&format!("[{attr}]"), attr) {
                let external =
                    url.starts_with("http:") || url.starts_with("https:") || url.starts_with("//");
                // Canonical and pagination links name the site itself.
                let own = url.starts_with(crate::util::BASE_URL);
                assert!(!external || own, "{path} refers to {url}");
            }
        }
        // Scripts, if any, are the theme's own file (its src is checked above) or
        // JSON-LD data; nothing inline runs.
        let html = page.html();
        let scripts = scraper::Selector::parse("script").unwrap();
        for script in html.select(&scripts) {
            let own_file =
                script.value().attr("src").is_some() && script.inner_html().trim().is_empty();
            let data = script.value().attr("type") == Some("application/ld+json");
            assert!(own_file || data, "{path} runs {}", script.html());
        }
    }
}
