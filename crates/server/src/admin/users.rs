//! The newsroom's people (`Action::ManageUsers`): the list, adding a user with a role
//! and either a temporary password or an emailed link to choose one, changing roles,
//! and deactivating and reactivating.
//!
//! The last active admin cannot be demoted or deactivated: the store refuses it in
//! the same transaction as the change (so two admins demoting each other at once
//! cannot both succeed), and the page names the problem.

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use broadsheet_domain::{
    Action, NewUser, Role, StoreError, Target, User, UserChanges, UserId, ValidationErrors,
};
use minijinja::{Value, context};
use serde::{Deserialize, Serialize};

use super::{AdminRoute, audit, field_errors, render_status};
use crate::app::AppState;
use crate::auth::SignedIn;
use crate::auth::reset::{LinkPurpose, send_link};
use crate::error::AppError;

pub fn routes() -> Vec<AdminRoute> {
    vec![
        AdminRoute::get("/admin/users", list),
        AdminRoute::post("/admin/users", add),
        AdminRoute::post("/admin/users/{id}/role", change_role),
        AdminRoute::post("/admin/users/{id}/active", set_active),
    ]
}

/// How a new user gets their first password.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Access {
    /// An emailed link to choose one.
    #[default]
    Link,
    /// A temporary password the admin passes on.
    Password,
}

#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct AddForm {
    name: String,
    email: String,
    role: String,
    access: Access,
    #[serde(skip_serializing)]
    password: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Done {
    done: String,
}

#[derive(Serialize)]
struct UserRow {
    id: i64,
    name: String,
    email: String,
    role: &'static str,
    active: bool,
    can_sign_in: bool,
    is_you: bool,
    url: String,
}

/// GET /admin/users
async fn list(
    State(state): State<AppState>,
    who: SignedIn,
    Query(done): Query<Done>,
) -> Result<Response, AppError> {
    who.require(Action::ManageUsers, Target::Site)?;
    let notice = match done.done.as_str() {
        "added" => Some("The user was added."),
        "invited" => Some("The user was added and emailed a link to choose their password."),
        "role" => Some("The role was changed."),
        "deactivated" => Some("The user was deactivated and signed out everywhere."),
        "reactivated" => Some("The user was reactivated."),
        _ => None,
    };
    page(
        &state,
        &who,
        StatusCode::OK,
        context! { notice, form => AddForm::default() },
    )
    .await
}

/// The users page with `extra` in its context (a notice, a form shown again).
async fn page(
    state: &AppState,
    who: &SignedIn,
    status: StatusCode,
    extra: Value,
) -> Result<Response, AppError> {
    let users: Vec<UserRow> = state
        .store
        .list_users()
        .await?
        .into_iter()
        .map(|u| UserRow {
            id: u.id.0,
            role: u.role.as_str(),
            active: u.active,
            can_sign_in: u.password_hash.is_some(),
            is_you: u.id == who.user.id,
            url: u.url(),
            name: u.display_name,
            email: u.email,
        })
        .collect();
    let roles: Vec<&str> = Role::ALL.iter().map(|r| r.as_str()).collect();
    render_status(
        state,
        who,
        status,
        "admin/users.html",
        context! { section => "users", users, roles, ..extra },
    )
}

/// POST /admin/users
async fn add(
    State(state): State<AppState>,
    who: SignedIn,
    Form(input): Form<AddForm>,
) -> Result<Response, AppError> {
    who.require(Action::ManageUsers, Target::Site)?;
    let mut new = match validate(&input) {
        Ok(new) => new,
        Err(errors) => return add_problems(&state, &who, &input, &errors).await,
    };
    if input.access == Access::Password {
        new.password_hash = Some(state.auth.hash(input.password.clone()).await?);
    }
    let user = match state.store.create_user(&new).await {
        Ok(user) => user,
        Err(StoreError::Conflict { field }) => {
            let field = if field == "slug" { "name" } else { field };
            let errors = ValidationErrors::single(field, "is already used by another user");
            return add_problems(&state, &who, &input, &errors).await;
        }
        Err(err) => return Err(err.into()),
    };
    let detail = format!("{} ({}) as {}", user.display_name, user.email, user.role);
    audit::record(&state, &who.user, "user.add", &target(user.id), &detail).await?;
    if input.access == Access::Link {
        send_link(&state, &user, LinkPurpose::Welcome).await?;
        return Ok(Redirect::to("/admin/users?done=invited").into_response());
    }
    Ok(Redirect::to("/admin/users?done=added").into_response())
}

