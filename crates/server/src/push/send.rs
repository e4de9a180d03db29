//! Sending one push (RFC 8030): the message encrypted for the browser (RFC 8291,
//! `aes128gcm`, by `web-push-native`), signed for the push service (VAPID), and the
//! service's answer turned into a [`PushOutcome`].

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use broadsheet_domain::{PushOutcome, PushSubscription, clock};
use chrono::{DateTime, TimeDelta, Utc};
use reqwest::StatusCode;
use serde::Serialize;

use crate::push::config::PushConfig;
use crate::push::vapid::VapidKey;

/// Tries per push before it is given up as failed.
pub const MAX_TRIES: u32 = 8;

/// How long one push may take, connection included.
const TIMEOUT: Duration = Duration::from_secs(20);

/// What a browser receives and its service worker shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Message {
    pub title: String,
    pub url: String,
    pub excerpt: String,
}

/// Push services take at most 4 KiB of encrypted payload: the fields are cut well
/// below that.
const MAX_TITLE_CHARS: usize = 200;
const MAX_EXCERPT_CHARS: usize = 500;

impl Message {
    pub fn new(title: &str, url: String, excerpt: &str) -> Message {
        Message {
            title: cut(title, MAX_TITLE_CHARS),
            url,
            excerpt: cut(excerpt, MAX_EXCERPT_CHARS),
        }
    }
}

fn cut(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((at, _)) => format!("{}…", text[..at].trim_end()),
        None => text.to_owned(),
    }
}

/// Sends pushes for this node: the HTTP client, the VAPID key and the `[push]` settings.
pub struct Pusher {
    client: reqwest::Client,
    key: VapidKey,
    config: PushConfig,
    /// The `Authorization` header last made for each push service (by origin), with
    /// when: one signature serves a whole send, rather than one per push.
    tokens: Mutex<HashMap<String, (DateTime<Utc>, String)>>,
}

/// How long a VAPID token is reused; it is valid for 12 hours.
const REUSE_TOKEN: TimeDelta = TimeDelta::hours(1);

impl Pusher {
    pub fn new(config: &PushConfig) -> anyhow::Result<Pusher> {
        let client = reqwest::Client::builder()
            .timeout(TIMEOUT)
            // A push service answers; it does not send us elsewhere.
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        Ok(Pusher {
            client,
            key: VapidKey::load_or_create(&config.vapid_key_file)?,
            config: config.clone(),
            tokens: Mutex::default(),
        })
    }

    pub fn public_key(&self) -> &str {
        self.key.public_key()
    }

    /// Sends `body` (the JSON of a [`Message`]) to one subscription, on its
    /// `attempt`-th try, and says what became of it. Never fails: every problem is an
    /// outcome.
    pub async fn send(
        &self,
        subscription: &PushSubscription,
        body: &[u8],
        attempt: u32,
    ) -> PushOutcome {
        let request = match self.request(subscription, body) {
            Ok(request) => request,
            Err(error) => return PushOutcome::Failed { error },
        };
        let (status, error) = match request.send().await {
            Ok(response) => {
                let status = response.status();
                if status.is_success() {
                    return PushOutcome::Sent;
                }
                let text = response.text().await.unwrap_or_default();
                let text: String = text.chars().take(200).collect();
                (
                    Some(status),
                    format!("the push service answered {status}: {text}"),
                )
            }
            Err(err) => (None, format!("the push service did not answer: {err}")),
        };
        classify(status, error, attempt)
    }

    fn request(
        &self,
        subscription: &PushSubscription,
        body: &[u8],
    ) -> Result<reqwest::RequestBuilder, String> {
        // Checked at subscribe time too; the list may have changed since.
        if !self.config.allows(&subscription.endpoint) {
            return Err("the endpoint is not one of push.services".into());
        }
        let endpoint: reqwest::Url = subscription
            .endpoint
            .parse()
            .map_err(|e| format!("the endpoint is not a URL: {e}"))?;
        let key = keys(subscription)?;
        let encrypted = web_push_native::encrypt(body.to_vec(), &key.0, &key.1)
            .map_err(|e| format!("cannot encrypt for this subscription: {e}"))?;
        Ok(self
            .client
            .post(endpoint.clone())
            .header("TTL", self.config.ttl.as_secs())
            .header("Urgency", self.config.urgency)
            .header(reqwest::header::CONTENT_ENCODING, "aes128gcm")
            .header(reqwest::header::CONTENT_TYPE, "application/octet-stream")
            .header(
                reqwest::header::AUTHORIZATION,
                self.authorization(&endpoint),
            )
            .body(encrypted))
    }
}

