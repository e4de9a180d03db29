//! Browser push subscriptions (the "notification bell") and their deliveries.
//!
//! A subscription is what a browser's `PushManager.subscribe()` hands out: the push
//! service's endpoint URL and the browser's two keys (`p256dh`, its P-256 public key,
//! and `auth`, a 16-byte secret; RFC 8291). One browser has one endpoint per site, so
//! the endpoint is the subscription's identity and subscribing again replaces the keys.
//! What it follows are its *topics*: the whole site, or one or more tags.
//!
//! Deliveries are tracked per (article, subscription). When an article is published
//! the sender *plans* its deliveries once (one pending row per matching subscription),
//! then *claims* due rows in small batches with a lease, the way the job queue claims
//! jobs, and records each push service's answer as soon as it comes. A crashed or
//! retried send therefore reaches only the subscriptions still pending, and two nodes
//! sending the same article split the rows instead of doubling them: at most the few
//! pushes in flight when a process dies are sent twice.

use std::fmt;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::article::ArticleId;
use crate::error::ValidationErrors;
use crate::store::StoreResult;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PushSubscriptionId(pub i64);

impl fmt::Display for PushSubscriptionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// What a subscription follows.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase", tag = "kind", content = "tag")]
pub enum PushTopic {
    /// Every article.
    Site,
    /// Articles with this tag (a tag slug).
    Tag(String),
}

impl PushTopic {
    /// How stores keep it: `""` for the whole site, else the tag's slug (a slug is
    /// never empty).
    pub fn as_key(&self) -> &str {
        match self {
            PushTopic::Site => "",
            PushTopic::Tag(slug) => slug,
        }
    }

    pub fn from_key(key: &str) -> PushTopic {
        if key.is_empty() {
            PushTopic::Site
        } else {
            PushTopic::Tag(key.to_owned())
        }
    }
}

/// Longest endpoint accepted. Real ones are a few hundred bytes.
pub const MAX_ENDPOINT_LEN: usize = 2048;

/// A subscription as the browser sent it, checked: the endpoint is an absolute
/// http(s) URL, `p256dh` decodes to an uncompressed P-256 point (65 bytes starting
/// with 4) and `auth` to 16 bytes, both unpadded base64url as browsers give them.
/// Whether the point is on the curve is the server's to check (the domain has no
/// elliptic-curve code).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPushSubscription {
    pub endpoint: String,
    pub p256dh: String,
    pub auth: String,
    pub topic: PushTopic,
}

impl NewPushSubscription {
    /// Checks what a browser sent, naming every bad field (`endpoint`, `keys.p256dh`,
    /// `keys.auth`).
    pub fn check(
        endpoint: &str,
        p256dh: &str,
        auth: &str,
        topic: PushTopic,
    ) -> Result<NewPushSubscription, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let endpoint = endpoint.trim();
        if endpoint.is_empty() {
            errors.add("endpoint", "is missing");
        } else if endpoint.len() > MAX_ENDPOINT_LEN {
            errors.add(
                "endpoint",
                format!("is longer than {MAX_ENDPOINT_LEN} characters"),
            );
        } else if endpoint_origin(endpoint).is_none() {
            errors.add("endpoint", "is not an http(s) URL");
        }
        match base64url_decode(p256dh.trim()) {
            _ if p256dh.trim().is_empty() => errors.add("keys.p256dh", "is missing"),
            Some(bytes) if bytes.len() == 65 && bytes[0] == 4 => {}
            Some(_) => errors.add(
                "keys.p256dh",
                "is not an uncompressed P-256 public key (65 bytes)",
            ),
            None => errors.add("keys.p256dh", "is not base64url"),
        }
        match base64url_decode(auth.trim()) {
            _ if auth.trim().is_empty() => errors.add("keys.auth", "is missing"),
            Some(bytes) if bytes.len() == 16 => {}
            Some(_) => errors.add("keys.auth", "is not a 16-byte secret"),
            None => errors.add("keys.auth", "is not base64url"),
        }
        errors.into_result()?;
        Ok(NewPushSubscription {
            endpoint: endpoint.to_owned(),
            p256dh: p256dh.trim().to_owned(),
            auth: auth.trim().to_owned(),
            topic,
        })
    }
}

/// The scheme and host of an absolute http(s) URL, lowercased (`("https",
/// "fcm.googleapis.com")`), or `None` for anything else.
pub fn endpoint_origin(url: &str) -> Option<(&'static str, String)> {
    let (scheme, rest) = url.split_once("://")?;
    let scheme = match scheme.to_ascii_lowercase().as_str() {
        "https" => "https",
        "http" => "http",
        _ => return None,
    };
    let authority = rest.split(['/', '?', '#']).next()?;
    if authority.contains('@') {
        return None;
    }
    let host = match authority.strip_prefix('[') {
        Some(v6) => v6.split_once(']')?.0,
        None => authority.split(':').next()?,
    };
    let valid = !host.is_empty()
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':'));
    valid.then(|| (scheme, host.to_ascii_lowercase()))
}

