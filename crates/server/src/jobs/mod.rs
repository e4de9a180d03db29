//! The job worker: every node runs one, and they share the queue in the database
//! (see [`broadsheet_domain::job`]).
//!
//! Kinds: `publish_article` ([`publish`]), `send_email` ([`crate::mail`]),
//! `announce_article` ([`crate::announce`]), `newsletter_send`
//! ([`crate::newsletter::send`]), `webhook_event` and `deliver_webhook`
//! ([`crate::webhooks`]).
//!
//! The worker claims a batch of due jobs, runs each by its kind, and marks it done or
//! failed; a failed job comes back after [`backoff`] and is dead once its attempts are
//! spent. Between batches it sleeps for the poll interval, or less when this node
//! enqueued something and called [`JobsHandle::wake`]. On startup it enqueues a publish
//! job for every scheduled article (see [`publish::schedule_all`]), and now and then it
//! prunes done jobs older than a week.
//!
//! A job runs at least once: a worker that dies mid-job leaves its lease to run out,
//! and another runs the job again. Job bodies are idempotent for that reason.

pub mod publish;

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use broadsheet_domain::job::{backoff, lease_until};
use broadsheet_domain::{Job, JobState, Store, StoreError, clock};
use chrono::{DateTime, TimeDelta, Utc};
use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;

use crate::announce;
use crate::config::Config;
use crate::mail::{self, Email, Mailer};
use crate::newsletter::send;
use crate::webhooks::{deliver, events};

/// How long a claimed job is this worker's before another may take it over: longer
/// than any job takes (an SMTP conversation times out well within it).
const LEASE: Duration = Duration::from_secs(5 * 60);

/// How many jobs one claim takes. Jobs of a batch run one after another, so a small
/// batch leaves the rest to other nodes.
const BATCH: u32 = 10;

/// Done jobs are kept this long, for the admin's list, then pruned.
const KEEP_DONE: TimeDelta = TimeDelta::days(7);

/// How often the worker prunes.
const PRUNE_EVERY: Duration = Duration::from_secs(60 * 60);

/// Wakes this node's worker. Cheap to clone; kept in the app state.
#[derive(Clone, Default)]
pub struct JobsHandle {
    wake: Arc<Notify>,
}

impl JobsHandle {
    /// Tells the worker to look for due jobs now rather than at its next poll. Call it
    /// after enqueueing a job that is due at once (an email).
    pub fn wake(&self) {
        self.wake.notify_one();
    }
}

/// Runs jobs from the store.
pub struct Worker {
    store: Arc<dyn Store>,
    mailer: Mailer,
    pusher: crate::push::Pusher,
    poll_interval: Duration,
    handle: JobsHandle,
    /// Starts every link in emails and webhook bodies.
    base_url: String,
    /// Posts webhook deliveries.
    http: reqwest::Client,
}

impl Worker {
    /// A worker for the site `config` describes, woken through `handle`.
    pub fn new(
        store: Arc<dyn Store>,
        config: &Config,
        handle: JobsHandle,
    ) -> anyhow::Result<Worker> {
        Ok(Worker {
            store,
            mailer: Mailer::new(&config.email, &config.data_dir)?,
            pusher: crate::push::Pusher::new(&config.push)?,
            poll_interval: config.jobs.poll_interval,
            handle,
            base_url: config.base_url.clone(),
            http: crate::webhooks::deliver::client()?,
        })
    }

    /// The folder emails are written to when no SMTP server is configured.
    pub fn outbox(&self) -> Option<&std::path::Path> {
        self.mailer.outbox()
    }

    /// Starts the worker's loop on its own task. It runs until [`Running::stop`].
    pub fn spawn(self) -> Running {
        let (stop, stopped) = watch::channel(false);
        let task = tokio::spawn(self.run(stopped));
        Running { stop, task }
    }

