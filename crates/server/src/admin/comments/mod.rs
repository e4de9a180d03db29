//! The moderation queue (`Action::ModerateComments`): comments by status with counts
//! per status, approve / hold / spam / trash one at a time or in bulk, edit a
//! comment's text, reply as the signed-in user ([`one`]), and, for admins, export or
//! erase a commenter's data ([`commenter`], `Action::ManagePersonalData`).
//!
//! Every change is audit-logged without the commenter's email (the log is read by
//! admins who need not see it), and a comment that becomes approved sends its reply
//! notification ([`crate::comments::notify`]).

mod commenter;
mod one;

use std::collections::HashMap;
use std::collections::hash_map::Entry;

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use broadsheet_domain::{
    Action, Article, ArticleId, Comment, CommentId, CommentQuery, CommentStatus, Target, User,
    clock,
};
use chrono_tz::Tz;
use minijinja::context;
use serde::{Deserialize, Serialize};

use super::{AdminRoute, audit, render};
use crate::app::AppState;
use crate::auth::SignedIn;
use crate::comments::notify;
use crate::error::AppError;

/// Comments per page of the queue.
const PER_PAGE: u32 = 20;

pub fn routes() -> Vec<AdminRoute> {
    vec![
        AdminRoute::get("/admin/comments", list),
        AdminRoute::post("/admin/comments/bulk", bulk),
        AdminRoute::get("/admin/comments/{id}", one::show),
        AdminRoute::post("/admin/comments/{id}/status", set_status),
        AdminRoute::post("/admin/comments/{id}/edit", one::edit),
        AdminRoute::post("/admin/comments/{id}/reply", one::reply),
        AdminRoute::post("/admin/comments/commenter", commenter::show),
        AdminRoute::post("/admin/comments/commenter/export", commenter::export),
        AdminRoute::post("/admin/comments/commenter/erase", commenter::erase),
    ]
}

/// Sets `ids` to `status`, sends the reply notifications of the comments that became
/// approved, and records the change. Returns the comments that changed.
pub(crate) async fn moderate(
    state: &AppState,
    who: &User,
    ids: &[CommentId],
    status: CommentStatus,
) -> Result<Vec<Comment>, AppError> {
    let changed = state.store.set_comment_status(ids, status).await?;
    if status == CommentStatus::Approved {
        for comment in &changed {
            notify::comment_approved(state, comment).await?;
        }
    }
    if !changed.is_empty() {
        let list: Vec<String> = changed.iter().map(|c| c.id.to_string()).collect();
        let target = match &changed[..] {
            [one] => target(one.id),
            _ => "comments".to_owned(),
        };
        let detail = format!("→ {status}: {}", list.join(", "));
        audit::record(state, who, "comment.status", &target, &detail).await?;
    }
    Ok(changed)
}

/// The audit log's name for a comment.
fn target(id: CommentId) -> String {
    format!("comment:{id}")
}

/// The queue's filters as typed: anything unreadable is no filter.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct ListQuery {
    status: String,
    article: String,
    page: String,
    /// After a change: the status comments moved to, and how many.
    done: String,
    n: String,
}

impl ListQuery {
    fn status(&self) -> CommentStatus {
        self.status.parse().unwrap_or(CommentStatus::Pending)
    }

    fn article(&self) -> Option<ArticleId> {
        self.article.trim().parse().ok().map(ArticleId)
    }
}

/// The queue's URL for a status, article and page.
fn list_url(status: CommentStatus, article: Option<ArticleId>, page: u32) -> String {
    let mut url = format!("/admin/comments?status={status}");
    if let Some(article) = article {
        url.push_str(&format!("&article={article}"));
    }
    if page > 1 {
        url.push_str(&format!("&page={page}"));
    }
    url
}