/// Unpadded (or padded) base64url, as the Push API gives keys.
pub fn base64url_decode(text: &str) -> Option<Vec<u8>> {
    let text = text.trim_end_matches('=');
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let mut buffer = 0u32;
    let mut bits = 0;
    for c in text.bytes() {
        let value = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'-' => 62,
            b'_' => 63,
            _ => return None,
        };
        buffer = (buffer << 6) | u32::from(value);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((buffer >> bits) as u8);
            buffer &= (1 << bits) - 1;
        }
    }
    // A lone sixth character (bits == 6) cannot end a valid encoding.
    (bits < 6).then_some(out)
}

/// A subscription as stored, with every topic it follows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushSubscription {
    pub id: PushSubscriptionId,
    pub endpoint: String,
    pub p256dh: String,
    pub auth: String,
    /// Sorted; never empty (a subscription without topics is deleted).
    pub topics: Vec<PushTopic>,
    pub created_at: DateTime<Utc>,
}

/// A delivery claimed for sending: the subscription as it is now (a browser that
/// subscribed again since the plan gets the push with its new keys).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimedPush {
    pub article: ArticleId,
    pub subscription: PushSubscription,
    /// Claims so far, this one included.
    pub attempts: u32,
}

/// What became of one push.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PushOutcome {
    /// The push service took it (201): done, never sent again.
    Sent,
    /// The push service says the subscription is gone (404, 410): the subscription
    /// and all its deliveries are deleted.
    Gone,
    /// Worth another try later (a network error, 429, 5xx): pending again, due at
    /// `retry_at` (the sender decides when it tries again).
    Retry {
        error: String,
        retry_at: DateTime<Utc>,
    },
    /// Refused for good (another 4xx, or too many tries): kept as failed, not retried.
    Failed { error: String },
}

/// Where an article's push deliveries stand.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PushProgress {
    /// Waiting for a first or another try, claimed ones included.
    pub pending: u64,
    pub sent: u64,
    pub failed: u64,
}

impl PushProgress {
    /// Progress from `(state, count)` pairs, as a `GROUP BY state` gives them; an
    /// unknown state is an error naming it.
    pub fn from_pairs(pairs: impl IntoIterator<Item = (String, u64)>) -> Result<Self, String> {
        let mut progress = PushProgress::default();
        for (state, n) in pairs {
            *match state.as_str() {
                "pending" => &mut progress.pending,
                "sent" => &mut progress.sent,
                "failed" => &mut progress.failed,
                other => return Err(format!("unknown push delivery state \"{other}\"")),
            } += n;
        }
        Ok(progress)
    }
}

#[async_trait]
pub trait PushStore: Send + Sync {
    /// Adds a subscription, or, for an endpoint already known, replaces its keys and
    /// adds the topic to the ones it follows. Returns it as stored.
    async fn subscribe_push(
        &self,
        subscription: &NewPushSubscription,
        now: DateTime<Utc>,
    ) -> StoreResult<PushSubscription>;

    /// Stops following `topic` (every topic with `None`); a subscription left with no
    /// topic is deleted with its deliveries. Returns what is left of it (`None`: it is
    /// gone). `NotFound` for an endpoint nobody subscribed, or a topic it does not
    /// follow.
    async fn unsubscribe_push(
        &self,
        endpoint: &str,
        topic: Option<&PushTopic>,
    ) -> StoreResult<Option<PushSubscription>>;

    /// The subscription with this endpoint; `NotFound` otherwise.
    async fn push_subscription_by_endpoint(&self, endpoint: &str) -> StoreResult<PushSubscription>;

    /// How many subscriptions there are.
    async fn count_push_subscriptions(&self) -> StoreResult<u64>;

    /// Plans an article's pushes, once per article ever: one pending delivery, due at
    /// `now`, for each subscription following the site or one of the article's tags.
    /// Returns how many were planned (0 when the article was planned before).
    /// `NotFound` for an unknown article.
    async fn plan_push(&self, article: ArticleId, now: DateTime<Utc>) -> StoreResult<u64>;

    /// Claims up to `limit` of the article's pending deliveries due at or before `due`
    /// (in subscription order), each leased until `now + lease` and counted as a try.
    /// A claim that was never answered (its process died) is due again once the lease
    /// runs out. Two callers never claim the same delivery.
    async fn claim_pushes(
        &self,
        article: ArticleId,
        due: DateTime<Utc>,
        now: DateTime<Utc>,
        lease: Duration,
        limit: u32,
    ) -> StoreResult<Vec<ClaimedPush>>;

