//! The newsroom's side of the API, with a token (`Authorization: Bearer bs_…`):
//! articles (list, read, create, update, publish, unpublish, schedule, delete, with a
//! Markdown or HTML body), media uploads and comment moderation.
//!
//! Nothing here has rules of its own: every article write goes through the admin's
//! one write path ([`crate::admin::articles::save::store_input`]: permission to
//! publish, validation and rendering, revisions, the publish job, the audit log) as
//! the token's user; uploads through [`crate::media::save_upload`]; moderation through
//! [`crate::admin::comments::moderate`]. What a token may do is its scope *and* its
//! user's role ([`super::auth::ApiCaller::require`]).

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Multipart, Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use broadsheet_domain::{
    Action, Article, ArticleId, ArticleInput, ArticleQuery, CommentId, CommentQuery, CommentStatus,
    ContentKind, Role, SourceFormat, Status, Target, ValidationErrors, Visibility,
};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use utoipa::ToSchema;

use super::auth::ApiCaller;
use super::content::{first, number, page_of, query_pairs};
use super::http::{check_if_match, etag_of};
use super::read_json;
use super::views::{ErrorBody, ManagedArticle, MediaItem, ModeratedComment, Page};
use crate::admin::articles::save::{Mode, store_input};
use crate::admin::audit;
use crate::app::AppState;
use crate::error::AppError;
use crate::media::upload::read_upload;

/// An article as a client sends it. On create, `title` and `body` are needed; on
/// update every field is optional and an absent one keeps its value.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ArticleBody {
    pub title: Option<String>,
    /// The body, in `format`.
    pub body: Option<String>,
    /// `markdown` (the default) or `html` (sanitised like an import).
    pub format: Option<String>,
    /// Made from the title when absent on create.
    pub slug: Option<String>,
    /// Made from the body when absent.
    pub excerpt: Option<String>,
    /// Tag names; replaces the article's tags.
    pub tags: Option<Vec<String>>,
    /// `draft` (the default), `scheduled` or `published`. Publishing and scheduling
    /// need a role that may publish the article.
    pub status: Option<String>,
    /// RFC 3339; a published article dated in the future is scheduled.
    pub published_at: Option<String>,
    /// `article` (the default) or `page`; only on create.
    pub kind: Option<String>,
    pub cover_image: Option<String>,
    pub featured: Option<bool>,
}

/// A schedule request.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScheduleBody {
    /// When to publish, RFC 3339, in the future.
    pub published_at: String,
}

/// A moderation decision.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ModerateBody {
    /// `pending`, `approved`, `spam` or `trash`.
    pub status: String,
}

fn parse_time(text: &str, field: &str, errors: &mut ValidationErrors) -> Option<DateTime<Utc>> {
    match DateTime::parse_from_rfc3339(text.trim()) {
        Ok(at) => Some(at.with_timezone(&Utc)),
        Err(_) => {
            errors.add(field, "must be an RFC 3339 time like 2026-03-01T09:30:00Z");
            None
        }
    }
}

