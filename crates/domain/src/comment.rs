//! Readers' comments: what a comment is, the rules a submission must pass, how its
//! text becomes HTML, and the [`CommentStore`] trait through which backends keep them
//! (issue 6; SPEC.md sections 1 and 4).
//!
//! A comment is plain text: [`render_comment`] turns it into paragraphs with its
//! http(s) URLs linked (`rel="nofollow ugc noopener"`) and everything else escaped,
//! once, before it is stored. The commenter's email is kept for moderation and
//! notifications only; nothing a reader sees ever carries it.
//!
//! Only approved comments count: a store moves the article's comment counter (and the
//! dashboard's per-day count, on the day the comment was posted) when a comment
//! becomes approved or stops being approved, in the same transaction as the status.

use std::fmt;
use std::str::FromStr;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::ValidationErrors;
use crate::article::{ArticleId, Paged};
use crate::engagement::{NetworkHash, ReaderId};
use crate::store::StoreResult;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct CommentId(pub i64);

impl fmt::Display for CommentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// Where a comment stands. Only `Approved` comments are public; a `Pending` one is
/// shown to its own author only; `Spam` and `Trash` are kept for moderators, so
/// nothing is silently dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CommentStatus {
    Pending,
    Approved,
    Spam,
    Trash,
}

impl CommentStatus {
    pub const ALL: [CommentStatus; 4] = [
        CommentStatus::Pending,
        CommentStatus::Approved,
        CommentStatus::Spam,
        CommentStatus::Trash,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            CommentStatus::Pending => "pending",
            CommentStatus::Approved => "approved",
            CommentStatus::Spam => "spam",
            CommentStatus::Trash => "trash",
        }
    }
}

impl fmt::Display for CommentStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for CommentStatus {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        CommentStatus::ALL
            .into_iter()
            .find(|status| status.as_str() == s)
            .ok_or_else(|| format!("unknown comment status \"{s}\""))
    }
}

/// What a comment is: a reader's comment, or a notice that another site linked to the
/// article. Readers only ever write comments; pingbacks and trackbacks arrive with
/// imported sites (WordPress keeps them beside comments) and are kept as such, so a
/// theme can show them apart.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CommentKind {
    #[default]
    Comment,
    Pingback,
    Trackback,
}

impl CommentKind {
    pub const ALL: [CommentKind; 3] = [
        CommentKind::Comment,
        CommentKind::Pingback,
        CommentKind::Trackback,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            CommentKind::Comment => "comment",
            CommentKind::Pingback => "pingback",
            CommentKind::Trackback => "trackback",
        }
    }
}

impl FromStr for CommentKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        CommentKind::ALL
            .into_iter()
            .find(|kind| kind.as_str() == s)
            .ok_or_else(|| format!("unknown comment kind \"{s}\""))
    }
}

/// A stored comment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Comment {
    pub id: CommentId,
    pub article_id: ArticleId,
    pub parent_id: Option<CommentId>,
    pub status: CommentStatus,
    /// A comment, or (imported) a pingback or trackback.
    #[serde(default)]
    pub kind: CommentKind,
    pub author_name: String,
    /// For moderation and notifications only: never shown, never in a public answer.
    pub author_email: String,
    /// A valid http(s) URL, or none.
    pub author_url: Option<String>,
    /// What the commenter typed.
    pub body: String,
    /// `body` rendered by [`render_comment`].
    pub body_html: String,
    /// The commenter's reader cookie, so they (and only they) see it while pending.
    pub reader: Option<ReaderId>,
    pub network: NetworkHash,
    /// The commenter asked to be emailed about approved replies.
    pub notify_replies: bool,
    /// Why it was held or marked spam, for moderators.
    pub reason: Option<String>,
    /// The day it was posted in the site's time zone (the dashboard counts it there).
    pub day: NaiveDate,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A comment on its way to a store, validated and rendered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewComment {
    pub article_id: ArticleId,
    pub parent_id: Option<CommentId>,
    pub status: CommentStatus,
    pub author_name: String,
    pub author_email: String,
    pub author_url: Option<String>,
    pub body: String,
    pub body_html: String,
    pub reader: Option<ReaderId>,
    pub network: NetworkHash,
    pub notify_replies: bool,
    pub reason: Option<String>,
    pub day: NaiveDate,
    pub created_at: DateTime<Utc>,
}

