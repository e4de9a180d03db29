//! This node's share of the bell's state: the public key it hands out and a
//! per-network limit on subscription writes. Every subscription costs a request to a
//! push service on each publish, so one network may not add them by the thousand.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::{Arc, Weak};
use std::time::Duration;

use axum::http::HeaderMap;
use broadsheet_domain::{NetworkHash, clock};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};

use crate::app::AppState;
use crate::engagement::identity::user_agent;
use crate::error::AppError;

/// Subscription writes (subscribe, unsubscribe) one network may make per minute; a
/// reader clicking a bell makes one.
pub const WRITES_PER_MINUTE_PER_NETWORK: u32 = 20;

pub struct PushState {
    public_key: String,
    per_network: DefaultKeyedRateLimiter<NetworkHash>,
    clock: DefaultClock,
}

impl PushState {
    /// The state for a node whose VAPID public key is `public_key`; forgets idle
    /// networks every minute until it is dropped.
    pub fn start(public_key: String) -> Arc<PushState> {
        let per_minute = NonZeroU32::new(WRITES_PER_MINUTE_PER_NETWORK)
            .expect("the allowance is a positive constant");
        let state = Arc::new(PushState {
            public_key,
            per_network: DefaultKeyedRateLimiter::keyed(Quota::per_minute(per_minute)),
            clock: DefaultClock::default(),
        });
        tokio::spawn(forget_idle(Arc::downgrade(&state)));
        state
    }

    /// The VAPID public key browsers subscribe with.
    pub fn public_key(&self) -> &str {
        &self.public_key
    }

    /// Counts one subscription write from the request's network; 429 past the limit.
    pub async fn take_one(
        &self,
        state: &AppState,
        peer: IpAddr,
        headers: &HeaderMap,
    ) -> Result<(), AppError> {
        let identity = &state.engagement.identity;
        let settings = &state.chrome().await?.settings;
        let day = crate::engagement::today(settings, clock::now());
        let ip = identity.client_ip(peer, headers);
        let network = identity
            .network(state.store.as_ref(), day, ip, user_agent(headers))
            .await?;
        self.per_network.check_key(&network).map_err(|not_until| {
            let wait = not_until.wait_time_from(self.clock.now());
            AppError::TooManyRequests {
                code: "rate_limited",
                message: "Too many notification sign-ups come from your network right now. \
                          Please wait a moment and try again."
                    .into(),
                retry_after_secs: (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1),
            }
        })
    }
}

async fn forget_idle(state: Weak<PushState>) {
    let mut every = tokio::time::interval(Duration::from_secs(60));
    every.tick().await; // the first tick is immediate
    loop {
        every.tick().await;
        let Some(state) = state.upgrade() else {
            break;
        };
        state.per_network.retain_recent();
        state.per_network.shrink_to_fit();
    }
}
