//! The email newsletter: subscribers with double opt-in, and deliveries tracked per
//! (subscriber, article).
//!
//! A subscriber is `pending` until they open the signed link in their confirmation
//! email, then `confirmed`; they leave as `unsubscribed`, or are `bounced` after
//! [`BOUNCE_AFTER`] refusals in a row by their mail server. An empty tag list means
//! "every article"; otherwise only articles with one of the tags reach them.
//!
//! When an article is announced, one statement records a `pending` delivery for every
//! confirmed subscriber who wants it ([`SubscriptionStore::queue_deliveries`]).
//! Senders then claim deliveries in small batches (`sending`, with a lease, as jobs
//! are claimed), and mark each `sent` once the SMTP server took it. A sender that
//! dies leaves its batch to the lease; a retry claims only what is not `sent`, so a
//! crash repeats at most the one batch in flight, never a whole send.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::article::ArticleId;
use crate::comment::is_email;
use crate::error::ValidationErrors;
use crate::store::StoreResult;

/// Refusals in a row after which an address is marked bounced and no longer mailed.
pub const BOUNCE_AFTER: u32 = 3;

/// At most this many tags in one subscription.
pub const MAX_TAGS: usize = 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SubscriberId(pub i64);

impl fmt::Display for SubscriberId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SubscriberStatus {
    Pending,
    Confirmed,
    Unsubscribed,
    Bounced,
}

impl SubscriberStatus {
    pub const ALL: [SubscriberStatus; 4] = [
        SubscriberStatus::Pending,
        SubscriberStatus::Confirmed,
        SubscriberStatus::Unsubscribed,
        SubscriberStatus::Bounced,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SubscriberStatus::Pending => "pending",
            SubscriberStatus::Confirmed => "confirmed",
            SubscriberStatus::Unsubscribed => "unsubscribed",
            SubscriberStatus::Bounced => "bounced",
        }
    }
}

impl fmt::Display for SubscriberStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for SubscriberStatus {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        SubscriberStatus::ALL
            .into_iter()
            .find(|status| status.as_str() == s)
            .ok_or_else(|| format!("unknown subscriber status \"{s}\""))
    }
}

/// A newsletter subscriber as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subscriber {
    pub id: SubscriberId,
    /// Lowercase, trimmed.
    pub email: String,
    pub status: SubscriberStatus,
    /// Tag slugs, sorted; empty for every article.
    pub tags: Vec<String>,
    /// Refusals in a row by the subscriber's mail server.
    pub failures: u32,
    pub created_at: DateTime<Utc>,
    pub confirmed_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
}

/// A subscription request that passed validation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscribeRequest {
    pub email: String,
    /// Tag slugs, sorted and without repeats.
    pub tags: Vec<String>,
}

impl SubscribeRequest {
    /// Checks a form's email and tag slugs. The tags are checked for shape only; the
    /// caller checks that they exist.
    pub fn check(email: &str, tags: &[String]) -> Result<SubscribeRequest, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let email = email.trim().to_lowercase();
        if email.is_empty() {
            errors.add("email", "Please give your email address.");
        } else if !is_email(&email) {
            errors.add(
                "email",
                "This is not an email address such as name@example.com.",
            );
        }
        let mut slugs: Vec<String> = tags
            .iter()
            .map(|t| t.trim().to_owned())
            .filter(|t| !t.is_empty())
            .collect();
        slugs.sort();
        slugs.dedup();
        if slugs.len() > MAX_TAGS {
            errors.add("tags", format!("Choose at most {MAX_TAGS} tags."));
        } else if let Some(bad) = slugs.iter().find(|s| !looks_like_slug(s)) {
            errors.add("tags", format!("\"{bad}\" is not a tag of this site."));
        }
        errors.into_result()?;
        Ok(SubscribeRequest { email, tags: slugs })
    }
}

/// Tag slugs are made by [`crate::slug::slugify`]; anything else names no tag.
fn looks_like_slug(s: &str) -> bool {
    s.len() <= 200
        && s.chars()
            .all(|c| c.is_alphanumeric() || c == '-' || c == '_')
}

/// How many subscribers are in each status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct SubscriberCounts {
    pub pending: u64,
    pub confirmed: u64,
    pub unsubscribed: u64,
    pub bounced: u64,
}

impl SubscriberCounts {
    pub fn from_pairs(pairs: impl IntoIterator<Item = (SubscriberStatus, u64)>) -> Self {
        let mut counts = SubscriberCounts::default();
        for (status, n) in pairs {
            *match status {
                SubscriberStatus::Pending => &mut counts.pending,
                SubscriberStatus::Confirmed => &mut counts.confirmed,
                SubscriberStatus::Unsubscribed => &mut counts.unsubscribed,
                SubscriberStatus::Bounced => &mut counts.bounced,
            } += n;
        }
        counts
    }

    pub fn total(&self) -> u64 {
        self.pending + self.confirmed + self.unsubscribed + self.bounced
    }
}

/// One claimed delivery: who to send the article to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    pub subscriber: SubscriberId,
    pub email: String,
}

/// Where one article's newsletter stands.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct DeliveryCounts {
    pub pending: u64,
    pub sending: u64,
    pub sent: u64,
    pub failed: u64,
}

impl DeliveryCounts {
    /// Counts from `(state, count)` pairs; unknown states are ignored.
    pub fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, u64)>) -> Self {
        let mut counts = DeliveryCounts::default();
        for (state, n) in pairs {
            match state {
                "pending" => counts.pending += n,
                "sending" => counts.sending += n,
                "sent" => counts.sent += n,
                "failed" => counts.failed += n,
                _ => {}
            }
        }
        counts
    }
}

