//! The router over a real socket, as `broadsheet serve` runs it.

use std::time::Duration;

use crate::util::TestApp;

#[tokio::test]
async fn the_site_answers_over_tcp() {
    let app = TestApp::new().await;
    let ada = app.user("Ada Lovelace").await;
    app.publish(&ada, "Over the wire", "Text.", &[]).await;

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(axum::serve(listener, app.router()).into_future());

    // Ready when a connection is accepted; bounded, and no fixed sleep.
    let ready = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            if tokio::net::TcpStream::connect(addr).await.is_ok() {
                break;
            }
            tokio::task::yield_now().await;
        }
    })
    .await;
    assert!(ready.is_ok(), "the server never accepted a connection");

    let response = reqwest::get(format!("http://{addr}/")).await.unwrap();
    assert_eq!(response.status(), reqwest::StatusCode::OK);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let body = response.text().await.unwrap();
    assert!(body.contains("Over the wire"), "{body}");

    let missing = reqwest::get(format!("http://{addr}/nope/")).await.unwrap();
    assert_eq!(missing.status(), reqwest::StatusCode::NOT_FOUND);
    server.abort();
}
