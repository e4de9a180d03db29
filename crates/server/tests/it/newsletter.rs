//! The newsletter end to end, through a real SMTP server on loopback
//! ([`crate::smtp_sink`]): subscribe, confirm, publish, receive exactly one email per
//! subscriber with the right headers, unsubscribe in one POST and receive nothing
//! after; a send interrupted halfway resumes with exactly the remaining subscribers;
//! two nodes on one PostgreSQL send each subscriber one email per article; and bad
//! input (bad addresses, unknown tags, repeated subscriptions, forged or expired
//! links) is answered clearly, with nothing lost and nothing leaked.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use broadsheet::config::{Config, RawConfig, RawJobs};
use broadsheet::jobs::{JobsHandle, Worker};
use broadsheet::signing::SigningKey;
use broadsheet_domain::{
    Article, JobState, JobStore, Role, Store, SubscribeRequest, SubscriberId, SubscriberStatus,
    SubscriptionStore, User, clock,
};
use chrono::{DateTime, TimeDelta, Utc};

use crate::smtp_sink::{self, Received, SmtpSink};
use crate::util::{BASE_URL, TestApp, TestResponse, article};

/// A worker for the site in `data_dir` that sends through `sink`.
fn worker(store: Arc<dyn Store>, data_dir: &Path, sink: &SmtpSink) -> Worker {
    let config = Config::from_raw(RawConfig {
        data_dir: Some(data_dir.to_owned()),
        base_url: Some(BASE_URL.into()),
        email: Some(sink.email_config()),
        jobs: Some(RawJobs {
            poll_interval_ms: Some(20),
        }),
        ..RawConfig::default()
    })
    .expect("valid config");
    Worker::new(store, &config, JobsHandle::default()).expect("the worker sets up")
}

/// Runs every job due at `now + ahead` until none is left.
async fn drain(worker: &Worker, ahead: TimeDelta) {
    for _ in 0..500 {
        if worker.run_due(clock::now() + ahead).await.expect("claim") == 0 {
            return;
        }
    }
    panic!("jobs kept coming");
}

/// Publishes an article the way the editor and the CLI do (`publish::save`), so it is
/// announced.
async fn publish(store: &dyn Store, author: &User, title: &str, tags: &[&str]) -> Article {
    let mut input = article(author, title, "The story, in words.", tags);
    input.published_at = Some(clock::now() - TimeDelta::minutes(1));
    let settings = store.settings().await.expect("settings");
    let write = broadsheet::publish::prepare(input, &settings).expect("valid article");
    broadsheet::publish::save(store, None, &write)
        .await
        .expect("save")
}

/// Posts a form to the site as a browser on the site would.
pub async fn post_form(app: &TestApp, path: &str, fields: &[(&str, &str)]) -> TestResponse {
    let body = serde_urlencoded::to_string(fields).expect("form");
    let request = Request::post(path)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::ORIGIN, BASE_URL)
        .body(Body::from(body))
        .expect("request");
    app.send(app.router(), request).await
}

/// The site path of the first link in `text` that starts with `BASE_URL + prefix`.
fn link_in(text: &str, prefix: &str) -> String {
    let start = text
        .find(&format!("{BASE_URL}{prefix}"))
        .unwrap_or_else(|| panic!("no {prefix} link in {text}"));
    let link = text[start..].split_whitespace().next().expect("a link");
    link[BASE_URL.len()..].to_owned()
}

/// Messages by their one recipient.
fn by_recipient(messages: &[Received]) -> BTreeMap<String, Vec<Received>> {
    let mut map: BTreeMap<String, Vec<Received>> = BTreeMap::new();
    for m in messages {
        assert_eq!(m.rcpt.len(), 1, "one recipient per message: {:?}", m.rcpt);
        map.entry(m.rcpt[0].clone()).or_default().push(m.clone());
    }
    map
}

async fn confirmed(store: &dyn Store, email: &str) -> SubscriberId {
    let request = SubscribeRequest::check(email, &[]).expect("valid");
    let sub = store.add_subscriber(&request, clock::now()).await.unwrap();
    store
        .confirm_subscriber(sub.id, clock::now())
        .await
        .unwrap();
    sub.id
}