impl ArticleBody {
    /// The input this body makes, over `existing` (an update) or for `author` (a new
    /// article), with the problems found reading it.
    fn to_input(
        &self,
        existing: Option<&Article>,
        author: &ApiCaller,
    ) -> (ArticleInput, ValidationErrors) {
        let mut errors = ValidationErrors::default();
        let parse = |value: &Option<String>, errors: &mut ValidationErrors, field: &str| {
            value.as_deref().and_then(|text| match field {
                "format" => text
                    .parse::<SourceFormat>()
                    .map(Some)
                    .unwrap_or_else(|e| {
                        errors.add(field, e);
                        None
                    })
                    .map(|f| f.as_str().to_owned()),
                _ => Some(text.to_owned()),
            })
        };
        let format =
            parse(&self.format, &mut errors, "format").and_then(|f| f.parse::<SourceFormat>().ok());
        let status = self.status.as_deref().and_then(|s| {
            s.parse::<Status>()
                .map_err(|e| errors.add("status", e))
                .ok()
        });
        let kind = match (&self.kind, existing) {
            (Some(_), Some(_)) => {
                errors.add("kind", "cannot be changed; make a new article or page");
                None
            }
            (Some(k), None) => k
                .parse::<ContentKind>()
                .map_err(|e| errors.add("kind", e))
                .ok(),
            (None, _) => None,
        };
        let published_at = self
            .published_at
            .as_deref()
            .and_then(|t| parse_time(t, "published_at", &mut errors));
        if existing.is_none() && self.title.is_none() {
            errors.add("title", "is required");
        }
        if existing.is_none() && self.body.is_none() {
            errors.add("body", "is required");
        }
        let input = match existing {
            Some(a) => ArticleInput {
                kind: a.kind,
                title: self.title.clone().unwrap_or_else(|| a.title.clone()),
                slug: Some(self.slug.clone().unwrap_or_else(|| a.slug.clone())),
                excerpt: Some(self.excerpt.clone().unwrap_or_else(|| a.excerpt.clone())),
                source: self.body.clone().unwrap_or_else(|| a.source.clone()),
                format: format.unwrap_or(a.format),
                tags: self
                    .tags
                    .clone()
                    .unwrap_or_else(|| a.tags.iter().map(|t| t.name.clone()).collect()),
                author_id: a.author.id,
                status: status.unwrap_or(a.status),
                published_at: published_at.or(a.published_at),
                cover_image: self.cover_image.clone().or_else(|| a.cover_image.clone()),
                featured: self.featured.unwrap_or(a.featured),
            },
            None => ArticleInput {
                kind: kind.unwrap_or(ContentKind::Article),
                title: self.title.clone().unwrap_or_default(),
                slug: self.slug.clone(),
                excerpt: self.excerpt.clone(),
                source: self.body.clone().unwrap_or_default(),
                format: format.unwrap_or(SourceFormat::Markdown),
                tags: self.tags.clone().unwrap_or_default(),
                author_id: author.user.id,
                status: status.unwrap_or(Status::Draft),
                published_at,
                cover_image: self.cover_image.clone(),
                featured: self.featured.unwrap_or(false),
            },
        };
        (input, errors)
    }
}

fn managed(state: &AppState, article: &Article, tz: chrono_tz::Tz) -> ManagedArticle {
    ManagedArticle::new(article, tz, &state.config.base_url)
}

/// The article's JSON with its ETag: the same bytes a GET answers, so a client's
/// `If-Match` is the ETag it read.
fn article_response(
    state: &AppState,
    article: &Article,
    tz: chrono_tz::Tz,
    status: StatusCode,
) -> Result<Response, AppError> {
    let bytes = serde_json::to_vec(&managed(state, article, tz)).map_err(AppError::internal)?;
    let etag = etag_of(&bytes);
    let mut response =
        (status, [(header::CONTENT_TYPE, "application/json")], bytes).into_response();
    response.headers_mut().insert(
        header::ETAG,
        HeaderValue::from_str(&etag).map_err(AppError::internal)?,
    );
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-cache"),
    );
    Ok(response)
}

/// The current ETag of an article as this API shows it.
fn current_etag(
    state: &AppState,
    article: &Article,
    tz: chrono_tz::Tz,
) -> Result<String, AppError> {
    let bytes = serde_json::to_vec(&managed(state, article, tz)).map_err(AppError::internal)?;
    Ok(etag_of(&bytes))
}

fn article_id(text: &str) -> Result<ArticleId, AppError> {
    crate::engagement::routes::article_id(text)
}

/// Article `id`, once the caller may do `action` on it.
async fn article_for(
    state: &AppState,
    caller: &ApiCaller,
    id: &str,
    action: Action,
) -> Result<Article, AppError> {
    let article = state.store.article_by_id(article_id(id)?).await?;
    caller.require_article(action, &article)?;
    Ok(article)
}

