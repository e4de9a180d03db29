//! Webhooks: URLs an admin registers for events (an article published or updated, a
//! comment posted or approved). Each event becomes one delivery per webhook that
//! listens for it, stored with its exact body before anything is sent, then posted
//! by a job ([`crate::job`]) that retries with backoff; every attempt is recorded for
//! the admin's delivery log. The body is signed with the webhook's own secret
//! (HMAC-SHA256, in a header), so a receiver can tell it came from this site.

use std::fmt;
use std::str::FromStr;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::comment::is_web_url;
use crate::error::ValidationErrors;
use crate::store::StoreResult;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct WebhookId(pub i64);

impl fmt::Display for WebhookId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct WebhookDeliveryId(pub i64);

impl fmt::Display for WebhookDeliveryId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// What a webhook can listen for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum WebhookEvent {
    #[serde(rename = "article.published")]
    ArticlePublished,
    #[serde(rename = "article.updated")]
    ArticleUpdated,
    #[serde(rename = "comment.posted")]
    CommentPosted,
    #[serde(rename = "comment.approved")]
    CommentApproved,
}

impl WebhookEvent {
    pub const ALL: [WebhookEvent; 4] = [
        WebhookEvent::ArticlePublished,
        WebhookEvent::ArticleUpdated,
        WebhookEvent::CommentPosted,
        WebhookEvent::CommentApproved,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            WebhookEvent::ArticlePublished => "article.published",
            WebhookEvent::ArticleUpdated => "article.updated",
            WebhookEvent::CommentPosted => "comment.posted",
            WebhookEvent::CommentApproved => "comment.approved",
        }
    }

    /// In words, for the admin.
    pub fn label(self) -> &'static str {
        match self {
            WebhookEvent::ArticlePublished => "An article is published",
            WebhookEvent::ArticleUpdated => "A published article is updated",
            WebhookEvent::CommentPosted => "A comment is posted",
            WebhookEvent::CommentApproved => "A comment is approved",
        }
    }
}

impl fmt::Display for WebhookEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for WebhookEvent {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        WebhookEvent::ALL
            .into_iter()
            .find(|e| e.as_str() == s)
            .ok_or_else(|| format!("unknown event \"{s}\""))
    }
}

/// A registered webhook.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Webhook {
    pub id: WebhookId,
    pub url: String,
    /// Sorted, at least one.
    pub events: Vec<WebhookEvent>,
    /// The HMAC key the receiver shares: the bytes of this text.
    pub secret: String,
    pub created_at: DateTime<Utc>,
}

/// A webhook to register, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewWebhook {
    pub url: String,
    pub events: Vec<WebhookEvent>,
    pub secret: String,
}

impl NewWebhook {
    /// Checks an admin's form: an absolute http(s) URL and at least one known event.
    /// `secret` is made by the caller (random).
    pub fn check(
        url: &str,
        events: &[String],
        secret: String,
    ) -> Result<NewWebhook, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let url = url.trim();
        if url.is_empty() {
            errors.add(
                "url",
                "Give the address to post to, such as https://example.com/hook.",
            );
        } else if !is_web_url(url) {
            errors.add(
                "url",
                "The address must be an http:// or https:// URL, such as https://example.com/hook.",
            );
        }
        let mut parsed = Vec::new();
        for event in events {
            match event.parse::<WebhookEvent>() {
                Ok(event) => parsed.push(event),
                Err(message) => {
                    errors.add("events", message);
                    break;
                }
            }
        }
        parsed.sort();
        parsed.dedup();
        if parsed.is_empty() && errors.for_field("events").is_none() {
            errors.add("events", "Choose at least one event.");
        }
        errors.into_result()?;
        Ok(NewWebhook {
            url: url.to_owned(),
            events: parsed,
            secret,
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WebhookDeliveryState {
    /// Not yet taken by the receiver; the job retries.
    Pending,
    /// The receiver answered 2xx.
    Delivered,
    /// Every attempt failed; the job gave up.
    Failed,
}

impl WebhookDeliveryState {
    pub fn as_str(self) -> &'static str {
        match self {
            WebhookDeliveryState::Pending => "pending",
            WebhookDeliveryState::Delivered => "delivered",
            WebhookDeliveryState::Failed => "failed",
        }
    }
}

impl FromStr for WebhookDeliveryState {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        [
            WebhookDeliveryState::Pending,
            WebhookDeliveryState::Delivered,
            WebhookDeliveryState::Failed,
        ]
        .into_iter()
        .find(|state| state.as_str() == s)
        .ok_or_else(|| format!("unknown delivery state \"{s}\""))
    }
}

/// One event for one webhook, with its attempts so far.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WebhookDelivery {
    pub id: WebhookDeliveryId,
    pub webhook_id: WebhookId,
    pub event: WebhookEvent,
    /// The exact bytes posted (JSON), so every retry signs and sends the same body.
    pub body: String,
    pub state: WebhookDeliveryState,
    pub attempts: u32,
    /// The receiver's last HTTP status, if it answered at all.
    pub last_status: Option<u16>,
    /// What went wrong last, for the log.
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// The outcome of one attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookAttempt {
    pub state: WebhookDeliveryState,
    pub status: Option<u16>,
    pub error: Option<String>,
}