#[tokio::test]
async fn subscribe_confirm_publish_and_unsubscribe_through_a_real_smtp_server() {
    if !smtp_sink::available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let sink = SmtpSink::start(dir.path(), 0, None);
    let app = TestApp::new().await;
    let writer = app.user("Ada Lovelace").await;
    // The tags readers may choose exist once an article carries them.
    app.publish(
        &writer,
        "Earlier harbour story",
        "Words.",
        &["Harbour", "Ferries"],
    )
    .await;
    let worker = worker(app.store.clone(), app.data_dir(), &sink);

    // The form is on the home page and under articles, with the article's tags.
    let home = app.get("/").await;
    assert_eq!(
        home.attrs("form.subscribe-form", "action"),
        ["/newsletter/subscribe"]
    );
    for (email, tags) in [
        ("ann@example.org", vec![]),
        ("bo@example.org", vec!["harbour"]),
        ("cy@example.org", vec!["ferries"]),
        ("dee@example.org", vec![]),
    ] {
        let mut fields = vec![("email", email)];
        fields.extend(tags.iter().map(|t| ("tag", *t)));
        let page = post_form(&app, "/newsletter/subscribe", &fields).await;
        page.assert_status(StatusCode::OK);
        assert_eq!(page.texts("h1"), ["Check your inbox"]);
    }
    drain(&worker, TimeDelta::zero()).await;

    // Double opt-in: one confirmation each, with a link that shows a button, and the
    // button confirms. Dee never does.
    let confirmations = by_recipient(&sink.received());
    assert_eq!(confirmations.len(), 4, "{confirmations:?}");
    for email in ["ann@example.org", "bo@example.org", "cy@example.org"] {
        let mail = &confirmations[email][0];
        assert!(
            mail.subject.starts_with("Confirm your subscription"),
            "{mail:?}"
        );
        assert_eq!(mail.content_type, "multipart/alternative");
        let link = link_in(mail.text.as_deref().unwrap(), "/newsletter/confirm?");
        assert!(
            mail.html
                .as_deref()
                .unwrap()
                .contains("/newsletter/confirm?")
        );
        let page = app.get(&link).await;
        page.assert_status(StatusCode::OK);
        let form: Vec<(String, String)> = ["id", "expires", "sig"]
            .iter()
            .map(|name| {
                let value = page.attrs(&format!("input[name={name}]"), "value").pop();
                (
                    (*name).to_owned(),
                    value.expect("the button's form carries the link"),
                )
            })
            .collect();
        let fields: Vec<(&str, &str)> =
            form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let done = post_form(&app, "/newsletter/confirm", &fields).await;
        done.assert_status(StatusCode::OK);
        assert!(done.body.contains("You are subscribed"), "{}", done.body);
    }
    // An address whose mailbox is gone: refused for good when the article goes out.
    let bounce = confirmed(app.store.as_ref(), "bounce@example.org").await;
    let before = sink.received().len();

    let story = publish(
        app.store.as_ref(),
        &writer,
        "Harbour bridge opens",
        &["Harbour"],
    )
    .await;
    drain(&worker, TimeDelta::zero()).await;
    let received = sink.received();
    let news = by_recipient(&received[before..]);
    assert_eq!(
        news.keys().collect::<Vec<_>>(),
        ["ann@example.org", "bo@example.org"],
        "everything-subscribers and harbour-subscribers, not ferries, not the unconfirmed"
    );
    let url = format!("{BASE_URL}{}", app.permalink(&story).await);
    for (email, mails) in &news {
        assert_eq!(mails.len(), 1, "exactly one email to {email}");
        let mail = &mails[0];
        assert_eq!(mail.subject, "Harbour bridge opens");
        assert_eq!(mail.to, *email);
        assert_eq!(mail.content_type, "multipart/alternative");
        assert!(mail.text.as_deref().unwrap().contains(&url), "{mail:?}");
        assert!(
            mail.html
                .as_deref()
                .unwrap()
                .contains(&format!("href=\"{url}\""))
        );
        let unsubscribe = mail.list_unsubscribe.as_deref().expect("List-Unsubscribe");
        assert!(
            unsubscribe.starts_with(&format!("<{BASE_URL}/newsletter/unsubscribe?token=n")),
            "{unsubscribe}"
        );
        assert_eq!(
            mail.list_unsubscribe_post.as_deref(),
            Some("List-Unsubscribe=One-Click")
        );
    }
    assert_eq!(
        app.store.delivery_counts(story.id).await.unwrap().failed,
        1,
        "the refused address"
    );
    let gone = app.store.subscriber_by_id(bounce).await.unwrap();
    assert_eq!(
        (gone.failures, gone.status),
        (1, SubscriberStatus::Confirmed)
    );

    // One click, as a mail program does it (RFC 8058): a POST to the header's link.
    let header = news["ann@example.org"][0].list_unsubscribe.clone().unwrap();
    let path = header.trim_matches(['<', '>'])[BASE_URL.len()..].to_owned();
    let request = Request::post(&path)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from("List-Unsubscribe=One-Click"))
        .unwrap();
    app.send(app.router(), request)
        .await
        .assert_status(StatusCode::OK);

    let before = sink.received().len();
    publish(
        app.store.as_ref(),
        &writer,
        "Harbour ferry returns",
        &["Harbour"],
    )
    .await;
    drain(&worker, TimeDelta::zero()).await;
    let received = sink.received();
    let after = by_recipient(&received[before..]);
    assert_eq!(
        after.keys().collect::<Vec<_>>(),
        ["bo@example.org"],
        "nothing for Ann after she unsubscribed"
    );
}

