//! The notification bell: the subscription endpoints and their refusals, the VAPID key
//! in the data directory, the service worker, the bell in the pages; and pushes sent to
//! an independent push service on loopback (`fixtures/push-service`, Node with the npm
//! package `http_ece`), which checks the VAPID signature and decrypts every payload
//! with the subscription's private key. A 410 removes the subscription; a send cut
//! short by the push service is retried through the job queue and reaches only the
//! subscriptions still waiting.
//!
//! Without Node or `http_ece` installed the push-service tests say why and pass, except
//! in CI (`CI=true`), where `.ci/run` installs the package and a missing one fails.

use std::io::{BufRead as _, BufReader};
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::Arc;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use broadsheet::jobs::{JobsHandle, Worker};
use broadsheet::push::config::RawPush;
use broadsheet::push::{PUSH_ARTICLE, announce};
use broadsheet_domain::{
    Article, JobState, JobStore, PushStore, PushTopic, Role, Store, StoreError, clock,
};
use serde_json::{Value, json};

use crate::util::{BASE_URL, TestApp, TestResponse};

fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/fixtures/push-service")
}

/// Whether Node and the fixture's `http_ece` are here; in CI they must be.
fn push_service_available() -> bool {
    let node = Command::new("node")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    let ece = fixture_dir()
        .join("node_modules/http_ece/package.json")
        .exists();
    if node && ece {
        return true;
    }
    let fix = "npm ci --prefix crates/server/tests/it/fixtures/push-service";
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "the push-service tests need node and the npm package http_ece ({fix}, as .ci/run does)"
    );
    eprintln!("skipped: node or http_ece is not installed ({fix})");
    false
}

/// The fixture push service: `count` browser subscriptions of its own making.
struct PushService {
    child: Child,
    // Closing it ends the service, also when a test panics.
    _stdin: ChildStdin,
    url: String,
    subscriptions: Vec<Value>,
    http: reqwest::Client,
}

impl PushService {
    fn start(count: usize, vapid_public_key: &str) -> PushService {
        let mut child = Command::new("node")
            .arg(fixture_dir().join("push_service.mjs"))
            .arg(count.to_string())
            .arg(vapid_public_key)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("node starts");
        let stdin = child.stdin.take().expect("stdin");
        let mut first = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut first)
            .expect("the push service says where it listens");
        let hello: Value = serde_json::from_str(&first).expect("a JSON line");
        PushService {
            child,
            _stdin: stdin,
            url: format!("http://127.0.0.1:{}", hello["port"]),
            subscriptions: hello["subscriptions"]
                .as_array()
                .expect("subscriptions")
                .clone(),
            http: reqwest::Client::new(),
        }
    }

    async fn control(&self, control: Value) {
        let response = self
            .http
            .post(format!("{}/control", self.url))
            .json(&control)
            .send()
            .await
            .expect("control the push service");
        assert!(response.status().is_success());
    }

    /// Every push received so far, in order.
    async fn records(&self) -> Vec<Value> {
        self.http
            .get(format!("{}/records", self.url))
            .send()
            .await
            .expect("ask the push service")
            .json()
            .await
            .expect("records as JSON")
    }

    fn endpoint(&self, n: usize) -> &str {
        self.subscriptions[n]["endpoint"]
            .as_str()
            .expect("endpoint")
    }
}

impl Drop for PushService {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A site whose subscriptions may name a push service on loopback.
async fn site() -> TestApp {
    TestApp::builder()
        .push(RawPush {
            services: Some(vec!["http://127.0.0.1".into()]),
            ..RawPush::default()
        })
        .build()
        .await
}

async fn send_json(app: &TestApp, method: Method, path: &str, body: &str) -> TestResponse {
    let request = Request::builder()
        .method(method)
        .uri(path)
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::ORIGIN, BASE_URL)
        .body(Body::from(body.to_owned()))
        .expect("request");
    app.send(app.router(), request).await
}

fn json_of(response: &TestResponse) -> Value {
    serde_json::from_str(&response.body).unwrap_or_else(|_| panic!("not JSON: {}", response.body))
}

async fn vapid_key(app: &TestApp) -> String {
    let response = app.get("/push/key").await;
    response.assert_status(StatusCode::OK);
    json_of(&response)["public_key"]
        .as_str()
        .expect("a key")
        .to_owned()
}

