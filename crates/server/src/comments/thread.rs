//! An article's comments as the page shows them: threads of nested replies, each
//! comment with its anchor (`#comment-N`), avatar, date and reply link, and the
//! reader's own pending comments marked as awaiting moderation.

use std::collections::BTreeMap;

use broadsheet_domain::{Comment, CommentId, CommentPage, CommentStatus};
use chrono_tz::Tz;
use serde::Serialize;

use super::avatar::identicon;
use crate::signing::SigningKey;
use crate::site::views::DateView;

/// One comment and the replies under it.
#[derive(Debug, Serialize)]
pub struct CommentView {
    pub id: i64,
    /// `comment-N`, the element id and the permalink's fragment.
    pub anchor: String,
    pub author_name: String,
    /// `comment`, `pingback` or `trackback` (imported): a class, and a label for the
    /// latter two, as WordPress themes show them.
    pub kind: &'static str,
    /// Only a valid http(s) address is ever stored, so this is safe to link.
    pub author_url: Option<String>,
    /// Rendered and escaped when the comment was stored.
    pub body_html: String,
    pub date: DateView,
    /// Awaiting moderation: only its own author is shown it.
    pub pending: bool,
    /// The inline SVG avatar.
    pub avatar: String,
    /// Set when a reply may be posted under this comment.
    pub reply_url: Option<String>,
    pub depth: u32,
    pub replies: Vec<CommentView>,
}

/// What shapes the threads: the site's time zone, the deepest reply level, whether
/// replies are open, the avatar key and the article's address.
pub struct ThreadOptions<'a> {
    pub tz: Tz,
    pub max_depth: u32,
    pub open: bool,
    pub avatar_key: &'a SigningKey,
    pub permalink: &'a str,
}

/// The page's threads, oldest first. A reply whose parent is not shown (trashed, or
/// on another page) is left out with it: out of its thread it would read as nonsense.
pub fn threads(page: &CommentPage, options: &ThreadOptions<'_>) -> Vec<CommentView> {
    let mut children: BTreeMap<Option<CommentId>, Vec<&Comment>> = BTreeMap::new();
    for comment in &page.items {
        children.entry(comment.parent_id).or_default().push(comment);
    }
    build(&children, None, 1, options)
}

fn build(
    children: &BTreeMap<Option<CommentId>, Vec<&Comment>>,
    parent: Option<CommentId>,
    depth: u32,
    options: &ThreadOptions<'_>,
) -> Vec<CommentView> {
    let Some(list) = children.get(&parent) else {
        return Vec::new();
    };
    list.iter()
        .map(|comment| {
            let approved = comment.status == CommentStatus::Approved;
            let can_reply = options.open && approved && depth < options.max_depth;
            CommentView {
                id: comment.id.0,
                anchor: anchor(comment.id),
                author_name: comment.author_name.clone(),
                kind: comment.kind.as_str(),
                author_url: comment.author_url.clone(),
                body_html: comment.body_html.clone(),
                date: DateView::new(comment.created_at, options.tz),
                pending: comment.status == CommentStatus::Pending,
                avatar: identicon(options.avatar_key, &comment.author_email),
                reply_url: can_reply
                    .then(|| format!("{}?replytocom={}#respond", options.permalink, comment.id)),
                depth,
                replies: build(children, Some(comment.id), depth + 1, options),
            }
        })
        .collect()
}

/// The fragment a comment is found at.
pub fn anchor(id: CommentId) -> String {
    format!("comment-{id}")
}