/// GET /admin/comments
async fn list(
    State(state): State<AppState>,
    who: SignedIn,
    Query(query): Query<ListQuery>,
) -> Result<Response, AppError> {
    who.require(Action::ModerateComments, Target::Site)?;
    let status = query.status();
    let article = query.article();
    let listed = state
        .store
        .list_comments(&CommentQuery {
            status: Some(status),
            article,
            page: query.page.trim().parse().unwrap_or(1).max(1),
            per_page: PER_PAGE,
        })
        .await?;
    let counts = state.store.comment_status_counts().await?;
    let tabs: Vec<_> = CommentStatus::ALL
        .into_iter()
        .map(|s| {
            context! {
                key => s.as_str(),
                label => tab_label(s),
                count => counts.of(s),
                url => list_url(s, article, 1),
            }
        })
        .collect();
    let tz = who.site.settings.tz();
    let mut articles = Articles::default();
    let rows = articles.rows(&state, &listed.items, tz).await?;
    let filtered = match article {
        Some(id) => {
            Some(context! { id => id.0, title => articles.get(&state, id).await?.title.clone() })
        }
        None => None,
    };
    let page = listed.page;
    let pages = listed.pages();
    let notice = notice(&query);
    render(
        &state,
        &who,
        "admin/comments.html",
        context! {
            section => "comments",
            status => status.as_str(),
            tabs,
            comments => rows,
            total => listed.total,
            article => filtered,
            page,
            pages,
            back => list_url(status, article, page),
            prev => (page > 1).then(|| list_url(status, article, page - 1)),
            next => (page < pages).then(|| list_url(status, article, page + 1)),
            notice,
            may_erase => who.may(Action::ManagePersonalData),
        },
    )
}

fn tab_label(status: CommentStatus) -> &'static str {
    match status {
        CommentStatus::Pending => "Pending",
        CommentStatus::Approved => "Approved",
        CommentStatus::Spam => "Spam",
        CommentStatus::Trash => "Trash",
    }
}

fn notice(query: &ListQuery) -> Option<String> {
    match query.done.as_str() {
        "edited" => return Some("The comment was saved.".into()),
        "replied" => return Some("Your reply was published.".into()),
        "erased" => return Some(format!("The commenter's {} comments were erased.", query.n)),
        _ => {}
    }
    let status: CommentStatus = query.done.parse().ok()?;
    let n: u64 = query.n.parse().ok()?;
    let verb = match status {
        CommentStatus::Pending => "held for moderation",
        CommentStatus::Approved => "approved",
        CommentStatus::Spam => "marked as spam",
        CommentStatus::Trash => "moved to the trash",
    };
    Some(match n {
        0 => "Nothing changed: the comments were in that state already.".to_owned(),
        1 => format!("1 comment {verb}."),
        n => format!("{n} comments {verb}."),
    })
}

