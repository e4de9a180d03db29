//! Scheduled publishing on the job queue: saving a scheduled article enqueues a
//! `publish_article` job for its time, and the job flips it to published.
//!
//! The job's key names the article and its time, so saving the article again
//! enqueues nothing new, while moving it to another time enqueues a job for that one.
//! The job left behind for the old time finds the article not yet due, and does
//! nothing. Publishing itself is one conditional write in the store
//! ([`Store::publish_due`]), so however many workers run the job (a lease that ran out
//! mid-job, two nodes), the article is published once.

use anyhow::Context;
use broadsheet_domain::{Article, ArticleId, NewJob, Status, Store, StoreError, clock};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The job kind.
pub const PUBLISH_ARTICLE: &str = "publish_article";

/// The job's payload: `{"article": 42}`.
#[derive(Debug, Serialize, Deserialize)]
struct Payload {
    article: ArticleId,
}

/// Call after saving `article`: when it is scheduled, enqueues the job that publishes
/// it at its time (once, however often this is called). Does nothing otherwise.
pub async fn schedule(store: &dyn Store, article: &Article) -> Result<(), StoreError> {
    match (article.status, article.published_at) {
        (Status::Scheduled, Some(at)) => enqueue(store, article.id, at).await,
        _ => Ok(()),
    }
}

/// Enqueues a publish job for every scheduled article. The worker runs this when it
/// starts, so an article whose job was never enqueued (saved while no server ran, or
/// by a process that died between the save and the enqueue) is still published.
/// Returns how many scheduled articles there are.
pub async fn schedule_all(store: &dyn Store) -> Result<usize, StoreError> {
    let scheduled = store.scheduled_articles().await?;
    for &(id, at) in &scheduled {
        enqueue(store, id, at).await?;
    }
    Ok(scheduled.len())
}

async fn enqueue(store: &dyn Store, id: ArticleId, at: DateTime<Utc>) -> Result<(), StoreError> {
    let payload = serde_json::to_value(Payload { article: id }).map_err(StoreError::backend)?;
    let job = NewJob::new(PUBLISH_ARTICLE, payload, at)
        .with_key(format!("{PUBLISH_ARTICLE}:{id}:{}", at.timestamp_millis()));
    store.enqueue_job(&job).await.map(drop)
}

/// The job body: publishes the article if it is (still) scheduled and due. An article
/// deleted since is nothing left to do, not a failure.
pub async fn run(store: &dyn Store, payload: &serde_json::Value) -> anyhow::Result<()> {
    let Payload { article } =
        Payload::deserialize(payload).context("the payload names no article")?;
    match store.publish_due(article, clock::now()).await {
        Ok(true) => tracing::info!(%article, "published scheduled article"),
        Ok(false) => tracing::debug!(%article, "article not scheduled for now; nothing to do"),
        Err(StoreError::NotFound) => {
            tracing::info!(%article, "scheduled article is gone; nothing to publish");
            return Ok(());
        }
        Err(err) => return Err(err).context("cannot publish the article"),
    }
    // Also when another run published it: one that failed right after publishing
    // still gets its announcement (enqueued once per article, whoever asks).
    let article = match store.article_by_id(article).await {
        Ok(article) => article,
        Err(StoreError::NotFound) => return Ok(()),
        Err(err) => return Err(err).context("cannot read the article"),
    };
    crate::announce::enqueue(store, &article)
        .await
        .context("cannot enqueue the announcement")?;
    Ok(())
}
