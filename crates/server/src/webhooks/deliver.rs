//! Posting one delivery: the `deliver_webhook` job.
//!
//! The body is the one stored when the event was recorded, byte for byte, so every
//! attempt carries the same signature. Headers: `Content-Type: application/json`,
//! `X-Broadsheet-Event`, `X-Broadsheet-Delivery` (the delivery's id, the same on
//! every retry, for receivers that deduplicate) and `X-Broadsheet-Signature:
//! sha256=<hex>`, the HMAC-SHA256 of the body under the webhook's secret. A 2xx answer
//! is delivered; anything else (another status, a timeout, no connection) fails the
//! job, which the queue retries with backoff and gives up on after its attempts,
//! marking the delivery failed. Redirects are not followed: a receiver that moved
//! should be registered again.

use std::time::Duration;

use anyhow::Context;
use broadsheet_domain::{
    Job, NewJob, Store, StoreError, WebhookAttempt, WebhookDeliveryId, WebhookDeliveryState, clock,
};
use serde::{Deserialize, Serialize};

use crate::signing::hmac_sha256_hex;

/// The job kind.
pub const DELIVER_WEBHOOK: &str = "deliver_webhook";

/// The signature header.
pub const SIGNATURE_HEADER: &str = "X-Broadsheet-Signature";

/// How long a receiver may take to answer.
const TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, Serialize, Deserialize)]
struct Payload {
    delivery: WebhookDeliveryId,
}

/// The HTTP client deliveries are posted with.
pub fn client() -> anyhow::Result<reqwest::Client> {
    reqwest::Client::builder()
        .timeout(TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("Broadsheet-Webhooks/", env!("CARGO_PKG_VERSION")))
        .build()
        .context("cannot set up the HTTP client for webhooks")
}

/// Enqueues the job that posts `delivery` (once per delivery).
pub async fn enqueue(store: &dyn Store, delivery: WebhookDeliveryId) -> Result<(), StoreError> {
    let payload = serde_json::to_value(Payload { delivery }).map_err(StoreError::backend)?;
    let job = NewJob::new(DELIVER_WEBHOOK, payload, clock::now())
        .with_key(format!("{DELIVER_WEBHOOK}:{delivery}"));
    store.enqueue_job(&job).await.map(drop)
}

/// The job body. A delivery or webhook deleted since is nothing left to do.
pub async fn run(store: &dyn Store, http: &reqwest::Client, job: &Job) -> anyhow::Result<()> {
    let Payload { delivery } =
        Payload::deserialize(&job.payload).context("the payload names no delivery")?;
    let delivery = match store.webhook_delivery_by_id(delivery).await {
        Ok(delivery) => delivery,
        Err(StoreError::NotFound) => return Ok(()),
        Err(err) => return Err(err).context("cannot read the delivery"),
    };
    if delivery.state == WebhookDeliveryState::Delivered {
        return Ok(());
    }
    let hook = match store.webhook_by_id(delivery.webhook_id).await {
        Ok(hook) => hook,
        Err(StoreError::NotFound) => return Ok(()),
        Err(err) => return Err(err).context("cannot read the webhook"),
    };
    let signature = hmac_sha256_hex(hook.secret.as_bytes(), delivery.body.as_bytes());
    let sent = http
        .post(&hook.url)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header("X-Broadsheet-Event", delivery.event.as_str())
        .header("X-Broadsheet-Delivery", delivery.id.to_string())
        .header(SIGNATURE_HEADER, format!("sha256={signature}"))
        .body(delivery.body.clone())
        .send()
        .await;
    let (status, error) = match sent {
        Ok(response) if response.status().is_success() => (Some(response.status()), None),
        Ok(response) => (
            Some(response.status()),
            Some(format!("the receiver answered {}", response.status())),
        ),
        // Without the URL: the log shows it beside the delivery already.
        Err(err) => (None, Some(describe(&err))),
    };
    let last_try = job.attempts >= job.max_attempts;
    let state = match (&error, last_try) {
        (None, _) => WebhookDeliveryState::Delivered,
        (Some(_), false) => WebhookDeliveryState::Pending,
        (Some(_), true) => WebhookDeliveryState::Failed,
    };
    let attempt = WebhookAttempt {
        state,
        status: status.map(|s| s.as_u16()),
        error: error.clone(),
    };
    store
        .record_webhook_attempt(delivery.id, &attempt, clock::now())
        .await
        .context("cannot record the attempt")?;
    match error {
        None => Ok(()),
        Some(error) => Err(anyhow::anyhow!(error)),
    }
}

fn describe(err: &reqwest::Error) -> String {
    let what = if err.is_timeout() {
        "the receiver did not answer in time"
    } else if err.is_connect() {
        "cannot connect to the receiver"
    } else {
        "the request failed"
    };
    match std::error::Error::source(err) {
        Some(source) => format!("{what}: {source}"),
        None => what.to_owned(),
    }
}
