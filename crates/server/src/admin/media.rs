//! The media library in the admin: a grid of the site's images with what a writer
//! needs to use one (size, dimensions, alt text, a Markdown snippet to copy), the
//! upload form, alt text edits and deletion, and `media.json` for the editor's
//! picker.
//!
//! Everyone who writes may browse the library and embed its images; uploading and
//! editing alt text take `Action::UploadMedia` (authors and up), deleting
//! `Action::DeleteMedia` (editors and up), since an image may be in anyone's article.
//!
//! The upload is a multipart form (CSRF token in its query, see `auth::csrf`). Without
//! JavaScript a refused upload shows the page again with the problem next to the
//! field (413, 415 or 422) and the alt text kept; a client asking for JSON (admin.js)
//! gets the image or the error as JSON instead.

use axum::Json;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::post;
use broadsheet_domain::media::{MAX_ALT_CHARS, validate_alt};
use broadsheet_domain::{Action, MediaId, Paged, Target, ValidationErrors};
use minijinja::context;
use serde::{Deserialize, Serialize};

use super::{AdminRoute, audit, field_errors, render_status, wants_json};
use crate::app::AppState;
use crate::auth::SignedIn;
use crate::error::AppError;
use crate::media::upload::{human_bytes, read_upload, route_body_limit};
use crate::media::{MediaView, save_upload};

/// Images per page of the library.
const PER_PAGE: u32 = 24;

/// Most images `media.json` lists at once; the picker pages with `offset`.
const JSON_LIMIT: u32 = 100;

pub fn routes() -> Vec<AdminRoute> {
    vec![
        AdminRoute::get("/admin/media", library),
        AdminRoute {
            method: Method::POST,
            path: "/admin/media",
            handler: post(upload).layer(route_body_limit()),
        },
        AdminRoute::get("/admin/media.json", library_json),
        AdminRoute::post("/admin/media/{id}/alt", update_alt),
        AdminRoute::post("/admin/media/{id}/delete", delete),
    ]
}

#[derive(Debug, Deserialize)]
pub struct LibraryQuery {
    #[serde(default = "first_page")]
    page: u32,
    /// The id of an image just uploaded, for the notice.
    uploaded: Option<i64>,
    /// Set after a deletion, for the notice.
    deleted: Option<String>,
}

fn first_page() -> u32 {
    1
}

/// GET /admin/media: the library.
async fn library(
    State(state): State<AppState>,
    who: SignedIn,
    Query(query): Query<LibraryQuery>,
) -> Result<Response, AppError> {
    who.require(Action::CreateArticle, Target::Site)?;
    let notice = match (query.uploaded, query.deleted.as_deref()) {
        (Some(id), _) => state
            .store
            .media_by_id(MediaId(id))
            .await
            .ok()
            .map(|m| format!("Uploaded {}.", m.filename)),
        (None, Some(_)) => Some("The image was deleted.".to_owned()),
        (None, None) => None,
    };
    library_page(
        &state,
        &who,
        StatusCode::OK,
        query.page,
        notice,
        &ValidationErrors::default(),
        "",
    )
    .await
}

/// The library page, with the upload form in the state given (problems, alt kept).
async fn library_page(
    state: &AppState,
    who: &SignedIn,
    status: StatusCode,
    page: u32,
    notice: Option<String>,
    errors: &ValidationErrors,
    alt: &str,
) -> Result<Response, AppError> {
    let page = page.max(1);
    let listing = state
        .store
        .list_media(PER_PAGE, u64::from(page - 1) * u64::from(PER_PAGE))
        .await?;
    let pages = listing.pages();
    render_status(
        state,
        who,
        status,
        "admin/media.html",
        context! {
            section => "media",
            items => listing.items.iter().map(MediaView::from).collect::<Vec<_>>(),
            total => listing.total,
            page => page,
            pages => pages,
            prev => (page > 1).then(|| page - 1),
            next => (page < pages).then(|| page + 1),
            notice => notice,
            errors => field_errors(errors),
            alt => alt,
            max_alt => MAX_ALT_CHARS,
            limit => human_bytes(state.config.media.max_upload_bytes),
            may_upload => who.may(Action::UploadMedia),
            may_delete => who.may(Action::DeleteMedia),
        },
    )
}

