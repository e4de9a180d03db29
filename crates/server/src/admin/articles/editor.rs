//! The editor: a new article, an existing one, saving, the live preview, autosave,
//! signed preview links and deleting.
//!
//! Without JavaScript everything is a form: "Preview" sends the form and gets the
//! editor back with the preview filled in (nothing is saved). admin.js adds the
//! side-by-side live preview (`POST /admin/preview`, an HTML fragment from the
//! server's own renderer) and autosaves drafts as JSON.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use broadsheet_domain::{
    Action, Article, RenderedBody, SourceFormat, Status, Target, ValidationErrors, clock,
    user_permits,
};
use chrono::{DateTime, Utc};
use minijinja::{Value, context};
use serde::{Deserialize, Serialize};

use super::save::{Input, Mode, store_input};
use super::{article_for, local_time, target};
use crate::admin::{audit, field_errors, render_status};
use crate::app::AppState;
use crate::auth::SignedIn;
use crate::editorial::form::EditorForm;
use crate::editorial::preview_link::PreviewLinks;
use crate::error::AppError;

/// What the editor page shows besides the form.
#[derive(Default)]
struct Extras {
    errors: ValidationErrors,
    /// The preview the "Preview" button asked for.
    preview: Option<PreviewView>,
    /// A signed link just made.
    preview_link: Option<LinkView>,
    /// The page follows a successful save.
    saved: bool,
}

#[derive(Serialize)]
struct PreviewView {
    html: Value,
    read_time: String,
    words: u32,
}

#[derive(Serialize)]
struct LinkView {
    url: String,
    expires: String,
}

/// The preview of a body, from the renderer every save uses.
fn preview_of(source: &str, format: SourceFormat, who: &SignedIn) -> PreviewView {
    let body = RenderedBody::of(source, format, who.site.settings.reading_speed);
    PreviewView {
        // Sanitised by the domain's renderer.
        html: Value::from_safe_string(body.rendered.html),
        read_time: body.read_time.short(),
        words: body.word_count,
    }
}

/// Renders the editor for `article` (`None`: a new one) showing `form`.
async fn show(
    state: &AppState,
    who: &SignedIn,
    article: Option<&Article>,
    form: &EditorForm,
    extras: Extras,
    status: StatusCode,
) -> Result<Response, AppError> {
    let tz = who.site.settings.tz();
    let target = match article {
        Some(article) => target(who, article),
        None => Target::article(&who.user, who.user.id, false),
    };
    let may = |action| user_permits(&who.user, action, target);
    let tags: Vec<String> = state
        .store
        .list_tags()
        .await?
        .into_iter()
        .map(|t| t.name)
        .collect();
    let now = clock::now();
    let article = article.map(|a| {
        context! {
            id => a.id.0,
            title => a.title,
            status => a.status.as_str(),
            author => a.author.display_name,
            updated => local_time(a.updated_at, tz),
            url => a.is_public(now).then(|| a.permalink(tz)),
        }
    });
    render_status(
        state,
        who,
        status,
        "admin/editor.html",
        context! {
            section => "articles",
            article => article,
            form => form,
            errors => field_errors(&extras.errors),
            tags => tags,
            time_zone => tz.name(),
            can_edit => article.is_none() || may(Action::EditArticle),
            can_publish => may(Action::PublishArticle),
            can_delete => article.is_some() && may(Action::DeleteArticle),
            preview => extras.preview,
            preview_link => extras.preview_link,
            saved => extras.saved,
        },
    )
}

