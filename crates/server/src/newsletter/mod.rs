//! The email newsletter (issue 8, parts 1 and 2).
//!
//! - [`form`]: `POST /newsletter/subscribe`, the form on the home page and under every
//!   article (email, optionally some of the article's tags). It answers the same page
//!   whether the address was new, waiting or already subscribed, so it tells nobody
//!   who subscribes; a waiting address gets a confirmation email (at most one an hour).
//! - [`confirm`]: the signed, expiring confirmation link (double opt-in). Opening it
//!   shows a button; the POST confirms, so mail scanners that open links confirm
//!   nothing.
//! - [`send`]: the fan-out an article's announcement starts, and the sender jobs.
//! - [`email`]: what the emails say (HTML and plain text).
//! - [`admin`]: `/admin/subscribers`, the list and its CSV export.
//!
//! Unsubscribing is the one-click stop page shared with comment notifications
//! (`/newsletter/unsubscribe`, [`crate::comments::notify::stop`]), also sent as RFC
//! 8058 `List-Unsubscribe` headers.

pub mod admin;
pub mod confirm;
pub mod email;
pub mod form;
pub mod send;

use axum::Router;
use axum::routing::{get, post};

use crate::app::AppState;

/// The newsletter's public routes, with the site's error pages.
pub fn routes(state: AppState) -> Router<AppState> {
    Router::new()
        .route(form::PATH, post(form::subscribe))
        .route(confirm::PATH, get(confirm::show).post(confirm::confirm))
        .layer(axum::middleware::from_fn_with_state(
            state,
            crate::site::error_page::themed_errors,
        ))
}