/// Where to go after a change: `back` if it is a queue or comment page of this admin
/// (never another site), else the pending queue; with the change's notice.
fn after_change(back: &str, status: CommentStatus, n: usize) -> Response {
    let same_admin = back == "/admin/comments"
        || back.starts_with("/admin/comments?")
        || back.starts_with("/admin/comments/");
    let back = if same_admin && !back.contains("//") {
        back
    } else {
        "/admin/comments"
    };
    // Drop an earlier notice, then add this one.
    let (path, query) = back.split_once('?').unwrap_or((back, ""));
    let mut pairs: Vec<(String, String)> = serde_urlencoded::from_str(query).unwrap_or_default();
    pairs.retain(|(k, _)| k != "done" && k != "n");
    pairs.push(("done".into(), status.to_string()));
    pairs.push(("n".into(), n.to_string()));
    let query = serde_urlencoded::to_string(&pairs).unwrap_or_default();
    Redirect::to(&format!("{path}?{query}")).into_response()
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct StatusForm {
    status: String,
    back: String,
}

/// POST /admin/comments/{id}/status
async fn set_status(
    State(state): State<AppState>,
    who: SignedIn,
    Path(id): Path<i64>,
    Form(form): Form<StatusForm>,
) -> Result<Response, AppError> {
    who.require(Action::ModerateComments, Target::Site)?;
    let status = parse_status(&form.status)?;
    // An unknown comment is a 404, not "nothing changed".
    state.store.comment_by_id(CommentId(id)).await?;
    let changed = moderate(&state, &who.user, &[CommentId(id)], status).await?;
    Ok(after_change(&form.back, status, changed.len()))
}

/// POST /admin/comments/bulk: `ids` (repeated) and `bulk`, the status to set. A
/// row's own button posts the same form to its status route instead.
async fn bulk(
    State(state): State<AppState>,
    who: SignedIn,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    who.require(Action::ModerateComments, Target::Site)?;
    let value = |name: &str| {
        fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or("")
    };
    let status = parse_status(value("bulk"))?;
    let ids: Vec<CommentId> = fields
        .iter()
        .filter(|(k, _)| k == "ids")
        .filter_map(|(_, v)| v.trim().parse().ok().map(CommentId))
        .collect();
    if ids.is_empty() {
        return Err(AppError::BadRequest(
            "Select at least one comment, then choose what to do with them.".into(),
        ));
    }
    let changed = moderate(&state, &who.user, &ids, status).await?;
    Ok(after_change(value("back"), status, changed.len()))
}

fn parse_status(text: &str) -> Result<CommentStatus, AppError> {
    text.parse().map_err(|_| {
        AppError::BadRequest(format!(
            "\"{text}\" is not a comment status: use pending, approved, spam or trash."
        ))
    })
}

/// A comment as the queue and the comment page show it.
#[derive(Debug, Serialize)]
struct CommentRow {
    id: i64,
    article_id: i64,
    article_title: String,
    /// The comment on the public page, while both are public.
    public_url: Option<String>,
    parent_id: Option<i64>,
    status: &'static str,
    author_name: String,
    author_email: String,
    author_url: Option<String>,
    body_html: String,
    reason: Option<String>,
    date: String,
    date_iso: String,
    actions: Vec<ActionButton>,
}

#[derive(Debug, Serialize)]
struct ActionButton {
    status: &'static str,
    label: &'static str,
}

/// The moves a moderator may make from `status`.
fn actions(status: CommentStatus) -> Vec<ActionButton> {
    use CommentStatus::*;
    let moves: &[(CommentStatus, &'static str)] = match status {
        Pending => &[(Approved, "Approve"), (Spam, "Spam"), (Trash, "Trash")],
        Approved => &[(Pending, "Unapprove"), (Spam, "Spam"), (Trash, "Trash")],
        Spam => &[(Approved, "Not spam"), (Trash, "Trash")],
        Trash => &[(Pending, "Restore"), (Spam, "Spam")],
    };
    moves
        .iter()
        .map(|(status, label)| ActionButton {
            status: status.as_str(),
            label,
        })
        .collect()
}

/// The articles comments belong to, each loaded once per request.
#[derive(Default)]
struct Articles(HashMap<ArticleId, Article>);

impl Articles {
    async fn get(&mut self, state: &AppState, id: ArticleId) -> Result<&Article, AppError> {
        if let Entry::Vacant(slot) = self.0.entry(id) {
            slot.insert(state.store.article_by_id(id).await?);
        }
        Ok(&self.0[&id])
    }

    async fn row(
        &mut self,
        state: &AppState,
        comment: &Comment,
        tz: Tz,
    ) -> Result<CommentRow, AppError> {
        let article = self.get(state, comment.article_id).await?;
        let public = article.is_public(clock::now()) && comment.status == CommentStatus::Approved;
        Ok(CommentRow {
            id: comment.id.0,
            article_id: article.id.0,
            article_title: article.title.clone(),
            public_url: public.then(|| format!("{}#comment-{}", article.permalink(tz), comment.id)),
            parent_id: comment.parent_id.map(|p| p.0),
            status: comment.status.as_str(),
            author_name: comment.author_name.clone(),
            author_email: comment.author_email.clone(),
            author_url: comment.author_url.clone(),
            body_html: comment.body_html.clone(),
            reason: comment.reason.clone(),
            date: audit::local_minute(comment.created_at, tz),
            date_iso: comment.created_at.to_rfc3339(),
            actions: actions(comment.status),
        })
    }

    async fn rows(
        &mut self,
        state: &AppState,
        comments: &[Comment],
        tz: Tz,
    ) -> Result<Vec<CommentRow>, AppError> {
        let mut rows = Vec::with_capacity(comments.len());
        for comment in comments {
            rows.push(self.row(state, comment, tz).await?);
        }
        Ok(rows)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn after_a_change_goes_back_only_within_the_queue() {
        let location = |back: &str| {
            after_change(back, CommentStatus::Spam, 2)
                .headers()
                .get("location")
                .unwrap()
                .to_str()
                .unwrap()
                .to_owned()
        };
        assert_eq!(
            location("/admin/comments?status=pending&page=2&done=trash&n=1"),
            "/admin/comments?status=pending&page=2&done=spam&n=2"
        );
        assert_eq!(
            location("/admin/comments/7"),
            "/admin/comments/7?done=spam&n=2"
        );
        for elsewhere in [
            "https://evil.example/",
            "//evil.example",
            "/admin/users",
            "",
        ] {
            assert_eq!(
                location(elsewhere),
                "/admin/comments?done=spam&n=2",
                "{elsewhere}"
            );
        }
    }

    #[test]
    fn every_status_can_move_somewhere_else() {
        for status in CommentStatus::ALL {
            let moves = actions(status);
            assert!(!moves.is_empty());
            assert!(moves.iter().all(|m| m.status != status.as_str()));
        }
    }
}
