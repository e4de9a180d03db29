//! What a page's bell talks to: the public key, the service worker and the
//! subscription endpoints. All JSON; errors are `{"error": {"code", "message",
//! "field"?}}` with the field named (422), never a 500 for a reader's mistake.
//!
//! | route | what |
//! |---|---|
//! | `GET /push/key` | `{"public_key"}`: the VAPID key browsers subscribe with |
//! | `GET /sw.js` | the service worker (site-wide scope) that shows the pushes |
//! | `POST /push/subscriptions` | `PushSubscription.toJSON()` plus an optional `tag` |
//! | `DELETE /push/subscriptions` | `{"endpoint", "tag"?}`: stop following a tag, or everything |
//! | `POST /push/subscriptions/renew` | a new subscription plus `old_endpoint`: it takes over the old one's topics |
//! | `POST /push/status` | `{"endpoint"}`: what this browser follows |
//!
//! Subscribing and unsubscribing count against a per-network limit (see `limit`).

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use broadsheet_domain::{
    NewPushSubscription, PushSubscription, PushTopic, StoreError, ValidationErrors, clock,
};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::json;

use crate::app::AppState;
use crate::engagement::routes::Peer;
use crate::error::{AppError, ErrorReport};
use crate::push::send::is_p256_point;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/push/key", get(key))
        .route("/sw.js", get(service_worker))
        .route("/push/subscriptions", post(subscribe).delete(unsubscribe))
        .route("/push/subscriptions/renew", post(renew))
        .route("/push/status", post(status))
}

async fn key(State(state): State<AppState>) -> Response {
    (
        [(header::CACHE_CONTROL, "public, max-age=3600")],
        Json(json!({ "public_key": state.push.public_key() })),
    )
        .into_response()
}

/// The theme's `sw.js`, from the site root so that it may control every page. Browsers
/// check it for updates themselves; `no-cache` makes them ask us each time.
async fn service_worker(State(state): State<AppState>) -> Result<Response, AppError> {
    let asset = state.theme.asset("sw.js").ok_or(AppError::NotFound)?;
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static(asset.content_type),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
            (
                header::HeaderName::from_static("service-worker-allowed"),
                HeaderValue::from_static("/"),
            ),
            (
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ),
        ],
        asset.bytes.clone(),
    )
        .into_response())
}

