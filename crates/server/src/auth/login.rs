//! Signing in and out.
//!
//! A sign-in is refused early, before any password is checked, when its network has
//! tried too often this minute (a per-node `governor` limit, keyed like the
//! engagement limits but on the address alone, so changing the user agent does not
//! buy more tries) or when the address is locked after repeated failures (the
//! store-backed lockout, shared by every node). Both answer 429 with `Retry-After`.
//!
//! Nothing in an answer tells whether an address has an account: unknown addresses
//! are locked out the same way, a wrong password and an unknown address get the same
//! message, and an unknown address is checked against a real hash so that it takes
//! as long. Only someone who knows the password learns that an account is deactivated.

use std::num::NonZeroU32;
use std::time::Duration;

use axum::Form;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use broadsheet_domain::account::has_active_admin;
use broadsheet_domain::{NetworkHash, StoreError, clock};
use chrono::{DateTime, Utc};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};
use minijinja::context;
use serde::Deserialize;

use super::{SignedIn, safe_next, session};
use crate::admin;
use crate::app::AppState;
use crate::engagement::routes::Peer;
use crate::engagement::today;
use crate::error::AppError;

/// Sign-in attempts one network may make per minute on one node.
const ATTEMPTS_PER_MINUTE: u32 = 10;

const WRONG: &str = "That email address and password do not match an account.";

/// The per-network sign-in limit of this node.
pub struct LoginLimits {
    per_network: DefaultKeyedRateLimiter<NetworkHash>,
    clock: DefaultClock,
}

impl Default for LoginLimits {
    fn default() -> LoginLimits {
        let quota =
            Quota::per_minute(NonZeroU32::new(ATTEMPTS_PER_MINUTE).unwrap_or(NonZeroU32::MIN));
        LoginLimits {
            per_network: DefaultKeyedRateLimiter::keyed(quota),
            clock: DefaultClock::default(),
        }
    }
}

impl LoginLimits {
    /// Takes one attempt from the network's allowance, or says how long to wait.
    fn attempt(&self, network: &NetworkHash) -> Result<(), Duration> {
        self.per_network
            .check_key(network)
            .map_err(|not_until| not_until.wait_time_from(self.clock.now()))
    }
}

