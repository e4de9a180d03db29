//! The newsletter in the admin (`Action::ManagePersonalData`: the list is people's
//! addresses): counts by status, the subscribers page by page, filtered by status,
//! and the whole list as CSV. Every export is in the audit log.

use axum::extract::{Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use broadsheet_domain::{Action, Subscriber, SubscriberId, SubscriberStatus, Target};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use minijinja::context;
use serde::{Deserialize, Serialize};

use crate::admin::{AdminRoute, render};
use crate::app::AppState;
use crate::auth::SignedIn;
use crate::error::AppError;

/// Subscribers on one page.
const PER_PAGE: u32 = 100;

/// Rows read at a time for the export.
const EXPORT_CHUNK: u32 = 1000;

pub fn routes() -> Vec<AdminRoute> {
    vec![
        AdminRoute::get("/admin/subscribers", list),
        AdminRoute::get("/admin/subscribers.csv", export),
    ]
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ListQuery {
    status: String,
    after: Option<i64>,
}

#[derive(Serialize)]
struct SubscriberView {
    id: i64,
    email: String,
    status: &'static str,
    tags: Vec<String>,
    failures: u32,
    created_at: String,
    confirmed_at: Option<String>,
}

fn local(at: DateTime<Utc>, tz: Tz) -> String {
    at.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string()
}

impl SubscriberView {
    fn of(s: &Subscriber, tz: Tz) -> SubscriberView {
        SubscriberView {
            id: s.id.0,
            email: s.email.clone(),
            status: s.status.as_str(),
            tags: s.tags.clone(),
            failures: s.failures,
            created_at: local(s.created_at, tz),
            confirmed_at: s.confirmed_at.map(|at| local(at, tz)),
        }
    }
}

/// A status filter from the query: none for "all" or anything unknown.
fn status_filter(text: &str) -> Option<SubscriberStatus> {
    text.parse().ok()
}

/// GET /admin/subscribers?status=&after=
async fn list(
    State(state): State<AppState>,
    who: SignedIn,
    Query(query): Query<ListQuery>,
) -> Result<Response, AppError> {
    who.require(Action::ManagePersonalData, Target::Site)?;
    let tz = who.site.settings.tz();
    let status = status_filter(&query.status);
    let counts = state.store.subscriber_counts().await?;
    let page = state
        .store
        .list_subscribers(status, query.after.map(SubscriberId), PER_PAGE)
        .await?;
    let next = (page.len() == PER_PAGE as usize)
        .then(|| page.last().map(|s| s.id.0))
        .flatten();
    let subscribers: Vec<SubscriberView> = page.iter().map(|s| SubscriberView::of(s, tz)).collect();
    render(
        &state,
        &who,
        "admin/subscribers.html",
        context! {
            section => "subscribers", counts, subscribers, next,
            status => status.map(SubscriberStatus::as_str),
            statuses => SubscriberStatus::ALL.map(SubscriberStatus::as_str),
        },
    )
}

/// GET /admin/subscribers.csv?status=: every subscriber (of a status), oldest first.
async fn export(
    State(state): State<AppState>,
    who: SignedIn,
    Query(query): Query<ListQuery>,
) -> Result<Response, AppError> {
    who.require(Action::ManagePersonalData, Target::Site)?;
    let status = status_filter(&query.status);
    let mut csv = String::from("id,email,status,tags,failures,created_at,confirmed_at\r\n");
    let mut after = None;
    let mut rows = 0usize;
    loop {
        let chunk = state
            .store
            .list_subscribers(status, after, EXPORT_CHUNK)
            .await?;
        for s in &chunk {
            let fields = [
                s.id.to_string(),
                s.email.clone(),
                s.status.as_str().to_owned(),
                s.tags.join(" "),
                s.failures.to_string(),
                s.created_at.to_rfc3339(),
                s.confirmed_at.map(|at| at.to_rfc3339()).unwrap_or_default(),
            ];
            let line: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
            csv.push_str(&line.join(","));
            csv.push_str("\r\n");
        }
        rows += chunk.len();
        match chunk.last() {
            Some(last) if chunk.len() == EXPORT_CHUNK as usize => after = Some(last.id),
            _ => break,
        }
    }
    crate::admin::audit::record(
        &state,
        &who.user,
        "subscribers.export",
        "subscribers",
        &format!("{rows} rows"),
    )
    .await?;
    let mut response = csv.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    headers.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment; filename=\"subscribers.csv\""),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

/// One CSV field (RFC 4180): quoted when it holds a comma, quote or line break; a
/// field a spreadsheet would run as a formula gets a leading `'`.
fn csv_field(value: &str) -> String {
    let value = if value.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{value}")
    } else {
        value.to_owned()
    };
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_are_quoted_and_defused() {
        assert_eq!(csv_field("ann@example.org"), "ann@example.org");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("=cmd()@x.org"), "'=cmd()@x.org");
    }
}
