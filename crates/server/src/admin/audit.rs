//! The audit log: one line per admin write (who, what, to what, when), and the page
//! that lists it for admins (`Action::Operate`).

use axum::extract::{Query, State};
use axum::response::Response;
use broadsheet_domain::{Action, AuditEntry, NewAuditEntry, Target, User, clock};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use minijinja::context;
use serde::{Deserialize, Serialize};

use super::{AdminRoute, render};
use crate::app::AppState;
use crate::auth::SignedIn;
use crate::error::AppError;

/// Entries per page of the log.
const PER_PAGE: u32 = 50;

pub fn routes() -> Vec<AdminRoute> {
    vec![AdminRoute::get("/admin/audit", list)]
}

/// Records one admin action, e.g. `record(&state, &who.user, "user.role", "user:7",
/// "author → editor")`. `detail` is shown to admins: never put a secret in it.
pub async fn record(
    state: &AppState,
    who: &User,
    action: &str,
    target: &str,
    detail: &str,
) -> Result<(), AppError> {
    state
        .store
        .record_audit(&NewAuditEntry {
            at: clock::now(),
            actor_id: who.id,
            action: action.to_owned(),
            target: target.to_owned(),
            detail: detail.to_owned(),
        })
        .await?;
    Ok(())
}

#[derive(Debug, Deserialize)]
pub struct PageQuery {
    #[serde(default = "first")]
    page: u32,
}

fn first() -> u32 {
    1
}

/// An instant as the newsroom reads it: to the minute, in the site's time zone.
pub(super) fn local_minute(at: DateTime<Utc>, tz: Tz) -> String {
    at.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string()
}

/// Log entries as the audit page (and the dashboard's latest lines) show them.
pub(super) fn entry_views(entries: &[AuditEntry], tz: Tz) -> Vec<EntryView> {
    entries
        .iter()
        .map(|e| EntryView {
            at: local_minute(e.at, tz),
            at_iso: e.at.to_rfc3339(),
            actor: e.actor_name.clone(),
            action: e.action.clone(),
            target: e.target.clone(),
            detail: e.detail.clone(),
        })
        .collect()
}

#[derive(Serialize)]
pub(super) struct EntryView {
    at: String,
    at_iso: String,
    actor: String,
    action: String,
    target: String,
    detail: String,
}

/// GET /admin/audit?page=N
async fn list(
    State(state): State<AppState>,
    who: SignedIn,
    Query(query): Query<PageQuery>,
) -> Result<Response, AppError> {
    who.require(Action::Operate, Target::Site)?;
    let tz = who.site.settings.tz();
    let log = state.store.list_audit(query.page.max(1), PER_PAGE).await?;
    let entries = entry_views(&log.items, tz);
    let pages = log.pages();
    render(
        &state,
        &who,
        "admin/audit.html",
        context! {
            section => "audit",
            entries,
            total => log.total,
            page => log.page,
            pages,
            prev => (log.page > 1).then(|| log.page - 1),
            next => (log.page < pages).then(|| log.page + 1),
        },
    )
}
