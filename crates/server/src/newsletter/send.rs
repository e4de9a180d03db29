//! Sending an article to its subscribers.
//!
//! [`fan_out`] (run by the article's announcement) records a pending delivery for
//! every confirmed subscriber who wants the article, in one statement, and enqueues
//! [`SENDERS`] sender jobs. Each sender ([`run`]) claims [`CLAIM`] deliveries at a
//! time (leased, so two senders, on one node or two, never take the same one), sends
//! them [`IN_FLIGHT`] at a time over the mailer's SMTP connection pool, and marks each
//! group sent as soon as the server has taken it. So a sender killed mid-send repeats
//! at most the messages in flight when it died (its claim comes back when the lease
//! runs out), and a retry reaches only those not yet sent.
//!
//! A permanent refusal (5xx) fails that one delivery and counts against the address
//! (bounced after [`broadsheet_domain::subscription::BOUNCE_AFTER`] in a row). A
//! passing failure (the server away, busy, or answering 4xx) gives the unsent part of
//! the claim back and fails the job, which the queue retries with backoff. A sender
//! that has run for [`BUDGET`] hands the rest to a fresh job, so no job outlives its
//! lease.

use std::time::{Duration, Instant};

use anyhow::Context;
use broadsheet_domain::{
    Article, ArticleId, Delivery, NewJob, Store, StoreError, SubscriberId, SubscriberStatus, clock,
};
use futures::future::join_all;
use serde::{Deserialize, Serialize};

use crate::comments::notify::stop::StopToken;
use crate::mail::{Mailer, SendError};
use crate::signing::SigningKey;

/// The sender job's kind.
pub const NEWSLETTER_SEND: &str = "newsletter_send";

/// Sender jobs per article: on several nodes they send side by side.
pub const SENDERS: u32 = 2;

/// Deliveries claimed at once.
pub const CLAIM: u32 = 64;

/// Messages sent at once (each on its own pooled SMTP connection, see
/// [`crate::mail::SMTP_CONNECTIONS`]), and so the most a crash can repeat per sender.
pub const IN_FLIGHT: usize = 16;

/// How long a claim is the sender's; well beyond the time a group takes.
const CLAIM_LEASE: Duration = Duration::from_secs(120);

/// How long one sender job runs before it hands over to a new one.
const BUDGET: Duration = Duration::from_secs(60);

#[derive(Debug, Serialize, Deserialize)]
struct Payload {
    article: ArticleId,
}

/// Queues `article` for every subscriber who wants it and, if anyone is to be mailed,
/// enqueues the senders. Idempotent. Returns how many deliveries were added.
pub async fn fan_out(store: &dyn Store, article: &Article) -> Result<u64, StoreError> {
    let now = clock::now();
    let queued = store.queue_deliveries(article.id, now).await?;
    // Counted rather than taken from `queued`: a run after a crash between the two
    // steps finds the rows there already, and must still start the senders.
    let counts = store.delivery_counts(article.id).await?;
    if counts.pending + counts.sending > 0 {
        for n in 0..SENDERS {
            enqueue_sender(store, article.id, &n.to_string()).await?;
        }
    }
    Ok(queued)
}

async fn enqueue_sender(
    store: &dyn Store,
    article: ArticleId,
    tag: &str,
) -> Result<(), StoreError> {
    let payload = serde_json::to_value(Payload { article }).map_err(StoreError::backend)?;
    let job = NewJob::new(NEWSLETTER_SEND, payload, clock::now())
        .with_key(format!("{NEWSLETTER_SEND}:{article}:{tag}"));
    store.enqueue_job(&job).await.map(drop)
}

/// What a sender needs besides the store.
pub struct Sender<'a> {
    pub store: &'a dyn Store,
    pub mailer: &'a Mailer,
    pub base_url: &'a str,
}

/// What one sender run did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Sent {
    pub sent: u64,
    pub refused: u64,
}

