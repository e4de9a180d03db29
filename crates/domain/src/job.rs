//! The durable job queue: work that must happen once, later or elsewhere (publishing
//! a scheduled article, sending an email), kept in the database so it survives a
//! restart and is shared by every node.
//!
//! The life of a job: `queued` until its `run_at`; a worker claims it (`running`,
//! `attempts + 1`, leased until `locked_until`); it ends `done`, or goes back to
//! `queued` with a later `run_at` after a failure ([`backoff`]), or becomes `dead`
//! once `max_attempts` failures are spent. A worker that dies mid-job leaves its lease
//! to run out, after which another worker claims the job again, so job bodies must be
//! idempotent. A job with a `key` is enqueued at most once per key, whatever its state,
//! so enqueueing is idempotent too.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::store::StoreResult;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct JobId(pub i64);

impl fmt::Display for JobId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum JobState {
    Queued,
    Running,
    Done,
    Dead,
}

impl JobState {
    pub const ALL: [JobState; 4] = [
        JobState::Queued,
        JobState::Running,
        JobState::Done,
        JobState::Dead,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Queued => "queued",
            JobState::Running => "running",
            JobState::Done => "done",
            JobState::Dead => "dead",
        }
    }
}

impl fmt::Display for JobState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for JobState {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        JobState::ALL
            .into_iter()
            .find(|state| state.as_str() == s)
            .ok_or_else(|| format!("unknown job state \"{s}\""))
    }
}

/// A job to enqueue.
#[derive(Debug, Clone, PartialEq)]
pub struct NewJob {
    /// What to do, e.g. `publish_article` or `send_email`; the worker dispatches on it.
    pub kind: String,
    /// The job's arguments, as the job body reads them.
    pub payload: serde_json::Value,
    /// Not before this time.
    pub run_at: DateTime<Utc>,
    /// Makes enqueueing idempotent: a second job with the same key is not added.
    pub key: Option<String>,
    /// Failures allowed before the job is dead (at least 1).
    pub max_attempts: u32,
}

impl NewJob {
    /// The usual number of tries: with [`backoff`], the last retry comes about four
    /// hours after the first failure.
    pub const DEFAULT_MAX_ATTEMPTS: u32 = 10;

    pub fn new(kind: &str, payload: serde_json::Value, run_at: DateTime<Utc>) -> NewJob {
        NewJob {
            kind: kind.to_owned(),
            payload,
            run_at,
            key: None,
            max_attempts: NewJob::DEFAULT_MAX_ATTEMPTS,
        }
    }

    pub fn with_key(mut self, key: impl Into<String>) -> NewJob {
        self.key = Some(key.into());
        self
    }

    pub fn with_max_attempts(mut self, max_attempts: u32) -> NewJob {
        self.max_attempts = max_attempts.max(1);
        self
    }
}

/// A job as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Job {
    pub id: JobId,
    pub kind: String,
    pub payload: serde_json::Value,
    pub key: Option<String>,
    pub state: JobState,
    pub run_at: DateTime<Utc>,
    /// Claims so far, counting the current one while running.
    pub attempts: u32,
    pub max_attempts: u32,
    /// The error of the last failed attempt.
    pub last_error: Option<String>,
    /// While running: when the lease runs out and another worker may claim it again.
    pub locked_until: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// How long to wait before retrying after the `attempts`-th failed attempt: 30 s,
/// doubling each time, at most six hours.
pub fn backoff(attempts: u32) -> Duration {
    const BASE_SECS: u64 = 30;
    const MAX_SECS: u64 = 6 * 60 * 60;
    let exponent = attempts.saturating_sub(1).min(20);
    Duration::from_secs((BASE_SECS << exponent).min(MAX_SECS))
}

/// When a lease of `lease` taken at `now` runs out; the far future for a lease too
/// long to add, rather than an error.
pub fn lease_until(now: DateTime<Utc>, lease: Duration) -> DateTime<Utc> {
    chrono::TimeDelta::from_std(lease)
        .ok()
        .and_then(|lease| now.checked_add_signed(lease))
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// How many jobs are in each state, for the admin's job page.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct JobCounts {
    pub queued: u64,
    pub running: u64,
    pub done: u64,
    pub dead: u64,
}