#[async_trait]
pub trait WebhookStore: Send + Sync {
    async fn create_webhook(
        &self,
        webhook: &NewWebhook,
        now: DateTime<Utc>,
    ) -> StoreResult<Webhook>;

    /// Every webhook, by id.
    async fn list_webhooks(&self) -> StoreResult<Vec<Webhook>>;

    async fn webhook_by_id(&self, id: WebhookId) -> StoreResult<Webhook>;

    /// Deletes a webhook and its delivery log. `NotFound` for an unknown id.
    async fn delete_webhook(&self, id: WebhookId) -> StoreResult<()>;

    /// Records a delivery of `body` to every webhook listening for `event`, once per
    /// webhook and `key` (the event's identity, e.g. `article.published:42`): a key
    /// seen before adds nothing. Returns the ids of the deliveries for this key, old
    /// and new, so a caller that died after recording can enqueue them again.
    async fn add_webhook_deliveries(
        &self,
        event: WebhookEvent,
        key: &str,
        body: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<WebhookDeliveryId>>;

    async fn webhook_delivery_by_id(&self, id: WebhookDeliveryId) -> StoreResult<WebhookDelivery>;

    /// Records one attempt: `attempts + 1`, its outcome. `NotFound` for an unknown id.
    async fn record_webhook_attempt(
        &self,
        id: WebhookDeliveryId,
        attempt: &WebhookAttempt,
        now: DateTime<Utc>,
    ) -> StoreResult<()>;

    /// The delivery log: newest first, of one webhook or all, at most `limit`.
    async fn list_webhook_deliveries(
        &self,
        webhook: Option<WebhookId>,
        limit: u32,
    ) -> StoreResult<Vec<WebhookDelivery>>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_webhook_needs_a_web_url_and_an_event() {
        let ok = NewWebhook::check(
            " https://hooks.example.com/in ",
            &[
                "comment.posted".into(),
                "article.published".into(),
                "comment.posted".into(),
            ],
            "s".into(),
        )
        .unwrap();
        assert_eq!(ok.url, "https://hooks.example.com/in");
        assert_eq!(
            ok.events,
            [WebhookEvent::ArticlePublished, WebhookEvent::CommentPosted]
        );
        for (url, events, field) in [
            ("", vec!["article.published"], "url"),
            ("ftp://x.example", vec!["article.published"], "url"),
            ("javascript:alert(1)", vec!["article.published"], "url"),
            ("https://x.example", vec![], "events"),
            ("https://x.example", vec!["article.deleted"], "events"),
        ] {
            let events: Vec<String> = events.into_iter().map(String::from).collect();
            let err = NewWebhook::check(url, &events, "s".into()).unwrap_err();
            assert!(err.for_field(field).is_some(), "{url} {events:?}: {err:?}");
        }
    }

    #[test]
    fn events_round_trip() {
        for event in WebhookEvent::ALL {
            assert_eq!(event.as_str().parse::<WebhookEvent>(), Ok(event));
            assert_eq!(
                serde_json::to_value(event).unwrap(),
                serde_json::json!(event.as_str())
            );
        }
    }
}
