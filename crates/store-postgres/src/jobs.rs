//! The job queue in PostgreSQL (see `migrations/0003_jobs.sql`). Workers on every
//! node claim with `FOR UPDATE SKIP LOCKED` in a CTE feeding one `UPDATE ...
//! RETURNING`: each due row is locked by one claimer, the others skip it rather than
//! wait, and a row claimed meanwhile is re-checked against the `WHERE` once its lock
//! is free (it is then running with a fresh lease, so it no longer matches).
//!
//! Job writes publish no change notice: no page or cache shows jobs.

use std::time::Duration;

use async_trait::async_trait;
use broadsheet_domain::job::lease_until;
use broadsheet_domain::store::StoreResult;
use broadsheet_domain::{Job, JobCounts, JobId, JobState, JobStore, NewJob, StoreError, clock};
use chrono::{DateTime, Utc};

use crate::PgStore;
use crate::rows::{db_error, to_u32};

/// The columns of [`JobRow`]; the payload comes as text, parsed by serde_json.
/// Qualified, because the claim's `RETURNING` also sees the CTE's `id`.
macro_rules! job_columns {
    () => {
        "jobs.id, jobs.kind, jobs.payload::text AS payload, jobs.key, jobs.state, \
         jobs.run_at, jobs.attempts, jobs.max_attempts, jobs.last_error, jobs.locked_until, \
         jobs.created_at, jobs.updated_at"
    };
}