/// The site's comment rules, part of [`crate::SiteSettings`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct CommentSettings {
    /// Readers may comment (existing comments stay visible when this is off).
    pub enabled: bool,
    /// Deepest reply level: 1 allows no replies, 5 allows replies to replies four deep.
    pub max_depth: u32,
    /// Longest comment, in characters.
    pub max_length: u32,
    /// Top-level threads per page.
    pub per_page: u32,
    /// Hold every comment for moderation.
    pub hold_all: bool,
    /// Approve at once a commenter who has an approved comment already.
    pub auto_approve_known: bool,
    /// Hold a comment with this many links or more; 0 turns the rule off.
    pub max_links: u32,
    /// Hold a comment containing any of these words (ignoring case).
    pub blocklist: Vec<String>,
}

impl Default for CommentSettings {
    fn default() -> Self {
        CommentSettings {
            enabled: true,
            max_depth: 5,
            max_length: 10_000,
            per_page: 50,
            hold_all: false,
            auto_approve_known: true,
            max_links: 2,
            blocklist: Vec::new(),
        }
    }
}

impl CommentSettings {
    /// Adds a problem per bad field to `errors`, named as the settings form names them.
    pub fn validate_into(&self, errors: &mut ValidationErrors) {
        if !(1..=10).contains(&self.max_depth) {
            errors.add("comments_max_depth", "must be between 1 and 10");
        }
        if !(100..=100_000).contains(&self.max_length) {
            errors.add("comments_max_length", "must be between 100 and 100000");
        }
        if !(1..=500).contains(&self.per_page) {
            errors.add("comments_per_page", "must be between 1 and 500");
        }
        if self.max_links > 100 {
            errors.add(
                "comments_max_links",
                "must be at most 100 (0 turns the rule off)",
            );
        }
        if self.blocklist.len() > 1000 {
            errors.add("comments_blocklist", "must have at most 1000 entries");
        }
        if let Some(bad) = self
            .blocklist
            .iter()
            .find(|w| w.trim().is_empty() || w.chars().count() > 100)
        {
            errors.add(
                "comments_blocklist",
                format!("\"{bad}\" must be 1 to 100 characters, one entry per line"),
            );
        }
    }
}

/// Longest name a commenter may give, in characters.
pub const MAX_NAME: usize = 100;
/// Longest email address (RFC 5321's path limit).
pub const MAX_EMAIL: usize = 254;
/// Longest website address.
pub const MAX_URL: usize = 500;

/// What a reader sends with the comment form, before any checks.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct CommentInput {
    pub comment: String,
    pub author: String,
    pub email: String,
    pub url: String,
}

/// A submission that passed the field rules: trimmed, the email lowercased, the text
/// rendered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedComment {
    pub author_name: String,
    pub author_email: String,
    pub author_url: Option<String>,
    pub body: String,
    pub body_html: String,
}

impl CommentInput {
    /// Checks every field against the rules and `settings`, naming each problem by the
    /// form's field name (`comment`, `author`, `email`, `url`).
    pub fn check(&self, settings: &CommentSettings) -> Result<CheckedComment, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let body = self.comment.trim();
        let length = body.chars().count();
        if length == 0 {
            errors.add("comment", "Please type your comment.");
        } else if length > settings.max_length as usize {
            errors.add(
                "comment",
                format!(
                    "Your comment is {length} characters long; at most {} are allowed.",
                    settings.max_length
                ),
            );
        }
        let name = self.author.trim();
        if name.is_empty() {
            errors.add("author", "Please give your name.");
        } else if name.chars().count() > MAX_NAME || name.chars().any(char::is_control) {
            errors.add(
                "author",
                format!("Your name must be at most {MAX_NAME} characters, on one line."),
            );
        }
        let email = self.email.trim().to_lowercase();
        if email.is_empty() {
            errors.add("email", "Please give your email address.");
        } else if !is_email(&email) {
            errors.add(
                "email",
                "This is not an email address such as name@example.com.",
            );
        }
        let url = self.url.trim();
        let author_url = if url.is_empty() {
            None
        } else if is_web_url(url) {
            Some(url.to_owned())
        } else {
            errors.add(
                "url",
                "The website must be an http:// or https:// address, such as https://example.com.",
            );
            None
        };
        errors.into_result()?;
        Ok(CheckedComment {
            author_name: name.to_owned(),
            author_email: email,
            author_url,
            body: body.to_owned(),
            body_html: render_comment(body),
        })
    }
}