impl Sender<'_> {
    /// The job body.
    pub async fn run(&self, payload: &serde_json::Value) -> anyhow::Result<()> {
        let Payload { article } =
            Payload::deserialize(payload).context("the payload names no article")?;
        let done = self.send(article).await?;
        tracing::info!(%article, sent = done.sent, refused = done.refused, "newsletter sender finished");
        Ok(())
    }

    /// Sends `article` to every claimable delivery, until none is left or the budget
    /// is spent (then a fresh job takes over).
    pub async fn send(&self, article: ArticleId) -> anyhow::Result<Sent> {
        let article = match self.store.article_by_id(article).await {
            Ok(article) => article,
            Err(StoreError::NotFound) => return Ok(Sent::default()),
            Err(err) => return Err(err).context("cannot read the article"),
        };
        let settings = self.store.settings().await?;
        let url = format!("{}{}", self.base_url, article.permalink(settings.tz()));
        let key = SigningKey::load(self.store).await?;
        let started = Instant::now();
        let mut done = Sent::default();
        loop {
            if started.elapsed() >= BUDGET {
                let tag = format!("after-{}", clock::now().timestamp_millis());
                enqueue_sender(self.store, article.id, &tag).await?;
                return Ok(done);
            }
            let claimed = self
                .store
                .claim_deliveries(article.id, clock::now(), CLAIM_LEASE, CLAIM)
                .await?;
            if claimed.is_empty() {
                return Ok(done);
            }
            let mut rest: Vec<SubscriberId> = claimed.iter().map(|d| d.subscriber).collect();
            for group in claimed.chunks(IN_FLIGHT) {
                let outcomes = join_all(group.iter().map(|delivery| {
                    let email = super::email::article(
                        &settings,
                        &article,
                        &url,
                        &delivery.email,
                        &StopToken::Newsletter(delivery.subscriber).link(&key, self.base_url),
                    );
                    async move { (delivery, self.mailer.try_send(&email).await) }
                }))
                .await;
                let outcome = self.settle(article.id, &outcomes, &mut done).await;
                rest.retain(|id| !group.iter().any(|d| d.subscriber == *id));
                if let Err(err) = outcome {
                    // Given back at once, so the retry need not wait for the lease.
                    let failed: Vec<SubscriberId> = outcomes
                        .iter()
                        .filter(|(_, r)| matches!(r, Err(SendError::Failed(_))))
                        .map(|(d, _)| d.subscriber)
                        .chain(rest.iter().copied())
                        .collect();
                    self.store.release_deliveries(article.id, &failed).await?;
                    return Err(err);
                }
            }
        }
    }

    /// Records one group's outcomes: the sent ones at once, refusals one by one. An
    /// error when a passing failure means the rest should wait for a retry.
    async fn settle(
        &self,
        article: ArticleId,
        outcomes: &[(&Delivery, Result<(), SendError>)],
        done: &mut Sent,
    ) -> anyhow::Result<()> {
        let now = clock::now();
        let sent: Vec<SubscriberId> = outcomes
            .iter()
            .filter(|(_, r)| r.is_ok())
            .map(|(d, _)| d.subscriber)
            .collect();
        self.store.mark_sent(article, &sent, now).await?;
        done.sent += sent.len() as u64;
        let mut passing = None;
        for (delivery, result) in outcomes {
            match result {
                Ok(()) => {}
                Err(SendError::Refused(code)) => {
                    done.refused += 1;
                    let status = self
                        .store
                        .delivery_failed(article, delivery.subscriber, now)
                        .await?;
                    tracing::warn!(
                        %article, subscriber = %delivery.subscriber, code,
                        bounced = status == SubscriberStatus::Bounced,
                        "the mail server refused a newsletter recipient"
                    );
                }
                Err(SendError::Failed(err)) => {
                    passing.get_or_insert_with(|| format!("{err:#}"));
                }
            }
        }
        match passing {
            None => Ok(()),
            Some(err) => Err(anyhow::anyhow!(
                "sending stopped after {} emails: {err}",
                done.sent
            )),
        }
    }
}
