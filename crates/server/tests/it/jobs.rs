//! The job worker on a real site: scheduled articles published on time (also the ones
//! whose job was never enqueued), email written to the outbox as `.eml` files, a woken
//! worker, and failing jobs retried after their backoff until they are dead.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use broadsheet::config::{Config, RawConfig, RawEmail, RawJobs};
use broadsheet::jobs::publish::{PUBLISH_ARTICLE, schedule};
use broadsheet::jobs::{JobsHandle, Worker};
use broadsheet::mail::{Email, SEND_EMAIL, enqueue_email};
use broadsheet_domain::{JobState, JobStore, NewJob, Status, Store, clock};
use chrono::TimeDelta;

use crate::process::Site;
use crate::util::{TestApp, article};

const WITHIN: Duration = Duration::from_secs(10);

/// A config for `app`'s site with a fast worker and, optionally, an `[email]` table.
fn config(app: &TestApp, email: Option<RawEmail>) -> Config {
    Config::from_raw(RawConfig {
        data_dir: Some(app.data_dir().to_owned()),
        jobs: Some(RawJobs {
            poll_interval_ms: Some(20),
        }),
        email,
        ..RawConfig::default()
    })
    .expect("valid config")
}

fn worker(app: &TestApp, config: &Config, handle: JobsHandle) -> Worker {
    let store: Arc<dyn Store> = app.store.clone();
    Worker::new(store, config, handle).expect("the worker sets up")
}

