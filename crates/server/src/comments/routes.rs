//! The comment endpoints.
//!
//! | route | what |
//! |---|---|
//! | `POST /articles/{id}/comments` | a new comment or reply: 303 to `#comment-N`, or JSON 201 |
//! | `GET /api/v1/articles/{id}/comments` | the visible threads, as the page shows them |
//!
//! A form with problems is shown again on the article page, with the reader's text
//! and each problem next to its field (422); JSON callers get the JSON error. What
//! answers never carries a commenter's email.

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::middleware::from_fn_with_state;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use broadsheet_domain::{
    Article, Change, Comment, CommentId, CommentSettings, CommentStatus, NewComment, ReaderId,
    StoreError, ValidationErrors, clock,
};
use serde::{Deserialize, Serialize};

use super::form::{CommentForm, CommentsRequest, remember_cookie};
use super::notify;
use super::screen::{Submission, Verdict, screen};
use super::thread::{CommentView, ThreadOptions, anchor, threads};
use crate::app::AppState;
use crate::auth::session;
use crate::engagement::identity::{Reader, reader_from_headers, user_agent};
use crate::engagement::routes::{Peer, article_id, form_errors, wants_json};
use crate::engagement::{origin, today};
use crate::error::AppError;
use crate::signing::SigningKey;

pub fn routes(state: AppState) -> Router<AppState> {
    Router::new()
        .route("/articles/{id}/comments", post(post_comment))
        .route_layer(from_fn_with_state(state, form_errors))
    // `GET /api/v1/articles/{id}/comments` is in the API's route table (`crate::api`).
}

/// A comment as the API shows its sender: never the email, the reader, the network
/// or the moderator's reason.
#[derive(Debug, Serialize)]
pub struct PublicComment {
    pub id: i64,
    pub article_id: i64,
    pub parent_id: Option<i64>,
    pub status: CommentStatus,
    pub author_name: String,
    pub author_url: Option<String>,
    pub body_html: String,
    pub created_at: String,
    pub url: String,
}

impl PublicComment {
    pub(crate) fn new(comment: &Comment, permalink: &str) -> PublicComment {
        PublicComment {
            id: comment.id.0,
            article_id: comment.article_id.0,
            parent_id: comment.parent_id.map(|p| p.0),
            // A sender is not told their comment was taken for spam (that would teach
            // spammers what passes): it is "pending" like any comment not shown yet.
            status: if comment.status == CommentStatus::Approved {
                CommentStatus::Approved
            } else {
                CommentStatus::Pending
            },
            author_name: comment.author_name.clone(),
            author_url: comment.author_url.clone(),
            body_html: comment.body_html.clone(),
            created_at: comment.created_at.to_rfc3339(),
            url: format!("{permalink}#{}", anchor(comment.id)),
        }
    }
}

/// Reads the form or its JSON twin.
fn read_form(headers: &HeaderMap, body: &[u8]) -> Result<CommentForm, AppError> {
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.trim_start().starts_with("application/json"));
    if is_json {
        serde_json::from_slice(body)
            .map_err(|_| AppError::BadRequest("The request body is not a JSON comment.".into()))
    } else {
        serde_urlencoded::from_bytes(body)
            .map_err(|_| AppError::BadRequest("The comment form could not be read.".into()))
    }
}

/// The comment replied to, or the problem with it (`Ok(Err(..))`): it must be an
/// approved comment on this article, not already at the deepest level. `Err` only
/// when the store fails.
async fn check_parent(
    state: &AppState,
    article: &Article,
    parent: &str,
    rules: &CommentSettings,
) -> Result<Result<Option<CommentId>, String>, AppError> {
    let parent = parent.trim();
    if parent.is_empty() || parent == "0" {
        return Ok(Ok(None));
    }
    let missing = || {
        Ok(Err(
            "The comment you are replying to does not exist.".to_owned()
        ))
    };
    let Ok(id) = parent.parse().map(CommentId) else {
        return missing();
    };
    let comment = match state.store.comment_by_id(id).await {
        Ok(comment) if comment.article_id == article.id => comment,
        Ok(_) | Err(StoreError::NotFound) => return missing(),
        Err(err) => return Err(err.into()),
    };
    if comment.status != CommentStatus::Approved {
        return Ok(Err(
            "The comment you are replying to is not published; you can reply once it is.".into(),
        ));
    }
    // Its depth: one for each ancestor, itself included; the walk stops at the limit.
    let mut depth = 1;
    let mut up = comment.parent_id;
    while let Some(ancestor) = up.filter(|_| depth < rules.max_depth) {
        depth += 1;
        up = state.store.comment_by_id(ancestor).await?.parent_id;
    }
    if depth >= rules.max_depth {
        return Ok(Err(format!(
            "Replies go at most {} levels deep; please reply higher up the thread.",
            rules.max_depth
        )));
    }
    Ok(Ok(Some(id)))
}

