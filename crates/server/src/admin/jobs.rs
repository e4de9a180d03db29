//! The job queue in the admin (`Action::Operate`): how many jobs are in each state,
//! the latest ones with their attempts and last error (dead ones first, since they
//! need someone), and a button that queues a dead job again.
//!
//! Payloads are not shown: an email job's payload holds a reader's address.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use broadsheet_domain::{Action, Job, JobId, JobState, Target, clock};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use minijinja::context;
use serde::Serialize;

use super::{AdminRoute, render};
use crate::app::AppState;
use crate::auth::SignedIn;
use crate::error::AppError;

/// Jobs listed besides the dead ones.
const LATEST: u32 = 50;

/// Dead jobs listed at most (the count says how many there are).
const DEAD: u32 = 100;

pub fn routes() -> Vec<AdminRoute> {
    vec![
        AdminRoute::get("/admin/jobs", list),
        AdminRoute::post("/admin/jobs/{id}/retry", retry),
    ]
}

#[derive(Serialize)]
struct JobView {
    id: i64,
    kind: String,
    state: &'static str,
    attempts: u32,
    max_attempts: u32,
    last_error: Option<String>,
    run_at: String,
    run_at_iso: String,
    updated_at: String,
    dead: bool,
}

impl JobView {
    fn of(job: &Job, tz: Tz) -> JobView {
        let local = |at: DateTime<Utc>| {
            at.with_timezone(&tz)
                .format("%Y-%m-%d %H:%M:%S")
                .to_string()
        };
        JobView {
            id: job.id.0,
            kind: job.kind.clone(),
            state: job.state.as_str(),
            attempts: job.attempts,
            max_attempts: job.max_attempts,
            last_error: job.last_error.clone(),
            run_at: local(job.run_at),
            run_at_iso: job.run_at.to_rfc3339(),
            updated_at: local(job.updated_at),
            dead: job.state == JobState::Dead,
        }
    }
}

/// GET /admin/jobs
async fn list(State(state): State<AppState>, who: SignedIn) -> Result<Response, AppError> {
    who.require(Action::Operate, Target::Site)?;
    let tz = who.site.settings.tz();
    let counts = state.store.job_counts().await?;
    let dead = state.store.list_jobs(Some(JobState::Dead), DEAD).await?;
    let latest = state.store.list_jobs(None, LATEST).await?;
    let jobs: Vec<JobView> = dead
        .iter()
        .chain(latest.iter().filter(|job| job.state != JobState::Dead))
        .map(|job| JobView::of(job, tz))
        .collect();
    render(
        &state,
        &who,
        "admin/jobs.html",
        context! { section => "jobs", counts, jobs },
    )
}

/// POST /admin/jobs/{id}/retry: queues a dead job again, now, with fresh attempts.
async fn retry(
    State(state): State<AppState>,
    who: SignedIn,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    who.require(Action::Operate, Target::Site)?;
    let id = JobId(id);
    let job = state.store.job_by_id(id).await?;
    if job.state != JobState::Dead {
        return Err(AppError::BadRequest(format!(
            "Job {id} is {}, not dead: only a dead job can be retried.",
            job.state
        )));
    }
    state.store.retry_job(id, clock::now()).await?;
    super::audit::record(
        &state,
        &who.user,
        "job.retry",
        &format!("job:{id}"),
        &job.kind,
    )
    .await?;
    state.jobs.wake();
    Ok(Redirect::to("/admin/jobs").into_response())
}
