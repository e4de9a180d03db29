//! The newsletter through the API: readers subscribe (`POST /api/v1/subscriptions`)
//! through the very rules of the site's form ([`crate::newsletter::form::accept`]),
//! and a token with the admin scope whose user may see people's addresses
//! (`Action::ManagePersonalData`, as the admin's subscribers page) lists the
//! subscribers (`GET /api/v1/manage/subscribers`) with no more than the admin's CSV
//! export shows.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use broadsheet_domain::{
    Action, Paged, Subscriber, SubscriberId, SubscriberStatus, Target, ValidationErrors,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::auth::ApiCaller;
use super::content::{first, number, page_of, query_pairs};
use super::read_json;
use super::views::{ErrorBody, Page, rfc3339};
use crate::app::AppState;
use crate::engagement::origin;
use crate::error::AppError;

/// A subscription to the newsletter.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct SubscribeBody {
    /// The reader's email address.
    #[schema(example = "ann@example.org")]
    email: String,
    /// Tag slugs to hear about; none means every article.
    tags: Vec<String>,
}

/// The answer to a valid subscription, the same whatever the address's state.
#[derive(Debug, Serialize, ToSchema)]
pub struct SubscribeAnswer {
    /// The address as it was taken (trimmed, lower-case).
    pub email: String,
    /// The tags as they were taken (sorted, without repeats).
    pub tags: Vec<String>,
    pub message: String,
}

/// Subscribes an address to the newsletter with the site's form's rules: a new or
/// returning address is sent a confirmation link (double opt-in, at most one email
/// an hour per address) and receives nothing before it is confirmed. The answer is the
/// same whether the address was new, waiting or already subscribed.
#[utoipa::path(
    post,
    path = "/api/v1/subscriptions",
    operation_id = "subscribe",
    tag = "reader",
    request_body(content = SubscribeBody, content_type = "application/json"),
    responses(
        (status = 202, description = "Taken: a waiting address is sent the confirmation link", body = SubscribeAnswer),
        (status = 400, description = "An unreadable body", body = ErrorBody),
        (status = 403, description = "Sent from another site", body = ErrorBody),
        (status = 415, description = "Not JSON", body = ErrorBody),
        (status = 422, description = "A bad address or an unknown tag, named in `field`", body = ErrorBody),
        (status = 429, description = "Too fast", body = ErrorBody),
    )
)]
pub async fn subscribe(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, AppError> {
    origin::check(&headers, &uri, &state.config.base_url)?;
    let body: SubscribeBody = read_json(&headers, &body)?;
    let request = crate::newsletter::form::accept(&state, &body.email, &body.tags).await??;
    let answer = SubscribeAnswer {
        email: request.email,
        tags: request.tags,
        message: "Check your inbox: follow the link in the email to confirm.".into(),
    };
    Ok((StatusCode::ACCEPTED, Json(answer)).into_response())
}

/// A subscriber, with exactly the columns of the admin's CSV export.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SubscriberItem {
    pub id: i64,
    pub email: String,
    /// `pending`, `confirmed`, `unsubscribed` or `bounced`.
    pub status: String,
    /// Tag slugs; empty for every article.
    pub tags: Vec<String>,
    /// Failed deliveries in a row.
    pub failures: u32,
    pub created_at: String,
    pub confirmed_at: Option<String>,
}

impl SubscriberItem {
    fn new(s: &Subscriber) -> SubscriberItem {
        SubscriberItem {
            id: s.id.0,
            email: s.email.clone(),
            status: s.status.as_str().to_owned(),
            tags: s.tags.clone(),
            failures: s.failures,
            created_at: rfc3339(s.created_at),
            confirmed_at: s.confirmed_at.map(rfc3339),
        }
    }
}

/// Rows read at a time while skipping to a page.
const SKIP_CHUNK: u64 = 1000;

/// The newsletter's subscribers, oldest first, optionally of one status. Each call is
/// in the audit log, as the admin's export is.
#[utoipa::path(
    get,
    path = "/api/v1/manage/subscribers",
    operation_id = "list_subscribers",
    tag = "manage",
    security(("token" = ["admin"])),
    params(
        ("status" = Option<String>, Query, description = "pending, confirmed, unsubscribed or bounced (default: all)"),
        ("page" = Option<u32>, Query, minimum = 1),
        ("per_page" = Option<u32>, Query, minimum = 1, maximum = 100),
    ),
    responses(
        (status = 200, description = "A page of subscribers", body = Page<SubscriberItem>),
        (status = 401, description = "No live token", body = ErrorBody),
        (status = 403, description = "The token's scope or role does not allow it", body = ErrorBody),
        (status = 422, description = "A bad parameter", body = ErrorBody),
    )
)]
pub async fn list(
    State(state): State<AppState>,
    caller: ApiCaller,
    RawQuery(raw): RawQuery,
) -> Result<Response, AppError> {
    caller.require(Action::ManagePersonalData, Target::Site)?;
    let pairs = query_pairs(raw.as_deref())?;
    let mut errors = ValidationErrors::default();
    let page = number(&pairs, "page", 1, 100_000, &mut errors);
    let per_page = number(&pairs, "per_page", 20, 100, &mut errors);
    let status = first(&pairs, "status").and_then(|s| {
        s.parse::<SubscriberStatus>()
            .map_err(|_| {
                errors.add(
                    "status",
                    "must be pending, confirmed, unsubscribed or bounced",
                )
            })
            .ok()
    });
    errors.into_result()?;
    let counts = state.store.subscriber_counts().await?;
    let total = match status {
        None => counts.total(),
        Some(SubscriberStatus::Pending) => counts.pending,
        Some(SubscriberStatus::Confirmed) => counts.confirmed,
        Some(SubscriberStatus::Unsubscribed) => counts.unsubscribed,
        Some(SubscriberStatus::Bounced) => counts.bounced,
    };
    let skip = u64::from(page - 1) * u64::from(per_page);
    let items = if skip >= total {
        Vec::new()
    } else {
        page_rows(&state, status, skip, per_page).await?
    };
    crate::admin::audit::record(
        &state,
        &caller.user,
        "subscribers.api_list",
        "subscribers",
        &format!("page {page}, {} rows", items.len()),
    )
    .await?;
    let paged = Paged {
        items,
        total,
        page,
        per_page,
    };
    Ok(Json(page_of(paged, SubscriberItem::new)).into_response())
}

/// `per_page` subscribers after the first `skip` (the store pages by id).
async fn page_rows(
    state: &AppState,
    status: Option<SubscriberStatus>,
    mut skip: u64,
    per_page: u32,
) -> Result<Vec<Subscriber>, AppError> {
    let mut after: Option<SubscriberId> = None;
    while skip > 0 {
        let want = skip.min(SKIP_CHUNK);
        let chunk = state
            .store
            .list_subscribers(status, after, want as u32)
            .await?;
        match chunk.last() {
            Some(last) if chunk.len() as u64 == want => after = Some(last.id),
            _ => return Ok(Vec::new()),
        }
        skip -= want;
    }
    Ok(state
        .store
        .list_subscribers(status, after, per_page)
        .await?)
}
