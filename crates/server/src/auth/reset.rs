//! Password resets by emailed link: `/admin/forgot` asks for an address and always
//! answers the same ("if that address has an account, we sent a link"), so the page
//! cannot be used to find out who has an account; `/admin/reset/{token}` sets a new
//! password with the link's token, once, within [`RESET_LIFETIME`], and ends every
//! session of the account.
//!
//! Opening the link does not use it up (mail scanners open links to check them); only
//! sending the new password does. The same links invite new users to set their first
//! password (see [`send_link`]).

use axum::Form;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use broadsheet_domain::account::RESET_LIFETIME;
use broadsheet_domain::{NewAuditEntry, StoreError, User, ValidationErrors, clock};
use minijinja::context;
use serde::Deserialize;

use super::session::{hash_token, new_token};
use super::setup::check_new_password;
use crate::admin;
use crate::app::AppState;
use crate::engagement::routes::Peer;
use crate::error::AppError;
use crate::mail::{Email, enqueue_email};

/// Why a link is sent: the wording of the email differs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkPurpose {
    /// The user forgot their password.
    Reset,
    /// An admin added the user, who sets their first password.
    Welcome,
}

/// Emails `user` a link to set a new password, valid for [`RESET_LIFETIME`].
pub async fn send_link(
    state: &AppState,
    user: &User,
    purpose: LinkPurpose,
) -> Result<(), AppError> {
    let token = new_token()?;
    let expires_at = clock::now() + RESET_LIFETIME;
    state
        .store
        .create_password_reset(&hash_token(&token), user.id, expires_at)
        .await?;
    let chrome = state.chrome().await?;
    let site = &chrome.settings.title;
    let link = format!("{}/admin/reset/{token}", state.config.base_url);
    let (subject, opening) = match purpose {
        LinkPurpose::Reset => (
            format!("Reset your password for {site}"),
            format!(
                "Someone, hopefully you, asked to reset the password of your account at \
                 {site}. To choose a new password, open this link:"
            ),
        ),
        LinkPurpose::Welcome => (
            format!("You have been invited to {site}"),
            format!(
                "An admin added you to the newsroom of {site}. To choose your password, open this link:"
            ),
        ),
    };
    let text = format!(
        "Hello {},\n\n{opening}\n\n{link}\n\nThe link works once, for the next hour. If you \
         did not expect this email, you can ignore it: nothing changes until the link is \
         used.\n",
        user.display_name
    );
    let email = Email {
        to: user.email.clone(),
        subject,
        text,
        html: None,
        list_unsubscribe: None,
    };
    enqueue_email(state.store.as_ref(), &email, None).await?;
    state.jobs.wake();
    Ok(())
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ForgotForm {
    email: String,
}

/// GET /admin/forgot
pub async fn forgot_page(State(state): State<AppState>) -> Result<Response, AppError> {
    forgot_form(&state, StatusCode::OK, "", None).await
}

/// POST /admin/forgot
pub async fn forgot(
    State(state): State<AppState>,
    Peer(peer): Peer,
    headers: HeaderMap,
    Form(input): Form<ForgotForm>,
) -> Result<Response, AppError> {
    let email = input.email.trim().to_lowercase();
    if !broadsheet_domain::user::looks_like_email(&email) {
        let errors =
            ValidationErrors::single("email", "must be an email address like name@example.com");
        return forgot_form(
            &state,
            StatusCode::UNPROCESSABLE_ENTITY,
            &input.email,
            Some(&errors),
        )
        .await;
    }
    // The sign-in allowance covers this form too, so it cannot flood an inbox.
    if let Err(wait) = super::login::take_attempt(&state, peer, &headers).await? {
        let errors = ValidationErrors::single(
            "email",
            "was asked for too often from your network; please wait a minute",
        );
        let page = forgot_form(
            &state,
            StatusCode::TOO_MANY_REQUESTS,
            &input.email,
            Some(&errors),
        )
        .await?;
        return Ok(super::login::retry_after(page, wait));
    }
    match state.store.user_by_email(&email).await {
        Ok(user) if user.active => send_link(&state, &user, LinkPurpose::Reset).await?,
        Ok(_) | Err(StoreError::NotFound) => {}
        Err(err) => return Err(err.into()),
    }
    admin::render_public(
        &state,
        StatusCode::OK,
        "admin/forgot.html",
        context! { sent => true },
    )
    .await
}

async fn forgot_form(
    state: &AppState,
    status: StatusCode,
    email: &str,
    errors: Option<&ValidationErrors>,
) -> Result<Response, AppError> {
    admin::render_public(
        state,
        status,
        "admin/forgot.html",
        context! { email, errors => errors.map(admin::field_errors) },
    )
    .await
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ResetForm {
    password: String,
    password_again: String,
}

/// GET /admin/reset/{token}
pub async fn reset_page(
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> Result<Response, AppError> {
    reset_form(&state, StatusCode::OK, &token, &ValidationErrors::default()).await
}

/// POST /admin/reset/{token}
pub async fn reset(
    State(state): State<AppState>,
    Path(token): Path<String>,
    Form(input): Form<ResetForm>,
) -> Result<Response, AppError> {
    let mut errors = ValidationErrors::default();
    check_new_password(&mut errors, &input.password, &input.password_again);
    if !errors.is_empty() {
        // The token is not used up by a typo.
        return reset_form(&state, StatusCode::UNPROCESSABLE_ENTITY, &token, &errors).await;
    }
    let now = clock::now();
    let user = match state
        .store
        .take_password_reset(&hash_token(&token), now)
        .await
    {
        Ok(user) => state.store.user_by_id(user).await?,
        Err(StoreError::NotFound) => {
            return admin::render_public(
                &state,
                StatusCode::GONE,
                "admin/reset.html",
                context! { expired => true },
            )
            .await;
        }
        Err(err) => return Err(err.into()),
    };
    let password_hash = state.auth.hash(input.password).await?;
    state.store.set_password(user.id, &password_hash).await?;
    state.store.clear_login_failures(&user.email).await?;
    state
        .store
        .record_audit(&NewAuditEntry {
            at: now,
            actor_id: user.id,
            action: "user.password_reset".into(),
            target: format!("user:{}", user.id.0),
            detail: "new password set by emailed link; all sessions ended".into(),
        })
        .await?;
    Ok(Redirect::to("/admin/login?reset=done").into_response())
}

async fn reset_form(
    state: &AppState,
    status: StatusCode,
    token: &str,
    errors: &ValidationErrors,
) -> Result<Response, AppError> {
    admin::render_public(
        state,
        status,
        "admin/reset.html",
        context! { token, errors => admin::field_errors(errors) },
    )
    .await
}
