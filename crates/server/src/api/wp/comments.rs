//! Comments (read, and posted through the comment form's own path) and media.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::IntoResponse;
use broadsheet_domain::{
    Article, ArticleId, Comment, CommentId, CommentQuery, CommentStatus, ContentKind, Media,
    MediaId, StoreError, clock,
};
use chrono_tz::Tz;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::{Params, WpError, WpResult, api_base, collection, href, path_id, wp_dates};
use crate::app::AppState;
use crate::comments::form::CommentForm;
use crate::comments::routes::{Accepted, accept};
use crate::engagement::origin;
use crate::engagement::routes::Peer;

/// A comment as WordPress shows it to everyone (never the email).
fn comment_json(state: &AppState, comment: &Comment, article: &Article, tz: Tz) -> Value {
    let api = api_base(state);
    let (date, date_gmt) = wp_dates(comment.created_at, tz);
    let link = format!(
        "{}{}#comment-{}",
        state.config.base_url,
        article.permalink(tz),
        comment.id
    );
    let mut links = json!({
        "self": href(format!("{api}/wp/v2/comments/{}", comment.id)),
        "collection": href(format!("{api}/wp/v2/comments")),
        "up": [{"embeddable": true, "post_type": "post", "href": format!("{api}/wp/v2/posts/{}", article.id)}],
    });
    if let Some(parent) = comment.parent_id {
        links["in-reply-to"] =
            json!([{"embeddable": true, "href": format!("{api}/wp/v2/comments/{parent}")}]);
    }
    json!({
        "id": comment.id.0,
        "post": comment.article_id.0,
        "parent": comment.parent_id.map_or(0, |p| p.0),
        "author": 0,
        "author_name": comment.author_name,
        "author_url": comment.author_url.clone().unwrap_or_default(),
        "date": date,
        "date_gmt": date_gmt,
        "content": {"rendered": comment.body_html},
        "link": link,
        // A sender is not told their comment was taken for spam: it is held.
        "status": if comment.status == CommentStatus::Approved { "approved" } else { "hold" },
        "type": "comment",
        "author_avatar_urls": {},
        "meta": [],
        "_links": links,
    })
}

/// The public article a comment belongs to, if readers can see both.
async fn public_article(state: &AppState, id: ArticleId) -> Result<Option<Article>, WpError> {
    match state.store.article_by_id(id).await {
        Ok(a) if a.kind == ContentKind::Article && a.is_public(clock::now()) => Ok(Some(a)),
        Ok(_) | Err(StoreError::NotFound) => Ok(None),
        Err(other) => Err(other.into()),
    }
}

/// `GET /wp-json/wp/v2/comments`: approved comments on public articles, newest first.
pub async fn list(State(state): State<AppState>, RawQuery(raw): RawQuery) -> WpResult {
    let params = Params::parse(raw.as_deref())?;
    let mut bad = Map::new();
    let page = params.number("page", 1, 1, u32::MAX, &mut bad);
    let per_page = params.number("per_page", 10, 1, 100, &mut bad);
    let posts = params.ids("post", &mut bad);
    let parents: Vec<i64> = params
        .list("parent")
        .iter()
        .filter_map(|p| p.parse().ok())
        .collect();
    let order = params.one("order").unwrap_or("desc");
    if !matches!(order, "asc" | "desc") {
        bad.insert("order".into(), json!("order is not one of asc, desc."));
    }
    if let Some(status) = params.one("status")
        && status != "approve"
        && status != "approved"
    {
        bad.insert(
            "status".into(),
            json!("Query parameter not permitted: status"),
        );
    }
    if !bad.is_empty() {
        return Err(WpError::invalid_params(Value::Object(bad)));
    }
    let tz = state.chrome().await?.settings.tz();
    // Approved comments of the asked posts (or all), read in store pages so the
    // filters below see every one.
    let targets: Vec<Option<ArticleId>> = if posts.is_empty() {
        vec![None]
    } else {
        posts.iter().map(|p| Some(ArticleId(*p))).collect()
    };
    let mut found: Vec<(Comment, Article)> = Vec::new();
    let mut articles: std::collections::HashMap<ArticleId, Option<Article>> = Default::default();
    for target in targets {
        let mut store_page = 1;
        loop {
            let batch = state
                .store
                .list_comments(&CommentQuery {
                    status: Some(CommentStatus::Approved),
                    article: target,
                    page: store_page,
                    per_page: 100,
                })
                .await?;
            let last = batch.items.len() < 100;
            for comment in batch.items {
                if !parents.is_empty() && !parents.contains(&comment.parent_id.map_or(0, |p| p.0)) {
                    continue;
                }
                let article = match articles.get(&comment.article_id) {
                    Some(known) => known.clone(),
                    None => {
                        let loaded = public_article(&state, comment.article_id).await?;
                        articles.insert(comment.article_id, loaded.clone());
                        loaded
                    }
                };
                if let Some(article) = article {
                    found.push((comment, article));
                }
            }
            if last {
                break;
            }
            store_page += 1;
        }
    }
    found.sort_by_key(|(c, _)| (c.created_at, c.id));
    if order == "desc" {
        found.reverse();
    }
    let total = found.len() as u64;
    let start = (page as usize - 1).saturating_mul(per_page as usize);
    let items = found
        .iter()
        .skip(start)
        .take(per_page as usize)
        .map(|(c, a)| comment_json(&state, c, a, tz))
        .collect();
    let url = format!("{}/wp/v2/comments", api_base(&state));
    Ok(collection(items, total, page, per_page, &url, &params))
}