/// `PushSubscription.toJSON()` as browsers send it, plus what to follow.
#[derive(Debug, Deserialize)]
struct SubscribeBody {
    #[serde(default)]
    endpoint: Option<String>,
    #[serde(default)]
    keys: Option<Keys>,
    /// A tag's slug; none for the whole site.
    #[serde(default)]
    tag: Option<String>,
    /// For a renewal: the endpoint this subscription replaces.
    #[serde(default)]
    old_endpoint: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct Keys {
    #[serde(default)]
    p256dh: Option<String>,
    #[serde(default)]
    auth: Option<String>,
}

#[derive(Debug, Deserialize)]
struct EndpointBody {
    #[serde(default)]
    endpoint: Option<String>,
    #[serde(default)]
    tag: Option<String>,
}

/// A string field as sent; absent and `null` are empty.
fn text(field: Option<&String>) -> &str {
    field.map_or("", String::as_str)
}

/// Reads a JSON body, refusing anything else in words a developer can act on.
fn json_body<T: DeserializeOwned>(body: &Bytes) -> Result<T, AppError> {
    serde_json::from_slice(body).map_err(|err| {
        AppError::BadRequest(format!(
            "The body must be a JSON object like {{\"endpoint\": \"https://...\", \"keys\": \
             {{\"p256dh\": \"...\", \"auth\": \"...\"}}}}: {err}"
        ))
    })
}

fn topic(tag: Option<String>) -> PushTopic {
    match tag.map(|t| t.trim().to_owned()).filter(|t| !t.is_empty()) {
        Some(tag) => PushTopic::Tag(tag),
        None => PushTopic::Site,
    }
}

fn answer(status: StatusCode, subscription: Option<&PushSubscription>) -> Response {
    let body = match subscription {
        Some(s) => json!({ "subscribed": true, "endpoint": s.endpoint, "topics": s.topics }),
        None => json!({ "subscribed": false, "topics": [] }),
    };
    (status, [(header::CACHE_CONTROL, "no-store")], Json(body)).into_response()
}

/// Checks what a browser sent beyond its shape: the push service is one we send to,
/// the key is on the curve, the tag exists. Every problem is added to `errors`.
async fn check(
    state: &AppState,
    body: &SubscribeBody,
    topic: PushTopic,
    errors: &mut ValidationErrors,
) -> Result<Option<NewPushSubscription>, AppError> {
    if let PushTopic::Tag(slug) = &topic {
        match state.store.tag_by_slug(slug).await {
            Ok(_) => {}
            Err(StoreError::NotFound) => errors.add("tag", format!("there is no tag \"{slug}\"")),
            Err(err) => return Err(err.into()),
        }
    }
    let keys = body.keys.as_ref();
    match NewPushSubscription::check(
        text(body.endpoint.as_ref()),
        text(keys.and_then(|k| k.p256dh.as_ref())),
        text(keys.and_then(|k| k.auth.as_ref())),
        topic,
    ) {
        Ok(subscription) => {
            if !state.config.push.allows(&subscription.endpoint) {
                errors.add(
                    "endpoint",
                    "is not at a push service this site sends to (see push.services)",
                );
            }
            if !is_p256_point(&subscription.p256dh) {
                errors.add("keys.p256dh", "is not a point on the P-256 curve");
            }
            Ok(Some(subscription))
        }
        Err(found) => {
            errors.0.extend(found.0);
            Ok(None)
        }
    }
}

async fn subscribe(
    State(state): State<AppState>,
    Peer(peer): Peer,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, AppError> {
    crate::engagement::origin::check(&headers, &uri, &state.config.base_url)?;
    state.push.take_one(&state, peer, &headers).await?;
    let body: SubscribeBody = json_body(&body)?;
    let mut errors = ValidationErrors::default();
    let topic = topic(body.tag.clone());
    let subscription = check(&state, &body, topic, &mut errors).await?;
    errors.into_result()?;
    let subscription = subscription.expect("checked above");
    let stored = state
        .store
        .subscribe_push(&subscription, clock::now())
        .await?;
    Ok(answer(StatusCode::CREATED, Some(&stored)))
}

/// The browser replaced its subscription (the service worker's
/// `pushsubscriptionchange`): the new one takes over what the old one followed.
async fn renew(
    State(state): State<AppState>,
    Peer(peer): Peer,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, AppError> {
    crate::engagement::origin::check(&headers, &uri, &state.config.base_url)?;
    state.push.take_one(&state, peer, &headers).await?;
    let body: SubscribeBody = json_body(&body)?;
    let old_endpoint = text(body.old_endpoint.as_ref()).trim();
    let mut errors = ValidationErrors::default();
    if old_endpoint.is_empty() {
        errors.add("old_endpoint", "is missing");
    }
    let checked = check(&state, &body, PushTopic::Site, &mut errors).await?;
    errors.into_result()?;
    let mut renewed = checked.expect("checked above");
    let old = match state
        .store
        .push_subscription_by_endpoint(old_endpoint)
        .await
    {
        Ok(old) => old,
        Err(StoreError::NotFound) => {
            return Ok(not_subscribed(
                "No push subscription has old_endpoint: it was removed already, or never \
                 made on this site. Subscribe again instead.",
            ));
        }
        Err(err) => return Err(err.into()),
    };
    let mut stored = None;
    for topic in old.topics {
        renewed.topic = topic;
        stored = Some(state.store.subscribe_push(&renewed, clock::now()).await?);
    }
    if renewed.endpoint != old.endpoint {
        match state.store.unsubscribe_push(&old.endpoint, None).await {
            Ok(_) | Err(StoreError::NotFound) => {}
            Err(err) => return Err(err.into()),
        }
    }
    Ok(answer(StatusCode::OK, stored.as_ref()))
}

/// 404 for an endpoint (or a topic) that is not subscribed, saying so.
fn not_subscribed(message: &str) -> Response {
    let report = ErrorReport {
        status: 404,
        code: "not_subscribed",
        message: message.to_owned(),
        field: Some("endpoint".into()),
        fields: Vec::new(),
    };
    (StatusCode::NOT_FOUND, Json(json!({ "error": report }))).into_response()
}

fn endpoint_of(body: &EndpointBody) -> Result<&str, AppError> {
    let endpoint = text(body.endpoint.as_ref()).trim();
    if endpoint.is_empty() {
        return Err(ValidationErrors::single("endpoint", "is missing").into());
    }
    Ok(endpoint)
}

async fn unsubscribe(
    State(state): State<AppState>,
    Peer(peer): Peer,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, AppError> {
    crate::engagement::origin::check(&headers, &uri, &state.config.base_url)?;
    state.push.take_one(&state, peer, &headers).await?;
    let body: EndpointBody = json_body(&body)?;
    let endpoint = endpoint_of(&body)?;
    let topic = body.tag.clone().map(|t| topic(Some(t)));
    match state.store.unsubscribe_push(endpoint, topic.as_ref()).await {
        Ok(left) => Ok(answer(StatusCode::OK, left.as_ref())),
        Err(StoreError::NotFound) => Ok(not_subscribed(match topic {
            Some(PushTopic::Tag(_)) => {
                "This browser does not follow that tag here (or its subscription is gone); \
                 nothing was changed."
            }
            _ => {
                "No push subscription has this endpoint: it was removed already, or never \
                 made on this site. Nothing was changed."
            }
        })),
        Err(err) => Err(err.into()),
    }
}

async fn status(
    State(state): State<AppState>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, AppError> {
    crate::engagement::origin::check(&headers, &uri, &state.config.base_url)?;
    let body: EndpointBody = json_body(&body)?;
    let endpoint = endpoint_of(&body)?;
    match state.store.push_subscription_by_endpoint(endpoint).await {
        Ok(found) => Ok(answer(StatusCode::OK, Some(&found))),
        Err(StoreError::NotFound) => Ok(answer(StatusCode::OK, None)),
        Err(err) => Err(err.into()),
    }
}
