//! Webhooks end to end: an admin registers a receiver (bad input shown again with the
//! input kept), events reach it as signed POSTs that verify with an HMAC-SHA256
//! computed here with the `hmac` crate, a failing receiver is retried through the job
//! queue with the same body and signature, and the admin's delivery log shows it all.

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use broadsheet::config::{Config, RawConfig};
use broadsheet::jobs::{JobsHandle, Worker};
use broadsheet_domain::{
    Article, CommentStatus, CommentStore, NetworkHash, NewComment, Role, Store, User,
    WebhookDeliveryState, WebhookStore, clock, comment::render_comment,
};
use chrono::TimeDelta;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::util::{BASE_URL, TestApp, article};

/// What the receiver got: each request's headers and body.
#[derive(Clone, Default)]
struct Receiver {
    got: Arc<Mutex<Vec<(HeaderMap, Bytes)>>>,
    /// Answer 500 to this many requests first.
    failures_left: Arc<Mutex<u32>>,
}

async fn receive(State(rx): State<Receiver>, headers: HeaderMap, body: Bytes) -> StatusCode {
    rx.got.lock().unwrap().push((headers, body));
    let mut left = rx.failures_left.lock().unwrap();
    if *left > 0 {
        *left -= 1;
        StatusCode::INTERNAL_SERVER_ERROR
    } else {
        StatusCode::NO_CONTENT
    }
}

/// A receiver on a real socket; its URL.
async fn start_receiver(failures: u32) -> (String, Receiver) {
    let rx = Receiver::default();
    *rx.failures_left.lock().unwrap() = failures;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let app = Router::new()
        .route("/hook", post(receive))
        .with_state(rx.clone());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, rx)
}

/// The signature a receiver expects, computed independently of the server.
fn expected_signature(secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(body);
    let digest = mac.finalize().into_bytes();
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256={hex}")
}

fn worker(app: &TestApp) -> Worker {
    let config = Config::from_raw(RawConfig {
        data_dir: Some(app.data_dir().to_owned()),
        base_url: Some(BASE_URL.into()),
        ..RawConfig::default()
    })
    .unwrap();
    let store: Arc<dyn Store> = app.store.clone();
    Worker::new(store, &config, JobsHandle::default()).unwrap()
}

async fn drain(worker: &Worker, ahead: TimeDelta) {
    for _ in 0..200 {
        if worker.run_due(clock::now() + ahead).await.unwrap() == 0 {
            return;
        }
    }
    panic!("jobs kept coming");
}

async fn save(app: &TestApp, id: Option<Article>, author: &User, title: &str) -> Article {
    let mut input = article(author, title, "Words for the hook.", &["Harbour"]);
    input.published_at = Some(
        id.as_ref()
            .and_then(|a| a.published_at)
            .unwrap_or_else(|| clock::now() - TimeDelta::minutes(1)),
    );
    let settings = app.store.settings().await.unwrap();
    let write = broadsheet::publish::prepare(input, &settings).unwrap();
    broadsheet::publish::save(app.store.as_ref(), id.map(|a| a.id), &write)
        .await
        .unwrap()
}

fn json(body: &[u8]) -> serde_json::Value {
    serde_json::from_slice(body).expect("a JSON body")
}