/// A plausible address: one `@`, a local part, a dotted domain, no spaces or markup.
pub fn is_email(email: &str) -> bool {
    let Some((local, domain)) = email.split_once('@') else {
        return false;
    };
    let fine = |part: &str| {
        !part.is_empty()
            && part
                .chars()
                .all(|c| !c.is_whitespace() && !c.is_control() && !"<>()[]\\,;:\"@".contains(c))
    };
    email.len() <= MAX_EMAIL
        && fine(local)
        && fine(domain)
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains("..")
}

/// An absolute http(s) URL with a host and nothing that could break out of an
/// attribute or a line.
pub fn is_web_url(url: &str) -> bool {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"));
    let Some(rest) = rest else {
        return false;
    };
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host = host.rsplit('@').next().unwrap_or("");
    url.len() <= MAX_URL
        && !host.is_empty()
        && host
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'))
        && url
            .chars()
            .all(|c| !c.is_whitespace() && !c.is_control() && !"<>\"'`\\".contains(c))
}

/// Plain text to HTML: blank lines separate paragraphs, single line breaks become
/// `<br>`, http(s) URLs become links with `rel="nofollow ugc noopener"`, and every
/// other character is escaped, so no markup a commenter types survives.
pub fn render_comment(text: &str) -> String {
    let text = text.replace("\r\n", "\n").replace('\r', "\n");
    let mut html = String::with_capacity(text.len() + 16);
    for paragraph in text.split("\n\n").map(str::trim).filter(|p| !p.is_empty()) {
        html.push_str("<p>");
        for (i, line) in paragraph.lines().enumerate() {
            if i > 0 {
                html.push_str("<br>\n");
            }
            push_linked(&mut html, line.trim());
        }
        html.push_str("</p>\n");
    }
    html
}

/// Appends `line` escaped, its http(s) URLs linked.
fn push_linked(html: &mut String, line: &str) {
    let mut rest = line;
    while let Some(start) = find_url_start(rest) {
        html.push_str(&html_escape::encode_text(&rest[..start]));
        let candidate = &rest[start..];
        let end = candidate
            .find(|c: char| c.is_whitespace() || "<>\"'`\\".contains(c))
            .unwrap_or(candidate.len());
        // Sentence punctuation after a URL belongs to the sentence.
        let url = candidate[..end].trim_end_matches(['.', ',', ';', ':', '!', '?', ')']);
        if is_web_url(url) {
            let href = html_escape::encode_double_quoted_attribute(url);
            let shown = html_escape::encode_text(url);
            html.push_str(&format!(
                "<a href=\"{href}\" rel=\"nofollow ugc noopener\">{shown}</a>"
            ));
            rest = &candidate[url.len()..];
        } else {
            let scheme = if candidate.starts_with("https://") {
                8
            } else {
                7
            };
            html.push_str(&html_escape::encode_text(&candidate[..scheme]));
            rest = &candidate[scheme..];
        }
    }
    html.push_str(&html_escape::encode_text(rest));
}

/// Where the next `http://` or `https://` starts, at a word boundary.
fn find_url_start(text: &str) -> Option<usize> {
    let lower = text.to_ascii_lowercase();
    let mut from = 0;
    while let Some(found) = lower[from..].find("http") {
        let at = from + found;
        let tail = &text[at..];
        let boundary = text[..at]
            .chars()
            .next_back()
            .is_none_or(|c| !c.is_alphanumeric());
        if boundary && (tail.starts_with("http://") || tail.starts_with("https://")) {
            return Some(at);
        }
        from = at + 4;
    }
    None
}

