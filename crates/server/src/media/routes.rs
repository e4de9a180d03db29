//! The public media URLs: `/media/{id}/{filename}` (the original) and
//! `/media/{id}/w{width}/{filename}` (the narrowest variant at least that wide, else
//! the original; see `broadsheet_domain::media`).
//!
//! What a URL answers never changes (ids are never reused, images never rewritten),
//! so responses may be cached for a year by browsers and CDNs, and the ETag only has
//! to name the id and the width served. `nosniff` keeps browsers from reading an image
//! as anything else.

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use broadsheet_domain::media::MediaPath;

use crate::app::AppState;
use crate::error::AppError;
use crate::site::assets::{IMMUTABLE, matches_etag};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/media/{id}/{file}", get(serve))
        .route("/media/{id}/{variant}/{file}", get(serve))
}

async fn serve(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let path = MediaPath::parse(uri.path()).ok_or(AppError::NotFound)?;
    let found = state.store.media_bytes(path.id, path.width).await?;
    // One image, one name: a URL with another file name is not this image's.
    if found.filename != path.filename {
        return Err(AppError::NotFound);
    }
    let etag = format!("\"m{}-{}\"", path.id, found.width);
    let cache = [
        (header::CACHE_CONTROL, HeaderValue::from_static(IMMUTABLE)),
        (
            header::ETAG,
            HeaderValue::from_str(&etag).map_err(AppError::internal)?,
        ),
    ];
    if matches_etag(&headers, &etag) {
        return Ok((StatusCode::NOT_MODIFIED, cache).into_response());
    }
    let content_type = HeaderValue::from_str(&found.content_type).map_err(AppError::internal)?;
    Ok((
        cache,
        [
            (header::CONTENT_TYPE, content_type),
            (
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ),
        ],
        found.bytes,
    )
        .into_response())
}
