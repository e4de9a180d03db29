//! The job worker on a real site: scheduled articles published on time (also the ones
//! whose job was never enqueued), email written to the outbox as `.eml` files, a woken
//! worker, failing jobs retried after their backoff until they are dead, and the
//! admin's page of jobs, where dead ones are retried by hand.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::http::{Method, StatusCode};
use broadsheet::config::{Config, RawConfig, RawEmail, RawJobs};
use broadsheet::jobs::publish::{PUBLISH_ARTICLE, schedule};
use broadsheet::jobs::{JobsHandle, Worker};
use broadsheet::mail::{Email, SEND_EMAIL, enqueue_email};
use broadsheet_domain::{Action, JobId, JobState, JobStore, NewJob, Role, Status, Store, clock};
use chrono::TimeDelta;

use crate::admin_auth::{Probe, assert_role_matrix};
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
    let (jobs, others): (Vec<_>, Vec<_>) = app
        .store
        .list_jobs(None, 100)
        .await
        .unwrap()
        .into_iter()
        .partition(|job| job.kind == PUBLISH_ARTICLE);
    assert_eq!(jobs.len(), 2, "one job per scheduled article: {jobs:?}");
    // Each publication is announced once (newsletter, webhooks).
    let announcements = others
        .iter()
        .filter(|j| j.kind == "announce_article")
        .count();
    assert_eq!(announcements, 2, "{others:?}");
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
        list_unsubscribe: None,
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
        list_unsubscribe: None,
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
        list_unsubscribe: None,
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
    // SIGTERM as soon as the server says it serves: the signal handlers are already
    // installed by then, so this is a graceful stop, not the default action's kill.
    let status = server.terminate();
    assert!(
        status.success(),
        "a graceful shutdown exits cleanly: {status:?}"
    );
}

/// A job that failed its only attempt.
async fn dead_job(app: &TestApp, payload: serde_json::Value) -> JobId {
    let now = clock::now();
    let id = app
        .store
        .enqueue_job(&NewJob::new(SEND_EMAIL, payload, now).with_max_attempts(1))
        .await
        .unwrap();
    let claimed = app
        .store
        .claim_jobs(now, Duration::from_secs(60), 10)
        .await
        .unwrap();
    assert_eq!(claimed.iter().map(|j| j.id).collect::<Vec<_>>(), [id]);
    let state = app
        .store
        .fail_job(
            id,
            "the SMTP server did not take the email: connection refused",
            now,
            now,
        )
        .await
        .unwrap();
    assert_eq!(state, JobState::Dead);
    id
}

#[tokio::test]
async fn admins_see_the_queue_dead_jobs_first_and_retry_them() {
    let app = TestApp::new().await;
    let admin = app.user(Role::Admin).await;
    let session = app.sign_in(&admin).await;
    let done = app
        .store
        .enqueue_job(&NewJob::new(
            PUBLISH_ARTICLE,
            serde_json::json!({ "article": 1 }),
            clock::now(),
        ))
        .await
        .unwrap();
    app.store
        .claim_jobs(clock::now(), Duration::from_secs(60), 10)
        .await
        .unwrap();
    app.store.complete_job(done, clock::now()).await.unwrap();
    let dead = dead_job(
        &app,
        serde_json::json!({ "to": "private.reader@example.org" }),
    )
    .await;
    let queued = app
        .store
        .enqueue_job(&NewJob::new(
            SEND_EMAIL,
            serde_json::json!({}),
            clock::now() + TimeDelta::hours(1),
        ))
        .await
        .unwrap();

    let page = session.get("/admin/jobs").await;
    page.assert_status(StatusCode::OK);
    assert_eq!(page.texts(".admin-nav a[aria-current=page]"), ["Jobs"]);
    assert_eq!(
        page.texts(".job-counts dt"),
        ["Queued", "Running", "Done", "Dead"]
    );
    assert_eq!(page.texts(".job-counts dd"), ["1", "0", "1", "1"]);
    let rows = page.attrs("tr.job", "id");
    assert_eq!(
        rows,
        [
            format!("job-{dead}"),
            format!("job-{queued}"),
            format!("job-{done}")
        ],
        "dead first, then the most recently changed"
    );
    assert_eq!(
        page.texts(&format!("#job-{dead} .job-error")),
        ["the SMTP server did not take the email: connection refused"]
    );
    assert_eq!(
        page.texts(&format!("#job-{dead} td:nth-child(4)")),
        ["1 of 1"]
    );
    assert_eq!(
        page.attrs("tr.job form", "action"),
        [format!("/admin/jobs/{dead}/retry")],
        "only dead jobs can be retried"
    );
    assert_eq!(
        page.attrs("tr.job form input[name=csrf]", "value"),
        [session.csrf.as_str()]
    );
    assert!(
        !page.body.contains("private.reader"),
        "payloads stay private"
    );

    let retried = session
        .post_form(&format!("/admin/jobs/{dead}/retry"), &[])
        .await;
    retried.assert_status(StatusCode::SEE_OTHER);
    assert_eq!(retried.location(), Some("/admin/jobs"));
    let job = app.store.job_by_id(dead).await.unwrap();
    assert_eq!((job.state, job.attempts), (JobState::Queued, 0));
    let audit = session.get("/admin/audit").await;
    assert!(
        audit.texts("td code").contains(&"job.retry".to_owned()),
        "{}",
        audit.body
    );
    assert!(audit.texts("td code").contains(&format!("job:{dead}")));

    // Only a dead job can be retried, and only one that exists.
    session
        .post_form(&format!("/admin/jobs/{dead}/retry"), &[])
        .await
        .assert_status(StatusCode::BAD_REQUEST);
    session
        .post_form("/admin/jobs/987654/retry", &[])
        .await
        .assert_status(StatusCode::NOT_FOUND);
    session
        .post_form("/admin/jobs/not-a-number/retry", &[])
        .await
        .assert_status(StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn only_admins_may_see_and_retry_jobs() {
    let app = TestApp::new().await;
    // The one role allowed retries this job; the others are refused before looking.
    let dead = dead_job(&app, serde_json::json!({})).await;
    let retry = format!("/admin/jobs/{dead}/retry");
    assert_role_matrix(
        &app,
        &[
            Probe {
                method: Method::GET,
                path: "/admin/jobs",
                fields: &[],
                action: Action::Operate,
            },
            Probe {
                method: Method::POST,
                path: &retry,
                fields: &[],
                action: Action::Operate,
            },
        ],
    )
    .await;
    assert_eq!(
        app.store.job_by_id(dead).await.unwrap().state,
        JobState::Queued
    );
}