/// What became of a submission: stored (with the status the screen gave it), or
/// refused with every problem by field and the form to show again.
pub(crate) enum Accepted {
    Stored {
        comment: Box<Comment>,
        reader: Reader,
    },
    Refused(ValidationErrors),
}

/// The one way a reader's comment is taken, whether from the article's form, its JSON
/// twin or the WordPress REST API: the fields are checked, the parent must be a
/// published comment within the depth limit, then the screen (rate limits, honeypot,
/// form token, duplicates, the site's rules, the spam model) decides the status, the
/// comment is stored and the notifications are queued. `Err` for a refusal that is not
/// about the fields (rate limits, store failures).
pub(crate) async fn accept(
    state: &AppState,
    article: &Article,
    form: &CommentForm,
    peer: std::net::IpAddr,
    headers: &HeaderMap,
) -> Result<Accepted, AppError> {
    let engagement = &state.engagement;
    let store = state.store.as_ref();
    let now = clock::now();
    let chrome = state.chrome().await?;
    let settings = &chrome.settings;
    let rules = &settings.comments;

    let mut problems = ValidationErrors::default();
    let checked = match form.input().check(rules) {
        Ok(checked) => Some(checked),
        Err(errors) => {
            problems = errors;
            None
        }
    };
    if !rules.enabled {
        problems.add("comment", "Comments are closed on this site.");
    }
    let parent = match check_parent(state, article, &form.parent, rules).await? {
        Ok(parent) => parent,
        Err(problem) => {
            problems.add("parent", problem);
            None
        }
    };
    let Some(checked) = checked.filter(|_| problems.is_empty()) else {
        return Ok(Accepted::Refused(problems));
    };

    let reader = engagement.identity.reader(headers)?;
    let day = today(settings, now);
    let ip = engagement.identity.client_ip(peer, headers);
    let agent = user_agent(headers);
    let network = engagement.identity.network(store, day, ip, agent).await?;
    let signed_in = session::load(state, headers).await?.map(|s| s.user);
    let verdict = screen(
        state,
        &Submission {
            article,
            name: &checked.author_name,
            email: &checked.author_email,
            url: checked.author_url.as_deref().unwrap_or(""),
            body: &checked.body,
            honeypot: &form.website_confirm,
            form_token: &form.form_token,
            network: &network,
            user_agent: agent,
            signed_in: signed_in.as_ref(),
            now,
        },
    )
    .await;
    let verdict = match verdict {
        Ok(verdict) => verdict,
        Err(AppError::Validation(errors)) => return Ok(Accepted::Refused(errors)),
        Err(err) => return Err(err),
    };
    let (status, reason) = match verdict {
        Verdict::Approve => (CommentStatus::Approved, None),
        Verdict::Hold(why) => (CommentStatus::Pending, Some(why)),
        Verdict::Spam(why) => (CommentStatus::Spam, Some(why)),
    };
    let id = article.id;
    let comment = store
        .insert_comment(&NewComment {
            article_id: id,
            parent_id: parent,
            status,
            author_name: checked.author_name,
            author_email: checked.author_email,
            author_url: checked.author_url,
            body: checked.body,
            body_html: checked.body_html,
            reader: Some(reader.id.clone()),
            network,
            notify_replies: form.notify_replies(),
            reason,
            day,
            created_at: now,
        })
        .await?;
    tracing::info!(comment = %comment.id, article = %id, status = %comment.status, "comment received");
    if comment.status == CommentStatus::Approved {
        // The commenter loads the page next: this node must show their comment's count.
        engagement.on_change(&Change::Engagement(id));
    }
    // The comment is stored; a notification that cannot be queued must not undo that.
    if let Err(err) = notify::comment_added(state, &comment).await {
        tracing::warn!(error = %err, comment = %comment.id, "comment notifications not queued");
    }
    Ok(Accepted::Stored {
        comment: Box::new(comment),
        reader,
    })
}