/// Every minute, forgets networks whose allowance has fully recovered, so memory
/// follows recent sign-ins; ends when the state is dropped.
pub async fn forget_idle(auth: std::sync::Weak<super::Auth>) {
    let mut every = tokio::time::interval(Duration::from_secs(60));
    every.tick().await; // the first tick is immediate
    loop {
        every.tick().await;
        let Some(auth) = auth.upgrade() else {
            break;
        };
        auth.limits.per_network.retain_recent();
        auth.limits.per_network.shrink_to_fit();
    }
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct LoginQuery {
    next: String,
    /// `done` after a password reset, to say so.
    reset: String,
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct LoginForm {
    email: String,
    password: String,
    next: String,
}

/// GET /admin/login
pub async fn page(
    State(state): State<AppState>,
    Query(query): Query<LoginQuery>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    if !has_active_admin(&state.store.list_users().await?) {
        return Ok(Redirect::to("/admin/setup").into_response());
    }
    if session::load(&state, &headers).await?.is_some() {
        return Ok(Redirect::to(safe_next(&query.next).unwrap_or("/admin")).into_response());
    }
    let notice = (query.reset == "done").then_some("Your password was changed. Please sign in.");
    admin::render_public(
        &state,
        StatusCode::OK,
        "admin/login.html",
        context! { next => safe_next(&query.next), notice },
    )
    .await
}

/// POST /admin/login
pub async fn submit(
    State(state): State<AppState>,
    Peer(peer): Peer,
    headers: HeaderMap,
    Form(input): Form<LoginForm>,
) -> Result<Response, AppError> {
    let now = clock::now();
    let email = input.email.trim().to_lowercase();
    if let Err(wait) = take_attempt(&state, peer, &headers).await? {
        let message = "Too many sign-in attempts from your network. Please wait a minute.";
        return too_many(&state, &input, message, wait).await;
    }
    if let Some(until) = state.store.login_failures(&email).await?.locked_at(now) {
        return locked(&state, &input, until, now).await;
    }
    let user = match state.store.user_by_email(&email).await {
        Ok(user) => Some(user),
        Err(StoreError::NotFound) => None,
        Err(err) => return Err(err.into()),
    };
    let hash = user.as_ref().and_then(|u| u.password_hash.clone());
    if !state.auth.verify(input.password.clone(), hash).await? {
        let failures = state.store.record_login_failure(&email, now).await?;
        if let Some(until) = failures.locked_at(now) {
            return locked(&state, &input, until, now).await;
        }
        return form(
            &state,
            StatusCode::UNPROCESSABLE_ENTITY,
            &input.email,
            &input.next,
            Some(WRONG),
        )
        .await;
    }
    // The password matched, so `user` is there.
    let Some(user) = user else {
        return Err(AppError::internal("a password matched no user"));
    };
    if !user.active {
        let message = "This account is deactivated. Ask an admin to reactivate it.";
        return form(
            &state,
            StatusCode::FORBIDDEN,
            &input.email,
            &input.next,
            Some(message),
        )
        .await;
    }
    state.store.clear_login_failures(&email).await?;
    let cookie = session::start(&state, &user).await?;
    Ok(signed_in_redirect(
        cookie,
        safe_next(&input.next).unwrap_or("/admin"),
    ))
}

/// POST /admin/logout (in the route table: signed in and CSRF-checked).
pub async fn logout(
    State(state): State<AppState>,
    _who: SignedIn,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    if let Some(token) = session::token_from_headers(&headers) {
        state
            .store
            .delete_session(&session::hash_token(token))
            .await?;
    }
    let mut response = Redirect::to("/admin/login").into_response();
    response
        .headers_mut()
        .insert(header::SET_COOKIE, session::removal(&state));
    Ok(response)
}

/// A 303 to `to` that also sets the session cookie.
pub(crate) fn signed_in_redirect(cookie: HeaderValue, to: &str) -> Response {
    let mut response = Redirect::to(to).into_response();
    response.headers_mut().insert(header::SET_COOKIE, cookie);
    response
}

/// Takes one attempt from the client's network's allowance (sign-ins and reset
/// requests share it), or says how long to wait.
pub(crate) async fn take_attempt(
    state: &AppState,
    peer: std::net::IpAddr,
    headers: &HeaderMap,
) -> Result<Result<(), Duration>, AppError> {
    let chrome = state.chrome().await?;
    let identity = &state.engagement.identity;
    let ip = identity.client_ip(peer, headers);
    let day = today(&chrome.settings, clock::now());
    // The address alone: a new user agent must not buy a new allowance.
    let network = identity.network(state.store.as_ref(), day, ip, "").await?;
    Ok(state.auth.limits.attempt(&network))
}

/// `response` with a `Retry-After` of `wait`, in whole seconds rounded up.
pub(crate) fn retry_after(mut response: Response, wait: Duration) -> Response {
    let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(secs.max(1)));
    response
}

async fn locked(
    state: &AppState,
    input: &LoginForm,
    until: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<Response, AppError> {
    let wait = (until - now).to_std().unwrap_or_default();
    let minutes = wait.as_secs().div_ceil(60).max(1);
    let message = format!(
        "Too many failed sign-ins for this address. Please try again in {minutes} minute{}, \
         or reset your password.",
        if minutes == 1 { "" } else { "s" }
    );
    too_many(state, input, &message, wait).await
}

async fn too_many(
    state: &AppState,
    input: &LoginForm,
    message: &str,
    wait: Duration,
) -> Result<Response, AppError> {
    let mut response = form(
        state,
        StatusCode::TOO_MANY_REQUESTS,
        &input.email,
        &input.next,
        Some(message),
    )
    .await?;
    let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(secs.max(1)));
    Ok(response)
}

async fn form(
    state: &AppState,
    status: StatusCode,
    email: &str,
    next: &str,
    error: Option<&str>,
) -> Result<Response, AppError> {
    admin::render_public(
        state,
        status,
        "admin/login.html",
        context! { email, next => safe_next(next), error },
    )
    .await
}
