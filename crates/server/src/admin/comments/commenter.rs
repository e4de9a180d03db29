//! A commenter's data (SPEC 4: "exported or erased by an admin"): every comment from
//! one email address, a JSON export of all of it, and erasure.
//!
//! The address travels in form bodies only, never in a URL, so it stays out of access
//! logs and browser history; the audit log records how many comments were touched,
//! not whose.

use axum::Form;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use broadsheet_domain::comment::is_email;
use broadsheet_domain::{Action, Comment, Target};
use minijinja::context;
use serde::{Deserialize, Serialize};

use super::Articles;
use crate::admin::{audit, render_status};
use crate::app::AppState;
use crate::auth::SignedIn;
use crate::error::AppError;

#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct CommenterForm {
    email: String,
    /// Erasing asks for a ticked box.
    confirm: String,
}

impl CommenterForm {
    /// The address as comments store it (trimmed, lowercased), if it is one.
    fn email(&self) -> Option<String> {
        let email = self.email.trim().to_lowercase();
        is_email(&email).then_some(email)
    }
}

/// POST /admin/comments/commenter
pub async fn show(
    State(state): State<AppState>,
    who: SignedIn,
    Form(form): Form<CommenterForm>,
) -> Result<Response, AppError> {
    who.require(Action::ManagePersonalData, Target::Site)?;
    page(&state, &who, &form, None).await
}

/// The commenter's page: their comments, or the address's problem (422).
async fn page(
    state: &AppState,
    who: &SignedIn,
    form: &CommenterForm,
    confirm_error: Option<&str>,
) -> Result<Response, AppError> {
    let Some(email) = form.email() else {
        return render_status(
            state,
            who,
            StatusCode::UNPROCESSABLE_ENTITY,
            "admin/commenter.html",
            context! {
                section => "comments",
                email => form.email.trim(),
                email_error => "is not an email address such as name@example.com.",
            },
        );
    };
    let comments = state.store.comments_by_email(&email).await?;
    let rows = Articles::default()
        .rows(state, &comments, who.site.settings.tz())
        .await?;
    let status = if confirm_error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    render_status(
        state,
        who,
        status,
        "admin/commenter.html",
        context! { section => "comments", email, comments => rows, found => true, confirm_error },
    )
}

/// Everything stored about a commenter, as the export file holds it.
#[derive(Serialize)]
struct Export<'a> {
    email: &'a str,
    exported_at: String,
    comments: &'a [Comment],
}

/// POST /admin/comments/commenter/export: a JSON file to hand to the commenter.
pub async fn export(
    State(state): State<AppState>,
    who: SignedIn,
    Form(form): Form<CommenterForm>,
) -> Result<Response, AppError> {
    who.require(Action::ManagePersonalData, Target::Site)?;
    let Some(email) = form.email() else {
        return page(&state, &who, &form, None).await;
    };
    let comments = state.store.comments_by_email(&email).await?;
    let export = Export {
        email: &email,
        exported_at: broadsheet_domain::clock::now().to_rfc3339(),
        comments: &comments,
    };
    let json = serde_json::to_string_pretty(&export).map_err(AppError::internal)?;
    let detail = format!("{} comments", comments.len());
    audit::record(&state, &who.user, "commenter.export", "commenter", &detail).await?;
    let mut response = json.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    headers.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment; filename=\"commenter-data.json\""),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

/// POST /admin/comments/commenter/erase
pub async fn erase(
    State(state): State<AppState>,
    who: SignedIn,
    Form(form): Form<CommenterForm>,
) -> Result<Response, AppError> {
    who.require(Action::ManagePersonalData, Target::Site)?;
    let Some(email) = form.email() else {
        return page(&state, &who, &form, None).await;
    };
    if form.confirm != "yes" {
        let problem = "Tick the box to confirm: erasing cannot be undone.";
        return page(&state, &who, &form, Some(problem)).await;
    }
    let erased = state.store.erase_commenter(&email).await?;
    let detail = format!("{erased} comments");
    audit::record(&state, &who.user, "commenter.erase", "commenter", &detail).await?;
    Ok(Redirect::to(&format!("/admin/comments?done=erased&n={erased}")).into_response())
}
