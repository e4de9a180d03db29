//! "An article was published": the one job, `announce_article`, that tells the world.
//!
//! It is enqueued when an article becomes public (a save of a published article, from
//! the editor, the CLI or an import: [`crate::publish::save`]; a scheduled one whose
//! time came: [`crate::jobs::publish::run`]), keyed `announce_article:{id}`, so it
//! runs once per article ever, however often the article is saved or either path is
//! taken. Its body starts each fan-out, each its own job(s) with its own keys, so the
//! announcement itself stays short and safe to run twice:
//!
//! - the newsletter ([`crate::newsletter::send::fan_out`]): a delivery row per
//!   confirmed subscriber who wants the article, then the sender jobs;
//! - webhooks listening for `article.published` ([`crate::webhooks::events`]);
//! - browser push ([`crate::push::announce`]): one keyed `push_article` job that
//!   plans and sends a push per subscription that follows the article.
//!
//! Only articles (not pages) published within [`RECENT`] are announced: saving an
//! imported story from years ago, or editing one published before this job existed,
//! must not mail every subscriber about old news.

use anyhow::Context;
use broadsheet_domain::{
    Article, ArticleId, ContentKind, NewJob, Status, Store, StoreError, clock,
};
use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

/// The job kind.
pub const ANNOUNCE_ARTICLE: &str = "announce_article";

/// How recent a publication date must be for the article to be announced.
pub const RECENT: TimeDelta = TimeDelta::days(2);

/// The job's payload: `{"article": 42}`.
#[derive(Debug, Serialize, Deserialize)]
struct Payload {
    article: ArticleId,
}

/// Whether `article` is news at `now`: an article (not a page), public, published
/// within [`RECENT`].
pub fn is_news(article: &Article, now: DateTime<Utc>) -> bool {
    article.kind == ContentKind::Article
        && article.status == Status::Published
        && article.is_public(now)
        && article
            .published_at
            .is_some_and(|at| now.signed_duration_since(at) <= RECENT)
}

/// Call after `article` was saved or published: enqueues its announcement if it is
/// news now (once per article ever). Returns whether it is news.
pub async fn enqueue(store: &dyn Store, article: &Article) -> Result<bool, StoreError> {
    let now = clock::now();
    if !is_news(article, now) {
        return Ok(false);
    }
    let payload = serde_json::to_value(Payload {
        article: article.id,
    })
    .map_err(StoreError::backend)?;
    let job = NewJob::new(ANNOUNCE_ARTICLE, payload, now)
        .with_key(format!("{ANNOUNCE_ARTICLE}:{}", article.id));
    store.enqueue_job(&job).await?;
    Ok(true)
}

/// The job body: starts every fan-out for an article that is (still) public. One
/// unpublished or deleted since is not announced.
pub async fn run(
    store: &dyn Store,
    base_url: &str,
    payload: &serde_json::Value,
) -> anyhow::Result<()> {
    let Payload { article } =
        Payload::deserialize(payload).context("the payload names no article")?;
    let article = match store.article_by_id(article).await {
        Ok(article) => article,
        Err(StoreError::NotFound) => {
            tracing::info!(%article, "announced article is gone; nothing to announce");
            return Ok(());
        }
        Err(err) => return Err(err).context("cannot read the article"),
    };
    if !article.is_public(clock::now()) {
        tracing::info!(article = %article.id, "article is no longer public; not announced");
        return Ok(());
    }
    let queued = crate::newsletter::send::fan_out(store, &article)
        .await
        .context("cannot queue the newsletter")?;
    crate::webhooks::events::article_published(store, base_url, &article)
        .await
        .context("cannot queue the webhooks")?;
    crate::push::announce(store, article.id)
        .await
        .context("cannot queue the browser pushes")?;
    tracing::info!(article = %article.id, newsletter = queued, "announced the article");
    Ok(())
}