/// Saves `input` over `existing` (or as new) through the admin's write path.
async fn save(
    state: &AppState,
    caller: &ApiCaller,
    existing: Option<&Article>,
    input: (ArticleInput, ValidationErrors),
    created: bool,
) -> Result<Response, AppError> {
    // Publishing, scheduling and unpublishing take the write scope like any write;
    // the role's part is checked by `store_input` itself.
    let article = store_input(state, &caller.user, existing, input, Mode::Save).await??;
    let tz = state.chrome().await?.settings.tz();
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    let mut response = article_response(state, &article, tz, status)?;
    if created {
        let location = format!("/api/v1/manage/articles/{}", article.id);
        response.headers_mut().insert(
            header::LOCATION,
            HeaderValue::from_str(&location).map_err(AppError::internal)?,
        );
    }
    Ok(response)
}

/// Articles the token's user may open in the newsroom (editors: everyone's; others:
/// their own), newest first, drafts included.
#[utoipa::path(
    get,
    path = "/api/v1/manage/articles",
    operation_id = "list_managed_articles",
    tag = "manage",
    security(("token" = ["read"])),
    params(
        ("status" = Option<String>, Query, description = "draft, scheduled or published"),
        ("kind" = Option<String>, Query, description = "article (default) or page"),
        ("page" = Option<u32>, Query, minimum = 1),
        ("per_page" = Option<u32>, Query, minimum = 1, maximum = 100),
    ),
    responses(
        (status = 200, description = "A page of articles", body = Page<ManagedArticle>),
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
    caller.require(
        Action::ViewArticle,
        Target::article(&caller.user, caller.user.id, false),
    )?;
    let pairs = query_pairs(raw.as_deref())?;
    let mut errors = ValidationErrors::default();
    let page = number(&pairs, "page", 1, 100_000, &mut errors);
    let per_page = number(&pairs, "per_page", 20, 100, &mut errors);
    let status = first(&pairs, "status").and_then(|s| {
        s.parse::<Status>()
            .map_err(|e| errors.add("status", e))
            .ok()
    });
    let kind = first(&pairs, "kind")
        .map(|k| {
            k.parse::<ContentKind>()
                .map_err(|e| errors.add("kind", e))
                .ok()
        })
        .unwrap_or(Some(ContentKind::Article));
    errors.into_result()?;
    let everyone = caller.user.role >= Role::Editor;
    let found = state
        .store
        .list_articles(&ArticleQuery {
            kind: kind.unwrap_or(ContentKind::Article),
            visibility: Visibility::Any,
            tag: None,
            author: (!everyone).then_some(caller.user.id),
            status,
            title_search: None,
            published_from: None,
            published_before: None,
            page,
            per_page,
        })
        .await?;
    let tz = state.chrome().await?.settings.tz();
    Ok(Json(page_of(found, |a| managed(&state, a, tz))).into_response())
}

/// One article as the newsroom sees it, with its ETag for `If-Match`.
#[utoipa::path(
    get,
    path = "/api/v1/manage/articles/{id}",
    operation_id = "get_managed_article",
    tag = "manage",
    security(("token" = ["read"])),
    params(("id" = i64, Path, description = "The article's id")),
    responses(
        (status = 200, description = "The article", body = ManagedArticle),
        (status = 401, description = "No live token", body = ErrorBody),
        (status = 403, description = "Not allowed", body = ErrorBody),
        (status = 404, description = "No such article", body = ErrorBody),
    )
)]
pub async fn get(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let article = article_for(&state, &caller, &id, Action::ViewArticle).await?;
    let tz = state.chrome().await?.settings.tz();
    article_response(&state, &article, tz, StatusCode::OK)
}

