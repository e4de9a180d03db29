//! Webhooks (issue 8, part 4): admins register URLs for events (an article published
//! or updated, a comment posted or approved); every event becomes a signed POST to
//! each listening URL, through the job queue, with a delivery log in the admin.
//!
//! - [`events`]: where the site reports an event. Article saves and comments only
//!   enqueue a keyed `webhook_event` job; its body (or the article announcement, which
//!   is a job already) writes the JSON body once, stores one delivery per listening
//!   webhook ([`broadsheet_domain::WebhookStore::add_webhook_deliveries`]) and
//!   enqueues a `deliver_webhook` job for each.
//! - [`deliver`]: the POST, signed `X-Broadsheet-Signature: sha256=<hex HMAC-SHA256
//!   of the body under the webhook's secret>`, retried with the queue's backoff until
//!   the receiver answers 2xx; each attempt is recorded.
//! - [`admin`]: `/admin/webhooks`, register, remove, read the log.

pub mod admin;
pub mod deliver;
pub mod events;
