//! The "Leave a Reply" form and the comments section of an article page: what the
//! form posts, how it is shown again with the reader's text and each problem next to
//! its field, the remember-me cookie, and the threads above it.

use std::collections::BTreeMap;

use axum::http::{HeaderMap, HeaderValue, header};
use broadsheet_domain::{
    Article, CommentId, CommentInput, CommentStatus, ReaderId, SiteSettings, ValidationErrors,
    clock,
};
use serde::{Deserialize, Serialize};

use super::screen::{HONEYPOT_FIELD, form_token};
use super::thread::{CommentView, ThreadOptions, threads};
use crate::app::AppState;
use crate::error::AppError;
use crate::signing::SigningKey;

/// The remember-me cookie: name, email and website, set only when the commenter
/// ticks the box, first-party and HttpOnly (the server fills the form in).
pub const REMEMBER_COOKIE: &str = "bs_commenter";

/// About 400 days is as long as browsers keep a cookie; a year is plenty.
const REMEMBER_MAX_AGE_SECS: u64 = 365 * 24 * 60 * 60;

/// What the comment form posts (as a form or as JSON). Field names are WordPress's,
/// so themes and scripts written for it find them.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct CommentForm {
    pub comment: String,
    pub author: String,
    pub email: String,
    pub url: String,
    /// The comment replied to: empty, or its id.
    pub parent: String,
    /// "Save my name, email, and website in this browser...": present when ticked.
    pub remember: Option<String>,
    /// "Email me about replies": present when ticked.
    pub notify_replies: Option<String>,
    /// The honeypot: people never see it, so it stays empty.
    pub website_confirm: String,
    pub form_token: String,
    /// The page of comments the form was on, to come back to after a reply.
    pub comments_page: String,
}

impl CommentForm {
    pub fn input(&self) -> CommentInput {
        CommentInput {
            comment: self.comment.clone(),
            author: self.author.clone(),
            email: self.email.clone(),
            url: self.url.clone(),
        }
    }

    pub fn remember(&self) -> bool {
        ticked(self.remember.as_deref())
    }

    pub fn notify_replies(&self) -> bool {
        ticked(self.notify_replies.as_deref())
    }

    /// The comment page number it names, 1 when none.
    pub fn comments_page(&self) -> u32 {
        page_number(&self.comments_page)
    }
}

/// A checkbox as forms and JSON send it.
fn ticked(value: Option<&str>) -> bool {
    value.is_some_and(|v| !matches!(v.trim(), "" | "0" | "false" | "no" | "off"))
}

fn page_number(text: &str) -> u32 {
    text.trim()
        .parse::<u32>()
        .ok()
        .filter(|n| *n >= 1)
        .unwrap_or(1)
}

/// What the article page was asked for beyond the article: a page of comments, a
/// comment to reply to (`?replytocom=N`, the reply link without JavaScript), or the
/// form shown again with problems.
#[derive(Debug, Default)]
pub struct CommentsRequest {
    pub page: u32,
    pub reply_to: Option<CommentId>,
    pub reshow: Option<(CommentForm, ValidationErrors)>,
}

/// The query of an article page.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct CommentsQuery {
    pub comments_page: Option<String>,
    pub replytocom: Option<String>,
}

impl CommentsRequest {
    pub fn from_query(query: &CommentsQuery) -> CommentsRequest {
        CommentsRequest {
            page: page_number(query.comments_page.as_deref().unwrap_or("")),
            reply_to: query
                .replytocom
                .as_deref()
                .and_then(|id| id.trim().parse().ok())
                .map(CommentId),
            reshow: None,
        }
    }

    /// The page every reader without a cookie gets, which may be cached and shared.
    pub fn is_plain(&self) -> bool {
        self.page <= 1 && self.reply_to.is_none() && self.reshow.is_none()
    }
}

/// The form as the template shows it.
#[derive(Debug, Default, Serialize)]
pub struct FormView {
    /// Readers may comment.
    pub open: bool,
    pub action: String,
    pub comment: String,
    pub author: String,
    pub email: String,
    pub url: String,
    pub parent: Option<i64>,
    /// The name of the commenter replied to, and where "Cancel reply" goes.
    pub replying_to: Option<String>,
    pub cancel_url: String,
    pub remember: bool,
    pub notify_replies: bool,
    pub comments_page: u32,
    /// Problems by field name.
    pub errors: BTreeMap<String, String>,
    pub token: String,
    pub honeypot: &'static str,
    pub max_length: u32,
}

/// The comments section of an article page.
#[derive(Debug, Serialize)]
pub struct CommentsContext {
    pub count: u64,
    pub threads: Vec<CommentView>,
    pub page: u32,
    pub pages: u32,
    pub prev_url: Option<String>,
    pub next_url: Option<String>,
    pub form: FormView,
}

/// Where the form posts for `article`.
pub fn action_url(article: &Article) -> String {
    format!("/articles/{}/comments", article.id)
}

/// `permalink` showing comment page `page`.
pub fn page_url(permalink: &str, page: u32) -> String {
    if page <= 1 {
        format!("{permalink}#comments")
    } else {
        format!("{permalink}?comments_page={page}#comments")
    }
}