/// Subscribes the push service's `n`-th subscription, to a tag or the whole site.
async fn subscribe(app: &TestApp, service: &PushService, n: usize, tag: Option<&str>) {
    let mut body = service.subscriptions[n].clone();
    body["expirationTime"] = Value::Null;
    body["tag"] = json!(tag);
    send_json(app, Method::POST, "/push/subscriptions", &body.to_string())
        .await
        .assert_status(StatusCode::CREATED);
}

fn worker(app: &TestApp) -> Worker {
    let store: Arc<dyn Store> = app.store.clone();
    Worker::new(store, app.config(), JobsHandle::default()).expect("the worker sets up")
}

fn accepted_for(records: &[Value], n: usize) -> Vec<&Value> {
    records
        .iter()
        .filter(|r| r["subscription"] == n && r["status"] == 201)
        .collect()
}

async fn story(app: &TestApp, title: &str, tags: &[&str]) -> Article {
    let author = app.user(Role::Author).await;
    app.publish(&author, title, "The council voted late on Tuesday.", tags)
        .await
}

const P256DH: &str =
    "BLn9b-VR0ca83knDNZ32dCHGyjJp-1riX9ZTN40MqV8K_LpQmLqxC_DoHvqvFXO_nGdAB4W9dogZb_sM-uV4JbY";
const AUTH: &str = "_ordMnz7uTCmrpBTeUV4Bw";

#[tokio::test]
async fn the_key_is_made_once_kept_private_and_served() {
    let app = site().await;
    let path = app.data_dir().join("vapid_private_key.pem");
    let mode = std::fs::metadata(&path)
        .expect("the key file is in the data directory")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    let key = vapid_key(&app).await;
    assert_eq!(key.len(), 87, "65 bytes in unpadded base64url: {key}");
    // Another node on the same data directory uses the same key.
    let state = app.node_state().await;
    assert_eq!(state.push.public_key(), key);

    let sw = app.get("/sw.js").await;
    sw.assert_status(StatusCode::OK);
    assert_eq!(
        sw.header("content-type"),
        Some("text/javascript; charset=utf-8")
    );
    assert_eq!(sw.header("service-worker-allowed"), Some("/"));
    assert!(sw.body.contains("showNotification"));
}

#[tokio::test]
async fn the_bell_is_on_home_articles_and_tags_hidden_until_scripted() {
    let app = site().await;
    let article = story(&app, "Harbour bridge approved", &["City Hall"]).await;
    for path in ["/".to_owned(), app.permalink(&article).await] {
        let page = app.get(&path).await;
        page.assert_status(StatusCode::OK);
        assert_eq!(
            page.attrs("[data-push-bell][hidden]", "class"),
            ["push-bell"],
            "{path}"
        );
        assert!(page.attrs("[data-push-bell]", "data-tag").is_empty());
        assert_eq!(
            page.attrs("script[src^='/assets/push.js']", "defer").len(),
            1
        );
    }
    let tag = app.get("/tag/city-hall/").await;
    assert_eq!(
        tag.attrs("[data-push-bell][hidden]", "data-tag"),
        ["city-hall"]
    );
    assert_eq!(
        tag.texts("[data-push-bell] button"),
        ["🔔 Notify me of new #CityHall articles"]
    );
}