/// The newsletter's storage; both backends implement it, the conformance suite tests
/// it on both.
#[async_trait]
pub trait SubscriptionStore: Send + Sync {
    /// Records a subscription request: a new address becomes `pending` with these
    /// tags; a pending, unsubscribed or bounced one becomes `pending` again with these
    /// tags (its failures forgotten); a confirmed one is left as it is. Never a
    /// duplicate. Returns the subscriber as it is afterwards.
    async fn add_subscriber(
        &self,
        request: &SubscribeRequest,
        now: DateTime<Utc>,
    ) -> StoreResult<Subscriber>;

    async fn subscriber_by_id(&self, id: SubscriberId) -> StoreResult<Subscriber>;

    /// Confirms a pending subscriber (a confirmed one stays so). `NotFound` for an
    /// unknown id, or one that unsubscribed or bounced since.
    async fn confirm_subscriber(
        &self,
        id: SubscriberId,
        now: DateTime<Utc>,
    ) -> StoreResult<Subscriber>;

    /// Marks a subscriber unsubscribed, whatever they were. `NotFound` for an unknown
    /// id.
    async fn unsubscribe(&self, id: SubscriberId, now: DateTime<Utc>) -> StoreResult<()>;

    /// Subscribers in `status` (all when `None`), by id, from `after_id` on
    /// (exclusive), at most `limit`.
    async fn list_subscribers(
        &self,
        status: Option<SubscriberStatus>,
        after_id: Option<SubscriberId>,
        limit: u32,
    ) -> StoreResult<Vec<Subscriber>>;

    async fn subscriber_counts(&self) -> StoreResult<SubscriberCounts>;

    /// Records, in one statement, a `pending` delivery of `article` for every
    /// confirmed subscriber who wants it (no tags, or one of the article's tags).
    /// Pairs already recorded are left alone, so this is idempotent. Returns how many
    /// were added.
    async fn queue_deliveries(&self, article: ArticleId, now: DateTime<Utc>) -> StoreResult<u64>;

    /// Claims up to `limit` deliveries of `article` for sending: `pending` ones, or
    /// `sending` ones whose lease ran out, of subscribers who are still confirmed, by
    /// subscriber id. They become `sending` until `now + lease`. Two callers racing
    /// never claim the same delivery.
    async fn claim_deliveries(
        &self,
        article: ArticleId,
        now: DateTime<Utc>,
        lease: Duration,
        limit: u32,
    ) -> StoreResult<Vec<Delivery>>;

    /// Marks claimed deliveries `sent` (the mail server took them) and forgets those
    /// subscribers' failures.
    async fn mark_sent(
        &self,
        article: ArticleId,
        subscribers: &[SubscriberId],
        now: DateTime<Utc>,
    ) -> StoreResult<()>;

    /// Gives claimed deliveries back as `pending`: not tried, or refused for now.
    async fn release_deliveries(
        &self,
        article: ArticleId,
        subscribers: &[SubscriberId],
    ) -> StoreResult<()>;

    /// A permanent refusal of one delivery: it becomes `failed` and the subscriber's
    /// failures grow by one; at [`BOUNCE_AFTER`] they are marked bounced. Returns the
    /// subscriber's status afterwards.
    async fn delivery_failed(
        &self,
        article: ArticleId,
        subscriber: SubscriberId,
        now: DateTime<Utc>,
    ) -> StoreResult<SubscriberStatus>;

    /// Where `article`'s newsletter stands.
    async fn delivery_counts(&self, article: ArticleId) -> StoreResult<DeliveryCounts>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_is_normalised() {
        let request = SubscribeRequest::check(
            " Ann@Example.COM ",
            &[
                "harbour".into(),
                " city ".into(),
                "harbour".into(),
                "".into(),
            ],
        )
        .unwrap();
        assert_eq!(request.email, "ann@example.com");
        assert_eq!(request.tags, ["city", "harbour"]);
    }

    #[test]
    fn bad_requests_name_their_field() {
        let err = SubscribeRequest::check("not an address", &[]).unwrap_err();
        assert!(err.for_field("email").is_some(), "{err:?}");
        let err = SubscribeRequest::check("", &[]).unwrap_err();
        assert!(err.for_field("email").is_some(), "{err:?}");
        let err = SubscribeRequest::check("a@b.cd", &["<script>".into()]).unwrap_err();
        assert!(err.for_field("tags").is_some(), "{err:?}");
        let many: Vec<String> = (0..=MAX_TAGS).map(|n| format!("t{n}")).collect();
        let err = SubscribeRequest::check("a@b.cd", &many).unwrap_err();
        assert!(err.for_field("tags").is_some(), "{err:?}");
    }

    #[test]
    fn statuses_round_trip_and_count() {
        for status in SubscriberStatus::ALL {
            assert_eq!(status.as_str().parse::<SubscriberStatus>(), Ok(status));
        }
        let counts = SubscriberCounts::from_pairs([
            (SubscriberStatus::Confirmed, 3),
            (SubscriberStatus::Bounced, 1),
        ]);
        assert_eq!(
            (counts.confirmed, counts.bounced, counts.total()),
            (3, 1, 4)
        );
        let d = DeliveryCounts::from_pairs([("sent", 2), ("pending", 1), ("odd", 9)]);
        assert_eq!((d.sent, d.pending, d.failed), (2, 1, 0));
    }
}