#[tokio::test]
async fn an_interrupted_send_resumes_with_exactly_the_remaining_subscribers() {
    if !smtp_sink::available() {
        return;
    }
    let (first_dir, second_dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    // The server stops taking mail after 50 recipients.
    let sink = SmtpSink::start(first_dir.path(), 0, Some(50));
    let app = TestApp::new().await;
    let writer = app.user("Ada Lovelace").await;
    let mut everyone = BTreeSet::new();
    for n in 0..120 {
        let email = format!("reader{n:03}@example.org");
        confirmed(app.store.as_ref(), &email).await;
        everyone.insert(email);
    }
    let worker = worker(app.store.clone(), app.data_dir(), &sink);
    let story = publish(app.store.as_ref(), &writer, "The big story", &[]).await;
    drain(&worker, TimeDelta::zero()).await;

    let first: Vec<String> = sink.received().into_iter().flat_map(|m| m.rcpt).collect();
    assert_eq!(first.len(), 50);
    let counts = app.store.delivery_counts(story.id).await.unwrap();
    assert_eq!((counts.sent, counts.pending, counts.sending), (50, 70, 0));
    let senders = app
        .store
        .list_jobs(Some(JobState::Queued), 50)
        .await
        .unwrap()
        .into_iter()
        .filter(|j| j.kind == "newsletter_send")
        .count();
    assert!(senders >= 1, "the failed sender waits for its retry");

    // The server is back (a new one on the same port); the retries run.
    let port = sink.port;
    drop(sink);
    let sink = SmtpSink::start(second_dir.path(), port, None);
    drain(&worker, TimeDelta::hours(2)).await;
    let second: Vec<String> = sink.received().into_iter().flat_map(|m| m.rcpt).collect();
    assert_eq!(second.len(), 70, "exactly the remaining subscribers");
    let first: BTreeSet<String> = first.into_iter().collect();
    let second: BTreeSet<String> = second.into_iter().collect();
    assert!(first.is_disjoint(&second), "nobody twice");
    assert_eq!(
        first.union(&second).cloned().collect::<BTreeSet<_>>(),
        everyone
    );
    assert_eq!(app.store.delivery_counts(story.id).await.unwrap().sent, 120);
}

#[tokio::test]
async fn two_nodes_on_one_postgres_send_each_subscriber_one_email_per_article() {
    if !smtp_sink::available() {
        return;
    }
    let Some(db) = crate::multinode::TestDatabase::create().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let sink = SmtpSink::start(&dir.path().join("mail"), 0, None);
    let open = || async {
        let store = broadsheet_store_postgres::PgStore::connect(&db.url)
            .await
            .expect("connect");
        store.migrate().await.expect("migrate");
        Arc::new(store) as Arc<dyn Store>
    };
    let (a, b) = (open().await, open().await);
    let writer = {
        let new = broadsheet_domain::NewUser::validate(
            "Ada Lovelace",
            "ada@example.com",
            broadsheet_domain::Role::Author,
            None,
        )
        .unwrap();
        a.create_user(&new).await.unwrap()
    };
    const READERS: usize = 60;
    for n in 0..READERS {
        confirmed(a.as_ref(), &format!("reader{n:03}@example.org")).await;
    }
    let nodes = [
        worker(a.clone(), &dir.path().join("a"), &sink).spawn(),
        worker(b.clone(), &dir.path().join("b"), &sink).spawn(),
    ];
    // Published at once, one on each node.
    let (one, two) = tokio::join!(
        publish(a.as_ref(), &writer, "Morning edition", &[]),
        publish(b.as_ref(), &writer, "Evening edition", &[]),
    );
    let start = Instant::now();
    while sink.received().len() < 2 * READERS {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "only {} emails arrived",
            sink.received().len()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Both nodes keep polling: give a duplicate, were one possible, time to arrive.
    tokio::time::sleep(Duration::from_millis(500)).await;
    for node in nodes {
        node.stop().await;
    }
    let mut seen: BTreeMap<(String, String), u32> = BTreeMap::new();
    for mail in sink.received() {
        *seen
            .entry((mail.rcpt[0].clone(), mail.subject))
            .or_default() += 1;
    }
    assert_eq!(seen.len(), 2 * READERS, "every subscriber, both articles");
    assert!(
        seen.values().all(|n| *n == 1),
        "each exactly once: {seen:?}"
    );
    for story in [one, two] {
        assert_eq!(
            a.delivery_counts(story.id).await.unwrap().sent,
            READERS as u64
        );
    }
    drop((a, b));
    db.drop_database().await;
}

#[tokio::test]
async fn bad_subscriptions_and_links_are_refused_clearly_and_leak_nothing() {
    let app = TestApp::new().await;
    let writer = app.user("Ada Lovelace").await;
    app.publish(&writer, "Tagged", "Words.", &["Harbour"]).await;

    let bad = post_form(
        &app,
        "/newsletter/subscribe",
        &[("email", "ann at example")],
    )
    .await;
    bad.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad.attrs("#subscribe-email", "value"), ["ann at example"]);
    assert!(bad.body.contains("not an email address"), "{}", bad.body);
    let unknown = post_form(
        &app,
        "/newsletter/subscribe",
        &[("email", "ann@example.org"), ("tag", "no-such-tag")],
    )
    .await;
    unknown.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        unknown.body.contains("not a tag of this site"),
        "{}",
        unknown.body
    );
    assert_eq!(
        unknown.attrs("#subscribe-email", "value"),
        ["ann@example.org"]
    );
    assert_eq!(app.store.subscriber_counts().await.unwrap().total(), 0);

    let request = Request::post("/newsletter/subscribe")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::ORIGIN, "https://elsewhere.example")
        .body(Body::from("email=ann%40example.org"))
        .unwrap();
    app.send(app.router(), request)
        .await
        .assert_status(StatusCode::FORBIDDEN);

    // Twice, and once more after confirming: one subscriber, the same answer, and
    // one confirmation email (at most one an hour).
    let first = post_form(
        &app,
        "/newsletter/subscribe",
        &[("email", "ann@example.org")],
    )
    .await;
    let again = post_form(
        &app,
        "/newsletter/subscribe",
        &[("email", "ANN@example.org")],
    )
    .await;
    first.assert_status(StatusCode::OK);
    assert_eq!(first.body, again.body);
    let subscribers = app.store.list_subscribers(None, None, 10).await.unwrap();
    assert_eq!(subscribers.len(), 1);
    let ann = subscribers[0].id;
    app.store
        .confirm_subscriber(ann, clock::now())
        .await
        .unwrap();
    let confirmed_again = post_form(
        &app,
        "/newsletter/subscribe",
        &[("email", "ann@example.org")],
    )
    .await;
    assert_eq!(
        confirmed_again.body, first.body,
        "no hint that Ann is subscribed"
    );
    let fresh = post_form(
        &app,
        "/newsletter/subscribe",
        &[("email", "zed@example.org")],
    )
    .await;
    assert_eq!(
        fresh.body.replace("zed@example.org", "ann@example.org"),
        first.body,
        "a new address gets the very same page"
    );
    let emails = app
        .store
        .list_jobs(None, 50)
        .await
        .unwrap()
        .into_iter()
        .filter(|j| j.kind == "send_email")
        .count();
    assert_eq!(emails, 2, "one confirmation for Ann, one for Zed");

    // Confirmation links: forged, for another subscriber, expired, or junk.
    let key = SigningKey::load(app.store.as_ref()).await.unwrap();
    let zed = app
        .store
        .list_subscribers(None, Some(ann), 10)
        .await
        .unwrap()[0]
        .clone();
    let good =
        broadsheet::newsletter::confirm::link(&key, BASE_URL, zed.id, &zed.email, clock::now());
    let good_path = &good[BASE_URL.len()..];
    app.get(good_path).await.assert_status(StatusCode::OK);
    let forged = format!("{}0", &good_path[..good_path.len() - 1]);
    let other = good_path.replace(&format!("id={}", zed.id), &format!("id={ann}"));
    for path in [
        forged.as_str(),
        &other,
        "/newsletter/confirm?id=x&expires=1&sig=zz",
        "/newsletter/confirm",
    ] {
        let page = app.get(path).await;
        page.assert_status(StatusCode::FORBIDDEN);
        assert!(page.body.contains("not valid"), "{path}: {}", page.body);
    }
    let old: DateTime<Utc> = clock::now() - TimeDelta::days(4);
    let expired = broadsheet::newsletter::confirm::link(&key, BASE_URL, zed.id, &zed.email, old);
    let page = app.get(&expired[BASE_URL.len()..]).await;
    page.assert_status(StatusCode::GONE);
    assert!(page.body.contains("expired"), "{}", page.body);
    assert_eq!(
        app.store.subscriber_by_id(zed.id).await.unwrap().status,
        SubscriberStatus::Pending,
        "nothing confirmed by a bad link"
    );

    // A forged unsubscribe token stops nothing.
    let request = Request::post(format!("/newsletter/unsubscribe?token=n{ann}.00"))
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from("List-Unsubscribe=One-Click"))
        .unwrap();
    app.send(app.router(), request)
        .await
        .assert_status(StatusCode::FORBIDDEN);
    assert_eq!(
        app.store.subscriber_by_id(ann).await.unwrap().status,
        SubscriberStatus::Confirmed
    );
}

