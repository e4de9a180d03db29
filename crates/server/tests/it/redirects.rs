//! Links never break: old slugs, wrong dates, WordPress-style `/slug/` links and
//! missing trailing slashes all answer 301 to the one current address.

use axum::http::StatusCode;
use broadsheet_domain::{ContentKind, Status};

use crate::util::{TestApp, article};

#[tokio::test]
async fn an_old_slug_redirects_to_the_current_permalink() {
    let app = TestApp::new().await;
    let ada = app.user("Ada Lovelace").await;
    let mut input = article(&ada, "First headline", "Text.", &[]);
    let a = app.insert(input.clone()).await;
    let old = app.permalink(&a).await;
    input.slug = Some("better-headline".into());
    let a = app.update(a.id, input).await;
    let new = app.permalink(&a).await;
    assert_ne!(old, new);

    app.get(&old).await.assert_moved_to(&new);
    app.get("/first-headline/").await.assert_moved_to(&new);
    app.get(&new).await.assert_status(StatusCode::OK);
}

#[tokio::test]
async fn a_wrong_date_redirects_to_the_right_one() {
    let app = TestApp::new().await;
    let ada = app.user("Ada Lovelace").await;
    let a = app.publish(&ada, "Dated story", "Text.", &[]).await;
    let permalink = app.permalink(&a).await;
    app.get("/1999/01/01/dated-story/")
        .await
        .assert_moved_to(&permalink);
    // Unpadded dates are the same date, written differently.
    let unpadded = permalink
        .split('/')
        .map(|part| part.trim_start_matches('0'))
        .collect::<Vec<_>>()
        .join("/");
    if unpadded != permalink {
        app.get(&unpadded).await.assert_moved_to(&permalink);
    }
    // Only date-shaped paths are permalinks.
    app.get("/abcd/01/01/dated-story/")
        .await
        .assert_status(StatusCode::NOT_FOUND);
    app.get("/tag/x/y/dated-story/")
        .await
        .assert_status(StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn wordpress_style_slug_links_reach_the_article() {
    let app = TestApp::new().await;
    let ada = app.user("Ada Lovelace").await;
    let a = app.publish(&ada, "Plain link", "Text.", &[]).await;
    app.get("/plain-link/")
        .await
        .assert_moved_to(&app.permalink(&a).await);
}

#[tokio::test]
async fn a_moved_draft_does_not_reveal_its_address() {
    let app = TestApp::new().await;
    let ada = app.user("Ada Lovelace").await;
    let mut input = article(&ada, "Quiet draft", "Text.", &[]);
    input.status = Status::Draft;
    let a = app.insert(input.clone()).await;
    input.slug = Some("renamed-draft".into());
    app.update(a.id, input).await;
    let old = app.get("/quiet-draft/").await;
    old.assert_status(StatusCode::NOT_FOUND);
    assert!(old.location().is_none());
}

#[tokio::test]
async fn a_renamed_page_redirects() {
    let app = TestApp::new().await;
    let ada = app.user("Ada Lovelace").await;
    let mut input = article(&ada, "About", "Us.", &[]);
    input.kind = ContentKind::Page;
    let page = app.insert(input.clone()).await;
    input.slug = Some("about-us".into());
    app.update(page.id, input).await;
    app.get("/about/").await.assert_moved_to("/about-us/");
    app.get("/about-us/").await.assert_status(StatusCode::OK);
}

#[tokio::test]
async fn a_missing_trailing_slash_redirects_to_the_slash_form() {
    let app = TestApp::new().await;
    let ada = app.user("Ada Lovelace").await;
    let a = app.publish(&ada, "Slashes", "Text.", &["News"]).await;
    let permalink = app.permalink(&a).await;
    let without = permalink.trim_end_matches('/');
    app.get(without).await.assert_moved_to(&permalink);
    app.get("/tag/news").await.assert_moved_to("/tag/news/");
    app.get("/author/ada-lovelace")
        .await
        .assert_moved_to("/author/ada-lovelace/");
    app.get("/page/2").await.assert_moved_to("/page/2/");
    app.get("/about?ref=mail")
        .await
        .assert_moved_to("/about/?ref=mail");
    // Never off-site, whatever the path looks like.
    app.get("//evil.example.com/x")
        .await
        .assert_moved_to("/evil.example.com/x/");
    // Files are missing, not misspelt.
    app.get("/wp-login.php")
        .await
        .assert_status(StatusCode::NOT_FOUND);
}
