//! First-run setup: while the site has no active admin, `/admin/setup` creates one
//! (name, email, password twice) and signs them in. Once an admin exists the page only
//! points to the login page, so it cannot be used to add a second admin.

use axum::Form;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use broadsheet_domain::account::has_active_admin;
use broadsheet_domain::{NewAuditEntry, NewUser, Role, StoreError, ValidationErrors, clock};
use minijinja::context;
use serde::{Deserialize, Serialize};

use super::login::signed_in_redirect;
use super::session;
use crate::admin;
use crate::app::AppState;
use crate::error::AppError;

#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct SetupForm {
    name: String,
    email: String,
    #[serde(skip_serializing)]
    password: String,
    #[serde(skip_serializing)]
    password_again: String,
}

/// GET /admin/setup
pub async fn page(State(state): State<AppState>) -> Result<Response, AppError> {
    if setup_done(&state).await? {
        return Ok(Redirect::to("/admin/login").into_response());
    }
    render(
        &state,
        StatusCode::OK,
        &SetupForm::default(),
        &ValidationErrors::default(),
    )
    .await
}

/// POST /admin/setup
pub async fn submit(
    State(state): State<AppState>,
    Form(input): Form<SetupForm>,
) -> Result<Response, AppError> {
    if setup_done(&state).await? {
        return Ok(Redirect::to("/admin/login").into_response());
    }
    let mut new = match validate(&input) {
        Ok(new) => new,
        Err(errors) => {
            return render(&state, StatusCode::UNPROCESSABLE_ENTITY, &input, &errors).await;
        }
    };
    new.password_hash = Some(state.auth.hash(input.password.clone()).await?);
    let admin = match state.store.create_first_admin(&new).await {
        Ok(admin) => admin,
        // Someone finished setup a moment ago.
        Err(StoreError::Conflict { field: "admin" }) => {
            return Ok(Redirect::to("/admin/login").into_response());
        }
        Err(StoreError::Conflict { field }) => {
            let errors = ValidationErrors::single(
                if field == "slug" { "name" } else { field },
                "is already used by another user",
            );
            return render(&state, StatusCode::UNPROCESSABLE_ENTITY, &input, &errors).await;
        }
        Err(err) => return Err(err.into()),
    };
    state
        .store
        .record_audit(&NewAuditEntry {
            at: clock::now(),
            actor_id: admin.id,
            action: "user.setup".into(),
            target: format!("user:{}", admin.id.0),
            detail: "first admin created".into(),
        })
        .await?;
    let cookie = session::start(&state, &admin).await?;
    Ok(signed_in_redirect(cookie, "/admin"))
}

async fn setup_done(state: &AppState) -> Result<bool, AppError> {
    Ok(has_active_admin(&state.store.list_users().await?))
}

/// The admin to create (without its password hash yet), or every problem with the input.
fn validate(input: &SetupForm) -> Result<NewUser, ValidationErrors> {
    let mut errors = ValidationErrors::default();
    let new = NewUser::validate(&input.name, &input.email, Role::Admin, None);
    if let Err(problems) = &new {
        errors.0.extend(problems.0.iter().cloned());
    }
    check_new_password(&mut errors, &input.password, &input.password_again);
    errors.into_result()?;
    new
}

/// Checks a new password typed twice, naming problems under `password` and
/// `password_again`.
pub(crate) fn check_new_password(errors: &mut ValidationErrors, password: &str, again: &str) {
    if let Err(problem) = crate::password::check_strength(password) {
        errors.add("password", problem);
    } else if password != again {
        errors.add("password_again", "does not match the password");
    }
}

async fn render(
    state: &AppState,
    status: StatusCode,
    input: &SetupForm,
    errors: &ValidationErrors,
) -> Result<Response, AppError> {
    admin::render_public(
        state,
        status,
        "admin/setup.html",
        context! { form => input, errors => admin::field_errors(errors) },
    )
    .await
}
