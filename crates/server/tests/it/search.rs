//! The search page and API: results with marked words, the header's search box,
//! filters, pages that keep the query, date problems shown next to their fields, and
//! nothing unpublished ever found.

use axum::http::StatusCode;
use broadsheet_domain::Status;

use crate::util::{TestApp, article, hours_ago};

#[tokio::test]
async fn the_page_marks_matches_and_hides_the_unpublished() {
    let app = TestApp::new().await;
    let ada = app.user("Ada Lovelace").await;
    let bob = app.user("Bob Marley").await;
    app.publish(
        &ada,
        "Harbour <budget> & piers",
        "Money for the quay.",
        &["Port"],
    )
    .await;
    app.publish(
        &bob,
        "Council notes",
        "The budget was discussed at length.",
        &[],
    )
    .await;
    let mut draft = article(&ada, "Secret budget draft", "Not yet.", &[]);
    draft.status = Status::Draft;
    app.insert(draft).await;
    let mut later = article(&ada, "Embargoed budget", "Tomorrow.", &[]);
    later.published_at = Some(hours_ago(-24));
    app.insert(later).await;

    let page = app.get("/search?q=BUDGET").await;
    page.assert_status(StatusCode::OK);
    // Title matches first; the title's text nodes are split by the <mark>.
    let titles = page.texts(".search-results .card-title");
    assert_eq!(titles.len(), 2);
    assert_eq!(titles[1], "Council notes");
    assert!(
        page.body
            .contains("Harbour &lt;<mark>budget</mark>&gt; &amp; piers")
    );
    assert!(page.body.contains("The <mark>budget</mark> was discussed"));
    assert!(!page.body.contains("Secret") && !page.body.contains("Embargoed"));
    assert!(page.body.contains("noindex"));
    // The header's box is on every page and keeps the words.
    assert_eq!(page.attrs("#site-search-q", "value"), ["BUDGET"]);
    assert_eq!(
        app.get("/").await.attrs("form.site-search", "action"),
        ["/search"]
    );

    let by_bob = app.get("/search?q=budget&author=bob-marley").await;
    assert_eq!(
        by_bob.texts(".search-results .card-title"),
        ["Council notes"]
    );
    let tagged = app.get("/search?q=budget&tag=port").await;
    assert_eq!(tagged.texts(".search-results .card-title").len(), 1);
    assert!(tagged.body.contains("&lt;<mark>budget</mark>&gt;"));
    let nobody = app.get("/search?q=budget&author=nobody").await;
    nobody.assert_status(StatusCode::OK);
    assert!(nobody.texts(".search-results .card-title").is_empty());

    let api = app.get("/api/v1/search?q=budget%20quay").await;
    api.assert_status(StatusCode::OK);
    let json: serde_json::Value = serde_json::from_str(&api.body).unwrap();
    assert_eq!(json["total"], 1);
    assert_eq!(json["results"][0]["title"], "Harbour <budget> & piers");
    assert_eq!(json["results"][0]["tags"][0], "port");
}

#[tokio::test]
async fn pages_keep_the_query_and_bad_input_is_never_an_error() {
    let app = TestApp::new().await;
    let ada = app.user("Ada Lovelace").await;
    for n in 0..12 {
        app.publish(&ada, &format!("Tide table {n}"), "High and low water.", &[])
            .await;
    }
    let first = app.get("/search?q=tide").await;
    assert_eq!(first.texts(".search-results .card-title").len(), 10);
    assert_eq!(
        first.attrs(".pagination-next", "href"),
        ["/search?q=tide&page=2"]
    );
    let second = app.get("/search?q=tide&page=2").await;
    assert_eq!(second.texts(".search-results .card-title").len(), 2);
    assert_eq!(second.attrs(".pagination-prev", "href"), ["/search?q=tide"]);

    for weird in [
        "/search",
        "/search?q=",
        "/search?q=%22tide",
        "/search?q=tide%20AND%20NOT%20(",
        "/search?q=%E6%9D%B1%E4%BA%AC*",
        "/search?q=%FF%FE&page=-3",
        "/search?q=NEAR(tide&page=99999999999",
        "/api/v1/search?q=%22%27%3B--",
    ] {
        app.get(weird).await.assert_status(StatusCode::OK);
    }

    let bad = app.get("/search?q=tide&from=yesterday&to=2026-02-30").await;
    bad.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad.attrs("#search-q", "value"), ["tide"]);
    assert_eq!(bad.attrs("#search-from", "value"), ["yesterday"]);
    assert_eq!(bad.texts("#search-from-error").len(), 1);
    assert_eq!(bad.texts("#search-to-error").len(), 1);
    app.get("/api/v1/search?q=tide&from=nope")
        .await
        .assert_status(StatusCode::UNPROCESSABLE_ENTITY);

    let dated = app
        .get(&format!(
            "/search?q=tide&from={}",
            hours_ago(-48).format("%Y-%m-%d")
        ))
        .await;
    dated.assert_status(StatusCode::OK);
    assert!(dated.texts(".search-results .card-title").is_empty());
}