impl Pusher {
    fn authorization(&self, endpoint: &reqwest::Url) -> String {
        let origin = endpoint.origin().ascii_serialization();
        let now = clock::now();
        let mut tokens = self.tokens.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((made, header)) = tokens.get(&origin)
            && now - *made < REUSE_TOKEN
        {
            return header.clone();
        }
        let header = self.key.authorization(endpoint, &self.config.subject, now);
        tokens.insert(origin, (now, header.clone()));
        header
    }
}

/// The browser's public key and auth secret.
fn keys(
    subscription: &PushSubscription,
) -> Result<(p256::PublicKey, web_push_native::Auth), String> {
    let point = URL_SAFE_NO_PAD
        .decode(subscription.p256dh.trim_end_matches('='))
        .map_err(|_| "keys.p256dh is not base64url".to_owned())?;
    let public = p256::PublicKey::from_sec1_bytes(&point)
        .map_err(|_| "keys.p256dh is not a point on P-256".to_owned())?;
    let auth = URL_SAFE_NO_PAD
        .decode(subscription.auth.trim_end_matches('='))
        .map_err(|_| "keys.auth is not base64url".to_owned())?;
    if auth.len() != 16 {
        return Err("keys.auth is not 16 bytes".into());
    }
    Ok((public, web_push_native::Auth::clone_from_slice(&auth)))
}

/// Whether `p256dh` is a point on the curve (the domain only checks its shape).
pub fn is_p256_point(p256dh: &str) -> bool {
    URL_SAFE_NO_PAD
        .decode(p256dh.trim_end_matches('='))
        .ok()
        .is_some_and(|point| p256::PublicKey::from_sec1_bytes(&point).is_ok())
}

/// A failed push's outcome: 404 and 410 mean the subscription is gone (RFC 8030
/// section 7.3); no answer, 408, 429 and 5xx are worth another try, until
/// [`MAX_TRIES`]; any other refusal (400 a malformed request, 403 a key mismatch,
/// 413 too large) will not change by trying again. A retry is due at once: the run
/// that failed it only claims what was due when it started, so it is the job queue's
/// backoff that decides when the next run tries again.
fn classify(status: Option<StatusCode>, error: String, attempt: u32) -> PushOutcome {
    let transient = match status {
        Some(StatusCode::NOT_FOUND | StatusCode::GONE) => return PushOutcome::Gone,
        None => true,
        Some(status) => {
            status.is_server_error()
                || status == StatusCode::TOO_MANY_REQUESTS
                || status == StatusCode::REQUEST_TIMEOUT
        }
    };
    if transient && attempt < MAX_TRIES {
        PushOutcome::Retry {
            error,
            retry_at: clock::now(),
        }
    } else {
        PushOutcome::Failed { error }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_become_outcomes() {
        let err = || "e".to_owned();
        assert_eq!(
            classify(Some(StatusCode::GONE), err(), 1),
            PushOutcome::Gone
        );
        assert_eq!(
            classify(Some(StatusCode::NOT_FOUND), err(), 1),
            PushOutcome::Gone
        );
        for transient in [
            None,
            Some(StatusCode::SERVICE_UNAVAILABLE),
            Some(StatusCode::TOO_MANY_REQUESTS),
        ] {
            assert!(matches!(
                classify(transient, err(), 1),
                PushOutcome::Retry { .. }
            ));
            assert!(matches!(
                classify(transient, err(), MAX_TRIES),
                PushOutcome::Failed { .. }
            ));
        }
        for lasting in [
            StatusCode::BAD_REQUEST,
            StatusCode::FORBIDDEN,
            StatusCode::PAYLOAD_TOO_LARGE,
        ] {
            assert!(matches!(
                classify(Some(lasting), err(), 1),
                PushOutcome::Failed { .. }
            ));
        }
    }

    #[test]
    fn long_fields_are_cut() {
        let message = Message::new(&"t".repeat(300), "/x/".into(), "short");
        assert_eq!(message.title.chars().count(), MAX_TITLE_CHARS + 1);
        assert!(message.title.ends_with('…'));
        assert_eq!(message.excerpt, "short");
    }

    #[test]
    fn points_are_checked_on_the_curve() {
        assert!(is_p256_point(
            "BLn9b-VR0ca83knDNZ32dCHGyjJp-1riX9ZTN40MqV8K_LpQmLqxC_DoHvqvFXO_nGdAB4W9dogZb_sM-uV4JbY"
        ));
        let off_curve = URL_SAFE_NO_PAD.encode([4u8; 65]);
        assert!(!is_p256_point(&off_curve));
    }
}
