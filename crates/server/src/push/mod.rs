//! The notification bell: browser push (Web Push, RFC 8030) for new articles.
//!
//! - `vapid`: the site's key pair, made on first start and kept in the data directory;
//!   browsers subscribe with its public half, every push is signed with the private one.
//! - `routes`: the public key, the service worker at `/sw.js`, and the JSON endpoints a
//!   page's bell uses to subscribe and unsubscribe (per site or per tag).
//! - `send`: one push, encrypted for the browser (RFC 8291) and signed (RFC 8292).
//! - [`announce`] and [`run`]: when an article is published, one keyed job
//!   (`push_article`) plans a delivery per following subscription, once, and sends
//!   them in small leased batches, recording each answer at once. A failed push is
//!   retried by the job queue and reaches only the subscriptions still pending; a
//!   subscription whose push service answers 404 or 410 is deleted.

pub mod config;
pub mod limit;
pub mod routes;
pub mod send;
pub mod vapid;

use std::time::Duration;

use anyhow::Context;
use broadsheet_domain::job::NewJob;
use broadsheet_domain::{ArticleId, JobId, Store, StoreError, clock};
use futures::StreamExt as _;
use serde_json::json;

pub use send::Pusher;

/// The job kind that sends an article's pushes.
pub const PUSH_ARTICLE: &str = "push_article";

/// How many deliveries one claim takes, and how many pushes are under way at once.
const BATCH: u32 = 32;
const CONCURRENCY: usize = 16;

/// How long a claimed push is this sender's: longer than a batch takes, pushes time
/// out after 20 s. A sender that dies leaves its claims to run out, after which they
/// are sent again (the only pushes that can arrive twice).
const LEASE: Duration = Duration::from_secs(120);

/// Queues the pushes announcing a published article: one job per article ever (its
/// key), so announcing twice sends once. The caller wakes the worker.
pub async fn announce(store: &dyn Store, article: ArticleId) -> Result<JobId, StoreError> {
    store
        .enqueue_job(
            &NewJob::new(PUSH_ARTICLE, json!({ "article": article.0 }), clock::now())
                .with_key(format!("{PUSH_ARTICLE}:{article}")),
        )
        .await
}

/// The `push_article` job: plans the article's deliveries (the first time), then sends
/// every pending one that is due. Fails, so that the queue retries it later, while
/// any push is left pending (a push service that did not answer, or said "later").
pub async fn run(
    store: &dyn Store,
    pusher: &Pusher,
    base_url: &str,
    payload: &serde_json::Value,
) -> anyhow::Result<()> {
    let id = payload["article"]
        .as_i64()
        .map(ArticleId)
        .context("the payload names no article")?;
    let started = clock::now();
    let article = match store.article_by_id(id).await {
        Ok(article) => article,
        // Deleted before its pushes went out: nothing to announce.
        Err(StoreError::NotFound) => return Ok(()),
        Err(err) => return Err(err.into()),
    };
    if !article.is_public(started) {
        tracing::info!(article = %id, "not public (any more): no pushes sent");
        return Ok(());
    }
    let planned = store.plan_push(id, started).await?;
    if planned > 0 {
        tracing::info!(article = %id, pushes = planned, "sending pushes for a new article");
    }
    let tz = store.settings().await?.tz();
    let message = send::Message::new(
        &article.title,
        format!("{base_url}{}", article.permalink(tz)),
        &article.excerpt,
    );
    let body = serde_json::to_vec(&message)?;

    // Only deliveries due when this run started: one that fails now is left for the
    // next run, after the queue's backoff.
    loop {
        let batch = store
            .claim_pushes(id, started, clock::now(), LEASE, BATCH)
            .await?;
        if batch.is_empty() {
            break;
        }
        let results: Vec<Result<(), StoreError>> = futures::stream::iter(batch)
            .map(|claimed| {
                let body = &body;
                async move {
                    let outcome = pusher
                        .send(&claimed.subscription, body, claimed.attempts)
                        .await;
                    store
                        .finish_push(id, claimed.subscription.id, &outcome, clock::now())
                        .await
                }
            })
            .buffer_unordered(CONCURRENCY)
            .collect()
            .await;
        results.into_iter().collect::<Result<(), _>>()?;
    }
    let progress = store.push_progress(id).await?;
    if progress.pending > 0 {
        anyhow::bail!(
            "{} of {} pushes are not delivered yet; the rest went out",
            progress.pending,
            progress.pending + progress.sent + progress.failed
        );
    }
    Ok(())
}
