//! Theme assets at `/assets/{file}` and the favicon.
//!
//! Templates link assets with their content hash (`?v=...`, see
//! [`Theme::asset_url`](crate::theme::Theme::asset_url)). A request carrying the
//! current hash may be cached for a year; one without it, or with an old hash, gets
//! the current file with a short lifetime, so a stale link never pins old CSS.

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::app::AppState;
use crate::error::AppError;
use crate::theme::Asset;

pub(crate) const IMMUTABLE: &str = "public, max-age=31536000, immutable";
const SHORT: &str = "public, max-age=300";
const FAVICON: &str = "public, max-age=86400";

pub async fn asset(
    State(state): State<AppState>,
    Path(file): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let asset = state.theme.asset(&file).ok_or(AppError::NotFound)?;
    let versioned = query
        .as_deref()
        .unwrap_or("")
        .split('&')
        .any(|pair| pair.strip_prefix("v=") == Some(asset.hash.as_str()));
    Ok(serve(
        asset,
        if versioned { IMMUTABLE } else { SHORT },
        &headers,
    ))
}

/// Browsers ask for `/favicon.ico` whatever the page links; answer with the theme's
/// `favicon.ico` if it has one, else the SVG icon (which current browsers accept).
pub async fn favicon(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let asset = state
        .theme
        .asset("favicon.ico")
        .or_else(|| state.theme.asset("favicon.svg"))
        .ok_or(AppError::NotFound)?;
    Ok(serve(asset, FAVICON, &headers))
}

fn serve(asset: &Asset, cache_control: &'static str, headers: &HeaderMap) -> Response {
    let etag = format!("\"{}\"", asset.hash);
    let etag_value = HeaderValue::from_str(&etag).unwrap_or(HeaderValue::from_static("\"\""));
    let cache = [
        (
            header::CACHE_CONTROL,
            HeaderValue::from_static(cache_control),
        ),
        (header::ETAG, etag_value),
    ];
    if matches_etag(headers, &etag) {
        return (StatusCode::NOT_MODIFIED, cache).into_response();
    }
    (
        cache,
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static(asset.content_type),
            ),
            (
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ),
        ],
        asset.bytes.clone(),
    )
        .into_response()
}

/// Whether the request's `If-None-Match` names `etag` (quoted), so a 304 will do.
pub(crate) fn matches_etag(headers: &HeaderMap, etag: &str) -> bool {
    headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"))
}