/// After a save: the form again (422) with its problems, or on to the saved article.
async fn after_save(
    state: &AppState,
    who: &SignedIn,
    existing: Option<&Article>,
    form: &EditorForm,
    outcome: Result<Article, ValidationErrors>,
) -> Result<Response, AppError> {
    match outcome {
        Ok(article) => {
            Ok(Redirect::to(&format!("/admin/articles/{}?saved=1", article.id)).into_response())
        }
        Err(errors) => {
            let extras = Extras {
                errors,
                ..Extras::default()
            };
            show(
                state,
                who,
                existing,
                form,
                extras,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
    }
}

/// The editor again with the preview of what was sent, nothing saved.
async fn with_preview(
    state: &AppState,
    who: &SignedIn,
    article: Option<&Article>,
    form: &EditorForm,
) -> Result<Response, AppError> {
    let format = form.format.parse().unwrap_or(SourceFormat::Markdown);
    let extras = Extras {
        preview: Some(preview_of(&form.source, format, who)),
        ..Extras::default()
    };
    show(state, who, article, form, extras, StatusCode::OK).await
}

/// GET /admin/articles/new
pub async fn new(State(state): State<AppState>, who: SignedIn) -> Result<Response, AppError> {
    who.require(Action::CreateArticle, Target::Site)?;
    show(
        &state,
        &who,
        None,
        &EditorForm::blank(),
        Extras::default(),
        StatusCode::OK,
    )
    .await
}

/// POST /admin/articles
pub async fn create(
    State(state): State<AppState>,
    who: SignedIn,
    Form(form): Form<EditorForm>,
) -> Result<Response, AppError> {
    who.require(Action::CreateArticle, Target::Site)?;
    if form.wants_preview() {
        return with_preview(&state, &who, None, &form).await;
    }
    let tz = who.site.settings.tz();
    let input = form.to_input(who.user.id, tz, None);
    let outcome = store_input(&state, &who.user, None, input, Mode::Save).await?;
    after_save(&state, &who, None, &form, outcome).await
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct EditQuery {
    saved: Option<String>,
}

/// GET /admin/articles/{id}
pub async fn edit(
    State(state): State<AppState>,
    who: SignedIn,
    Path(id): Path<i64>,
    Query(query): Query<EditQuery>,
) -> Result<Response, AppError> {
    let article = article_for(&state, &who, id, Action::ViewArticle).await?;
    let form = EditorForm::of(&article, who.site.settings.tz());
    let extras = Extras {
        saved: query.saved.is_some(),
        ..Extras::default()
    };
    show(&state, &who, Some(&article), &form, extras, StatusCode::OK).await
}

/// POST /admin/articles/{id}
pub async fn save(
    State(state): State<AppState>,
    who: SignedIn,
    Path(id): Path<i64>,
    Form(form): Form<EditorForm>,
) -> Result<Response, AppError> {
    let article = article_for(&state, &who, id, Action::EditArticle).await?;
    if form.wants_preview() {
        return with_preview(&state, &who, Some(&article), &form).await;
    }
    let tz = who.site.settings.tz();
    let input = form.to_input(article.author.id, tz, article.published_at);
    let outcome = store_input(&state, &who.user, Some(&article), input, Mode::Save).await?;
    after_save(&state, &who, Some(&article), &form, outcome).await
}

/// What an autosave answers admin.js.
#[derive(Debug, Serialize)]
pub struct Autosaved {
    id: i64,
    /// The editor's address, for a new article's first autosave.
    edit_url: String,
    /// When, as the site's clock shows it ("12:03").
    saved_at: String,
    read_time: String,
}

fn autosaved(article: &Article, who: &SignedIn) -> Json<Autosaved> {
    let tz = who.site.settings.tz();
    Json(Autosaved {
        id: article.id.0,
        edit_url: format!("/admin/articles/{}", article.id),
        saved_at: article
            .updated_at
            .with_timezone(&tz)
            .format("%H:%M")
            .to_string(),
        read_time: article.read_time.short(),
    })
}

/// Autosaves only ever keep drafts: whatever the status field says, an autosave
/// neither publishes nor asks for the right to.
fn as_draft(form: &EditorForm, who: &SignedIn, article: Option<&Article>) -> Input {
    let tz = who.site.settings.tz();
    let author = article.map_or(who.user.id, |a| a.author.id);
    let (mut input, errors) = form.to_input(author, tz, article.and_then(|a| a.published_at));
    input.status = Status::Draft;
    (input, errors)
}

/// POST /admin/articles/autosave: a new article's first autosave creates it as a
/// draft.
pub async fn autosave_new(
    State(state): State<AppState>,
    who: SignedIn,
    Json(form): Json<EditorForm>,
) -> Result<Json<Autosaved>, AppError> {
    who.require(Action::CreateArticle, Target::Site)?;
    let input = as_draft(&form, &who, None);
    let article = store_input(&state, &who.user, None, input, Mode::Autosave)
        .await?
        .map_err(AppError::Validation)?;
    Ok(autosaved(&article, &who))
}

/// POST /admin/articles/{id}/autosave
pub async fn autosave(
    State(state): State<AppState>,
    who: SignedIn,
    Path(id): Path<i64>,
    Json(form): Json<EditorForm>,
) -> Result<Json<Autosaved>, AppError> {
    // Only drafts are autosaved; the store refuses any other (see `autosave_article`).
    let article = article_for(&state, &who, id, Action::EditArticle).await?;
    let input = as_draft(&form, &who, Some(&article));
    let article = store_input(&state, &who.user, Some(&article), input, Mode::Autosave)
        .await?
        .map_err(AppError::Validation)?;
    Ok(autosaved(&article, &who))
}

/// The live preview's request: the body and its format.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct PreviewRequest {
    source: String,
    format: String,
}

/// POST /admin/preview: the body rendered as readers will see it, as an HTML
/// fragment, with the read time in `X-Read-Time` (and `X-Read-Time-Seconds`). Takes
/// a form or a JSON body.
pub async fn preview(who: SignedIn, headers: HeaderMap, body: Bytes) -> Result<Response, AppError> {
    who.require(Action::CreateArticle, Target::Site)?;
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    let request: PreviewRequest = if is_json {
        serde_json::from_slice(&body).map_err(|e| AppError::BadRequest(e.to_string()))?
    } else {
        serde_urlencoded::from_bytes(&body).map_err(|e| AppError::BadRequest(e.to_string()))?
    };
    let format = if request.format.trim().is_empty() {
        SourceFormat::Markdown
    } else {
        request.format.parse().map_err(|problem: String| {
            AppError::Validation(ValidationErrors::single("format", problem))
        })?
    };
    let body = RenderedBody::of(&request.source, format, who.site.settings.reading_speed);
    let mut response = Html(body.rendered.html).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    for (name, value) in [
        ("x-read-time", body.read_time.short()),
        ("x-read-time-seconds", body.read_time.0.to_string()),
        ("x-word-count", body.word_count.to_string()),
    ] {
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(name, value);
        }
    }
    Ok(response)
}

/// GET /admin/articles/{id}/preview-link: the editor with a new signed link to
/// the article as readers will see it, valid for a week.
pub async fn preview_link(
    State(state): State<AppState>,
    who: SignedIn,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let article = article_for(&state, &who, id, Action::ViewArticle).await?;
    let links = PreviewLinks::load(state.store.as_ref()).await?;
    let (path, expires): (String, DateTime<Utc>) = links.link(article.id, clock::now());
    let extras = Extras {
        preview_link: Some(LinkView {
            url: format!("{}{path}", state.config.base_url),
            expires: local_time(expires, who.site.settings.tz()),
        }),
        ..Extras::default()
    };
    let form = EditorForm::of(&article, who.site.settings.tz());
    show(&state, &who, Some(&article), &form, extras, StatusCode::OK).await
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct DeleteForm {
    confirm: Option<String>,
}

/// POST /admin/articles/{id}/delete: with the "Yes, delete" box ticked.
pub async fn delete(
    State(state): State<AppState>,
    who: SignedIn,
    Path(id): Path<i64>,
    Form(form): Form<DeleteForm>,
) -> Result<Response, AppError> {
    let article = article_for(&state, &who, id, Action::DeleteArticle).await?;
    if form.confirm.as_deref() != Some("yes") {
        return Err(AppError::Validation(ValidationErrors::single(
            "confirm",
            "tick “Yes, delete this article” to delete it",
        )));
    }
    state.store.delete_article(article.id).await?;
    audit::record(
        &state,
        &who.user,
        "article.delete",
        &format!("article:{}", article.id),
        &article.title,
    )
    .await?;
    Ok(Redirect::to("/admin/articles?deleted=1").into_response())
}