/// POST /admin/media: one image, multipart fields `alt` and `file`.
async fn upload(
    State(state): State<AppState>,
    who: SignedIn,
    headers: HeaderMap,
    multipart: Multipart,
) -> Result<Response, AppError> {
    who.require(Action::UploadMedia, Target::Site)?;
    let form = read_upload(multipart, state.config.media.max_upload_bytes).await;
    let saved = match form.file {
        Ok(file) => save_upload(&state, &who.user, file, &form.alt).await,
        Err(err) => Err(err),
    };
    match saved {
        Ok(media) => {
            audit::record(
                &state,
                &who.user,
                "media.upload",
                &format!("media:{}", media.id),
                &format!(
                    "{} ({} x {}, {})",
                    media.filename,
                    media.width,
                    media.height,
                    human_bytes(media.size)
                ),
            )
            .await?;
            if wants_json(&headers) {
                Ok((StatusCode::CREATED, Json(MediaView::from(&media))).into_response())
            } else {
                Ok(Redirect::to(&format!("/admin/media?uploaded={}", media.id)).into_response())
            }
        }
        Err(err) if wants_json(&headers) => Err(err),
        Err(err) => {
            // The form again, the problem named next to the field it concerns.
            let status = err.status();
            let errors = match err {
                AppError::Validation(errors) => errors,
                AppError::PayloadTooLarge(message) | AppError::UnsupportedMediaType(message) => {
                    ValidationErrors::single("file", message)
                }
                other => return Err(other),
            };
            library_page(&state, &who, status, 1, None, &errors, &form.alt).await
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct JsonQuery {
    #[serde(default)]
    offset: u64,
}

#[derive(Serialize)]
struct JsonPage {
    items: Vec<MediaView>,
    total: u64,
    /// The `offset` of the next page, if there is one.
    next_offset: Option<u64>,
}

/// GET /admin/media.json: the library for the editor's picker, newest first.
async fn library_json(
    State(state): State<AppState>,
    who: SignedIn,
    Query(query): Query<JsonQuery>,
) -> Result<Response, AppError> {
    who.require(Action::CreateArticle, Target::Site)?;
    let Paged { items, total, .. } = state.store.list_media(JSON_LIMIT, query.offset).await?;
    let end = query.offset + items.len() as u64;
    Ok(Json(JsonPage {
        items: items.iter().map(MediaView::from).collect(),
        total,
        next_offset: (end < total).then_some(end),
    })
    .into_response())
}

#[derive(Debug, Deserialize)]
pub struct AltForm {
    alt: String,
}

/// POST /admin/media/{id}/alt: changes an image's alt text.
async fn update_alt(
    State(state): State<AppState>,
    who: SignedIn,
    Path(id): Path<i64>,
    axum::Form(form): axum::Form<AltForm>,
) -> Result<Response, AppError> {
    who.require(Action::UploadMedia, Target::Site)?;
    let alt = match validate_alt(&form.alt) {
        Ok(alt) => alt,
        Err(errors) => {
            // Named after the image, so the problem shows next to its own alt field.
            let errors = ValidationErrors(
                errors
                    .0
                    .into_iter()
                    .map(|e| broadsheet_domain::FieldError {
                        field: format!("alt-{id}"),
                        message: e.message,
                    })
                    .collect(),
            );
            return library_page(
                &state,
                &who,
                StatusCode::UNPROCESSABLE_ENTITY,
                1,
                None,
                &errors,
                "",
            )
            .await;
        }
    };
    let media = state.store.update_media_alt(MediaId(id), &alt).await?;
    audit::record(
        &state,
        &who.user,
        "media.alt",
        &format!("media:{}", media.id),
        &media.filename,
    )
    .await?;
    Ok(Redirect::to("/admin/media").into_response())
}

/// POST /admin/media/{id}/delete: removes an image and its variants. Articles that
/// embed it show a broken image, as they would on any site; the audit log says who.
async fn delete(
    State(state): State<AppState>,
    who: SignedIn,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    who.require(Action::DeleteMedia, Target::Site)?;
    let media = state.store.media_by_id(MediaId(id)).await?;
    state.store.delete_media(media.id).await?;
    audit::record(
        &state,
        &who.user,
        "media.delete",
        &format!("media:{}", media.id),
        &media.filename,
    )
    .await?;
    Ok(Redirect::to("/admin/media?deleted=1").into_response())
}
