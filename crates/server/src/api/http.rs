//! What every API answer has in common, as middleware on `/api/` and `/wp-json/`:
//!
//! - **ETag / If-None-Match.** A successful GET's body is hashed (SHA-256, first 128
//!   bits) into a strong `ETag` unless the handler set one; a request whose
//!   `If-None-Match` names it gets `304 Not Modified` with no body. Server-Sent Event
//!   streams are left alone.
//! - **CORS** for reads, from the `[api] cors_origins` setting: `*` (the default) or
//!   a list of origins; preflights for reads are answered here. Writes are not opened
//!   to other sites: a browser page elsewhere cannot use a reader's cookie or a
//!   token through the reader's browser.
//! - **If-Match** on writes is checked by the handlers with [`check_if_match`], since
//!   only they know the resource's current ETag.

use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

use crate::app::AppState;
use crate::error::AppError;

/// Larger bodies are not buffered to be hashed (none of ours come near it).
const MAX_HASHED_BODY: usize = 8 * 1024 * 1024;

/// Headers a browser script may read from an API answer.
const EXPOSED: &str = "ETag, Link, X-WP-Total, X-WP-TotalPages, Retry-After";

/// The strong ETag of some bytes.
pub fn etag_of(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
    format!("\"{hex}\"")
}

/// Whether an `If-None-Match` / `If-Match` list names `etag` (`*` names anything).
/// Weak validators (`W/"…"`) compare by their opaque part, as RFC 9110 has
/// `If-None-Match` do.
pub fn matches(list: &str, etag: &str) -> bool {
    list.split(',').map(str::trim).any(|candidate| {
        candidate == "*" || candidate.strip_prefix("W/").unwrap_or(candidate) == etag
    })
}

/// Refuses (412) a write whose `If-Match` does not name the resource's current ETag.
/// Without `If-Match` the write goes ahead (clients that do not care about lost
/// updates need not send it).
pub fn check_if_match(headers: &HeaderMap, current: &str) -> Result<(), AppError> {
    let Some(wanted) = headers.get(header::IF_MATCH) else {
        return Ok(());
    };
    let wanted = wanted.to_str().unwrap_or_default();
    if matches(wanted, current) {
        Ok(())
    } else {
        Err(AppError::PreconditionFailed(format!(
            "The resource changed since you read it (its ETag is now {current}); \
             read it again and reapply your change."
        )))
    }
}

fn is_api_path(path: &str) -> bool {
    path.starts_with("/api/") || path == "/wp-json" || path.starts_with("/wp-json/")
}

/// ETags and 304s for the API's GETs.
pub async fn etags(request: Request, next: Next) -> Response {
    let is_read = matches!(*request.method(), Method::GET | Method::HEAD);
    if !is_read || !is_api_path(request.uri().path()) {
        return next.run(request).await;
    }
    let if_none_match = request
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let response = next.run(request).await;
    let is_stream = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|t| t.as_bytes().starts_with(b"text/event-stream"));
    if response.status() != StatusCode::OK || is_stream {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let etag = match parts.headers.get(header::ETAG) {
        Some(etag) => etag.to_str().unwrap_or_default().to_owned(),
        None => {
            let Ok(bytes) = to_bytes(body, MAX_HASHED_BODY).await else {
                return AppError::internal("an API answer too large to hash").into_response();
            };
            let etag = etag_of(&bytes);
            if let Ok(value) = HeaderValue::from_str(&etag) {
                parts.headers.insert(header::ETAG, value);
            }
            return finish(parts, Body::from(bytes), &etag, if_none_match.as_deref());
        }
    };
    finish(parts, body, &etag, if_none_match.as_deref())
}

fn finish(
    mut parts: axum::http::response::Parts,
    body: Body,
    etag: &str,
    if_none_match: Option<&str>,
) -> Response {
    if if_none_match.is_some_and(|list| matches(list, etag)) {
        parts.status = StatusCode::NOT_MODIFIED;
        parts.headers.remove(header::CONTENT_TYPE);
        parts.headers.remove(header::CONTENT_LENGTH);
        return Response::from_parts(parts, Body::empty());
    }
    Response::from_parts(parts, body)
}

/// The `Access-Control-Allow-Origin` for a request's `Origin`, if reads are open to it.
fn allowed_origin(state: &AppState, origin: &str) -> Option<HeaderValue> {
    let origins = &state.config.api.cors_origins;
    if origins.iter().any(|o| o == "*") {
        return Some(HeaderValue::from_static("*"));
    }
    origins
        .iter()
        .any(|o| o.eq_ignore_ascii_case(origin))
        .then(|| HeaderValue::from_str(origin).ok())
        .flatten()
}

/// CORS for the API's reads, and answers to their preflights.
pub async fn cors(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if !is_api_path(request.uri().path()) {
        return next.run(request).await;
    }
    let origin = request
        .headers()
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let allow = origin.as_deref().and_then(|o| allowed_origin(&state, o));
    let preflight_for_read = request.method() == Method::OPTIONS
        && request
            .headers()
            .get(header::ACCESS_CONTROL_REQUEST_METHOD)
            .is_some_and(|m| m == "GET" || m == "HEAD");
    if preflight_for_read {
        let mut response = StatusCode::NO_CONTENT.into_response();
        let headers = response.headers_mut();
        if let Some(allow) = allow {
            headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, allow);
            headers.insert(
                header::ACCESS_CONTROL_ALLOW_METHODS,
                HeaderValue::from_static("GET, HEAD, OPTIONS"),
            );
            headers.insert(
                header::ACCESS_CONTROL_ALLOW_HEADERS,
                HeaderValue::from_static("If-None-Match, Accept, Content-Type"),
            );
            headers.insert(
                header::ACCESS_CONTROL_MAX_AGE,
                HeaderValue::from_static("86400"),
            );
        }
        headers.insert(header::VARY, HeaderValue::from_static("Origin"));
        return response;
    }
    let is_read = matches!(*request.method(), Method::GET | Method::HEAD);
    let mut response = next.run(request).await;
    if is_read && let Some(allow) = allow {
        let headers = response.headers_mut();
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, allow);
        headers.insert(
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static(EXPOSED),
        );
    }
    if is_read {
        response
            .headers_mut()
            .append(header::VARY, HeaderValue::from_static("Origin"));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn etag_lists_match_strong_weak_and_star() {
        let tag = etag_of(b"hello");
        assert!(tag.starts_with('"') && tag.ends_with('"') && tag.len() == 34);
        assert_ne!(tag, etag_of(b"hello!"));
        assert!(matches(&tag, &tag));
        assert!(matches(&format!("\"x\", W/{tag}"), &tag));
        assert!(matches("*", &tag));
        assert!(!matches("\"x\"", &tag));
        let mut headers = HeaderMap::new();
        assert!(check_if_match(&headers, &tag).is_ok());
        headers.insert(header::IF_MATCH, HeaderValue::from_static("\"stale\""));
        let err = check_if_match(&headers, &tag).unwrap_err();
        assert_eq!(err.status(), StatusCode::PRECONDITION_FAILED);
    }
}