/// A page of an article's comments: whole threads (a top-level comment and every
/// visible reply under it), `total` counting threads.
pub type CommentPage = Paged<Comment>;

/// Which comments the admin lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommentQuery {
    pub status: Option<CommentStatus>,
    pub article: Option<ArticleId>,
    /// 1-based.
    pub page: u32,
    pub per_page: u32,
}

impl CommentQuery {
    /// Rows to skip for this page.
    pub fn offset(&self) -> u64 {
        u64::from(self.page.saturating_sub(1)) * u64::from(self.per_page)
    }
}

/// How many comments are in each status, for the moderation queue's tabs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct CommentCounts {
    pub pending: u64,
    pub approved: u64,
    pub spam: u64,
    pub trash: u64,
}

impl CommentCounts {
    pub fn of(&self, status: CommentStatus) -> u64 {
        match status {
            CommentStatus::Pending => self.pending,
            CommentStatus::Approved => self.approved,
            CommentStatus::Spam => self.spam,
            CommentStatus::Trash => self.trash,
        }
    }

    pub fn add(&mut self, status: CommentStatus, count: u64) {
        match status {
            CommentStatus::Pending => self.pending += count,
            CommentStatus::Approved => self.approved += count,
            CommentStatus::Spam => self.spam += count,
            CommentStatus::Trash => self.trash += count,
        }
    }
}

/// The name an erased commenter's comments keep.
pub const ERASED_NAME: &str = "Anonymous";
/// The text an erased comment shows, so replies to it still read in place.
pub const ERASED_TEXT: &str = "This comment was erased at its author's request.";

#[async_trait]
pub trait CommentStore: Send + Sync {
    /// Stores a comment. An approved one moves the article's comment counter and the
    /// day's activity, and publishes `Engagement(article)`. `NotFound` when the article
    /// does not exist, or the parent is not a comment on the same article.
    async fn insert_comment(&self, comment: &NewComment) -> StoreResult<Comment>;

    async fn comment_by_id(&self, id: CommentId) -> StoreResult<Comment>;

    /// One page of an article's threads as `viewer` sees them: approved comments and
    /// the viewer's own pending ones. Threads are ordered by their top-level comment,
    /// oldest first, and a page holds `per_page` threads with all their visible
    /// comments, oldest first; `total` counts the visible threads.
    async fn article_comments(
        &self,
        article: ArticleId,
        viewer: Option<&ReaderId>,
        page: u32,
        per_page: u32,
    ) -> StoreResult<CommentPage>;

    /// Sets the status of each comment in `ids` (unknown ids are skipped), moving the
    /// counters of those that become or stop being approved, in one transaction.
    /// Returns the comments whose status changed, as they are now. Publishes
    /// `Engagement(article)` for each article whose count moved.
    async fn set_comment_status(
        &self,
        ids: &[CommentId],
        status: CommentStatus,
    ) -> StoreResult<Vec<Comment>>;

    /// Replaces a comment's text (a moderator's edit). `NotFound` for an unknown id.
    async fn update_comment_body(
        &self,
        id: CommentId,
        body: &str,
        body_html: &str,
    ) -> StoreResult<Comment>;

    /// Comments for the moderation queue, newest first.
    async fn list_comments(&self, query: &CommentQuery) -> StoreResult<Paged<Comment>>;

    async fn comment_status_counts(&self) -> StoreResult<CommentCounts>;

    /// Whether `email` (lowercased) has an approved comment anywhere on the site.
    async fn has_approved_comment_from(&self, email: &str) -> StoreResult<bool>;

    /// Whether `email` posted the same text on `article` since `since`, in any status.
    async fn recent_duplicate(
        &self,
        article: ArticleId,
        email: &str,
        body: &str,
        since: DateTime<Utc>,
    ) -> StoreResult<bool>;

    /// Every comment by `email`, oldest first: a commenter's data export.
    async fn comments_by_email(&self, email: &str) -> StoreResult<Vec<Comment>>;

    /// Turns off reply notifications on every comment by `email`; returns how many
    /// comments changed.
    async fn stop_reply_notifications(&self, email: &str) -> StoreResult<u64>;