/// The user to create (without a password hash yet), or every problem with the input.
fn validate(input: &AddForm) -> Result<NewUser, ValidationErrors> {
    let mut errors = ValidationErrors::default();
    let role = input.role.parse::<Role>();
    if role.is_err() {
        errors.add(
            "role",
            "must be one of contributor, author, editor or admin",
        );
    }
    let new = NewUser::validate(
        &input.name,
        &input.email,
        role.clone().unwrap_or(Role::Contributor),
        None,
    );
    if let Err(problems) = &new {
        errors.0.extend(problems.0.iter().cloned());
    }
    if input.access == Access::Password
        && let Err(problem) = crate::password::check_strength(&input.password)
    {
        errors.add("password", problem);
    }
    errors.into_result()?;
    new
}

async fn add_problems(
    state: &AppState,
    who: &SignedIn,
    input: &AddForm,
    errors: &ValidationErrors,
) -> Result<Response, AppError> {
    page(
        state,
        who,
        StatusCode::UNPROCESSABLE_ENTITY,
        context! { form => input, errors => field_errors(errors) },
    )
    .await
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RoleForm {
    role: String,
}

/// POST /admin/users/{id}/role
async fn change_role(
    State(state): State<AppState>,
    who: SignedIn,
    Path(id): Path<i64>,
    Form(input): Form<RoleForm>,
) -> Result<Response, AppError> {
    who.require(Action::ManageUsers, Target::Site)?;
    let Ok(role) = input.role.parse::<Role>() else {
        return refused(
            &state,
            &who,
            "That is not a role: choose contributor, author, editor or admin.",
        )
        .await;
    };
    let before = state.store.user_by_id(UserId(id)).await?;
    let changes = UserChanges {
        role: Some(role),
        ..UserChanges::default()
    };
    let after = match update(&state, &who, &before, &changes).await? {
        Ok(after) => after,
        Err(refusal) => return Ok(refusal),
    };
    let detail = format!("{}: {} → {}", after.display_name, before.role, after.role);
    audit::record(&state, &who.user, "user.role", &target(after.id), &detail).await?;
    Ok(Redirect::to("/admin/users?done=role").into_response())
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ActiveForm {
    active: String,
}

/// POST /admin/users/{id}/active (`active=true` or `false`)
async fn set_active(
    State(state): State<AppState>,
    who: SignedIn,
    Path(id): Path<i64>,
    Form(input): Form<ActiveForm>,
) -> Result<Response, AppError> {
    who.require(Action::ManageUsers, Target::Site)?;
    let Ok(active) = input.active.parse::<bool>() else {
        return refused(
            &state,
            &who,
            "Choose whether to deactivate or reactivate the user.",
        )
        .await;
    };
    let before = state.store.user_by_id(UserId(id)).await?;
    let changes = UserChanges {
        active: Some(active),
        ..UserChanges::default()
    };
    let after = match update(&state, &who, &before, &changes).await? {
        Ok(after) => after,
        Err(refusal) => return Ok(refusal),
    };
    let (action, done) = if active {
        ("user.reactivate", "reactivated")
    } else {
        ("user.deactivate", "deactivated")
    };
    audit::record(
        &state,
        &who.user,
        action,
        &target(after.id),
        &after.display_name,
    )
    .await?;
    Ok(Redirect::to(&format!("/admin/users?done={done}")).into_response())
}

/// Applies a change; the page explaining a refusal when it would leave the site
/// without an active admin.
async fn update(
    state: &AppState,
    who: &SignedIn,
    user: &User,
    changes: &UserChanges,
) -> Result<Result<User, Response>, AppError> {
    match state.store.update_user(user.id, changes).await {
        Ok(after) => Ok(Ok(after)),
        Err(StoreError::Conflict { .. }) => {
            let message = format!(
                "{} is the last active admin. Make someone else an admin first, so the \
                 site always has one.",
                user.display_name
            );
            Ok(Err(refused(state, who, &message).await?))
        }
        Err(err) => Err(err.into()),
    }
}

/// The page again with a problem named, 422.
async fn refused(state: &AppState, who: &SignedIn, problem: &str) -> Result<Response, AppError> {
    page(
        state,
        who,
        StatusCode::UNPROCESSABLE_ENTITY,
        context! { problem, form => AddForm::default() },
    )
    .await
}

fn target(id: UserId) -> String {
    format!("user:{}", id.0)
}