    async fn run(self, mut stopped: watch::Receiver<bool>) {
        match publish::schedule_all(self.store.as_ref()).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(
                scheduled = n,
                "made sure every scheduled article has a publish job"
            ),
            // Each save enqueues its own job; the sweep only catches the ones lost.
            Err(err) => tracing::error!(%err, "cannot enqueue publish jobs for scheduled articles"),
        }
        let mut last_prune: Option<tokio::time::Instant> = None;
        loop {
            if last_prune.is_none_or(|at| at.elapsed() >= PRUNE_EVERY) {
                self.prune(clock::now()).await;
                last_prune = Some(tokio::time::Instant::now());
            }
            // A full batch suggests more are due: claim again before sleeping.
            let full = match self.run_due(clock::now()).await {
                Ok(ran) => ran == BATCH as usize,
                Err(err) => {
                    tracing::error!(%err, "cannot claim jobs; trying again at the next poll");
                    false
                }
            };
            if full && !*stopped.borrow() {
                continue;
            }
            let stop = tokio::select! {
                // A dropped `Running` stops the loop as `stop` does.
                changed = stopped.changed() => changed.is_err() || *stopped.borrow(),
                _ = self.handle.wake.notified() => false,
                _ = tokio::time::sleep(self.poll_interval) => false,
            };
            if stop {
                break;
            }
        }
    }

    /// Claims one batch of jobs due at `now` and runs them; returns how many ran.
    pub async fn run_due(&self, now: DateTime<Utc>) -> Result<usize, StoreError> {
        let jobs = self.store.claim_jobs(now, LEASE, BATCH).await?;
        for job in &jobs {
            if let Err(err) = self.run_one(job).await {
                // The job stays claimed until its lease runs out, then runs again.
                tracing::error!(job = %job.id, %err, "cannot record the job's outcome");
            }
        }
        Ok(jobs.len())
    }

    async fn run_one(&self, job: &Job) -> Result<(), StoreError> {
        match self.execute(job).await {
            Ok(()) => self.store.complete_job(job.id, clock::now()).await,
            Err(err) => {
                let now = clock::now();
                let retry_at = lease_until(now, backoff(job.attempts));
                let error = format!("{err:#}");
                let state = self.store.fail_job(job.id, &error, retry_at, now).await?;
                match state {
                    JobState::Dead => tracing::error!(
                        job = %job.id, kind = %job.kind, attempts = job.attempts, error,
                        "job failed for the last time; it is dead"
                    ),
                    _ => tracing::warn!(
                        job = %job.id, kind = %job.kind, attempts = job.attempts, error,
                        %retry_at, "job failed; will retry"
                    ),
                }
                Ok(())
            }
        }
    }

    /// Runs one job's body by its kind.
    async fn execute(&self, job: &Job) -> anyhow::Result<()> {
        match job.kind.as_str() {
            publish::PUBLISH_ARTICLE => publish::run(self.store.as_ref(), &job.payload).await,
            announce::ANNOUNCE_ARTICLE => {
                announce::run(self.store.as_ref(), &self.base_url, &job.payload).await
            }
            send::NEWSLETTER_SEND => {
                let sender = send::Sender {
                    store: self.store.as_ref(),
                    mailer: &self.mailer,
                    base_url: &self.base_url,
                };
                sender.run(&job.payload).await
            }
            events::WEBHOOK_EVENT => {
                events::run(self.store.as_ref(), &self.base_url, &job.payload).await
            }
            deliver::DELIVER_WEBHOOK => deliver::run(self.store.as_ref(), &self.http, job).await,
            mail::SEND_EMAIL => {
                let email: Email = serde_json::from_value(job.payload.clone())
                    .context("the payload is not an email")?;
                self.mailer.send(&email).await
            }
            crate::push::PUSH_ARTICLE => {
                crate::push::run(
                    self.store.as_ref(),
                    &self.pusher,
                    &self.base_url,
                    &job.payload,
                )
                .await
            }
            other => {
                anyhow::bail!("unknown job kind \"{other}\": no worker of this version runs it")
            }
        }
    }

    async fn prune(&self, now: DateTime<Utc>) {
        match self.store.prune_jobs(now - KEEP_DONE).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(pruned = n, "pruned done jobs older than a week"),
            Err(err) => tracing::warn!(%err, "cannot prune done jobs"),
        }
    }
}

/// A worker's running loop. Dropping it stops the loop too, without waiting.
pub struct Running {
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl Running {
    /// Stops the loop after the job it is running, if any, and waits for it.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        if let Err(err) = self.task.await {
            tracing::error!(%err, "the job worker panicked");
        }
    }
}
