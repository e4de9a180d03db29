//! The articles admin: the list with its filters, the editor (with live preview,
//! autosave and signed preview links), revisions and deleting.
//!
//! Who may do what is the domain's matrix, asked per article: contributors and
//! authors see and edit their own, editors everyone's. Saving an article asks for
//! `EditArticle` on it, and additionally for `PublishArticle` whenever the save would
//! publish, schedule or unpublish it or move the date of a live article (see
//! [`save::needs_publish`]), so a contributor's "publish" is refused with 403 however
//! the form was sent.
//!
//! - [`list`]: `GET /admin/articles`.
//! - [`editor`]: new, create, edit, save, autosave, preview, preview links, delete.
//! - [`history`]: revisions, their diffs, restoring one.
//! - [`save`]: the one write path all of them share (permission, validation, store,
//!   publish job, audit log).

mod editor;
mod history;
mod list;
pub(crate) mod save;

use broadsheet_domain::{Action, Article, ArticleId, Status, Target};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use crate::admin::AdminRoute;
use crate::app::AppState;
use crate::auth::SignedIn;
use crate::error::AppError;

pub fn routes() -> Vec<AdminRoute> {
    vec![
        AdminRoute::get("/admin/articles", list::list),
        AdminRoute::post("/admin/articles", editor::create),
        AdminRoute::get("/admin/articles/new", editor::new),
        AdminRoute::post("/admin/articles/autosave", editor::autosave_new),
        AdminRoute::get("/admin/articles/{id}", editor::edit),
        AdminRoute::post("/admin/articles/{id}", editor::save),
        AdminRoute::post("/admin/articles/{id}/autosave", editor::autosave),
        AdminRoute::get("/admin/articles/{id}/preview-link", editor::preview_link),
        AdminRoute::post("/admin/articles/{id}/delete", editor::delete),
        AdminRoute::get("/admin/articles/{id}/revisions", history::list),
        AdminRoute::get("/admin/articles/{id}/revisions/{rev}", history::show),
        AdminRoute::post(
            "/admin/articles/{id}/revisions/{rev}/restore",
            history::restore,
        ),
        AdminRoute::post("/admin/preview", editor::preview),
    ]
}

/// Whether readers see (or will see, once due) an article in this state.
pub(crate) fn is_live(status: Status) -> bool {
    matches!(status, Status::Published | Status::Scheduled)
}

/// What `who` acting on `article` touches, for the permission matrix.
fn target(who: &SignedIn, article: &Article) -> Target {
    Target::article(&who.user, article.author.id, is_live(article.status))
}

/// Article `id`, once `who` is allowed `action` on it.
async fn article_for(
    state: &AppState,
    who: &SignedIn,
    id: i64,
    action: Action,
) -> Result<Article, AppError> {
    let article = state.store.article_by_id(ArticleId(id)).await?;
    who.require(action, target(who, &article))?;
    Ok(article)
}

/// An instant as the admin shows it: "2026-03-01 09:30" in the site's time zone.
fn local_time(at: DateTime<Utc>, tz: Tz) -> String {
    at.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string()
}
