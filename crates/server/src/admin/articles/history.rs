//! Revisions: the list of an article's saves, one revision compared with the article
//! as it is now (a line diff of the body and the other fields that differ), and
//! restoring one, which is a new save like any other.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use broadsheet_domain::{Action, Article, Revision, RevisionId, ValidationErrors, user_permits};
use minijinja::context;

use super::save::{Mode, store_input};
use super::{article_for, local_time, target};
use crate::admin::render;
use crate::app::AppState;
use crate::auth::SignedIn;
use crate::editorial::diff;
use crate::error::AppError;

/// GET /admin/articles/{id}/revisions
pub async fn list(
    State(state): State<AppState>,
    who: SignedIn,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let article = article_for(&state, &who, id, Action::ViewArticle).await?;
    let tz = who.site.settings.tz();
    let revisions: Vec<_> = state
        .store
        .list_revisions(article.id)
        .await?
        .into_iter()
        .map(|r| {
            context! {
                id => r.id.0,
                saved_at => local_time(r.saved_at, tz),
                saved_by => r.saved_by.display_name,
                autosave => r.autosave,
                title => r.title,
                status => r.status.as_str(),
            }
        })
        .collect();
    render(
        &state,
        &who,
        "admin/revisions.html",
        context! {
            section => "articles",
            article => context! { id => article.id.0, title => article.title },
            revisions => revisions,
        },
    )
}

/// Revision `rev` of the article, 404 when it belongs to another.
async fn revision_of(state: &AppState, article: &Article, rev: i64) -> Result<Revision, AppError> {
    let revision = state.store.revision(RevisionId(rev)).await?;
    if revision.article_id != article.id {
        return Err(AppError::NotFound);
    }
    Ok(revision)
}

/// GET /admin/articles/{id}/revisions/{rev}
pub async fn show(
    State(state): State<AppState>,
    who: SignedIn,
    Path((id, rev)): Path<(i64, i64)>,
) -> Result<Response, AppError> {
    let article = article_for(&state, &who, id, Action::ViewArticle).await?;
    let revision = revision_of(&state, &article, rev).await?;
    let tz = who.site.settings.tz();
    let lines = diff::lines(&revision.source, &article.source);
    render(
        &state,
        &who,
        "admin/revision.html",
        context! {
            section => "articles",
            article => context! { id => article.id.0, title => article.title },
            revision => context! {
                id => revision.id.0,
                saved_at => local_time(revision.saved_at, tz),
                saved_by => revision.saved_by.display_name,
                autosave => revision.autosave,
            },
            fields => revision.changed_fields(&article),
            text_changed => lines.iter().any(|l| l.kind != "same"),
            lines => lines,
            can_restore => user_permits(&who.user, Action::EditArticle, target(&who, &article)),
        },
    )
}

/// POST /admin/articles/{id}/revisions/{rev}/restore: saves the revision again as the
/// article (a new revision; the ones after it stay in the history).
pub async fn restore(
    State(state): State<AppState>,
    who: SignedIn,
    Path((id, rev)): Path<(i64, i64)>,
) -> Result<Response, AppError> {
    let article = article_for(&state, &who, id, Action::EditArticle).await?;
    let revision = revision_of(&state, &article, rev).await?;
    let input = (
        revision.to_input(article.author.id),
        ValidationErrors::default(),
    );
    let restored = store_input(
        &state,
        &who.user,
        Some(&article),
        input,
        Mode::Restore(revision.id),
    )
    .await?
    .map_err(AppError::Validation)?;
    Ok(Redirect::to(&format!("/admin/articles/{}?saved=1", restored.id)).into_response())
}