/// Creates an article (a draft unless `status` says otherwise).
#[utoipa::path(
    post,
    path = "/api/v1/manage/articles",
    operation_id = "create_article",
    tag = "manage",
    security(("token" = ["write"])),
    request_body = ArticleBody,
    responses(
        (status = 201, description = "Created", body = ManagedArticle),
        (status = 400, description = "Not JSON", body = ErrorBody),
        (status = 401, description = "No live token", body = ErrorBody),
        (status = 403, description = "Not allowed (e.g. a contributor publishing)", body = ErrorBody),
        (status = 415, description = "Not application/json", body = ErrorBody),
        (status = 422, description = "Invalid fields, each named", body = ErrorBody),
    )
)]
pub async fn create(
    State(state): State<AppState>,
    caller: ApiCaller,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, AppError> {
    caller.require(Action::CreateArticle, Target::Site)?;
    let body: ArticleBody = read_json(&headers, &body)?;
    let input = body.to_input(None, &caller);
    save(&state, &caller, None, input, true).await
}

/// Changes an article; absent fields keep their values. Send `If-Match` with the
/// ETag you read to refuse the write (412) if someone changed it meanwhile.
#[utoipa::path(
    patch,
    path = "/api/v1/manage/articles/{id}",
    operation_id = "update_article",
    tag = "manage",
    security(("token" = ["write"])),
    params(
        ("id" = i64, Path, description = "The article's id"),
        ("If-Match" = Option<String>, Header, description = "The ETag last read"),
    ),
    request_body = ArticleBody,
    responses(
        (status = 200, description = "Saved", body = ManagedArticle),
        (status = 401, description = "No live token", body = ErrorBody),
        (status = 403, description = "Not allowed", body = ErrorBody),
        (status = 404, description = "No such article", body = ErrorBody),
        (status = 412, description = "Changed since read", body = ErrorBody),
        (status = 415, description = "Not application/json", body = ErrorBody),
        (status = 422, description = "Invalid fields", body = ErrorBody),
    )
)]
pub async fn update(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, AppError> {
    let article = article_for(&state, &caller, &id, Action::EditArticle).await?;
    let tz = state.chrome().await?.settings.tz();
    check_if_match(&headers, &current_etag(&state, &article, tz)?)?;
    let body: ArticleBody = read_json(&headers, &body)?;
    let input = body.to_input(Some(&article), &caller);
    save(&state, &caller, Some(&article), input, false).await
}

/// A status change of an existing article, as its own action.
async fn change_status(
    state: &AppState,
    caller: &ApiCaller,
    id: &str,
    headers: &HeaderMap,
    status: Status,
    at: Option<DateTime<Utc>>,
) -> Result<Response, AppError> {
    let article = article_for(state, caller, id, Action::PublishArticle).await?;
    let tz = state.chrome().await?.settings.tz();
    check_if_match(headers, &current_etag(state, &article, tz)?)?;
    let body = ArticleBody {
        status: Some(status.as_str().to_owned()),
        ..ArticleBody::default()
    };
    let (mut input, errors) = body.to_input(Some(&article), caller);
    if let Some(at) = at {
        input.published_at = Some(at);
    } else if status == Status::Published && article.status == Status::Scheduled {
        // "Publish now" on a scheduled article: now, not at its future time.
        input.published_at = None;
    }
    save(state, caller, Some(&article), (input, errors), false).await
}

/// Publishes an article now (a draft keeps no date; a scheduled one goes out now).
#[utoipa::path(
    post,
    path = "/api/v1/manage/articles/{id}/publish",
    operation_id = "publish_article",
    tag = "manage",
    security(("token" = ["write"])),
    params(("id" = i64, Path), ("If-Match" = Option<String>, Header)),
    responses(
        (status = 200, description = "Published", body = ManagedArticle),
        (status = 401, description = "No live token", body = ErrorBody),
        (status = 403, description = "Not allowed", body = ErrorBody),
        (status = 404, description = "No such article", body = ErrorBody),
        (status = 412, description = "Changed since read", body = ErrorBody),
    )
)]
pub async fn publish(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    change_status(&state, &caller, &id, &headers, Status::Published, None).await
}

/// Takes an article back to draft.
#[utoipa::path(
    post,
    path = "/api/v1/manage/articles/{id}/unpublish",
    operation_id = "unpublish_article",
    tag = "manage",
    security(("token" = ["write"])),
    params(("id" = i64, Path), ("If-Match" = Option<String>, Header)),
    responses(
        (status = 200, description = "Now a draft", body = ManagedArticle),
        (status = 401, description = "No live token", body = ErrorBody),
        (status = 403, description = "Not allowed", body = ErrorBody),
        (status = 404, description = "No such article", body = ErrorBody),
        (status = 412, description = "Changed since read", body = ErrorBody),
    )
)]
pub async fn unpublish(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    change_status(&state, &caller, &id, &headers, Status::Draft, None).await
}

