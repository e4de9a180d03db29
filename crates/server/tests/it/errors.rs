//! Error pages: themed, with the right status, and helpful.

use axum::http::{HeaderMap, Method, StatusCode};

use crate::util::TestApp;

#[tokio::test]
async fn not_found_is_a_themed_page_with_a_way_home() {
    let app = TestApp::new().await;
    let ada = app.user("Ada Lovelace").await;
    let a = app.publish(&ada, "Something to read", "Text.", &[]).await;

    for path in [
        "/no/such/thing/",
        "/nothing-here/",
        "/tag/nope/",
        "/wp-login.php",
    ] {
        let page = app.get(path).await;
        page.assert_status(StatusCode::NOT_FOUND);
        assert!(
            page.header("content-type")
                .unwrap()
                .starts_with("text/html"),
            "{path}"
        );
        assert_eq!(page.texts("main h1"), ["Page not found"], "{path}");
        assert_eq!(page.texts(".site-title"), ["Broadsheet"], "{path}");
        assert!(page.attrs("main a", "href").contains(&"/".to_owned()));
        assert_eq!(page.texts(".latest h2"), ["Latest articles"]);
        assert_eq!(page.attrs(".latest a", "href"), [app.permalink(&a).await]);
        assert_eq!(page.attrs("meta[name=robots]", "content"), ["noindex"]);
    }
}

#[tokio::test]
async fn other_errors_get_a_page_too() {
    let app = TestApp::new().await;
    let page = app.request(Method::POST, "/", HeaderMap::new()).await;
    page.assert_status(StatusCode::METHOD_NOT_ALLOWED);
    assert!(page.header("allow").is_some_and(|a| a.contains("GET")));
    assert_eq!(page.texts("main h1"), ["Not allowed"]);

    // Not valid UTF-8 once percent-decoded: a bad request, not a crash.
    let page = app.get("/tag/%FF/").await;
    assert!(page.status.is_client_error(), "{}", page.status);
    assert!(
        page.header("content-type")
            .unwrap()
            .starts_with("text/html")
    );
}

#[tokio::test]
async fn head_requests_answer_like_get_without_a_body() {
    let app = TestApp::new().await;
    let ok = app.request(Method::HEAD, "/", HeaderMap::new()).await;
    ok.assert_status(StatusCode::OK);
    assert!(ok.body.is_empty());
    let missing = app.request(Method::HEAD, "/nope/", HeaderMap::new()).await;
    missing.assert_status(StatusCode::NOT_FOUND);
    assert!(missing.body.is_empty());
}

#[tokio::test]
async fn a_theme_dir_overrides_the_error_page() {
    let theme = tempfile::tempdir().unwrap();
    std::fs::write(
        theme.path().join("error.html"),
        "<!doctype html><p>Custom {{ error.status }}: {{ error.message }}</p>",
    )
    .unwrap();
    let app = TestApp::builder()
        .theme_dir(theme.path().to_owned())
        .build()
        .await;
    let page = app.get("/missing/").await;
    page.assert_status(StatusCode::NOT_FOUND);
    assert_eq!(
        page.texts("p"),
        ["Custom 404: The page you asked for is not here."]
    );
    // Everything not overridden still comes from the built-in theme.
    app.get("/").await.assert_status(StatusCode::OK);
}
