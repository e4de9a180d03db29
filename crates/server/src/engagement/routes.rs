//! The engagement endpoints.
//!
//! | route | what |
//! |---|---|
//! | `POST /articles/{id}/engage` | vote, react, rate, clear_rating: 303 back to the article, or JSON |
//! | `POST /articles/{id}/view` | the page's view beacon: 204 |
//! | `GET /articles/{id}/view.gif` | the `<noscript>` view pixel |
//! | `GET /api/v1/articles/{id}/engagement` | the counts as pages show them |
//! | `GET /api/v1/articles/{id}/engagement/me` | the cookie's reader's choices |
//! | `GET /api/v1/articles/{id}/live` | Server-Sent Events with the counts on each change |
//!
//! The `/articles/` routes serve plain HTML forms, so their errors are themed pages,
//! unless the caller asks for JSON (`Accept: application/json`); the `/api/` routes
//! always answer JSON.

use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, FromRequestParts, Path, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::middleware::{Next, from_fn_with_state};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use broadsheet_domain::{
    ArticleId, Cast, CastOutcome, Change, EngagementView, ReactionDef, ReaderAction, ReaderChoices,
    ValidationErrors, ViewHit, Vote, clock,
};
use futures::{Stream, StreamExt};
use serde::{Deserialize, Serialize};

use super::identity::{self, reader_from_headers, user_agent};
use super::views::is_bot;
use super::{Engagement, origin, seconds_until_tomorrow, today};
use crate::app::AppState;
use crate::error::AppError;
use crate::site::error_page;

/// A transparent 1x1 GIF: the smallest image every browser shows as nothing.
const PIXEL_GIF: &[u8] = &[
    0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0x01, 0x00, 0x01, 0x00, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00,
    0xff, 0xff, 0xff, 0x21, 0xf9, 0x04, 0x01, 0x00, 0x00, 0x00, 0x00, 0x2c, 0x00, 0x00, 0x00, 0x00,
    0x01, 0x00, 0x01, 0x00, 0x00, 0x02, 0x02, 0x44, 0x01, 0x00, 0x3b,
];

/// How often a live stream sends a comment, so proxies keep the connection open.
const KEEP_ALIVE: Duration = Duration::from_secs(15);

pub fn routes(state: AppState) -> Router<AppState> {
    let forms = Router::new()
        .route("/articles/{id}/engage", post(engage))
        .route("/articles/{id}/view", post(view_beacon))
        .route("/articles/{id}/view.gif", get(view_pixel))
        .route_layer(from_fn_with_state(state, form_errors));
    // The `/api/v1/` routes below are registered in the API's route table
    // (`crate::api`), which is also what the OpenAPI document is checked against.
    forms
}

/// The URLs of one article's engagement endpoints, as pages link them.
#[derive(Debug, Clone, Serialize)]
pub struct ApiUrls {
    pub engagement: String,
    pub me: String,
    pub live: String,
    pub view: String,
    pub pixel: String,
}

impl ApiUrls {
    pub fn for_article(id: ArticleId) -> ApiUrls {
        ApiUrls {
            engagement: format!("/api/v1/articles/{id}/engagement"),
            me: format!("/api/v1/articles/{id}/engagement/me"),
            live: format!("/api/v1/articles/{id}/live"),
            view: format!("/articles/{id}/view"),
            pixel: format!("/articles/{id}/view.gif"),
        }
    }
}

/// Where an article's widgets post.
pub fn engage_url(id: ArticleId) -> String {
    format!("/articles/{id}/engage")
}

/// The socket peer's address, from the connection info `serve` adds (or a test's
/// `MockConnectInfo`); [`identity::UNKNOWN_PEER`] without either, as when the router
/// is driven in-process.
pub struct Peer(pub IpAddr);

impl<S: Send + Sync> FromRequestParts<S> for Peer {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let info = ConnectInfo::<SocketAddr>::from_request_parts(parts, state).await;
        Ok(Peer(
            info.map_or(identity::UNKNOWN_PEER, |info| info.0.ip()),
        ))
    }
}

/// Form posts get the theme's error page; callers that asked for JSON keep the JSON
/// error body.
pub(crate) async fn form_errors(state: State<AppState>, request: Request, next: Next) -> Response {
    if wants_json(request.headers()) {
        next.run(request).await
    } else {
        error_page::themed_errors(state, request, next).await
    }
}

