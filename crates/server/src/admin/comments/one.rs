//! One comment in the admin: what it answers, its moderation buttons, editing its
//! text and replying to it as the signed-in user.
//!
//! A reply from the newsroom is approved at once. Replying to a pending comment
//! approves it first, as WordPress does: answering a comment vouches for it. A
//! comment in spam or the trash cannot be answered, and a reply never goes deeper
//! than the site's reply depth.

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use broadsheet_domain::comment::render_comment;
use broadsheet_domain::{
    Action, Comment, CommentId, CommentStatus, NetworkHash, NewComment, Target, ValidationErrors,
    clock,
};
use minijinja::{Value, context};
use serde::{Deserialize, Serialize};

use super::{Articles, ListQuery, moderate, notice, target};
use crate::admin::{audit, field_errors, render_status};
use crate::app::AppState;
use crate::auth::SignedIn;
use crate::comments::notify;
use crate::error::AppError;

#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct EditForm {
    body: String,
}

#[derive(Debug, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct ReplyForm {
    reply: String,
}

/// GET /admin/comments/{id}
pub async fn show(
    State(state): State<AppState>,
    who: SignedIn,
    Path(id): Path<i64>,
    Query(query): Query<ListQuery>,
) -> Result<Response, AppError> {
    who.require(Action::ModerateComments, Target::Site)?;
    let comment = state.store.comment_by_id(CommentId(id)).await?;
    let edit = EditForm {
        body: comment.body.clone(),
    };
    let extra = context! {
        notice => notice(&query),
        edit,
        reply => ReplyForm::default(),
        errors => field_errors(&ValidationErrors::default()),
    };
    page(&state, &who, StatusCode::OK, &comment, extra).await
}

/// The comment page, with `extra` (the forms as typed, their problems, a notice).
async fn page(
    state: &AppState,
    who: &SignedIn,
    status: StatusCode,
    comment: &Comment,
    extra: Value,
) -> Result<Response, AppError> {
    let tz = who.site.settings.tz();
    let mut articles = Articles::default();
    let row = articles.row(state, comment, tz).await?;
    let parent = match comment.parent_id {
        Some(id) => {
            let parent = state.store.comment_by_id(id).await?;
            Some(articles.row(state, &parent, tz).await?)
        }
        None => None,
    };
    render_status(
        state,
        who,
        status,
        "admin/comment.html",
        context! {
            section => "comments",
            comment => row,
            parent,
            may_erase => who.may(Action::ManagePersonalData),
            ..extra
        },
    )
}

/// The text of a comment or reply as typed, trimmed, or its problem under `field`.
fn checked_text(max: u32, field: &str, text: &str) -> Result<String, ValidationErrors> {
    let text = text.trim();
    let length = text.chars().count();
    if length == 0 {
        return Err(ValidationErrors::single(field, "is empty: type some text."));
    }
    if length > max as usize {
        return Err(ValidationErrors::single(
            field,
            format!("is {length} characters long; at most {max} are allowed."),
        ));
    }
    Ok(text.to_owned())
}

/// POST /admin/comments/{id}/edit
pub async fn edit(
    State(state): State<AppState>,
    who: SignedIn,
    Path(id): Path<i64>,
    Form(form): Form<EditForm>,
) -> Result<Response, AppError> {
    who.require(Action::ModerateComments, Target::Site)?;
    let comment = state.store.comment_by_id(CommentId(id)).await?;
    let max = who.site.settings.comments.max_length;
    let body = match checked_text(max, "body", &form.body) {
        Ok(body) => body,
        Err(errors) => {
            let extra = context! {
                edit => form, reply => ReplyForm::default(), errors => field_errors(&errors),
            };
            return page(
                &state,
                &who,
                StatusCode::UNPROCESSABLE_ENTITY,
                &comment,
                extra,
            )
            .await;
        }
    };
    let edited = state
        .store
        .update_comment_body(comment.id, &body, &render_comment(&body))
        .await?;
    let detail = format!("by {}", edited.author_name);
    audit::record(
        &state,
        &who.user,
        "comment.edit",
        &target(edited.id),
        &detail,
    )
    .await?;
    Ok(Redirect::to(&format!("/admin/comments/{}?done=edited", edited.id)).into_response())
}

/// POST /admin/comments/{id}/reply
pub async fn reply(
    State(state): State<AppState>,
    who: SignedIn,
    Path(id): Path<i64>,
    Form(form): Form<ReplyForm>,
) -> Result<Response, AppError> {
    who.require(Action::ModerateComments, Target::Site)?;
    let parent = state.store.comment_by_id(CommentId(id)).await?;
    let rules = &who.site.settings.comments;
    let mut errors = ValidationErrors::default();
    let text = checked_text(rules.max_length, "reply", &form.reply)
        .map_err(|problems| errors.0.extend(problems.0))
        .ok();
    if let Some(problem) = why_not_answer(&state, &parent, rules.max_depth).await? {
        errors.add("reply", problem);
    }
    let Some(text) = text.filter(|_| errors.is_empty()) else {
        let extra = context! {
            edit => EditForm { body: parent.body.clone() },
            reply => form,
            errors => field_errors(&errors),
        };
        return page(
            &state,
            &who,
            StatusCode::UNPROCESSABLE_ENTITY,
            &parent,
            extra,
        )
        .await;
    };
    if parent.status == CommentStatus::Pending {
        moderate(&state, &who.user, &[parent.id], CommentStatus::Approved).await?;
    }
    let now = clock::now();
    let user = &who.user;
    let reply = state
        .store
        .insert_comment(&NewComment {
            article_id: parent.article_id,
            parent_id: Some(parent.id),
            status: CommentStatus::Approved,
            author_name: user.display_name.clone(),
            author_email: user.email.clone(),
            author_url: Some(format!("{}{}", state.config.base_url, user.url())),
            body_html: render_comment(&text),
            body: text,
            reader: None,
            // Not a reader's network: nothing limits or groups the newsroom's replies.
            network: NetworkHash(String::new()),
            notify_replies: false,
            reason: None,
            day: now.with_timezone(&who.site.settings.tz()).date_naive(),
            created_at: now,
        })
        .await?;
    notify::comment_added(&state, &reply).await?;
    let detail = format!("in reply to comment {}", parent.id);
    audit::record(
        &state,
        &who.user,
        "comment.reply",
        &target(reply.id),
        &detail,
    )
    .await?;
    Ok(Redirect::to(&format!("/admin/comments/{}?done=replied", reply.id)).into_response())
}

/// Why `parent` cannot be answered, if it cannot: it is spam or trash, or a reply
/// would be deeper than `max_depth` levels (1 is a top-level comment).
async fn why_not_answer(
    state: &AppState,
    parent: &Comment,
    max_depth: u32,
) -> Result<Option<String>, AppError> {
    if matches!(parent.status, CommentStatus::Spam | CommentStatus::Trash) {
        return Ok(Some(format!(
            "cannot answer a comment in {}: approve it first.",
            if parent.status == CommentStatus::Spam {
                "spam"
            } else {
                "the trash"
            }
        )));
    }
    let mut depth = 1;
    let mut up = parent.parent_id;
    while let Some(id) = up
        && depth < max_depth
    {
        depth += 1;
        up = state.store.comment_by_id(id).await?.parent_id;
    }
    Ok((depth >= max_depth).then(|| {
        format!(
            "would be deeper than the site's {max_depth} levels of replies: answer an \
             earlier comment in this conversation."
        )
    }))
}