impl JobCounts {
    /// Counts from `(state, count)` pairs, as a `GROUP BY state` gives them; states
    /// without a pair count zero.
    pub fn from_pairs(pairs: impl IntoIterator<Item = (JobState, u64)>) -> JobCounts {
        let mut counts = JobCounts::default();
        for (state, n) in pairs {
            *match state {
                JobState::Queued => &mut counts.queued,
                JobState::Running => &mut counts.running,
                JobState::Done => &mut counts.done,
                JobState::Dead => &mut counts.dead,
            } += n;
        }
        counts
    }

    /// Jobs in any state.
    pub fn total(&self) -> u64 {
        self.queued + self.running + self.done + self.dead
    }
}

/// The queue's storage. Each backend implements it in one place; the conformance suite
/// tests it on both.
#[async_trait]
pub trait JobStore: Send + Sync {
    /// Adds a job. With a key already used by any job (in any state), nothing is added
    /// and the existing job's id is returned.
    async fn enqueue_job(&self, job: &NewJob) -> StoreResult<JobId>;

    /// Claims up to `limit` jobs that are due at `now`: queued with `run_at <= now`, or
    /// running with a lease that ran out before `now`. Each claimed job is returned as
    /// running, with `attempts` raised by one and `locked_until = now + lease`, oldest
    /// `run_at` first. Two callers racing never claim the same job (PostgreSQL:
    /// `FOR UPDATE SKIP LOCKED`; SQLite: one write transaction).
    async fn claim_jobs(
        &self,
        now: DateTime<Utc>,
        lease: Duration,
        limit: u32,
    ) -> StoreResult<Vec<Job>>;

    /// Marks a claimed job done. `NotFound` for an unknown id.
    async fn complete_job(&self, id: JobId, now: DateTime<Utc>) -> StoreResult<()>;

    /// Records a failed attempt: back to queued with `run_at = retry_at` while
    /// `attempts < max_attempts`, else dead. Returns the state it is left in.
    async fn fail_job(
        &self,
        id: JobId,
        error: &str,
        retry_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> StoreResult<JobState>;

    /// Queues a dead job again at `now` with its attempts reset. `NotFound` unless the
    /// job exists and is dead.
    async fn retry_job(&self, id: JobId, now: DateTime<Utc>) -> StoreResult<()>;

    async fn job_by_id(&self, id: JobId) -> StoreResult<Job>;

    /// Jobs in `state` (all states when `None`), most recently changed first.
    async fn list_jobs(&self, state: Option<JobState>, limit: u32) -> StoreResult<Vec<Job>>;

    async fn job_counts(&self) -> StoreResult<JobCounts>;

    /// Deletes done jobs last changed before `before`, so the table does not grow
    /// forever. Returns how many went.
    async fn prune_jobs(&self, before: DateTime<Utc>) -> StoreResult<u64>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_is_capped() {
        assert_eq!(backoff(1), Duration::from_secs(30));
        assert_eq!(backoff(2), Duration::from_secs(60));
        assert_eq!(backoff(3), Duration::from_secs(120));
        assert_eq!(backoff(10), Duration::from_secs(30 * 512));
        assert_eq!(backoff(11), Duration::from_secs(6 * 60 * 60));
        assert_eq!(backoff(u32::MAX), Duration::from_secs(6 * 60 * 60));
        assert_eq!(backoff(0), Duration::from_secs(30));
    }

    #[test]
    fn states_round_trip() {
        for state in JobState::ALL {
            assert_eq!(state.as_str().parse::<JobState>(), Ok(state));
        }
        assert!("later".parse::<JobState>().is_err());
    }

    #[test]
    fn counts_come_from_pairs() {
        let counts = JobCounts::from_pairs([(JobState::Dead, 2), (JobState::Queued, 5)]);
        assert_eq!(
            counts,
            JobCounts {
                queued: 5,
                running: 0,
                done: 0,
                dead: 2
            }
        );
        assert_eq!(counts.total(), 7);
    }

    #[test]
    fn leases_saturate() {
        let now = Utc::now();
        assert_eq!(
            lease_until(now, Duration::from_secs(60)),
            now + chrono::TimeDelta::seconds(60)
        );
        assert_eq!(lease_until(now, Duration::MAX), DateTime::<Utc>::MAX_UTC);
    }

    #[test]
    fn max_attempts_is_at_least_one() {
        let job = NewJob::new("x", serde_json::json!({}), Utc::now()).with_max_attempts(0);
        assert_eq!(job.max_attempts, 1);
    }
}