pub(crate) fn wants_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains("application/json"))
}

/// Ids are positive integers; anything else names no article.
pub(crate) fn article_id(text: &str) -> Result<ArticleId, AppError> {
    text.parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .map(ArticleId)
        .ok_or(AppError::NotFound)
}

/// What a widget posts: `action` and `value`, as a form or as JSON.
#[derive(Debug, Default, Deserialize)]
struct EngageInput {
    action: Option<String>,
    value: Option<String>,
}

impl EngageInput {
    fn read(headers: &HeaderMap, body: &[u8]) -> Result<EngageInput, AppError> {
        let is_json = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|t| t.trim_start().starts_with("application/json"));
        if !is_json {
            return serde_urlencoded::from_bytes(body).map_err(|_| {
                AppError::BadRequest("The form could not be read; send action and value.".into())
            });
        }
        let json: serde_json::Value = serde_json::from_slice(body)
            .map_err(|_| AppError::BadRequest("The request body is not valid JSON.".into()))?;
        // `{"action": "rate", "value": 4}` is as welcome as `"value": "4"`.
        let field = |name: &str| match json.get(name) {
            None | Some(serde_json::Value::Null) => None,
            Some(serde_json::Value::String(s)) => Some(s.clone()),
            Some(other) => Some(other.to_string()),
        };
        Ok(EngageInput {
            action: field("action"),
            value: field("value"),
        })
    }

    /// The action, checked against the site's reaction set; a problem names its field.
    fn action(&self, reactions: &[ReactionDef]) -> Result<ReaderAction, AppError> {
        let invalid = |field: &str, message: String| {
            AppError::Validation(ValidationErrors::single(field, message))
        };
        let value = self.value.as_deref().map_or("", str::trim);
        match self.action.as_deref().map(str::trim) {
            Some("vote") => value
                .parse::<Vote>()
                .map(ReaderAction::Vote)
                .map_err(|_| invalid("value", "A vote must be like or dislike.".into())),
            Some("react") => reactions
                .iter()
                .find(|r| r.key == value)
                .map(|r| ReaderAction::React(r.key.clone()))
                .ok_or_else(|| {
                    let keys: Vec<&str> = reactions.iter().map(|r| r.key.as_str()).collect();
                    invalid(
                        "value",
                        format!(
                            "That is not one of this site's reactions ({}).",
                            keys.join(", ")
                        ),
                    )
                }),
            Some("rate") => value
                .parse::<u8>()
                .ok()
                .filter(|stars| (1..=5).contains(stars))
                .map(ReaderAction::Rate)
                .ok_or_else(|| invalid("value", "A rating is 1 to 5 stars.".into())),
            Some("clear_rating") => Ok(ReaderAction::ClearRating),
            _ => Err(invalid(
                "action",
                "The action must be vote, react, rate or clear_rating.".into(),
            )),
        }
    }
}

/// Where on the article page a form's widget is, for the redirect back.
fn fragment(action: &ReaderAction) -> &'static str {
    match action {
        ReaderAction::Vote(_) => "likes",
        ReaderAction::React(_) => "reactions",
        ReaderAction::Rate(_) | ReaderAction::ClearRating => "rating",
    }
}

#[derive(Serialize)]
struct EngageAnswer {
    engagement: EngagementView,
    choices: ReaderChoices,
}