/// Schedules an article for a future time.
#[utoipa::path(
    post,
    path = "/api/v1/manage/articles/{id}/schedule",
    operation_id = "schedule_article",
    tag = "manage",
    security(("token" = ["write"])),
    params(("id" = i64, Path), ("If-Match" = Option<String>, Header)),
    request_body = ScheduleBody,
    responses(
        (status = 200, description = "Scheduled", body = ManagedArticle),
        (status = 401, description = "No live token", body = ErrorBody),
        (status = 403, description = "Not allowed", body = ErrorBody),
        (status = 404, description = "No such article", body = ErrorBody),
        (status = 412, description = "Changed since read", body = ErrorBody),
        (status = 422, description = "No or a past time", body = ErrorBody),
    )
)]
pub async fn schedule(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, AppError> {
    // The token and the article first: a caller without the right learns nothing
    // from the body's problems.
    article_for(&state, &caller, &id, Action::PublishArticle).await?;
    let body: ScheduleBody = read_json(&headers, &body)?;
    let mut errors = ValidationErrors::default();
    let at = parse_time(&body.published_at, "published_at", &mut errors);
    if let Some(at) = at
        && at <= broadsheet_domain::clock::now()
    {
        errors.add(
            "published_at",
            "must be in the future to schedule; publish instead",
        );
    }
    errors.into_result()?;
    change_status(&state, &caller, &id, &headers, Status::Scheduled, at).await
}

/// Deletes an article with its revisions, comments and counters.
#[utoipa::path(
    delete,
    path = "/api/v1/manage/articles/{id}",
    operation_id = "delete_article",
    tag = "manage",
    security(("token" = ["write"])),
    params(("id" = i64, Path), ("If-Match" = Option<String>, Header)),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "No live token", body = ErrorBody),
        (status = 403, description = "Not allowed", body = ErrorBody),
        (status = 404, description = "No such article", body = ErrorBody),
        (status = 412, description = "Changed since read", body = ErrorBody),
    )
)]
pub async fn delete(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let article = article_for(&state, &caller, &id, Action::DeleteArticle).await?;
    let tz = state.chrome().await?.settings.tz();
    check_if_match(&headers, &current_etag(&state, &article, tz)?)?;
    state.store.delete_article(article.id).await?;
    audit::record(
        &state,
        &caller.user,
        "article.delete",
        &format!("article:{}", article.id),
        &article.title,
    )
    .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Uploads an image (multipart: `file`, and `alt`), processed like the admin's.
#[utoipa::path(
    post,
    path = "/api/v1/manage/media",
    operation_id = "upload_media",
    tag = "manage",
    security(("token" = ["write"])),
    request_body(content_type = "multipart/form-data", description = "Fields `file` (JPEG, PNG or WebP) and `alt`"),
    responses(
        (status = 201, description = "Stored", body = MediaItem),
        (status = 401, description = "No live token", body = ErrorBody),
        (status = 403, description = "Not allowed", body = ErrorBody),
        (status = 413, description = "Over the upload limit", body = ErrorBody),
        (status = 415, description = "Not an image we take", body = ErrorBody),
        (status = 422, description = "No file, or bad alt text", body = ErrorBody),
    )
)]
pub async fn upload(
    State(state): State<AppState>,
    caller: ApiCaller,
    multipart: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> Result<Response, AppError> {
    caller.require(Action::UploadMedia, Target::Site)?;
    let multipart = multipart.map_err(|_| {
        AppError::UnsupportedMediaType(
            "Send the image as multipart/form-data with fields file and alt.".into(),
        )
    })?;
    let form = read_upload(multipart, state.config.media.max_upload_bytes).await;
    let media = crate::media::save_upload(&state, &caller.user, form.file?, &form.alt).await?;
    audit::record(
        &state,
        &caller.user,
        "media.upload",
        &format!("media:{}", media.id),
        &media.filename,
    )
    .await?;
    let item = MediaItem {
        id: media.id.0,
        url: format!("{}{}", state.config.base_url, media.url()),
        width: media.width,
        height: media.height,
        alt: media.alt.clone(),
        filename: media.filename.clone(),
        content_type: media.content_type.clone(),
        size: media.size,
        markdown: media.markdown(),
        created_at: super::views::rfc3339(media.created_at),
    };
    Ok((StatusCode::CREATED, Json(item)).into_response())
}

/// The comment queue, newest first.
#[utoipa::path(
    get,
    path = "/api/v1/manage/comments",
    operation_id = "list_comment_queue",
    tag = "manage",
    security(("token" = ["admin"])),
    params(
        ("status" = Option<String>, Query, description = "pending (default), approved, spam or trash"),
        ("article" = Option<i64>, Query, description = "Only this article's"),
        ("page" = Option<u32>, Query, minimum = 1),
        ("per_page" = Option<u32>, Query, minimum = 1, maximum = 100),
    ),
    responses(
        (status = 200, description = "A page of comments", body = Page<ModeratedComment>),
        (status = 401, description = "No live token", body = ErrorBody),
        (status = 403, description = "Not allowed", body = ErrorBody),
        (status = 422, description = "A bad parameter", body = ErrorBody),
    )
)]
pub async fn comments(
    State(state): State<AppState>,
    caller: ApiCaller,
    RawQuery(raw): RawQuery,
) -> Result<Response, AppError> {
    caller.require(Action::ModerateComments, Target::Site)?;
    let pairs = query_pairs(raw.as_deref())?;
    let mut errors = ValidationErrors::default();
    let page = number(&pairs, "page", 1, 100_000, &mut errors);
    let per_page = number(&pairs, "per_page", 20, 100, &mut errors);
    let status = first(&pairs, "status")
        .map(|s| {
            s.parse::<CommentStatus>()
                .map_err(|_| errors.add("status", "must be pending, approved, spam or trash"))
                .ok()
        })
        .unwrap_or(Some(CommentStatus::Pending));
    let article = first(&pairs, "article").and_then(|a| {
        a.parse::<i64>()
            .map(ArticleId)
            .map_err(|_| errors.add("article", "must be an article id"))
            .ok()
    });
    errors.into_result()?;
    let found = state
        .store
        .list_comments(&CommentQuery {
            status,
            article,
            page,
            per_page,
        })
        .await?;
    Ok(Json(page_of(found, ModeratedComment::new)).into_response())
}