    /// Records what became of a claimed push (see [`PushOutcome`]). A delivery or
    /// subscription deleted meanwhile is not an error.
    async fn finish_push(
        &self,
        article: ArticleId,
        subscription: PushSubscriptionId,
        outcome: &PushOutcome,
        now: DateTime<Utc>,
    ) -> StoreResult<()>;

    /// Where the article's deliveries stand.
    async fn push_progress(&self, article: ArticleId) -> StoreResult<PushProgress>;
}

#[cfg(test)]
mod tests {
    use super::*;

    const P256DH: &str =
        "BLn9b-VR0ca83knDNZ32dCHGyjJp-1riX9ZTN40MqV8K_LpQmLqxC_DoHvqvFXO_nGdAB4W9dogZb_sM-uV4JbY";
    const AUTH: &str = "_ordMnz7uTCmrpBTeUV4Bw";

    #[test]
    fn base64url_round_trips_known_values() {
        assert_eq!(base64url_decode("").unwrap(), b"");
        assert_eq!(base64url_decode("Zg").unwrap(), b"f");
        assert_eq!(base64url_decode("Zm8").unwrap(), b"fo");
        assert_eq!(base64url_decode("Zm9v").unwrap(), b"foo");
        assert_eq!(base64url_decode("Zm9vYg==").unwrap(), b"foob");
        assert_eq!(base64url_decode("-_8").unwrap(), [0xfb, 0xff]);
        assert_eq!(base64url_decode("Z"), None);
        assert_eq!(base64url_decode("ab+/"), None);
        assert_eq!(base64url_decode(AUTH).unwrap().len(), 16);
    }

    #[test]
    fn a_browser_subscription_checks() {
        let sub = NewPushSubscription::check(
            " https://fcm.googleapis.com/fcm/send/abc ",
            P256DH,
            AUTH,
            PushTopic::Site,
        )
        .unwrap();
        assert_eq!(sub.endpoint, "https://fcm.googleapis.com/fcm/send/abc");
    }

    #[test]
    fn every_bad_field_is_named() {
        let errors =
            NewPushSubscription::check("ftp://x/", "BAAA", "!!", PushTopic::Site).unwrap_err();
        assert_eq!(errors.for_field("endpoint"), Some("is not an http(s) URL"));
        assert!(errors.for_field("keys.p256dh").unwrap().contains("P-256"));
        assert_eq!(errors.for_field("keys.auth"), Some("is not base64url"));
        let errors = NewPushSubscription::check("", P256DH, "AAAA", PushTopic::Site).unwrap_err();
        assert_eq!(errors.for_field("endpoint"), Some("is missing"));
        assert_eq!(
            errors.for_field("keys.auth"),
            Some("is not a 16-byte secret")
        );
        let long = format!("https://x/{}", "a".repeat(MAX_ENDPOINT_LEN));
        assert!(NewPushSubscription::check(&long, P256DH, AUTH, PushTopic::Site).is_err());
    }

    #[test]
    fn origins_are_scheme_and_host() {
        assert_eq!(
            endpoint_origin("https://Updates.Push.Services.Mozilla.com/wpush/v2/x"),
            Some(("https", "updates.push.services.mozilla.com".into()))
        );
        assert_eq!(
            endpoint_origin("http://127.0.0.1:9000/push/1"),
            Some(("http", "127.0.0.1".into()))
        );
        assert_eq!(
            endpoint_origin("http://[::1]:9000/"),
            Some(("http", "::1".into()))
        );
        assert_eq!(endpoint_origin("https://user@evil.example/"), None);
        assert_eq!(endpoint_origin("javascript:alert(1)"), None);
        assert_eq!(endpoint_origin("https:///nohost"), None);
    }

    #[test]
    fn progress_comes_from_pairs() {
        let progress =
            PushProgress::from_pairs([("sent".to_owned(), 4), ("pending".to_owned(), 2)]).unwrap();
        assert_eq!(
            progress,
            PushProgress {
                pending: 2,
                sent: 4,
                failed: 0
            }
        );
        assert!(PushProgress::from_pairs([("lost".to_owned(), 1)]).is_err());
    }

    #[test]
    fn topics_have_store_keys() {
        assert_eq!(PushTopic::from_key(""), PushTopic::Site);
        assert_eq!(PushTopic::Tag("nato".into()).as_key(), "nato");
        assert_eq!(
            PushTopic::from_key(PushTopic::Tag("x".into()).as_key()),
            PushTopic::Tag("x".into())
        );
    }
}