/// Builds the comments section for `reader` (their own pending comments included).
pub async fn context(
    state: &AppState,
    settings: &SiteSettings,
    article: &Article,
    reader: Option<&ReaderId>,
    headers: &HeaderMap,
    request: CommentsRequest,
    count: u64,
) -> Result<CommentsContext, AppError> {
    let rules = &settings.comments;
    let permalink = &article.permalink(settings.tz());
    let page = request.page.max(1);
    let found = state
        .store
        .article_comments(article.id, reader, page, rules.per_page)
        .await?;
    let avatar_key = SigningKey::load(state.store.as_ref()).await?;
    let threads = threads(
        &found,
        &ThreadOptions {
            tz: settings.tz(),
            max_depth: rules.max_depth,
            open: rules.enabled,
            avatar_key: &avatar_key,
            permalink: &reply_base(permalink, page),
        },
    );
    let pages = found.pages();
    let mut form = FormView {
        open: rules.enabled,
        action: action_url(article),
        cancel_url: page_url(permalink, page).replace("#comments", "#respond"),
        comments_page: page,
        token: form_token(state, clock::now()).await?,
        honeypot: HONEYPOT_FIELD,
        max_length: rules.max_length,
        ..FormView::default()
    };
    let parent = match &request.reshow {
        Some((sent, errors)) => {
            form.comment = sent.comment.clone();
            form.author = sent.author.clone();
            form.email = sent.email.clone();
            form.url = sent.url.clone();
            form.remember = sent.remember();
            form.notify_replies = sent.notify_replies();
            form.errors = errors
                .0
                .iter()
                .map(|e| (e.field.clone(), e.message.clone()))
                .collect();
            sent.parent.trim().parse().ok().map(CommentId)
        }
        None => {
            if let Some(saved) = remembered(headers) {
                form.author = saved.author;
                form.email = saved.email;
                form.url = saved.url;
                form.remember = true;
            }
            request.reply_to
        }
    };
    // Only a comment the reader can see on this article may be replied to.
    if let Some(parent) = parent
        && let Ok(comment) = state.store.comment_by_id(parent).await
        && comment.article_id == article.id
        && comment.status == CommentStatus::Approved
    {
        form.parent = Some(parent.0);
        form.replying_to = Some(comment.author_name);
    }
    Ok(CommentsContext {
        count,
        threads,
        page,
        pages,
        prev_url: (page > 1).then(|| page_url(permalink, page - 1)),
        next_url: (page < pages).then(|| page_url(permalink, page + 1)),
        form,
    })
}

/// The address reply links start from: the article, on the page they are shown on.
fn reply_base(permalink: &str, page: u32) -> String {
    if page <= 1 {
        permalink.to_owned()
    } else {
        format!("{permalink}?comments_page={page}&")
    }
}

/// Name, email and website as the remember-me cookie keeps them.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(default)]
struct Remembered {
    author: String,
    email: String,
    url: String,
}

/// What the remember-me cookie holds, if the request carries one.
fn remembered(headers: &HeaderMap) -> Option<Remembered> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == REMEMBER_COOKIE)
        .and_then(|(_, value)| serde_urlencoded::from_str(value.trim()).ok())
}

/// Whether the request carries the remember-me cookie (such a page is personal).
pub fn has_remembered(headers: &HeaderMap) -> bool {
    remembered(headers).is_some()
}

/// The `Set-Cookie` for the commenter's choice: their details when they ticked the
/// box, else the removal of any saved before. `None` when there is nothing to do.
pub fn remember_cookie(
    form: &CommentForm,
    headers: &HeaderMap,
    secure: bool,
) -> Option<HeaderValue> {
    let secure = if secure { "; Secure" } else { "" };
    let text = if form.remember() {
        // URL-encoded, so the value holds no `;`, `,`, space or quote.
        let value = serde_urlencoded::to_string(Remembered {
            author: form.author.trim().to_owned(),
            email: form.email.trim().to_owned(),
            url: form.url.trim().to_owned(),
        })
        .ok()?;
        format!(
            "{REMEMBER_COOKIE}={value}; Path=/; Max-Age={REMEMBER_MAX_AGE_SECS}; HttpOnly; \
             SameSite=Lax{secure}"
        )
    } else if has_remembered(headers) {
        format!("{REMEMBER_COOKIE}=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax{secure}")
    } else {
        return None;
    };
    HeaderValue::from_str(&text).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_remember_cookie_round_trips_and_is_removed_when_unticked() {
        let form = CommentForm {
            author: "Zoë; \"Z\"".into(),
            email: "zoe+x@example.net".into(),
            url: "https://zoe.example/?a=1&b=2".into(),
            remember: Some("yes".into()),
            ..CommentForm::default()
        };
        let cookie = remember_cookie(&form, &HeaderMap::new(), true).unwrap();
        let text = cookie.to_str().unwrap();
        assert!(text.ends_with("HttpOnly; SameSite=Lax; Secure"), "{text}");
        let pair = text.split(';').next().unwrap();
        let mut headers = HeaderMap::new();
        headers.insert(header::COOKIE, HeaderValue::from_str(pair).unwrap());
        let back = remembered(&headers).unwrap();
        assert_eq!(
            (back.author.as_str(), back.email.as_str(), back.url.as_str()),
            (
                "Zoë; \"Z\"",
                "zoe+x@example.net",
                "https://zoe.example/?a=1&b=2"
            )
        );
        let unticked = CommentForm::default();
        let removal = remember_cookie(&unticked, &headers, false).unwrap();
        assert!(removal.to_str().unwrap().contains("Max-Age=0"));
        assert!(remember_cookie(&unticked, &HeaderMap::new(), false).is_none());
    }

    #[test]
    fn queries_and_checkboxes_read_leniently() {
        let request = CommentsRequest::from_query(&CommentsQuery {
            comments_page: Some("x".into()),
            replytocom: Some("12".into()),
        });
        assert_eq!((request.page, request.reply_to), (1, Some(CommentId(12))));
        assert!(!request.is_plain());
        assert!(CommentsRequest::from_query(&CommentsQuery::default()).is_plain());
        assert!(ticked(Some("yes")) && ticked(Some("on")) && ticked(Some("true")));
        assert!(!ticked(None) && !ticked(Some("")) && !ticked(Some("false")));
    }
}
