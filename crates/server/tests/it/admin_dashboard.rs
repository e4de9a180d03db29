//! The dashboard at /admin: readers' votes, reactions and views cast through the
//! public endpoints show up as totals, as the bars of the daily charts (read from each
//! bar's `<title>`), in the top articles table and in the reaction mix; contributors
//! get their welcome page instead, and a 403 at the dashboard's own address.

use std::time::Duration;

use axum::http::{Method, StatusCode};
use broadsheet_domain::{Role, Status, Store};

use crate::engagement::{Reader, eventually, generous};
use crate::util::{TestApp, article};

/// The bars' titles of one chart, oldest day first.
fn bars(page: &scraper::Html, chart: &str) -> Vec<String> {
    let selector = scraper::Selector::parse(&format!("#{chart} rect.chart-bar > title")).unwrap();
    page.select(&selector)
        .map(|e| e.text().collect::<String>())
        .collect()
}

fn one(page: &scraper::Html, css: &str) -> String {
    let selector = scraper::Selector::parse(css).unwrap();
    page.select(&selector)
        .next()
        .unwrap_or_else(|| panic!("no {css}"))
        .text()
        .collect::<String>()
        .trim()
        .to_owned()
}

#[tokio::test]
async fn readers_activity_shows_on_the_dashboard() {
    let app = TestApp::builder().engagement(generous()).build().await;
    let ada = app.user("Ada Lovelace").await;
    let bridge = app
        .publish(&ada, "Harbour bridge vote", "The council met.", &[])
        .await;
    let ferry = app.publish(&ada, "Ferry <timetable>", "Boats.", &[]).await;

    // Three readers on the bridge story: views, likes and reactions; one on the ferry.
    for (n, reaction) in ["happy", "happy", "sad"].into_iter().enumerate() {
        let mut reader = Reader::at(&app, &format!("10.0.0.{}", n + 1));
        reader
            .send(Method::POST, &format!("/articles/{}/view", bridge.id), None)
            .await
            .assert_status(StatusCode::NO_CONTENT);
        reader.form(bridge.id, "vote", "like").await;
        reader.form(bridge.id, "react", reaction).await;
    }
    let mut reader = Reader::at(&app, "10.0.1.1");
    reader
        .send(Method::POST, &format!("/articles/{}/view", ferry.id), None)
        .await;
    // A reaction given and taken back counts nothing.
    reader.form(ferry.id, "react", "angry").await;
    reader.form(ferry.id, "react", "angry").await;
    let store = app.store.clone();
    eventually(Duration::from_secs(5), "four views", || {
        let store = store.clone();
        async move {
            store.counts(bridge.id).await.unwrap().views
                + store.counts(ferry.id).await.unwrap().views
                == 4
        }
    })
    .await;

    let editor = app.user(Role::Editor).await;
    let session = app.sign_in(&editor).await;
    let response = session.get("/admin").await;
    response.assert_status(StatusCode::OK);
    let page = response.html();

    assert_eq!(one(&page, "[data-total=views]"), "4");
    assert_eq!(one(&page, "[data-total=votes]"), "3");
    assert_eq!(
        one(&page, "[data-total=reactions]"),
        "4",
        "3 kept and 1 taken back"
    );
    assert_eq!(one(&page, "[data-total=comments]"), "0");

    let views = bars(&page, "views");
    assert_eq!(views.len(), 30, "one bar per day");
    assert!(views[29].ends_with(": 4 views"), "today last: {views:?}");
    assert!(views[..29].iter().all(|t| t.ends_with(": 0 views")));
    assert!(bars(&page, "reactions")[29].ends_with(": 4 reactions"));
    assert_eq!(one(&page, "#comments .chart-empty"), "No comments yet");
    assert!(bars(&page, "comments").is_empty());

    let rows = response.texts(".top-articles tbody th a:first-child");
    assert_eq!(rows, ["Harbour bridge vote", "Ferry <timetable>"]);
    let first_row = response.texts(".top-articles tbody tr:first-child td");
    assert_eq!(first_row[..5], ["3", "3", "3", "0", "3"]);
    assert_eq!(
        response.attrs(".top-articles tbody th a:first-child", "href")[0],
        app.permalink(&bridge).await
    );
    assert!(!response.body.contains("<timetable>"), "titles are escaped");

    let mix = response.texts(".reaction-mix .chart-value");
    assert_eq!(mix[..2], ["2 (67%)", "1 (33%)"]);
    // Editors may not read the audit log, so the dashboard does not show it.
    assert!(response.texts(".recent-audit").is_empty());

    // An admin sees the same numbers and the audit log's latest lines.
    let admin = app.user(Role::Admin).await;
    let admin_page = app.sign_in(&admin).await.get("/admin/dashboard").await;
    admin_page.assert_status(StatusCode::OK);
    assert_eq!(one(&admin_page.html(), "[data-total=views]"), "4");
    assert_eq!(admin_page.texts("#audit-heading"), ["Latest changes"]);
}

#[tokio::test]
async fn contributors_get_their_drafts_and_no_dashboard() {
    let app = TestApp::new().await;
    let contributor = app.user(Role::Contributor).await;
    let mut draft = article(&contributor, "My first draft", "Words.", &[]);
    draft.status = Status::Draft;
    draft.published_at = None;
    let draft = app.insert(draft).await;
    let session = app.sign_in(&contributor).await;

    let home = session.get("/admin").await;
    home.assert_status(StatusCode::OK);
    assert!(home.texts(".chart").is_empty(), "no charts");
    assert_eq!(home.texts(".drafts a"), ["My first draft"]);
    assert_eq!(
        home.attrs(".drafts a", "href"),
        [format!("/admin/articles/{}", draft.id)]
    );
    session
        .get("/admin/dashboard")
        .await
        .assert_status(StatusCode::FORBIDDEN);

    let author = app.user(Role::Author).await;
    app.sign_in(&author)
        .await
        .get("/admin/dashboard")
        .await
        .assert_status(StatusCode::FORBIDDEN);
}
