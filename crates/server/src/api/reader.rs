//! Readers' actions through the API: the very handlers of the site's forms, answering
//! JSON, so the rules, limits and moderation are the forms' own.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, Uri, header};
use axum::response::Response;
use utoipa::ToSchema;

use super::views::{ErrorBody, JsonObject};
use crate::app::AppState;
use crate::engagement::routes::Peer;
use crate::error::AppError;

fn as_json(headers: &mut HeaderMap) {
    headers.insert(header::ACCEPT, HeaderValue::from_static("application/json"));
}

/// A like, reaction or rating.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct EngageBody {
    /// `vote`, `react`, `rate` or `clear_rating`.
    action: String,
    /// `like`/`dislike`, a reaction key, or 1 to 5 stars.
    value: Option<String>,
}

/// A comment or a reply.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct CommentBody {
    comment: String,
    author: String,
    email: String,
    url: Option<String>,
    /// The id of the comment replied to.
    parent: Option<String>,
    /// "yes" to be emailed about replies.
    notify_replies: Option<String>,
}

/// Votes, reacts or rates as the reader of the `broadsheet_reader` cookie (one is
/// set if the request has none), within the same per-reader and per-network limits
/// as the article's buttons.
#[utoipa::path(
    post,
    path = "/api/v1/articles/{id}/engagement",
    tag = "reader",
    params(("id" = String, Path, description = "The article's id", example = "1")),
    request_body(content = EngageBody, content_type = "application/json"),
    responses(
        (status = 200, description = "The counts and the reader's choices", body = JsonObject),
        (status = 400, description = "An unreadable body", body = ErrorBody),
        (status = 403, description = "Sent from another site", body = ErrorBody),
        (status = 404, description = "No public article", body = ErrorBody),
        (status = 422, description = "Not an action of this site", body = ErrorBody),
        (status = 429, description = "Too fast", body = ErrorBody),
    )
)]
pub async fn engage(
    state: State<AppState>,
    id: Path<String>,
    peer: Peer,
    uri: Uri,
    mut headers: HeaderMap,
    body: Bytes,
) -> Result<Response, AppError> {
    as_json(&mut headers);
    crate::engagement::routes::engage(state, id, peer, uri, headers, body).await
}

/// Posts a comment through the same checks as the article's form (fields, the
/// screen's limits, duplicates, the site's rules and the spam filter): it is
/// published or held for moderation, and `status` says which.
#[utoipa::path(
    post,
    path = "/api/v1/articles/{id}/comments",
    tag = "reader",
    params(("id" = String, Path, description = "The article's id", example = "1")),
    request_body(content = CommentBody, content_type = "application/json"),
    responses(
        (status = 201, description = "Received: approved or pending", body = JsonObject),
        (status = 400, description = "An unreadable body", body = ErrorBody),
        (status = 403, description = "Sent from another site", body = ErrorBody),
        (status = 404, description = "No public article", body = ErrorBody),
        (status = 422, description = "Problems, by field", body = ErrorBody),
        (status = 429, description = "Too fast", body = ErrorBody),
    )
)]
pub async fn comment(
    state: State<AppState>,
    id: Path<String>,
    peer: Peer,
    uri: Uri,
    mut headers: HeaderMap,
    body: Bytes,
) -> Result<Response, AppError> {
    as_json(&mut headers);
    crate::comments::routes::post_comment(state, id, peer, uri, headers, body).await
}