/// `GET /wp-json/wp/v2/comments/{id}`
pub async fn get(State(state): State<AppState>, Path(id): Path<String>) -> WpResult {
    let invalid = || {
        WpError::new(
            StatusCode::NOT_FOUND,
            "rest_comment_invalid_id",
            "Invalid comment ID.",
        )
    };
    let id = path_id(&id, "rest_comment_invalid_id", "comment")?;
    let comment = match state.store.comment_by_id(CommentId(id)).await {
        Ok(c) if c.status == CommentStatus::Approved => c,
        Ok(_) | Err(StoreError::NotFound) => return Err(invalid()),
        Err(other) => return Err(other.into()),
    };
    let article = public_article(&state, comment.article_id)
        .await?
        .ok_or_else(invalid)?;
    let tz = state.chrome().await?.settings.tz();
    Ok(Json(comment_json(&state, &comment, &article, tz)).into_response())
}

/// What WordPress clients post for a comment (JSON or a form).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct NewWpComment {
    #[serde(deserialize_with = "loose")]
    post: String,
    #[serde(deserialize_with = "loose")]
    parent: String,
    author_name: String,
    author_email: String,
    author_url: String,
    content: String,
}

/// A string or a number, as clients send ids either way.
fn loose<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::String(s) => s,
        Value::Null => String::new(),
        other => other.to_string(),
    })
}

/// `POST /wp-json/wp/v2/comments`: a reader's comment, through the comment form's
/// own path ([`accept`]): the same checks, limits, screen and notifications. Comments
/// sent this way carry no form token, so the screen holds them for moderation unless
/// the sender is a signed-in newsroom user; the answer's `status` says which.
pub async fn create(
    State(state): State<AppState>,
    Peer(peer): Peer,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> WpResult {
    origin::check(&headers, &uri, &state.config.base_url)?;
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.trim_start().starts_with("application/json"));
    let sent: NewWpComment = if is_json {
        serde_json::from_slice(&body).map_err(|_| {
            WpError::new(
                StatusCode::BAD_REQUEST,
                "rest_invalid_json",
                "The request body is not valid JSON.",
            )
        })?
    } else {
        serde_urlencoded::from_bytes(&body).map_err(|_| {
            WpError::new(
                StatusCode::BAD_REQUEST,
                "rest_invalid_param",
                "The form could not be read.",
            )
        })?
    };
    let no_post = || {
        WpError::new(
            StatusCode::FORBIDDEN,
            "rest_comment_invalid_post_id",
            "Sorry, you are not allowed to create this comment without a post.",
        )
    };
    let post = sent
        .post
        .trim()
        .parse::<i64>()
        .ok()
        .filter(|p| *p > 0)
        .ok_or_else(no_post)?;
    let article = public_article(&state, ArticleId(post))
        .await?
        .ok_or_else(no_post)?;
    if sent.content.trim().is_empty() {
        return Err(WpError::new(
            StatusCode::BAD_REQUEST,
            "rest_comment_content_invalid",
            "Invalid comment content.",
        ));
    }
    if sent.author_name.trim().is_empty() || sent.author_email.trim().is_empty() {
        return Err(WpError::new(
            StatusCode::BAD_REQUEST,
            "rest_comment_author_data_required",
            "Creating a comment requires valid author name and email values.",
        ));
    }
    let form = CommentForm {
        comment: sent.content,
        author: sent.author_name,
        email: sent.author_email,
        url: sent.author_url,
        parent: sent.parent,
        ..CommentForm::default()
    };
    let comment = match accept(&state, &article, &form, peer, &headers).await? {
        Accepted::Stored { comment, .. } => comment,
        Accepted::Refused(problems) => {
            let message = problems.to_string();
            let mut params = Map::new();
            for p in &problems.0 {
                params.insert(p.field.clone(), Value::String(p.message.clone()));
            }
            return Err(WpError {
                status: StatusCode::BAD_REQUEST,
                code: "rest_comment_invalid",
                message,
                params: Some(Value::Object(params)),
            });
        }
    };
    let tz = state.chrome().await?.settings.tz();
    let mut response = (
        StatusCode::CREATED,
        Json(comment_json(&state, &comment, &article, tz)),
    )
        .into_response();
    if let Ok(location) = format!("{}/wp/v2/comments/{}", api_base(&state), comment.id).parse() {
        response.headers_mut().insert(header::LOCATION, location);
    }
    Ok(response)
}