/// `POST /articles/{id}/engage` (and `POST /api/v1/articles/{id}/engagement`, which
/// always answers JSON).
pub(crate) async fn engage(
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
    let now = clock::now();
    let day = today(settings, now);

    // Limits come before anything that reads the database, so a flood of requests
    // (valid or not) is turned away cheaply.
    let reader = engagement.identity.reader(&headers)?;
    let ip = engagement.identity.client_ip(peer, &headers);
    let network = engagement
        .identity
        .network(store, day, ip, user_agent(&headers))
        .await?;
    engagement.limits.vote(&reader.id, &network)?;

    let article = engagement.gate.public(store, id, now).await?;
    let action = EngageInput::read(&headers, &body)?.action(&settings.reactions)?;
    let fragment = fragment(&action);
    let outcome = engagement
        .writer
        .cast(Cast {
            article: id,
            reader: reader.id.clone(),
            network,
            day,
            action,
        })
        .await?;
    match outcome {
        // The reader is about to load the article again (the 303, or the script's
        // refresh): this node must not show them counts from before their own vote,
        // so its cache is dropped now rather than when the notice comes round.
        CastOutcome::Applied => engagement.on_change(&Change::Engagement(id)),
        CastOutcome::UnknownArticle => return Err(AppError::NotFound),
        CastOutcome::NetworkCapReached => {
            return Err(AppError::TooManyRequests {
                code: "network_cap_reached",
                message: "Too many new readers from your network have reacted to this \
                          article today. Please try again tomorrow."
                    .into(),
                retry_after_secs: seconds_until_tomorrow(settings, now),
            });
        }
    }

    let mut response = if wants_json(&headers) {
        // Straight from the store, not the node's cache: the change notice for this
        // very vote may not have arrived yet.
        let (counts, choices) =
            tokio::try_join!(store.counts(id), store.reader_choices(id, &reader.id))?;
        let answer = EngageAnswer {
            engagement: EngagementView::new(id, &counts, &settings.reactions),
            choices,
        };
        let mut response = Json(answer).into_response();
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        response
    } else {
        let target = format!("{}#{fragment}", article.permalink(settings.tz()));
        let mut response = StatusCode::SEE_OTHER.into_response();
        response.headers_mut().insert(
            header::LOCATION,
            HeaderValue::from_str(&target).map_err(AppError::internal)?,
        );
        response
    };
    if reader.is_new {
        response
            .headers_mut()
            .insert(header::SET_COOKIE, engagement.identity.cookie(&reader.id));
    }
    Ok(response)
}

/// `POST /articles/{id}/view`: the page's beacon.
async fn view_beacon(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Peer(peer): Peer,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    origin::check(&headers, &uri, &state.config.base_url)?;
    let cookie = count_view(&state, &id, peer, &headers).await?;
    let mut response = StatusCode::NO_CONTENT.into_response();
    finish_view(&mut response, cookie);
    Ok(response)
}

/// `GET /articles/{id}/view.gif`: the view pixel for readers without JavaScript.
async fn view_pixel(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Peer(peer): Peer,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let cookie = count_view(&state, &id, peer, &headers).await?;
    let mut response = ([(header::CONTENT_TYPE, "image/gif")], PIXEL_GIF).into_response();
    finish_view(&mut response, cookie);
    Ok(response)
}

fn finish_view(response: &mut Response, cookie: Option<HeaderValue>) {
    // Every load must reach us to be counted, so nothing may cache the answer.
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Some(cookie) = cookie {
        response.headers_mut().insert(header::SET_COOKIE, cookie);
    }
}

/// Buffers a view unless it comes from a bot; returns the cookie to set for a reader
/// seen for the first time (whose new id is the viewer key).
async fn count_view(
    state: &AppState,
    id: &str,
    peer: IpAddr,
    headers: &HeaderMap,
) -> Result<Option<HeaderValue>, AppError> {
    let id = article_id(id)?;
    let engagement = &state.engagement;
    let store = state.store.as_ref();
    let now = clock::now();
    engagement.gate.public(store, id, now).await?;
    let agent = user_agent(headers);
    if is_bot(agent) {
        return Ok(None);
    }
    let chrome = state.chrome().await?;
    let day = today(&chrome.settings, now);
    let reader = engagement.identity.reader(headers)?;
    let counts = if reader.is_new {
        // Each cookie-less view mints a reader, so these are limited per network.
        let ip = engagement.identity.client_ip(peer, headers);
        let network = engagement.identity.network(store, day, ip, agent).await?;
        engagement.limits.new_viewer(&network)
    } else {
        true
    };
    if counts {
        engagement.views.add(ViewHit {
            article: id,
            viewer: reader.id.as_str().to_owned(),
            day,
        });
    }
    Ok(reader
        .is_new
        .then(|| engagement.identity.cookie(&reader.id)))
}