/// Waits until `check` holds, for at most [`WITHIN`].
async fn eventually<F: std::future::Future<Output = bool>>(what: &str, check: impl Fn() -> F) {
    let start = Instant::now();
    while !check().await {
        assert!(
            start.elapsed() < WITHIN,
            "{what} did not happen within {WITHIN:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn emails_in(outbox: &Path) -> Vec<PathBuf> {
    match std::fs::read_dir(outbox) {
        Ok(entries) => entries
            .map(|e| e.expect("outbox entry").path())
            .filter(|p| p.extension().is_some_and(|x| x == "eml"))
            .collect(),
        Err(_) => Vec::new(),
    }
}

/// The headers of an RFC 5322 message, unfolded, by lowercase name.
fn headers(message: &str) -> Vec<(String, String)> {
    let head = message
        .split("\r\n\r\n")
        .next()
        .expect("a header block")
        .replace("\r\n ", " ")
        .replace("\r\n\t", " ");
    head.split("\r\n")
        .map(|line| {
            let (name, value) = line
                .split_once(':')
                .unwrap_or_else(|| panic!("not a header line: {line:?}"));
            (name.to_ascii_lowercase(), value.trim().to_owned())
        })
        .collect()
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> &'a str {
    headers
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
        .unwrap_or_else(|| panic!("no {name} header in {headers:?}"))
}

#[tokio::test]
async fn scheduled_articles_are_published_by_the_worker_once() {
    let app = TestApp::new().await;
    let ada = app.user("Ada Lovelace").await;
    let soon = clock::now() + TimeDelta::milliseconds(300);
    let scheduled = |title: &str| {
        let mut input = article(&ada, title, "Later.", &[]);
        input.status = Status::Scheduled;
        input.published_at = Some(soon);
        input
    };
    // Saved as the admin does, with its job enqueued (twice: saving again is harmless)...
    let saved = app.insert(scheduled("Saved and scheduled")).await;
    schedule(app.store.as_ref(), &saved).await.unwrap();
    schedule(app.store.as_ref(), &saved).await.unwrap();
    // ...and saved by a process that died before enqueueing: the worker's startup
    // sweep finds it.
    let orphan = app.insert(scheduled("Saved, then a crash")).await;
    // A draft is left alone.
    let draft = app
        .insert({
            let mut input = article(&ada, "Just a draft", "Not yet.", &[]);
            input.status = Status::Draft;
            input
        })
        .await;
    schedule(app.store.as_ref(), &draft).await.unwrap();

    let config = config(&app, None);
    let running = worker(&app, &config, JobsHandle::default()).spawn();
    for id in [saved.id, orphan.id] {
        eventually("publication", || async {
            app.store.article_by_id(id).await.unwrap().status == Status::Published
        })
        .await;
    }
    running.stop().await;

    assert!(clock::now() >= soon, "not before its time");
    for id in [saved.id, orphan.id] {
        assert_eq!(
            app.store.article_by_id(id).await.unwrap().published_at,
            Some(soon)
        );
    }
    assert_eq!(
        app.store.article_by_id(draft.id).await.unwrap().status,
        Status::Draft
    );
    let jobs = app.store.list_jobs(None, 100).await.unwrap();
    assert_eq!(jobs.len(), 2, "one job per scheduled article: {jobs:?}");
    for job in jobs {
        assert_eq!(job.kind, PUBLISH_ARTICLE);
        assert_eq!((job.state, job.attempts), (JobState::Done, 1), "{job:?}");
    }
}

#[tokio::test]
async fn an_email_job_writes_a_parseable_eml_into_the_outbox() {
    let app = TestApp::new().await;
    let config = config(
        &app,
        Some(RawEmail {
            from: Some("The Desk <desk@news.example.com>".into()),
            ..RawEmail::default()
        }),
    );
    let worker = worker(&app, &config, JobsHandle::default());
    let outbox = worker.outbox().expect("no SMTP: the outbox").to_owned();
    assert_eq!(outbox, app.data_dir().join("outbox"));

    let email = Email {
        to: "Grace Hopper <grace@example.org>".into(),
        subject: "Your password reset link".into(),
        text: "Follow this link within the hour.".into(),
        html: Some("<p>Follow <a href=\"https://news.example.com/r\">this link</a>.</p>".into()),
    };
    let id = enqueue_email(app.store.as_ref(), &email, Some("reset:grace:1".into()))
        .await
        .unwrap();
    assert_eq!(
        enqueue_email(app.store.as_ref(), &email, Some("reset:grace:1".into()))
            .await
            .unwrap(),
        id,
        "the same key queues once"
    );
    assert_eq!(worker.run_due(clock::now()).await.unwrap(), 1);
    assert_eq!(app.store.job_by_id(id).await.unwrap().state, JobState::Done);

    let files = emails_in(&outbox);
    assert_eq!(files.len(), 1, "{files:?}");
    let message = std::fs::read_to_string(&files[0]).unwrap();
    let headers = headers(&message);
    assert_eq!(
        header(&headers, "to"),
        "\"Grace Hopper\" <grace@example.org>"
    );
    assert_eq!(
        header(&headers, "from"),
        "\"The Desk\" <desk@news.example.com>"
    );
    assert_eq!(header(&headers, "subject"), "Your password reset link");
    assert!(header(&headers, "content-type").starts_with("multipart/alternative"));
    assert!(
        message.contains("Follow this link within the hour."),
        "{message}"
    );
    assert!(message.contains("text/html"), "{message}");
}

#[tokio::test]
async fn enqueueing_and_waking_sends_without_waiting_for_the_poll() {
    let app = TestApp::new().await;
    let mut config = config(&app, None);
    // A poll this slow never comes during the test: only the wake-up can deliver.
    config.jobs.poll_interval = Duration::from_secs(3600);
    let handle = JobsHandle::default();
    let worker = worker(&app, &config, handle.clone());
    let outbox = worker.outbox().unwrap().to_owned();
    let running = worker.spawn();
    // Let the worker finish its first round and go to sleep.
    tokio::time::sleep(Duration::from_millis(200)).await;

    let email = Email {
        to: "ada@example.org".into(),
        subject: "Hello".into(),
        text: "Plain text only.".into(),
        html: None,
    };
    enqueue_email(app.store.as_ref(), &email, None)
        .await
        .unwrap();
    handle.wake();
    eventually("the email", || async { emails_in(&outbox).len() == 1 }).await;
    running.stop().await;
    let message = std::fs::read_to_string(&emails_in(&outbox)[0]).unwrap();
    assert!(header(&headers(&message), "content-type").starts_with("text/plain"));
}

#[tokio::test]
async fn failing_jobs_are_retried_after_their_backoff_then_dead() {
    let app = TestApp::new().await;
    // A port nothing listens on: the SMTP connection is refused every time.
    let closed_port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let config = config(
        &app,
        Some(RawEmail {
            smtp_host: Some("127.0.0.1".into()),
            smtp_port: Some(closed_port),
            smtp_tls: Some("none".into()),
            ..RawEmail::default()
        }),
    );
    let worker = worker(&app, &config, JobsHandle::default());
    assert_eq!(worker.outbox(), None);

    let email = Email {
        to: "private.person@example.org".into(),
        subject: "Never arrives".into(),
        text: "x".into(),
        html: None,
    };
    let payload = serde_json::to_value(&email).unwrap();
    let id = app
        .store
        .enqueue_job(&NewJob::new(SEND_EMAIL, payload, clock::now()).with_max_attempts(2))
        .await
        .unwrap();
    // An unknown kind (from a newer node, say) fails too, and says why.
    let unknown = app
        .store
        .enqueue_job(
            &NewJob::new("reticulate_splines", serde_json::json!({}), clock::now())
                .with_max_attempts(1),
        )
        .await
        .unwrap();

    let first_try = clock::now();
    assert_eq!(worker.run_due(first_try).await.unwrap(), 2);
    let job = app.store.job_by_id(id).await.unwrap();
    assert_eq!((job.state, job.attempts), (JobState::Queued, 1));
    let error = job.last_error.clone().unwrap();
    assert!(error.contains("SMTP"), "{error}");
    assert!(
        !error.contains("private.person"),
        "no address in errors: {error}"
    );
    let wait = job.run_at - first_try;
    assert!(
        wait >= TimeDelta::seconds(30) && wait < TimeDelta::seconds(40),
        "the first backoff is 30 s, not {wait}"
    );
    let unknown = app.store.job_by_id(unknown).await.unwrap();
    assert_eq!(unknown.state, JobState::Dead);
    assert!(
        unknown
            .last_error
            .unwrap()
            .contains("unknown job kind \"reticulate_splines\""),
    );

    assert_eq!(
        worker.run_due(clock::now()).await.unwrap(),
        0,
        "still backing off"
    );
    assert_eq!(
        worker.run_due(job.run_at).await.unwrap(),
        1,
        "retried at its time"
    );
    let job = app.store.job_by_id(id).await.unwrap();
    assert_eq!((job.state, job.attempts), (JobState::Dead, 2));
    assert_eq!(app.store.job_counts().await.unwrap().dead, 2);
}

#[tokio::test]
async fn serve_says_where_the_outbox_is_and_stops_its_worker_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let server = Site::sqlite(dir.path()).serve();
    let outbox = dir.path().join("outbox");
    assert!(
        server
            .startup_log
            .contains(&format!("emails are written to {}", outbox.display())),
        "{}",
        server.startup_log
    );
    let status = server.terminate();
    assert!(status.success(), "{status:?}");
}
