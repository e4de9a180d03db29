//! `POST /newsletter/subscribe`: the subscribe form (email, and `tag` once per chosen
//! tag slug; none means every article). Works without JavaScript: the answer is a page.
//!
//! A valid request answers the same "check your inbox" page whatever the address's
//! state, so the form tells nobody whether an address is subscribed. A new or
//! returning address waits for confirmation and is sent the link; confirmation
//! emails to one address are keyed by the hour, so the form cannot be used to flood
//! someone's inbox. Problems come back as the form again (422) with the input kept
//! and each problem named. These rules live in [`accept`], which the API's
//! `POST /api/v1/subscriptions` calls too.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{Html, IntoResponse, Response};
use broadsheet_domain::{StoreError, SubscribeRequest, SubscriberStatus, ValidationErrors, clock};
use minijinja::context;
use serde::Serialize;

use crate::app::AppState;
use crate::engagement::origin;
use crate::error::AppError;
use crate::mail::enqueue_email;
use crate::signing::SigningKey;
use crate::site::SiteContext;
use crate::site::meta::MetaView;

/// Where the form posts.
pub const PATH: &str = "/newsletter/subscribe";

/// A tag offered again on the page, ticked as it was.
#[derive(Serialize)]
struct TagChoice {
    slug: String,
    hashtag: String,
}

/// POST /newsletter/subscribe
pub async fn subscribe(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
    body: Bytes,
) -> Result<Response, AppError> {
    origin::check(&headers, &uri, &state.config.base_url)?;
    let fields: Vec<(String, String)> = serde_urlencoded::from_bytes(&body)
        .map_err(|_| AppError::BadRequest("The form could not be read.".into()))?;
    let email = fields
        .iter()
        .find(|(name, _)| name == "email")
        .map(|(_, value)| value.clone())
        .unwrap_or_default();
    let tags: Vec<String> = fields
        .iter()
        .filter(|(name, _)| name == "tag")
        .map(|(_, value)| value.clone())
        .collect();
    let request = match accept(&state, &email, &tags).await? {
        Ok(request) => request,
        Err(errors) => {
            return page(
                &state,
                StatusCode::UNPROCESSABLE_ENTITY,
                &email,
                &tags,
                Some(&errors),
            )
            .await;
        }
    };
    page(&state, StatusCode::OK, &request.email, &request.tags, None).await
}

/// Takes a subscription request, by the form or by the API
/// (`POST /api/v1/subscriptions`): the one place its rules live. A valid request is
/// stored (a new or returning address waits for confirmation; a confirmed one stays
/// as it is) and a waiting address is sent the confirmation link, at most once an
/// hour per address. The caller answers the same whatever the address's state, so
/// only the normalised request comes back, never that state. What is wrong with the
/// request comes back by field (also a tag this site does not have), with nothing
/// stored or sent.
pub async fn accept(
    state: &AppState,
    email: &str,
    tags: &[String],
) -> Result<Result<SubscribeRequest, ValidationErrors>, AppError> {
    let request = match checked(state, email, tags).await? {
        Ok(request) => request,
        Err(errors) => return Ok(Err(errors)),
    };
    let now = clock::now();
    let subscriber = state.store.add_subscriber(&request, now).await?;
    if subscriber.status == SubscriberStatus::Pending {
        let key = SigningKey::load(state.store.as_ref()).await?;
        let link = super::confirm::link(
            &key,
            &state.config.base_url,
            subscriber.id,
            &subscriber.email,
            now,
        );
        let settings = state.chrome().await?.settings.clone();
        let email = super::email::confirmation(&settings, &subscriber.email, &link);
        let hour = now.timestamp() / 3600;
        let job_key = format!("newsletter-confirm:{}:{hour}", subscriber.id);
        enqueue_email(state.store.as_ref(), &email, Some(job_key)).await?;
        state.jobs.wake();
    }
    Ok(Ok(request))
}

/// The request, or what is wrong with it (also a tag this site does not have).
async fn checked(
    state: &AppState,
    email: &str,
    tags: &[String],
) -> Result<Result<SubscribeRequest, ValidationErrors>, AppError> {
    let request = match SubscribeRequest::check(email, tags) {
        Ok(request) => request,
        Err(errors) => return Ok(Err(errors)),
    };
    for slug in &request.tags {
        match state.store.tag_by_slug(slug).await {
            Ok(_) => {}
            Err(StoreError::NotFound) => {
                return Ok(Err(ValidationErrors::single(
                    "tags",
                    format!("\"{slug}\" is not a tag of this site."),
                )));
            }
            Err(err) => return Err(err.into()),
        }
    }
    Ok(Ok(request))
}

/// The answer page: "check your inbox", or the form with its problems.
async fn page(
    state: &AppState,
    status: StatusCode,
    email: &str,
    tags: &[String],
    errors: Option<&ValidationErrors>,
) -> Result<Response, AppError> {
    let site = SiteContext::load(state).await?;
    let meta = MetaView {
        title: Some(
            if errors.is_some() {
                "Subscribe"
            } else {
                "Check your inbox"
            }
            .into(),
        ),
        path: PATH.into(),
        kind: "website",
        noindex: true,
        ..MetaView::default()
    };
    let mut choices = Vec::new();
    for slug in tags {
        if let Ok(tag) = state.store.tag_by_slug(slug.trim()).await {
            choices.push(TagChoice {
                slug: tag.slug.clone(),
                hashtag: tag.hashtag(),
            });
        }
    }
    let errors = errors.map(crate::admin::field_errors);
    let html = state.theme.render(
        "newsletter/subscribe.html",
        context! {
            site => site.view, meta, errors,
            subscribe => context! { email, tags => choices, checked => true },
        },
    )?;
    Ok((status, Html(html)).into_response())
}