    /// Erases what identifies `email`'s comments: name becomes [`ERASED_NAME`], text
    /// [`ERASED_TEXT`]; email, website, reader and network are cleared. The comments
    /// keep their place and status, so replies to them still read in place. Returns
    /// how many were erased; publishes `Engagement(article)` for each article touched.
    async fn erase_commenter(&self, email: &str) -> StoreResult<u64>;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(comment: &str, author: &str, email: &str, url: &str) -> CommentInput {
        CommentInput {
            comment: comment.into(),
            author: author.into(),
            email: email.into(),
            url: url.into(),
        }
    }

    #[test]
    fn renders_paragraphs_breaks_and_links() {
        assert_eq!(
            render_comment("Hello <b>you</b> & me\r\nsecond line\n\n\n  next  "),
            "<p>Hello &lt;b&gt;you&lt;/b&gt; &amp; me<br>\nsecond line</p>\n<p>next</p>\n"
        );
        assert_eq!(
            render_comment("See https://example.com/a?b=1&c=2. Or http://x.org)"),
            "<p>See <a href=\"https://example.com/a?b=1&amp;c=2\" rel=\"nofollow ugc noopener\">\
             https://example.com/a?b=1&amp;c=2</a>. Or <a href=\"http://x.org\" \
             rel=\"nofollow ugc noopener\">http://x.org</a>)</p>\n"
        );
    }

    #[test]
    fn never_links_other_schemes_or_breaks_out() {
        for text in [
            "javascript:alert(1)",
            "xhttp://example.com",
            "https://\"onmouseover=alert(1)",
            "https://<script>alert(1)</script>",
            "data:text/html,<script>alert(1)</script>",
        ] {
            let html = render_comment(text);
            assert!(!html.contains("<script"), "{html}");
            assert!(!html.contains("<a"), "{html}");
        }
    }

    #[test]
    fn every_field_rule_names_its_field() {
        let settings = CommentSettings {
            max_length: 100,
            ..CommentSettings::default()
        };
        let errors = input(" ", "", "", "").check(&settings).unwrap_err();
        for field in ["comment", "author", "email"] {
            assert!(errors.for_field(field).is_some(), "{field}");
        }
        assert!(errors.for_field("url").is_none());
        let errors = input(&"x".repeat(101), &"n".repeat(101), "nobody", "javascript:x")
            .check(&settings)
            .unwrap_err();
        assert!(errors.for_field("comment").unwrap().contains("101"));
        assert!(errors.for_field("author").is_some());
        assert!(errors.for_field("email").is_some());
        assert!(errors.for_field("url").is_some());
        for bad in ["a@b", "a b@c.de", "<a>@b.cd", "a@.b.c", "a@b..c", "@b.cd"] {
            assert!(!is_email(bad), "{bad}");
        }
        for bad in [
            "ftp://x.y",
            "https://",
            "https://a b",
            "http://x\"y",
            "//x.y",
        ] {
            assert!(!is_web_url(bad), "{bad}");
        }
        let ok = input(
            &"x".repeat(100),
            " Ann ",
            " Ann@Example.COM",
            "https://ann.example/",
        )
        .check(&settings)
        .unwrap();
        assert_eq!(ok.author_name, "Ann");
        assert_eq!(ok.author_email, "ann@example.com");
        assert_eq!(ok.author_url.as_deref(), Some("https://ann.example/"));
    }

    #[test]
    fn settings_defaults_validate_and_bad_ones_are_named() {
        let mut errors = ValidationErrors::default();
        CommentSettings::default().validate_into(&mut errors);
        assert!(errors.is_empty());
        let bad = CommentSettings {
            max_depth: 0,
            per_page: 0,
            blocklist: vec![" ".into()],
            ..CommentSettings::default()
        };
        bad.validate_into(&mut errors);
        for field in [
            "comments_max_depth",
            "comments_per_page",
            "comments_blocklist",
        ] {
            assert!(errors.for_field(field).is_some(), "{field}");
        }
    }

    #[test]
    fn statuses_round_trip() {
        for status in CommentStatus::ALL {
            assert_eq!(status.as_str().parse::<CommentStatus>(), Ok(status));
        }
        assert!("deleted".parse::<CommentStatus>().is_err());
    }
}