/// `POST /articles/{id}/comments`
pub(crate) async fn post_comment(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Peer(peer): Peer,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, AppError> {
    origin::check(&headers, &uri, &state.config.base_url)?;
    let id = article_id(&id)?;
    let engagement = &state.engagement;
    let store = state.store.as_ref();
    let chrome = state.chrome().await?;
    let settings = &chrome.settings;
    let rules = &settings.comments;
    let article = engagement.gate.public(store, id, clock::now()).await?;
    let form = read_form(&headers, &body)?;
    let (comment, reader) = match accept(&state, &article, &form, peer, &headers).await? {
        Accepted::Stored { comment, reader } => (*comment, reader),
        Accepted::Refused(problems) => {
            return refuse(&state, &article, &headers, form, problems).await;
        }
    };

    let permalink = article.permalink(settings.tz());
    let mut response = if wants_json(&headers) {
        let mut response = (
            StatusCode::CREATED,
            Json(PublicComment::new(&comment, &permalink)),
        )
            .into_response();
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        response
    } else {
        // A new thread is the last one; a reply is on the page it was written on.
        let page = if comment.parent_id.is_some() {
            form.comments_page()
        } else {
            let threads = store
                .article_comments(id, Some(&reader.id), 1, rules.per_page)
                .await?;
            threads.pages()
        };
        let query = if page > 1 {
            format!("?comments_page={page}")
        } else {
            String::new()
        };
        let target = format!("{permalink}{query}#{}", anchor(comment.id));
        let mut response = StatusCode::SEE_OTHER.into_response();
        response.headers_mut().insert(
            header::LOCATION,
            HeaderValue::from_str(&target).map_err(AppError::internal)?,
        );
        response
    };
    let headers_out = response.headers_mut();
    if reader.is_new {
        headers_out.append(header::SET_COOKIE, engagement.identity.cookie(&reader.id));
    }
    let secure = state.config.base_url.starts_with("https://");
    if let Some(cookie) = remember_cookie(&form, &headers, secure) {
        headers_out.append(header::SET_COOKIE, cookie);
    }
    Ok(response)
}

/// A submission with problems: JSON callers get the 422 error; a form is shown again
/// on the article page with everything the reader typed.
async fn refuse(
    state: &AppState,
    article: &Article,
    headers: &HeaderMap,
    form: CommentForm,
    problems: ValidationErrors,
) -> Result<Response, AppError> {
    if wants_json(headers) {
        return Err(AppError::Validation(problems));
    }
    let request = CommentsRequest {
        page: form.comments_page(),
        reply_to: None,
        reshow: Some((form, problems)),
    };
    let mut response =
        crate::site::article::show_with_comments(state, article, headers, request).await?;
    *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    Ok(response)
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct ListQuery {
    page: Option<String>,
}

#[derive(Serialize)]
struct ListAnswer {
    article_id: i64,
    count: u64,
    page: u32,
    pages: u32,
    threads: Vec<CommentView>,
}

/// `GET /api/v1/articles/{id}/comments?page=N`: the threads a reader sees (their own
/// pending comments included, so the answer is private to them).
#[utoipa::path(
    get,
    path = "/api/v1/articles/{id}/comments",
    operation_id = "list_article_comments",
    tag = "reader",
    params(
        ("id" = String, Path, description = "The article's id", example = "1"),
        ("page" = Option<u32>, Query, minimum = 1, description = "1-based page of threads"),
    ),
    responses(
        (status = 200, description = "The visible threads", body = crate::api::views::JsonObject),
        (status = 404, description = "No public article", body = crate::api::views::ErrorBody),
    )
)]
pub(crate) async fn list(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(query): Query<ListQuery>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let id = article_id(&id)?;
    let now = clock::now();
    let store = state.store.as_ref();
    let article = state.engagement.gate.public(store, id, now).await?;
    let chrome = state.chrome().await?;
    let settings = &chrome.settings;
    let page = query
        .page
        .and_then(|p| p.trim().parse::<u32>().ok())
        .filter(|p| *p >= 1)
        .unwrap_or(1);
    let reader: Option<ReaderId> = reader_from_headers(&headers);
    let found = store
        .article_comments(id, reader.as_ref(), page, settings.comments.per_page)
        .await?;
    let counts = store.counts(id).await?;
    let key = SigningKey::load(store).await?;
    let permalink = article.permalink(settings.tz());
    let answer = ListAnswer {
        article_id: id.0,
        count: counts.comments,
        page,
        pages: found.pages(),
        threads: threads(
            &found,
            &ThreadOptions {
                tz: settings.tz(),
                max_depth: settings.comments.max_depth,
                open: settings.comments.enabled,
                avatar_key: &key,
                permalink: &permalink,
            },
        ),
    };
    let mut response = Json(answer).into_response();
    let cache = if reader.is_some() {
        "private, no-store"
    } else {
        "no-cache"
    };
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    Ok(response)
}