#[derive(sqlx::FromRow)]
struct JobRow {
    id: i64,
    kind: String,
    payload: String,
    key: Option<String>,
    state: String,
    run_at: DateTime<Utc>,
    attempts: i64,
    max_attempts: i64,
    last_error: Option<String>,
    locked_until: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl TryFrom<JobRow> for Job {
    type Error = StoreError;

    fn try_from(row: JobRow) -> StoreResult<Job> {
        Ok(Job {
            id: JobId(row.id),
            kind: row.kind,
            payload: serde_json::from_str(&row.payload).map_err(StoreError::backend)?,
            key: row.key,
            state: row.state.parse().map_err(StoreError::Backend)?,
            run_at: row.run_at,
            attempts: to_u32(row.attempts)?,
            max_attempts: to_u32(row.max_attempts)?,
            last_error: row.last_error,
            locked_until: row.locked_until,
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }
}

#[async_trait]
impl JobStore for PgStore {
    async fn enqueue_job(&self, job: &NewJob) -> StoreResult<JobId> {
        let now = clock::now();
        let payload = serde_json::to_string(&job.payload).map_err(StoreError::backend)?;
        // A racing enqueue of the same key waits for the first to commit, then inserts
        // nothing; the id is read by a second statement, whose snapshot sees that
        // commit. A keyed job pruned between the two is simply enqueued again.
        loop {
            let inserted: Option<i64> = sqlx::query_scalar(
                "INSERT INTO jobs (kind, payload, key, state, run_at, max_attempts, \
                 created_at, updated_at) VALUES ($1, $2::jsonb, $3, 'queued', $4, $5, $6, $6) \
                 ON CONFLICT (key) WHERE key IS NOT NULL DO NOTHING RETURNING id",
            )
            .bind(&job.kind)
            .bind(&payload)
            .bind(&job.key)
            .bind(job.run_at)
            .bind(i64::from(job.max_attempts.max(1)))
            .bind(now)
            .fetch_optional(&self.pool)
            .await
            .map_err(db_error)?;
            if let Some(id) = inserted {
                return Ok(JobId(id));
            }
            let existing: Option<i64> = sqlx::query_scalar("SELECT id FROM jobs WHERE key = $1")
                .bind(&job.key)
                .fetch_optional(&self.pool)
                .await
                .map_err(db_error)?;
            if let Some(id) = existing {
                return Ok(JobId(id));
            }
        }
    }

    async fn claim_jobs(
        &self,
        now: DateTime<Utc>,
        lease: Duration,
        limit: u32,
    ) -> StoreResult<Vec<Job>> {
        let rows: Vec<JobRow> = sqlx::query_as(concat!(
            "WITH due AS ( \
                 SELECT id FROM jobs \
                 WHERE (state = 'queued' AND run_at <= $1) \
                    OR (state = 'running' AND locked_until < $1) \
                 ORDER BY run_at, id LIMIT $3 \
                 FOR UPDATE SKIP LOCKED) \
             UPDATE jobs SET state = 'running', attempts = jobs.attempts + 1, \
                    locked_until = $2, updated_at = $1 \
             FROM due WHERE jobs.id = due.id \
             RETURNING ",
            job_columns!()
        ))
        .bind(now)
        .bind(lease_until(now, lease))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(db_error)?;
        let mut jobs = rows
            .into_iter()
            .map(Job::try_from)
            .collect::<StoreResult<Vec<_>>>()?;
        // RETURNING promises no order.
        jobs.sort_by_key(|job| (job.run_at, job.id));
        Ok(jobs)
    }

    async fn complete_job(&self, id: JobId, now: DateTime<Utc>) -> StoreResult<()> {
        let done = sqlx::query(
            "UPDATE jobs SET state = 'done', locked_until = NULL, updated_at = $1 WHERE id = $2",
        )
        .bind(now)
        .bind(id.0)
        .execute(&self.pool)
        .await
        .map_err(db_error)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    async fn fail_job(
        &self,
        id: JobId,
        error: &str,
        retry_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> StoreResult<JobState> {
        let state: String = sqlx::query_scalar(
            "UPDATE jobs SET \
                 state = CASE WHEN attempts < max_attempts THEN 'queued' ELSE 'dead' END, \
                 run_at = CASE WHEN attempts < max_attempts THEN $1 ELSE run_at END, \
                 last_error = $2, locked_until = NULL, updated_at = $3 \
             WHERE id = $4 RETURNING state",
        )
        .bind(retry_at)
        .bind(error)
        .bind(now)
        .bind(id.0)
        .fetch_one(&self.pool)
        .await
        .map_err(db_error)?;
        state.parse().map_err(StoreError::Backend)
    }

    async fn retry_job(&self, id: JobId, now: DateTime<Utc>) -> StoreResult<()> {
        let revived = sqlx::query(
            "UPDATE jobs SET state = 'queued', attempts = 0, run_at = $1, updated_at = $1 \
             WHERE id = $2 AND state = 'dead'",
        )
        .bind(now)
        .bind(id.0)
        .execute(&self.pool)
        .await
        .map_err(db_error)?;
        if revived.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    async fn job_by_id(&self, id: JobId) -> StoreResult<Job> {
        let row: JobRow = sqlx::query_as(concat!(
            "SELECT ",
            job_columns!(),
            " FROM jobs WHERE id = $1"
        ))
        .bind(id.0)
        .fetch_one(&self.pool)
        .await
        .map_err(db_error)?;
        row.try_into()
    }

    async fn list_jobs(&self, state: Option<JobState>, limit: u32) -> StoreResult<Vec<Job>> {
        let rows: Vec<JobRow> = sqlx::query_as(concat!(
            "SELECT ",
            job_columns!(),
            " FROM jobs WHERE $1::text IS NULL OR state = $1 \
             ORDER BY updated_at DESC, id DESC LIMIT $2"
        ))
        .bind(state.map(JobState::as_str))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(db_error)?;
        rows.into_iter().map(Job::try_from).collect()
    }

    async fn job_counts(&self) -> StoreResult<JobCounts> {
        let rows: Vec<(String, i64)> =
            sqlx::query_as("SELECT state, COUNT(*) FROM jobs GROUP BY state")
                .fetch_all(&self.pool)
                .await
                .map_err(db_error)?;
        let pairs = rows
            .into_iter()
            .map(|(state, n)| {
                let state = state.parse().map_err(StoreError::Backend)?;
                Ok((state, u64::try_from(n).map_err(StoreError::backend)?))
            })
            .collect::<StoreResult<Vec<_>>>()?;
        Ok(JobCounts::from_pairs(pairs))
    }

    async fn prune_jobs(&self, before: DateTime<Utc>) -> StoreResult<u64> {
        let pruned = sqlx::query("DELETE FROM jobs WHERE state = 'done' AND updated_at < $1")
            .bind(before)
            .execute(&self.pool)
            .await
            .map_err(db_error)?;
        Ok(pruned.rows_affected())
    }
}