#[tokio::test]
async fn events_reach_receivers_signed_and_retried_with_a_log() {
    let app = TestApp::new().await;
    let admin = app.user(Role::Admin).await;
    let writer = app.user("Ada Lovelace").await;
    let session = app.sign_in(&admin).await;
    let (url, rx) = start_receiver(1).await;

    // Bad input is shown again with the input kept and the problem named.
    let bad = session
        .post_form(
            "/admin/webhooks",
            &[
                ("url", "ftp://files.example/in"),
                ("event", "article.published"),
            ],
        )
        .await;
    bad.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        bad.attrs("input[name=url]", "value"),
        ["ftp://files.example/in"]
    );
    assert!(bad.body.contains("http:// or https://"), "{}", bad.body);
    assert_eq!(
        bad.attrs("input[name=event][checked]", "value"),
        ["article.published"]
    );
    let none = session.post_form("/admin/webhooks", &[("url", &url)]).await;
    none.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(none.body.contains("at least one event"), "{}", none.body);
    assert!(app.store.list_webhooks().await.unwrap().is_empty());

    let created = session
        .post_form(
            "/admin/webhooks",
            &[
                ("url", &url),
                ("event", "article.published"),
                ("event", "article.updated"),
                ("event", "comment.posted"),
                ("event", "comment.approved"),
            ],
        )
        .await;
    created.assert_status(StatusCode::SEE_OTHER);
    let hook = app.store.list_webhooks().await.unwrap().pop().unwrap();
    assert_eq!(
        created.location(),
        Some(format!("/admin/webhooks/{}", hook.id).as_str())
    );
    assert_eq!(hook.secret.len(), 64);
    let page = session.get(&format!("/admin/webhooks/{}", hook.id)).await;
    assert!(
        page.body.contains(&hook.secret),
        "the admin shows the secret to share"
    );

    // Published: the first attempt meets a 500, the retry (after its backoff) a 204.
    let worker = worker(&app);
    let story = save(&app, None, &writer, "Harbour bridge opens").await;
    drain(&worker, TimeDelta::zero()).await;
    assert_eq!(rx.got.lock().unwrap().len(), 1);
    drain(&worker, TimeDelta::hours(1)).await;
    let got = rx.got.lock().unwrap().clone();
    assert_eq!(got.len(), 2, "one failure, one retry");
    for (headers, body) in &got {
        assert_eq!(headers["content-type"], "application/json");
        assert_eq!(headers["x-broadsheet-event"], "article.published");
        assert_eq!(
            headers["x-broadsheet-signature"].to_str().unwrap(),
            expected_signature(&hook.secret, body),
            "the signature verifies with a plain HMAC"
        );
    }
    assert_eq!(got[0].1, got[1].1, "the retry sends the same body");
    assert_eq!(
        got[0].0["x-broadsheet-delivery"],
        got[1].0["x-broadsheet-delivery"]
    );
    let event = json(&got[0].1);
    assert_eq!(event["event"], "article.published");
    assert_eq!(event["data"]["title"], "Harbour bridge opens");
    assert_eq!(
        event["data"]["url"],
        format!("{BASE_URL}{}", app.permalink(&story).await)
    );
    let log = app
        .store
        .list_webhook_deliveries(Some(hook.id), 10)
        .await
        .unwrap();
    assert_eq!(log.len(), 1);
    assert_eq!(
        (log[0].state, log[0].attempts, log[0].last_status),
        (WebhookDeliveryState::Delivered, 2, Some(204))
    );
    let admin_log = session.get("/admin/webhooks").await;
    assert_eq!(
        admin_log.texts("tr.delivery-delivered td:nth-child(3)"),
        ["article.published"]
    );

    // Saved again: an update, once. Announcing is once per article: no second publish.
    let story = save(&app, Some(story), &writer, "Harbour bridge opens at last").await;
    drain(&worker, TimeDelta::zero()).await;
    let got = rx.got.lock().unwrap().clone();
    assert_eq!(got.len(), 3);
    let update = json(&got[2].1);
    assert_eq!(update["event"], "article.updated");
    assert_eq!(update["data"]["title"], "Harbour bridge opens at last");
    assert_eq!(
        got[2].0["x-broadsheet-signature"].to_str().unwrap(),
        expected_signature(&hook.secret, &got[2].1)
    );

    // A comment held for moderation, then approved: posted, then approved, and the
    // commenter's email is in neither.
    let body = "Lovely bridge.";
    let comment = app
        .store
        .insert_comment(&NewComment {
            article_id: story.id,
            parent_id: None,
            status: CommentStatus::Pending,
            author_name: "Grace".into(),
            author_email: "grace-secret@example.net".into(),
            author_url: None,
            body_html: render_comment(body),
            body: body.into(),
            reader: None,
            network: NetworkHash("net".into()),
            notify_replies: false,
            reason: None,
            day: clock::now().date_naive(),
            created_at: clock::now(),
        })
        .await
        .unwrap();
    broadsheet::comments::notify::added(app.store.as_ref(), BASE_URL, &comment)
        .await
        .unwrap();
    let approved = app
        .store
        .set_comment_status(&[comment.id], CommentStatus::Approved)
        .await
        .unwrap()
        .pop()
        .unwrap();
    broadsheet::comments::notify::approved(app.store.as_ref(), BASE_URL, &approved)
        .await
        .unwrap();
    drain(&worker, TimeDelta::zero()).await;
    let got = rx.got.lock().unwrap().clone();
    let events: Vec<serde_json::Value> = got[3..].iter().map(|(_, b)| json(b)).collect();
    assert_eq!(
        events
            .iter()
            .map(|e| e["event"].as_str().unwrap())
            .collect::<Vec<_>>(),
        ["comment.posted", "comment.approved"]
    );
    assert_eq!(events[0]["data"]["status"], "pending");
    assert_eq!(events[1]["data"]["body"], body);
    for (headers, body) in &got[3..] {
        assert!(!String::from_utf8_lossy(body).contains("grace-secret"));
        assert_eq!(
            headers["x-broadsheet-signature"].to_str().unwrap(),
            expected_signature(&hook.secret, body)
        );
    }

    // Removed: nothing more is sent.
    session
        .post_form(&format!("/admin/webhooks/{}/delete", hook.id), &[])
        .await
        .assert_status(StatusCode::SEE_OTHER);
    save(&app, Some(story), &writer, "Harbour bridge, third take").await;
    drain(&worker, TimeDelta::zero()).await;
    assert_eq!(rx.got.lock().unwrap().len(), 5);
}
