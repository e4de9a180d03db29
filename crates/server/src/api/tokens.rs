//! API tokens in the admin (`/admin/tokens`): everyone in the newsroom may make tokens
//! for themselves and revoke their own; admins see and may revoke everyone's. The
//! token is shown once, in the answer to the form (never in a URL or a redirect).

use std::collections::HashMap;

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use broadsheet_domain::api_token::check_name;
use broadsheet_domain::{Action, ApiToken, ApiTokenId, Scope, Target, ValidationErrors, clock};
use minijinja::context;
use serde::{Deserialize, Serialize};

use crate::admin::{AdminRoute, audit, field_errors, render_status};
use crate::app::AppState;
use crate::auth::SignedIn;
use crate::error::AppError;

pub fn routes() -> Vec<AdminRoute> {
    vec![
        AdminRoute::get("/admin/tokens", list),
        AdminRoute::post("/admin/tokens", create),
        AdminRoute::post("/admin/tokens/{id}/revoke", revoke),
    ]
}

#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct TokenForm {
    name: String,
    scope: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Done {
    done: String,
}

#[derive(Serialize)]
struct Row {
    id: i64,
    name: String,
    user: String,
    scope: &'static str,
    prefix: String,
    created: String,
    last_used: Option<String>,
    revoked: Option<String>,
}

#[derive(Serialize)]
struct NewToken {
    name: String,
    scope: &'static str,
    token: String,
}

/// Whether `who` sees (and may revoke) everyone's tokens.
fn sees_all(who: &SignedIn) -> bool {
    who.may(Action::ManageUsers)
}

async fn page(
    state: &AppState,
    who: &SignedIn,
    status: StatusCode,
    form: &TokenForm,
    errors: &ValidationErrors,
    new_token: Option<NewToken>,
    notice: Option<&str>,
) -> Result<Response, AppError> {
    let all = sees_all(who);
    let tokens = state
        .store
        .list_api_tokens((!all).then_some(who.user.id))
        .await?;
    let names: HashMap<_, _> = state
        .store
        .list_users()
        .await?
        .into_iter()
        .map(|u| (u.id, u.display_name))
        .collect();
    let tz = who.site.settings.tz();
    let when = |at: chrono::DateTime<chrono::Utc>| {
        at.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string()
    };
    let rows: Vec<Row> = tokens
        .iter()
        .map(|t: &ApiToken| Row {
            id: t.id.0,
            name: t.name.clone(),
            user: names.get(&t.user_id).cloned().unwrap_or_default(),
            scope: t.scope.as_str(),
            prefix: t.prefix.clone(),
            created: when(t.created_at),
            last_used: t.last_used_at.map(when),
            revoked: t.revoked_at.map(when),
        })
        .collect();
    render_status(
        state,
        who,
        status,
        "admin/tokens.html",
        context! {
            section => "tokens",
            tokens => rows,
            all_users => all,
            scopes => Scope::ALL.map(Scope::as_str),
            form => form,
            errors => (!errors.is_empty()).then(|| field_errors(errors)),
            new_token => new_token,
            notice => notice,
        },
    )
}

/// GET /admin/tokens
async fn list(
    State(state): State<AppState>,
    who: SignedIn,
    Query(done): Query<Done>,
) -> Result<Response, AppError> {
    who.require(Action::CreateArticle, Target::Site)?;
    let notice = (done.done == "revoked").then_some("The token was revoked.");
    let form = TokenForm {
        scope: Scope::Read.as_str().into(),
        ..TokenForm::default()
    };
    page(
        &state,
        &who,
        StatusCode::OK,
        &form,
        &ValidationErrors::default(),
        None,
        notice,
    )
    .await
}

/// POST /admin/tokens: makes a token for the signed-in user and shows it once.
async fn create(
    State(state): State<AppState>,
    who: SignedIn,
    Form(form): Form<TokenForm>,
) -> Result<Response, AppError> {
    who.require(Action::CreateArticle, Target::Site)?;
    let mut errors = ValidationErrors::default();
    let name = check_name(&form.name)
        .map_err(|e| errors.0.extend(e.0))
        .ok();
    let scope = form
        .scope
        .parse::<Scope>()
        .map_err(|e| errors.add("scope", e))
        .ok();
    let (Some(name), Some(scope)) = (name, scope) else {
        return page(
            &state,
            &who,
            StatusCode::UNPROCESSABLE_ENTITY,
            &form,
            &errors,
            None,
            None,
        )
        .await;
    };
    let (token, stored) = super::auth::create(&state, who.user.id, name, scope).await?;
    audit::record(
        &state,
        &who.user,
        "token.create",
        &format!("token:{}", stored.id),
        &format!("{} ({scope})", stored.name),
    )
    .await?;
    let shown = NewToken {
        name: stored.name,
        scope: scope.as_str(),
        token,
    };
    let fresh = TokenForm {
        scope: Scope::Read.as_str().into(),
        ..TokenForm::default()
    };
    let mut response = page(
        &state,
        &who,
        StatusCode::CREATED,
        &fresh,
        &ValidationErrors::default(),
        Some(shown),
        None,
    )
    .await?;
    // The page holds a secret: no cache may keep it.
    response.headers_mut().insert(
        axum::http::header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("no-store"),
    );
    Ok(response)
}

/// POST /admin/tokens/{id}/revoke: the owner, or an admin, revokes a token.
async fn revoke(
    State(state): State<AppState>,
    who: SignedIn,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let token = state.store.api_token_by_id(ApiTokenId(id)).await?;
    if token.user_id != who.user.id && !sees_all(&who) {
        // Someone else's token is none of this user's business: as if it did not exist.
        return Err(AppError::NotFound);
    }
    let revoked = state.store.revoke_api_token(token.id, clock::now()).await?;
    audit::record(
        &state,
        &who.user,
        "token.revoke",
        &format!("token:{}", revoked.id),
        &revoked.name,
    )
    .await?;
    Ok(Redirect::to("/admin/tokens?done=revoked").into_response())
}