/// `GET /api/v1/articles/{id}/engagement`
#[utoipa::path(
    get,
    path = "/api/v1/articles/{id}/engagement",
    tag = "reader",
    params(("id" = String, Path, description = "The article's id", example = "1")),
    responses(
        (status = 200, description = "Views, likes, reactions, ratings and comment counts", body = crate::api::views::JsonObject),
        (status = 404, description = "No public article", body = crate::api::views::ErrorBody),
    )
)]
pub(crate) async fn engagement(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let id = article_id(&id)?;
    let engagement = &state.engagement;
    engagement
        .gate
        .public(state.store.as_ref(), id, clock::now())
        .await?;
    let view = engagement.view(id).await?;
    // A second is short enough that nobody notices, and lets a CDN absorb a crowd.
    Ok(([(header::CACHE_CONTROL, "public, max-age=1")], Json(view)).into_response())
}

/// `GET /api/v1/articles/{id}/engagement/me`
#[utoipa::path(
    get,
    path = "/api/v1/articles/{id}/engagement/me",
    tag = "reader",
    params(("id" = String, Path, description = "The article's id", example = "1")),
    responses(
        (status = 200, description = "What the reader (by their cookie) chose", body = crate::api::views::JsonObject),
        (status = 404, description = "No public article", body = crate::api::views::ErrorBody),
    )
)]
pub(crate) async fn my_choices(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let id = article_id(&id)?;
    let store = state.store.as_ref();
    state
        .engagement
        .gate
        .public(store, id, clock::now())
        .await?;
    let choices = match reader_from_headers(&headers) {
        Some(reader) => store.reader_choices(id, &reader).await?,
        // No cookie, no choices; asking does not make anyone a reader.
        None => ReaderChoices::default(),
    };
    Ok((
        [(header::CACHE_CONTROL, "private, no-store")],
        Json(choices),
    )
        .into_response())
}

/// `GET /api/v1/articles/{id}/live`: an `engagement` event with the counts now, then
/// one after each change (coalesced, see [`super::live`]).
#[utoipa::path(
    get,
    path = "/api/v1/articles/{id}/live",
    tag = "reader",
    params(("id" = String, Path, description = "The article's id", example = "1")),
    responses(
        (status = 200, description = "Server-Sent Events: `engagement` with the counts", content_type = "text/event-stream", body = String),
        (status = 404, description = "No public article", body = crate::api::views::ErrorBody),
    )
)]
pub(crate) async fn live(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let id = article_id(&id)?;
    let engagement = state.engagement.clone();
    engagement
        .gate
        .public(state.store.as_ref(), id, clock::now())
        .await?;
    // Subscribed before the first load, so no change falls between the two.
    let following = Following {
        receiver: Some(engagement.hub.subscribe(id)),
        engagement: engagement.clone(),
        id,
    };
    let first = engagement.view_json(id).await?;
    let events = live_events(first, following, engagement.closed())
        .map(|json| Ok::<_, Infallible>(Event::default().event("engagement").data(&*json)));
    let mut response = Sse::new(events)
        .keep_alive(KeepAlive::new().interval(KEEP_ALIVE))
        .into_response();
    // Proxies that buffer (nginx) would hold events back.
    response
        .headers_mut()
        .insert("x-accel-buffering", HeaderValue::from_static("no"));
    Ok(response)
}

/// One live reader's subscription. Tells the hub when the reader leaves, so articles
/// nobody follows are dropped.
struct Following {
    /// Always `Some` until dropped.
    receiver: Option<tokio::sync::broadcast::Receiver<Arc<str>>>,
    engagement: Arc<Engagement>,
    id: ArticleId,
}

impl Drop for Following {
    fn drop(&mut self) {
        // The receiver goes first, so the hub sees it gone.
        self.receiver = None;
        self.engagement.hub.unsubscribed(self.id);
    }
}

fn live_events(
    first: Arc<str>,
    following: Following,
    closed: impl Future<Output = ()> + Send + 'static,
) -> impl Stream<Item = Arc<str>> + Send + 'static {
    use tokio::sync::broadcast::error::RecvError;
    let updates = futures::stream::unfold(following, |mut following| async move {
        let receiver = following.receiver.as_mut()?;
        loop {
            match receiver.recv().await {
                Ok(json) => return Some((json, following)),
                // Fell behind: the next event has all the counts anyway.
                Err(RecvError::Lagged(_)) => continue,
                Err(RecvError::Closed) => return None,
            }
        }
    });
    futures::stream::once(std::future::ready(first))
        .chain(updates)
        .take_until(closed)
}
