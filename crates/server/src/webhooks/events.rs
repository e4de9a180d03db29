//! Reporting events to webhooks. [`record`] builds the body and stores the
//! deliveries (nothing when no webhook listens), then enqueues their jobs: comments
//! call it at once, the announcement job for publications. An article save, which
//! knows no site address, calls [`article_updated`], which enqueues a keyed
//! `webhook_event` job that records it.
//!
//! An event's key is its identity (`article.published:42`,
//! `article.updated:42:<updated_at ms>`, `comment.posted:7`), which keys the job and
//! the deliveries, so an event reported twice is delivered once.

use anyhow::Context;
use broadsheet_domain::{
    Article, ArticleId, Comment, CommentId, CommentStatus, NewJob, Store, StoreError, WebhookEvent,
    clock,
};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::deliver;

/// The job kind that turns a reported event into deliveries.
pub const WEBHOOK_EVENT: &str = "webhook_event";

/// What an event is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Subject {
    Article(ArticleId),
    Comment(CommentId),
}

/// The `webhook_event` job's payload.
#[derive(Debug, Serialize, Deserialize)]
struct Payload {
    event: WebhookEvent,
    key: String,
    subject: Subject,
}

/// After a published article was saved again.
pub async fn article_updated(store: &dyn Store, article: &Article) -> Result<(), StoreError> {
    let key = format!(
        "{}:{}:{}",
        WebhookEvent::ArticleUpdated,
        article.id,
        article.updated_at.timestamp_millis()
    );
    report(
        store,
        WebhookEvent::ArticleUpdated,
        key,
        Subject::Article(article.id),
    )
    .await
}

/// After a comment was stored. Spam and trash are nobody's news. Recorded at once,
/// so the body shows the comment as it was posted.
pub async fn comment_posted(
    store: &dyn Store,
    base_url: &str,
    comment: &Comment,
) -> Result<(), StoreError> {
    if matches!(comment.status, CommentStatus::Spam | CommentStatus::Trash) {
        return Ok(());
    }
    let key = format!("{}:{}", WebhookEvent::CommentPosted, comment.id);
    let subject = Subject::Comment(comment.id);
    record(store, base_url, WebhookEvent::CommentPosted, &key, subject).await
}

/// After a comment became approved (by a moderator, or at once when posted).
pub async fn comment_approved(
    store: &dyn Store,
    base_url: &str,
    comment: &Comment,
) -> Result<(), StoreError> {
    let key = format!("{}:{}", WebhookEvent::CommentApproved, comment.id);
    let subject = Subject::Comment(comment.id);
    record(
        store,
        base_url,
        WebhookEvent::CommentApproved,
        &key,
        subject,
    )
    .await
}

/// Enqueues the job that records `event`'s deliveries, unless no webhook listens.
async fn report(
    store: &dyn Store,
    event: WebhookEvent,
    key: String,
    subject: Subject,
) -> Result<(), StoreError> {
    let hooks = store.list_webhooks().await?;
    if !hooks.iter().any(|hook| hook.events.contains(&event)) {
        return Ok(());
    }
    let job_key = format!("{WEBHOOK_EVENT}:{key}");
    let payload = serde_json::to_value(Payload {
        event,
        key,
        subject,
    })
    .map_err(StoreError::backend)?;
    store
        .enqueue_job(&NewJob::new(WEBHOOK_EVENT, payload, clock::now()).with_key(job_key))
        .await
        .map(drop)
}

/// The `webhook_event` job body.
pub async fn run(
    store: &dyn Store,
    base_url: &str,
    payload: &serde_json::Value,
) -> anyhow::Result<()> {
    let payload = Payload::deserialize(payload).context("the payload names no event")?;
    match record(
        store,
        base_url,
        payload.event,
        &payload.key,
        payload.subject,
    )
    .await
    {
        // Deleted since: nothing left to tell.
        Err(StoreError::NotFound) => Ok(()),
        other => other.context("cannot record the webhook deliveries"),
    }
}

/// An article became public: called by the announcement job.
pub async fn article_published(
    store: &dyn Store,
    base_url: &str,
    article: &Article,
) -> Result<(), StoreError> {
    let key = format!("{}:{}", WebhookEvent::ArticlePublished, article.id);
    record(
        store,
        base_url,
        WebhookEvent::ArticlePublished,
        &key,
        Subject::Article(article.id),
    )
    .await
}

/// Writes the body of `event`, stores a delivery for every webhook listening, and
/// enqueues each delivery's job.
pub async fn record(
    store: &dyn Store,
    base_url: &str,
    event: WebhookEvent,
    key: &str,
    subject: Subject,
) -> Result<(), StoreError> {
    let hooks = store.list_webhooks().await?;
    if !hooks.iter().any(|hook| hook.events.contains(&event)) {
        return Ok(());
    }
    let tz = store.settings().await?.tz();
    let data = match subject {
        Subject::Article(id) => {
            let article = store.article_by_id(id).await?;
            article_json(&article, base_url, tz)
        }
        Subject::Comment(id) => {
            let comment = store.comment_by_id(id).await?;
            let article = store.article_by_id(comment.article_id).await?;
            comment_json(&comment, &article, base_url, tz)
        }
    };
    let now = clock::now();
    let body = json!({
        "event": event,
        "id": key,
        "created_at": now.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        "data": data,
    })
    .to_string();
    for delivery in store.add_webhook_deliveries(event, key, &body, now).await? {
        deliver::enqueue(store, delivery).await?;
    }
    Ok(())
}

fn article_json(article: &Article, base_url: &str, tz: chrono_tz::Tz) -> serde_json::Value {
    json!({
        "id": article.id,
        "title": article.title,
        "url": format!("{base_url}{}", article.permalink(tz)),
        "excerpt": article.excerpt,
        "author": article.author.display_name,
        "tags": article.tags.iter().map(|t| &t.name).collect::<Vec<_>>(),
        "status": article.status.as_str(),
        "published_at": article.published_at,
        "updated_at": article.updated_at,
    })
}

/// A comment as receivers see it: never the commenter's email.
fn comment_json(
    comment: &Comment,
    article: &Article,
    base_url: &str,
    tz: chrono_tz::Tz,
) -> serde_json::Value {
    json!({
        "id": comment.id,
        "article": {
            "id": article.id,
            "title": article.title,
            "url": format!("{base_url}{}", article.permalink(tz)),
        },
        "url": format!("{base_url}{}#comment-{}", article.permalink(tz), comment.id),
        "parent_id": comment.parent_id,
        "status": comment.status.as_str(),
        "author_name": comment.author_name,
        "author_url": comment.author_url,
        "body": comment.body,
        "created_at": comment.created_at,
    })
}