fn media_json(state: &AppState, media: &Media, tz: Tz) -> Value {
    let api = api_base(state);
    let (date, date_gmt) = wp_dates(media.created_at, tz);
    let url = format!("{}{}", state.config.base_url, media.url());
    json!({
        "id": media.id.0,
        "date": date,
        "date_gmt": date_gmt,
        "guid": {"rendered": url},
        "modified": date,
        "modified_gmt": date_gmt,
        "slug": media.filename,
        "status": "inherit",
        "type": "attachment",
        "link": url,
        "title": {"rendered": crate::xml::escape(&media.filename)},
        "author": media.uploaded_by.0,
        "caption": {"rendered": ""},
        "alt_text": media.alt,
        "media_type": "image",
        "mime_type": media.content_type,
        "media_details": {"width": media.width, "height": media.height, "file": media.filename, "sizes": {}},
        "source_url": url,
        "_links": {
            "self": href(format!("{api}/wp/v2/media/{}", media.id)),
            "collection": href(format!("{api}/wp/v2/media")),
        }
    })
}

/// `GET /wp-json/wp/v2/media`: the library, newest first.
pub async fn list_media(State(state): State<AppState>, RawQuery(raw): RawQuery) -> WpResult {
    let params = Params::parse(raw.as_deref())?;
    let mut bad = Map::new();
    let page = params.number("page", 1, 1, u32::MAX, &mut bad);
    let per_page = params.number("per_page", 10, 1, 100, &mut bad);
    if !bad.is_empty() {
        return Err(WpError::invalid_params(Value::Object(bad)));
    }
    let offset = u64::from(page - 1) * u64::from(per_page);
    let found = state.store.list_media(per_page, offset).await?;
    let tz = state.chrome().await?.settings.tz();
    let items = found
        .items
        .iter()
        .map(|m| media_json(&state, m, tz))
        .collect();
    let url = format!("{}/wp/v2/media", api_base(&state));
    Ok(collection(
        items,
        found.total,
        page,
        per_page,
        &url,
        &params,
    ))
}

/// `GET /wp-json/wp/v2/media/{id}`
pub async fn get_media(State(state): State<AppState>, Path(id): Path<String>) -> WpResult {
    let id = path_id(&id, "rest_post_invalid_id", "post")?;
    let media = match state.store.media_by_id(MediaId(id)).await {
        Ok(m) => m,
        Err(StoreError::NotFound) => {
            return Err(WpError::new(
                StatusCode::NOT_FOUND,
                "rest_post_invalid_id",
                "Invalid post ID.",
            ));
        }
        Err(other) => return Err(other.into()),
    };
    let tz = state.chrome().await?.settings.tz();
    Ok(Json(media_json(&state, &media, tz)).into_response())
}