#[tokio::test]
async fn admins_list_and_export_subscribers_and_editors_may_not() {
    let app = TestApp::new().await;
    let admin = app.user(Role::Admin).await;
    let editor = app.user(Role::Editor).await;
    let ann = confirmed(app.store.as_ref(), "ann@example.org").await;
    let request = SubscribeRequest::check("=cmd@example.org", &["harbour".into()]).unwrap();
    app.store
        .add_subscriber(&request, clock::now())
        .await
        .unwrap();

    let session = app.sign_in(&admin).await;
    let page = session.get("/admin/subscribers").await;
    page.assert_status(StatusCode::OK);
    assert_eq!(
        page.texts("tr.subscriber td:nth-child(2)"),
        ["ann@example.org", "=cmd@example.org"]
    );
    let pending = session.get("/admin/subscribers?status=pending").await;
    assert_eq!(
        pending.texts("tr.subscriber td:nth-child(2)"),
        ["=cmd@example.org"]
    );
    let csv = session.get("/admin/subscribers.csv").await;
    csv.assert_status(StatusCode::OK);
    assert_eq!(csv.header("content-type"), Some("text/csv; charset=utf-8"));
    let lines: Vec<&str> = csv.body.lines().collect();
    assert_eq!(
        lines[0],
        "id,email,status,tags,failures,created_at,confirmed_at"
    );
    assert!(lines[1].starts_with(&format!("{ann},ann@example.org,confirmed,,0,")));
    assert!(
        lines[2].contains(",'=cmd@example.org,pending,harbour,0,"),
        "a formula is defused: {}",
        lines[2]
    );
    assert_eq!(lines.len(), 3);

    let editor = app.sign_in(&editor).await;
    for path in [
        "/admin/subscribers",
        "/admin/subscribers.csv",
        "/admin/webhooks",
    ] {
        editor.get(path).await.assert_status(StatusCode::FORBIDDEN);
    }
}
