//! The middleware in front of every signed-in admin route: it loads the session once
//! per request (handlers' [`SignedIn`] extractors then find it), and refuses any
//! request but GET and HEAD without a session (401) or without the session's CSRF
//! token (403).
//!
//! The token may come as the `X-CSRF-Token` header (admin.js sends it on `fetch`), the
//! `csrf` field of a urlencoded form (every form template carries it), or, for
//! multipart forms, whose body this middleware does not parse, the `csrf` query
//! parameter. The comparison takes the same time wherever the tokens differ. A request
//! that says where it comes from (`Origin`, else `Referer`) must also come from this
//! site: a second line of defence should a token ever leak.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::{SignedIn, not_signed_in, session};
use crate::app::AppState;
use crate::engagement::origin;
use crate::error::AppError;

/// The largest urlencoded form read here; larger ones are refused (413). An article's
/// Markdown is far below this.
pub const MAX_FORM_BYTES: usize = 4 * 1024 * 1024;

/// The header admin.js sends the token in.
pub const HEADER: &str = "x-csrf-token";

pub async fn guard(State(state): State<AppState>, request: Request, next: Next) -> Response {
    match checked(&state, request).await {
        Ok((request, refresh)) => {
            let mut response = next.run(request).await;
            if let Some(cookie) = refresh {
                response.headers_mut().append(header::SET_COOKIE, cookie);
            }
            response
        }
        Err(response) => response,
    }
}

/// The request with the signed-in user attached, and the cookie to send again if the
/// session's expiry moved; or the refusal.
async fn checked(
    state: &AppState,
    request: Request,
) -> Result<(Request, Option<axum::http::HeaderValue>), Response> {
    let is_read = matches!(*request.method(), Method::GET | Method::HEAD);
    let loaded = session::load(state, request.headers())
        .await
        .map_err(IntoResponse::into_response)?;
    let Some(loaded) = loaded else {
        if is_read {
            // The handler's extractor sends the reader to the login page.
            return Ok((request, None));
        }
        return Err(not_signed_in(request.method(), request.uri()));
    };
    let request = if is_read {
        request
    } else {
        if !origin::same_site(request.headers(), request.uri(), &state.config.base_url) {
            return Err(forbidden());
        }
        let (request, sent) = token_of(request).await?;
        if !sent.is_some_and(|sent| same(sent.as_bytes(), loaded.session.csrf.as_bytes())) {
            return Err(forbidden());
        }
        request
    };
    let signed_in = SignedIn::new(state, loaded.user, loaded.session.csrf)
        .await
        .map_err(IntoResponse::into_response)?;
    let mut request = request;
    request.extensions_mut().insert(signed_in);
    Ok((request, loaded.refresh))
}

fn forbidden() -> Response {
    AppError::Forbidden(
        "This form has expired or did not come from this site. Please go back, reload \
         the page and try again."
            .into(),
    )
    .into_response()
}

/// The token the request carries, and the request again (with its body put back when
/// it had to be read).
async fn token_of(request: Request) -> Result<(Request, Option<String>), Response> {
    if let Some(token) = header_token(request.headers()) {
        return Ok((request, Some(token)));
    }
    let content_type = content_type(request.headers());
    if content_type.starts_with("multipart/form-data") {
        let token = request.uri().query().and_then(|q| field(q.as_bytes()));
        return Ok((request, token));
    }
    if !content_type.starts_with("application/x-www-form-urlencoded") {
        return Ok((request, None));
    }
    let (parts, body) = request.into_parts();
    let bytes = axum::body::to_bytes(body, MAX_FORM_BYTES)
        .await
        .map_err(|_| axum::http::StatusCode::PAYLOAD_TOO_LARGE.into_response())?;
    let token = field(&bytes);
    Ok((Request::from_parts(parts, Body::from(bytes)), token))
}

fn header_token(headers: &HeaderMap) -> Option<String> {
    headers
        .get(HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

fn content_type(headers: &HeaderMap) -> &str {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

/// The `csrf` field of urlencoded pairs.
fn field(urlencoded: &[u8]) -> Option<String> {
    serde_urlencoded::from_bytes::<Vec<(String, String)>>(urlencoded)
        .ok()?
        .into_iter()
        .find(|(name, _)| name == "csrf")
        .map(|(_, value)| value)
}

/// Compares in time that depends only on the lengths (which are public: every token
/// has the same length).
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |diff, (x, y)| diff | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_compare_whole() {
        assert!(same(b"abc", b"abc"));
        assert!(!same(b"abc", b"abd"));
        assert!(!same(b"abc", b"ab"));
        assert!(!same(b"", b"a"));
    }

    #[test]
    fn the_field_is_found_among_others() {
        assert_eq!(field(b"a=1&csrf=x%2By&b=2").as_deref(), Some("x+y"));
        assert_eq!(field(b"a=1"), None);
        assert_eq!(field(b"\xff\xfe"), None);
    }
}