/// Approves, holds, marks as spam or trashes a comment, as the admin's queue does
/// (approving sends the reply notifications).
#[utoipa::path(
    post,
    path = "/api/v1/manage/comments/{id}/status",
    operation_id = "moderate_comment",
    tag = "manage",
    security(("token" = ["admin"])),
    params(("id" = i64, Path)),
    request_body = ModerateBody,
    responses(
        (status = 200, description = "The comment now", body = ModeratedComment),
        (status = 401, description = "No live token", body = ErrorBody),
        (status = 403, description = "Not allowed", body = ErrorBody),
        (status = 404, description = "No such comment", body = ErrorBody),
        (status = 422, description = "Not a status", body = ErrorBody),
    )
)]
pub async fn moderate(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, AppError> {
    caller.require(Action::ModerateComments, Target::Site)?;
    let id = id
        .parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .map(CommentId)
        .ok_or(AppError::NotFound)?;
    state.store.comment_by_id(id).await?;
    let body: ModerateBody = read_json(&headers, &body)?;
    let status: CommentStatus = body.status.parse().map_err(|_| {
        ValidationErrors::single("status", "must be pending, approved, spam or trash")
    })?;
    crate::admin::comments::moderate(&state, &caller.user, &[id], status).await?;
    let comment = state.store.comment_by_id(id).await?;
    Ok(Json(ModeratedComment::new(&comment)).into_response())
}
