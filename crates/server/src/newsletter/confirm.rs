//! Double opt-in: `/newsletter/confirm?id=…&expires=…&sig=…`.
//!
//! The link signs the subscriber's id, address and an expiry with the site's key
//! ([`crate::signing`]), so it works on every node, cannot be made for another
//! subscriber or address, and stops working after [`VALID_FOR`]. Opening it shows a
//! button; confirming is the POST, because mail scanners open every link in a message.

use axum::Form;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use broadsheet_domain::{Store, StoreError, SubscriberId, clock};
use chrono::{DateTime, TimeDelta, Utc};
use minijinja::context;
use serde::Deserialize;

use crate::app::AppState;
use crate::error::AppError;
use crate::signing::SigningKey;
use crate::site::SiteContext;
use crate::site::meta::MetaView;

/// The path of the confirmation page.
pub const PATH: &str = "/newsletter/confirm";

/// How long a confirmation link works.
pub const VALID_FOR: TimeDelta = TimeDelta::days(3);

/// What a link signs. The separators keep the parts apart.
fn message(id: SubscriberId, email: &str, expires: i64) -> String {
    format!("newsletter-confirm:{id}:{expires}:{email}")
}

/// The absolute confirmation link for a subscriber, valid from `now`.
pub fn link(
    key: &SigningKey,
    base_url: &str,
    id: SubscriberId,
    email: &str,
    now: DateTime<Utc>,
) -> String {
    let expires = (now + VALID_FOR).timestamp();
    let sig = key.sign(&message(id, email, expires));
    format!("{base_url}{PATH}?id={id}&expires={expires}&sig={sig}")
}

/// A link's fields, from the query (opening it) or the form (its button).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct LinkFields {
    id: String,
    expires: String,
    sig: String,
}

/// Checks a link at `now`: the subscriber it names, if it is valid.
async fn check(store: &dyn Store, fields: &LinkFields) -> Result<SubscriberId, AppError> {
    let forged = || {
        AppError::Forbidden(
            "This confirmation link is not valid. Use the link in the latest email you \
             received, or subscribe again."
                .into(),
        )
    };
    let id: i64 = fields.id.trim().parse().map_err(|_| forged())?;
    let expires: i64 = fields.expires.trim().parse().map_err(|_| forged())?;
    let id = SubscriberId(id);
    let subscriber = match store.subscriber_by_id(id).await {
        Ok(subscriber) => subscriber,
        Err(StoreError::NotFound) => return Err(forged()),
        Err(err) => return Err(err.into()),
    };
    let key = SigningKey::load(store).await?;
    if !key.verify(&message(id, &subscriber.email, expires), fields.sig.trim()) {
        return Err(forged());
    }
    if clock::now().timestamp() >= expires {
        return Err(AppError::Gone(
            "This confirmation link has expired. Subscribe again to get a new one.".into(),
        ));
    }
    Ok(id)
}

/// GET: the page with the confirm button.
pub async fn show(
    State(state): State<AppState>,
    Query(fields): Query<LinkFields>,
) -> Result<Response, AppError> {
    check(state.store.as_ref(), &fields).await?;
    page(&state, &fields, false).await
}

/// POST: confirms.
pub async fn confirm(
    State(state): State<AppState>,
    Form(fields): Form<LinkFields>,
) -> Result<Response, AppError> {
    let id = check(state.store.as_ref(), &fields).await?;
    match state.store.confirm_subscriber(id, clock::now()).await {
        Ok(_) => page(&state, &fields, true).await,
        // Unsubscribed or bounced since the link was sent.
        Err(StoreError::NotFound) => Err(AppError::Gone(
            "This subscription was ended since the link was sent. Subscribe again to \
             start it anew."
                .into(),
        )),
        Err(err) => Err(err.into()),
    }
}

async fn page(
    state: &AppState,
    fields: &LinkFields,
    confirmed: bool,
) -> Result<Response, AppError> {
    let site = SiteContext::load(state).await?;
    let meta = MetaView {
        title: Some("Confirm your subscription".into()),
        path: PATH.into(),
        kind: "website",
        noindex: true,
        ..MetaView::default()
    };
    let html = state.theme.render(
        "newsletter/confirm.html",
        context! {
            site => site.view, meta, confirmed,
            id => fields.id, expires => fields.expires, sig => fields.sig,
        },
    )?;
    Ok((StatusCode::OK, axum::response::Html(html)).into_response())
}
