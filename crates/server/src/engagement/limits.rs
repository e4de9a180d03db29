//! Rate limits: how often one reader, and one network, may vote, react or rate; and
//! how many new readers (viewers without a cookie) one network may bring per minute.
//!
//! Keyed GCRA limiters from `governor`, one state per key, in this node's memory: a
//! reader behind a load balancer may reach several nodes, so the effective limit is up
//! to the configured one per node. That is fine for what these are for (slowing a
//! script down); the hard, site-wide guarantee is the per-network daily cap that the
//! store enforces in the vote's transaction.

use std::num::NonZeroU32;
use std::time::Duration;

use broadsheet_domain::{NetworkHash, ReaderId};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};

use crate::config::EngagementConfig;
use crate::error::AppError;

pub struct Limits {
    per_reader: DefaultKeyedRateLimiter<ReaderId>,
    per_network: DefaultKeyedRateLimiter<NetworkHash>,
    /// Views by readers who had no cookie: each mints a new reader, so this is what
    /// stops a client that throws its cookie away from counting a view per request.
    new_viewers_per_network: DefaultKeyedRateLimiter<NetworkHash>,
    clock: DefaultClock,
}

impl Limits {
    pub fn new(config: &EngagementConfig) -> Limits {
        let per_minute = |n: NonZeroU32| Quota::per_minute(n);
        Limits {
            per_reader: DefaultKeyedRateLimiter::keyed(per_minute(
                config.votes_per_minute_per_reader,
            )),
            per_network: DefaultKeyedRateLimiter::keyed(per_minute(
                config.votes_per_minute_per_network,
            )),
            new_viewers_per_network: DefaultKeyedRateLimiter::keyed(per_minute(
                config.votes_per_minute_per_network,
            )),
            clock: DefaultClock::default(),
        }
    }

    /// Takes one vote from the reader's and the network's allowance, or says when to
    /// come back. The reader is checked first, so one over-eager reader does not use
    /// up their network's allowance.
    pub fn vote(&self, reader: &ReaderId, network: &NetworkHash) -> Result<(), AppError> {
        let refused = |wait: Duration, whose: &str| AppError::TooManyRequests {
            code: "rate_limited",
            message: format!("{whose} Please wait a moment and try again."),
            retry_after_secs: whole_seconds(wait),
        };
        if let Err(not_until) = self.per_reader.check_key(reader) {
            return Err(refused(
                not_until.wait_time_from(self.clock.now()),
                "You are reacting faster than we can count.",
            ));
        }
        if let Err(not_until) = self.per_network.check_key(network) {
            return Err(refused(
                not_until.wait_time_from(self.clock.now()),
                "Too many reactions come from your network right now.",
            ));
        }
        Ok(())
    }

    /// Whether a view by a reader without a cookie may count.
    pub fn new_viewer(&self, network: &NetworkHash) -> bool {
        self.new_viewers_per_network.check_key(network).is_ok()
    }

    /// Forgets keys whose limits have fully recovered, so memory follows the active
    /// readers rather than every reader ever seen.
    pub fn forget_idle(&self) {
        for limiter in [&self.per_network, &self.new_viewers_per_network] {
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
        self.per_reader.retain_recent();
        self.per_reader.shrink_to_fit();
    }
}

/// `Retry-After` is in whole seconds; round up so a client that obeys it succeeds.
pub(crate) fn whole_seconds(wait: Duration) -> u64 {
    (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(per_reader: u32, per_network: u32) -> EngagementConfig {
        EngagementConfig {
            trusted_proxies: vec![],
            votes_per_minute_per_reader: NonZeroU32::new(per_reader).unwrap(),
            votes_per_minute_per_network: NonZeroU32::new(per_network).unwrap(),
            readers_per_network_per_article_per_day: NonZeroU32::new(50).unwrap(),
        }
    }

    #[test]
    fn readers_then_networks_run_out() {
        let limits = Limits::new(&config(2, 3));
        let net = NetworkHash("n".into());
        let ann = ReaderId::from_bytes([1; 16]);
        let bob = ReaderId::from_bytes([2; 16]);
        assert!(limits.vote(&ann, &net).is_ok());
        assert!(limits.vote(&ann, &net).is_ok());
        match limits.vote(&ann, &net) {
            Err(AppError::TooManyRequests {
                retry_after_secs, ..
            }) => assert!((1..=30).contains(&retry_after_secs), "{retry_after_secs}"),
            other => panic!("{other:?}"),
        }
        assert!(limits.vote(&bob, &net).is_ok()); // the network's third
        assert!(limits.vote(&bob, &net).is_err()); // the network is out
        let cy = ReaderId::from_bytes([3; 16]);
        assert!(limits.vote(&cy, &NetworkHash("other".into())).is_ok());
    }

    #[test]
    fn retry_after_rounds_up_to_at_least_one_second() {
        assert_eq!(whole_seconds(Duration::ZERO), 1);
        assert_eq!(whole_seconds(Duration::from_millis(1)), 1);
        assert_eq!(whole_seconds(Duration::from_secs(2)), 2);
        assert_eq!(whole_seconds(Duration::from_millis(2001)), 3);
    }
}
