//! The job queue in SQLite (see `migrations/0005_jobs.sql`). Each call is one
//! statement or one `BEGIN IMMEDIATE` transaction: SQLite runs writers one at a time,
//! so a claim (select the due rows and mark them running) can never hand a job to two
//! workers, in this process or another on the same file.
//!
//! Job writes publish no change notice: no page or cache shows jobs.

use std::time::Duration;

use async_trait::async_trait;
use broadsheet_domain::job::lease_until;
use broadsheet_domain::store::StoreResult;
use broadsheet_domain::{Job, JobCounts, JobId, JobState, JobStore, NewJob, StoreError, clock};
use chrono::{DateTime, Utc};

use crate::SqliteStore;
use crate::rows::{db_error, from_millis, millis, to_u32};

/// The columns of [`JobRow`].
macro_rules! job_columns {
    () => {
        "id, kind, payload, key, state, run_at, attempts, max_attempts, last_error, \
         locked_until, created_at, updated_at"
    };
}

#[derive(sqlx::FromRow)]
struct JobRow {
    id: i64,
    kind: String,
    payload: String,
    key: Option<String>,
    state: String,
    run_at: i64,
    attempts: i64,
    max_attempts: i64,
    last_error: Option<String>,
    locked_until: Option<i64>,
    created_at: i64,
    updated_at: i64,
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
            run_at: from_millis(row.run_at)?,
            attempts: to_u32(row.attempts)?,
            max_attempts: to_u32(row.max_attempts)?,
            last_error: row.last_error,
            locked_until: row.locked_until.map(from_millis).transpose()?,
            created_at: from_millis(row.created_at)?,
            updated_at: from_millis(row.updated_at)?,
        })
    }
}

#[async_trait]
impl JobStore for SqliteStore {
    async fn enqueue_job(&self, job: &NewJob) -> StoreResult<JobId> {
        let now = clock::now();
        let payload = serde_json::to_string(&job.payload).map_err(StoreError::backend)?;
        // One transaction, so a keyed job cannot be pruned between the insert that
        // found its key taken and the read of its id.
        let mut tx = self.begin_write().await?;
        let inserted: Option<i64> = sqlx::query_scalar(
            "INSERT INTO jobs (kind, payload, key, state, run_at, max_attempts, created_at, \
             updated_at) VALUES (?, ?, ?, 'queued', ?, ?, ?, ?) \
             ON CONFLICT (key) WHERE key IS NOT NULL DO NOTHING RETURNING id",
        )
        .bind(&job.kind)
        .bind(payload)
        .bind(&job.key)
        .bind(millis(job.run_at))
        .bind(i64::from(job.max_attempts.max(1)))
        .bind(millis(now))
        .bind(millis(now))
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_error)?;
        let id = match inserted {
            Some(id) => id,
            None => sqlx::query_scalar("SELECT id FROM jobs WHERE key = ?")
                .bind(&job.key)
                .fetch_one(&mut *tx)
                .await
                .map_err(db_error)?,
        };
        tx.commit().await.map_err(db_error)?;
        Ok(JobId(id))
    }

    async fn claim_jobs(
        &self,
        now: DateTime<Utc>,
        lease: Duration,
        limit: u32,
    ) -> StoreResult<Vec<Job>> {
        // One statement is one write transaction: the rows it selects are marked
        // running before any other writer can look.
        let rows: Vec<JobRow> = sqlx::query_as(concat!(
            "UPDATE jobs SET state = 'running', attempts = attempts + 1, \
                    locked_until = ?1, updated_at = ?2 \
             WHERE id IN (SELECT id FROM jobs \
                          WHERE (state = 'queued' AND run_at <= ?2) \
                             OR (state = 'running' AND locked_until < ?2) \
                          ORDER BY run_at, id LIMIT ?3) \
             RETURNING ",
            job_columns!()
        ))
        .bind(millis(lease_until(now, lease)))
        .bind(millis(now))
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
            "UPDATE jobs SET state = 'done', locked_until = NULL, updated_at = ? WHERE id = ?",
        )
        .bind(millis(now))
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
                 run_at = CASE WHEN attempts < max_attempts THEN ?1 ELSE run_at END, \
                 last_error = ?2, locked_until = NULL, updated_at = ?3 \
             WHERE id = ?4 RETURNING state",
        )
        .bind(millis(retry_at))
        .bind(error)
        .bind(millis(now))
        .bind(id.0)
        .fetch_one(&self.pool)
        .await
        .map_err(db_error)?;
        state.parse().map_err(StoreError::Backend)
    }

    async fn retry_job(&self, id: JobId, now: DateTime<Utc>) -> StoreResult<()> {
        let revived = sqlx::query(
            "UPDATE jobs SET state = 'queued', attempts = 0, run_at = ?1, updated_at = ?1 \
             WHERE id = ?2 AND state = 'dead'",
        )
        .bind(millis(now))
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
            " FROM jobs WHERE id = ?"
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
            " FROM jobs WHERE ?1 IS NULL OR state = ?1 \
             ORDER BY updated_at DESC, id DESC LIMIT ?2"
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
        let pruned = sqlx::query("DELETE FROM jobs WHERE state = 'done' AND updated_at < ?")
            .bind(millis(before))
            .execute(&self.pool)
            .await
            .map_err(db_error)?;
        Ok(pruned.rows_affected())
    }
}