#[tokio::test]
async fn subscriptions_are_checked_and_named_field_by_field() {
    let app = site().await;
    story(&app, "Budget", &["NATO"]).await;
    let good = |endpoint: &str, tag: Value| {
        json!({"endpoint": endpoint, "expirationTime": null,
               "keys": {"p256dh": P256DH, "auth": AUTH}, "tag": tag})
        .to_string()
    };
    let post = |body: String| {
        let app = &app;
        async move { send_json(app, Method::POST, "/push/subscriptions", &body).await }
    };

    let not_json = post("endpoint=x".into()).await;
    not_json.assert_status(StatusCode::BAD_REQUEST);
    assert!(
        json_of(&not_json)["error"]["message"]
            .as_str()
            .unwrap()
            .contains("JSON object")
    );

    let empty = post("{}".into()).await;
    empty.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    let empty = json_of(&empty);
    let fields: Vec<&str> = empty["error"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["endpoint", "keys.p256dh", "keys.auth"]);

    let elsewhere = post(good("https://push.evil.example/x", Value::Null)).await;
    elsewhere.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(json_of(&elsewhere)["error"]["field"], "endpoint");

    let off_curve = json!({"endpoint": "http://127.0.0.1:9/push/1",
        "keys": {"p256dh": format!("B{}", "A".repeat(86)), "auth": AUTH}});
    let off_curve = post(off_curve.to_string()).await;
    off_curve.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(json_of(&off_curve)["error"]["field"], "keys.p256dh");

    let no_tag = post(good("http://127.0.0.1:9/push/1", json!("sport"))).await;
    no_tag.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(json_of(&no_tag)["error"]["field"], "tag");
    assert_eq!(app.store.count_push_subscriptions().await.unwrap(), 0);

    // From another site: refused before anything is read.
    let forged = Request::builder()
        .method(Method::POST)
        .uri("/push/subscriptions")
        .header(header::ORIGIN, "https://evil.example")
        .body(Body::from(good("http://127.0.0.1:9/push/1", Value::Null)))
        .unwrap();
    app.send(app.router(), forged)
        .await
        .assert_status(StatusCode::FORBIDDEN);

    // The whole site, then a tag too: one subscription following both.
    post(good("http://127.0.0.1:9/push/1", Value::Null))
        .await
        .assert_status(StatusCode::CREATED);
    let both = post(good("http://127.0.0.1:9/push/1", json!("nato"))).await;
    both.assert_status(StatusCode::CREATED);
    assert_eq!(
        json_of(&both)["topics"],
        json!([{"kind": "site"}, {"kind": "tag", "tag": "nato"}])
    );
    let status = send_json(
        &app,
        Method::POST,
        "/push/status",
        r#"{"endpoint": "http://127.0.0.1:9/push/1"}"#,
    )
    .await;
    assert_eq!(json_of(&status)["subscribed"], true);

    // Unfollow the tag; then everything; then again: a clear 404, nothing changed.
    let delete = |body: &'static str| {
        let app = &app;
        async move { send_json(app, Method::DELETE, "/push/subscriptions", body).await }
    };
    let left = delete(r#"{"endpoint": "http://127.0.0.1:9/push/1", "tag": "nato"}"#).await;
    left.assert_status(StatusCode::OK);
    assert_eq!(json_of(&left)["topics"], json!([{"kind": "site"}]));
    let gone = delete(r#"{"endpoint": "http://127.0.0.1:9/push/1"}"#).await;
    assert_eq!(json_of(&gone)["subscribed"], false);
    let unknown = delete(r#"{"endpoint": "http://127.0.0.1:9/push/1"}"#).await;
    unknown.assert_status(StatusCode::NOT_FOUND);
    let error = &json_of(&unknown)["error"];
    assert_eq!(error["code"], "not_subscribed");
    assert_eq!(error["field"], "endpoint");
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .starts_with("No push subscription has this endpoint")
    );
    delete(r#"{"tag": "nato"}"#)
        .await
        .assert_status(StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn a_renewed_subscription_takes_over_the_old_ones_topics() {
    let app = site().await;
    story(&app, "Budget", &["NATO"]).await;
    let body = |endpoint: &str, tag: Value, old: Option<&str>| {
        json!({"endpoint": endpoint, "keys": {"p256dh": P256DH, "auth": AUTH},
               "tag": tag, "old_endpoint": old})
        .to_string()
    };
    for tag in [Value::Null, json!("nato")] {
        send_json(
            &app,
            Method::POST,
            "/push/subscriptions",
            &body("http://127.0.0.1:9/push/old", tag, None),
        )
        .await
        .assert_status(StatusCode::CREATED);
    }
    let renewed = send_json(
        &app,
        Method::POST,
        "/push/subscriptions/renew",
        &body(
            "http://127.0.0.1:9/push/new",
            Value::Null,
            Some("http://127.0.0.1:9/push/old"),
        ),
    )
    .await;
    renewed.assert_status(StatusCode::OK);
    assert_eq!(
        json_of(&renewed)["topics"],
        json!([{"kind": "site"}, {"kind": "tag", "tag": "nato"}])
    );
    assert!(matches!(
        app.store
            .push_subscription_by_endpoint("http://127.0.0.1:9/push/old")
            .await,
        Err(StoreError::NotFound)
    ));
    // Renewing what is gone says so; renewing without saying what is named.
    let again = send_json(
        &app,
        Method::POST,
        "/push/subscriptions/renew",
        &body(
            "http://127.0.0.1:9/push/newer",
            Value::Null,
            Some("http://127.0.0.1:9/push/old"),
        ),
    )
    .await;
    again.assert_status(StatusCode::NOT_FOUND);
    assert_eq!(json_of(&again)["error"]["code"], "not_subscribed");
    let unnamed = send_json(
        &app,
        Method::POST,
        "/push/subscriptions/renew",
        &body("http://127.0.0.1:9/push/newer", Value::Null, None),
    )
    .await;
    unnamed.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(json_of(&unnamed)["error"]["field"], "old_endpoint");
    assert_eq!(app.store.count_push_subscriptions().await.unwrap(), 1);
}

#[tokio::test]
async fn one_network_may_not_subscribe_by_the_thousand() {
    let app = site().await;
    let limit = broadsheet::push::limit::WRITES_PER_MINUTE_PER_NETWORK;
    for _ in 0..limit {
        send_json(&app, Method::POST, "/push/subscriptions", "{}")
            .await
            .assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    }
    let refused = send_json(&app, Method::POST, "/push/subscriptions", "{}").await;
    refused.assert_status(StatusCode::TOO_MANY_REQUESTS);
    assert!(refused.header("retry-after").is_some());
    assert_eq!(json_of(&refused)["error"]["code"], "rate_limited");
    // Asking what a browser follows is not a write: every page load may do it.
    send_json(&app, Method::POST, "/push/status", r#"{"endpoint": "x"}"#)
        .await
        .assert_status(StatusCode::OK);
}

#[tokio::test]
async fn pushes_decrypt_at_an_independent_push_service() {
    if !push_service_available() {
        return;
    }
    let app = site().await;
    let service = PushService::start(3, &vapid_key(&app).await);
    // The site; a tag of the story; a tag the story does not have.
    story(&app, "Earlier news", &["Sport", "NATO"]).await;
    subscribe(&app, &service, 0, None).await;
    subscribe(&app, &service, 1, Some("nato")).await;
    subscribe(&app, &service, 2, Some("sport")).await;
    let article = story(&app, "Summit ends with a pledge", &["NATO"]).await;

    let job = announce(app.store.as_ref(), article.id).await.unwrap();
    assert_eq!(announce(app.store.as_ref(), article.id).await.unwrap(), job);
    let worker = worker(&app);
    assert_eq!(worker.run_due(clock::now()).await.unwrap(), 1);
    let job = app.store.job_by_id(job).await.unwrap();
    assert_eq!(
        (job.kind.as_str(), job.state),
        (PUSH_ARTICLE, JobState::Done)
    );

    let records = service.records().await;
    assert_eq!(records.len(), 2, "{records:#?}");
    let expected = json!({
        "title": "Summit ends with a pledge",
        "url": format!("{BASE_URL}{}", app.permalink(&article).await),
        "excerpt": article.excerpt,
    });
    for n in [0, 1] {
        let got = accepted_for(&records, n);
        assert_eq!(got.len(), 1, "subscription {n}: {records:#?}");
        let record = got[0];
        assert_eq!(record["error"], Value::Null);
        assert_eq!(record["message"], expected);
        assert_eq!(record["ttl"], "86400");
        assert_eq!(record["urgency"], "normal");
        assert_eq!(record["content_encoding"], "aes128gcm");
        assert_eq!(record["vapid"]["aud"], service.url);
    }
    let progress = app.store.push_progress(article.id).await.unwrap();
    assert_eq!((progress.sent, progress.pending), (2, 0));
}

#[tokio::test]
async fn a_gone_subscription_is_removed() {
    if !push_service_available() {
        return;
    }
    let app = site().await;
    let service = PushService::start(2, &vapid_key(&app).await);
    subscribe(&app, &service, 0, None).await;
    subscribe(&app, &service, 1, None).await;
    service.control(json!({"statuses": {"1": 410}})).await;
    let article = story(&app, "Ferry timetable changes", &[]).await;

    let job = announce(app.store.as_ref(), article.id).await.unwrap();
    worker(&app).run_due(clock::now()).await.unwrap();
    assert_eq!(
        app.store.job_by_id(job).await.unwrap().state,
        JobState::Done
    );
    let records = service.records().await;
    assert_eq!(accepted_for(&records, 0).len(), 1);
    assert!(matches!(
        app.store
            .push_subscription_by_endpoint(service.endpoint(1))
            .await,
        Err(StoreError::NotFound)
    ));
    let kept = app
        .store
        .push_subscription_by_endpoint(service.endpoint(0))
        .await
        .unwrap();
    assert_eq!(kept.topics, [PushTopic::Site]);
    assert_eq!(app.store.count_push_subscriptions().await.unwrap(), 1);
}

#[tokio::test]
async fn a_retried_send_reaches_only_the_remaining_subscriptions() {
    if !push_service_available() {
        return;
    }
    let app = site().await;
    let service = PushService::start(6, &vapid_key(&app).await);
    for n in 0..6 {
        subscribe(&app, &service, n, None).await;
    }
    // The push service takes two pushes, then answers 503 to the rest.
    service.control(json!({"accept_limit": 2})).await;
    let article = story(&app, "Storm closes the harbour", &[]).await;
    let job = announce(app.store.as_ref(), article.id).await.unwrap();
    let worker = worker(&app);
    worker.run_due(clock::now()).await.unwrap();

    let failed = app.store.job_by_id(job).await.unwrap();
    assert_eq!(failed.state, JobState::Queued, "retried by the queue");
    assert!(
        failed
            .last_error
            .as_deref()
            .unwrap()
            .starts_with("4 of 6 pushes")
    );
    let first = service.records().await;
    assert_eq!(first.len(), 6);
    let took: Vec<usize> = (0..6)
        .filter(|&n| accepted_for(&first, n).len() == 1)
        .collect();
    assert_eq!(took.len(), 2);

    // The service recovers; the queue's retry sends to the four others only.
    service.control(json!({"accept_limit": null})).await;
    assert_eq!(worker.run_due(failed.run_at).await.unwrap(), 1);
    assert_eq!(
        app.store.job_by_id(job).await.unwrap().state,
        JobState::Done
    );
    let all = service.records().await;
    assert_eq!(all.len(), 10, "6 tries, then the 4 that failed: {all:#?}");
    for n in 0..6 {
        assert_eq!(accepted_for(&all, n).len(), 1, "subscription {n}");
    }
    for record in &all[6..] {
        let n = record["subscription"].as_u64().unwrap() as usize;
        assert!(!took.contains(&n), "{n} was sent again");
    }
    let progress = app.store.push_progress(article.id).await.unwrap();
    assert_eq!(
        (progress.sent, progress.pending, progress.failed),
        (6, 0, 0)
    );
}

#[tokio::test]
async fn a_send_resumed_after_a_crash_skips_what_was_acknowledged_or_in_flight() {
    if !push_service_available() {
        return;
    }
    let app = site().await;
    let service = PushService::start(6, &vapid_key(&app).await);
    for n in 0..6 {
        subscribe(&app, &service, n, None).await;
    }
    let article = story(&app, "Power cut in the old town", &[]).await;
    // A first sender planned the pushes, claimed three, heard back for two and died
    // with the third in flight.
    let now = clock::now();
    app.store.plan_push(article.id, now).await.unwrap();
    let claimed = app
        .store
        .claim_pushes(article.id, now, now, std::time::Duration::from_secs(120), 3)
        .await
        .unwrap();
    for done in &claimed[..2] {
        app.store
            .finish_push(
                article.id,
                done.subscription.id,
                &broadsheet_domain::PushOutcome::Sent,
                now,
            )
            .await
            .unwrap();
    }
    let in_flight = &claimed[2].subscription.endpoint;

    // The job, run again, sends to the three never claimed only, and stays queued
    // for the one in flight (sent once its lease runs out, as the store tests show).
    let job = announce(app.store.as_ref(), article.id).await.unwrap();
    worker(&app).run_due(clock::now()).await.unwrap();
    let records = service.records().await;
    let mut reached: Vec<&str> = records
        .iter()
        .map(|r| service.endpoint(r["subscription"].as_u64().unwrap() as usize))
        .collect();
    let never_claimed: Vec<&str> = (0..6)
        .map(|n| service.endpoint(n))
        .filter(|e| !claimed.iter().any(|c| c.subscription.endpoint == *e))
        .collect();
    reached.sort_unstable();
    assert_eq!(reached, never_claimed, "each once, in any order");
    assert!(!reached.contains(&in_flight.as_str()));
    let progress = app.store.push_progress(article.id).await.unwrap();
    assert_eq!((progress.sent, progress.pending), (5, 1));
    assert_eq!(
        app.store.job_by_id(job).await.unwrap().state,
        JobState::Queued
    );
}
