//! Moving a site in from elsewhere (issue 10): what an import keeps beyond ordinary
//! writes, and the [`ImportStore`] trait through which backends keep it.
//!
//! - **Ids.** A WordPress post or comment keeps its WordPress id as its Broadsheet id
//!   when that id is free (on a fresh site, always), so `/?p=123` and the WordPress
//!   REST API's `id` mean the same thing before and after the move. When the id is
//!   taken, the item gets the next id, and the [`Mapping`] remembers which.
//! - **Idempotence.** Every imported item is recorded by `(source, kind, source id)` in
//!   the same transaction that writes it; an import that finds an item recorded skips
//!   it, so running the same import again changes nothing.
//! - **Old URLs.** A [`LegacyRedirect`] maps a path the old site answered (`/?p=123`,
//!   `/category/news/`, an attachment page) to an article, whose current permalink is
//!   looked up on each request, or to a fixed location.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::article::{Article, ArticleId, ArticleWrite};
use crate::comment::{Comment, CommentId, CommentKind, CommentStatus, NewComment};
use crate::store::StoreResult;
use crate::user::{NewUser, User};

/// What kind of thing a source id names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ImportKind {
    /// A post or a page (WordPress numbers both from one sequence).
    Post,
    Comment,
    /// An author, by login name.
    User,
}

impl ImportKind {
    pub const ALL: [ImportKind; 3] = [ImportKind::Post, ImportKind::Comment, ImportKind::User];

    pub fn as_str(self) -> &'static str {
        match self {
            ImportKind::Post => "post",
            ImportKind::Comment => "comment",
            ImportKind::User => "user",
        }
    }
}

impl fmt::Display for ImportKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ImportKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ImportKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| format!("unknown import kind \"{s}\""))
    }
}

/// One imported item: `(source, kind, source_id)` became our `local_id`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mapping {
    /// Where it came from, such as the WordPress site's URL.
    pub source: String,
    pub kind: ImportKind,
    pub source_id: String,
    pub local_id: i64,
}

/// A comment on its way in: the comment (its `parent_id` is ignored), and the source's
/// ids for it and its parent, which the store maps to local ones.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportedComment {
    pub source_id: String,
    pub wanted: Option<CommentId>,
    /// The parent's source id: imported before, or earlier in the same call.
    pub parent: Option<String>,
    pub comment: NewComment,
    pub kind: CommentKind,
}

/// What a store's `import_comments` wrote, for what it writes once per batch: the
/// `(source id, local id)` of each comment stored, and the approved ones' count per
/// article and posting day.
pub struct ImportedBatch<'a> {
    pub mapped: Vec<(&'a str, i64)>,
    /// Each article's days in order, each day once.
    pub approved: BTreeMap<ArticleId, Vec<(NaiveDate, i64)>>,
}

impl<'a> ImportedBatch<'a> {
    /// `results` are the store's answers for `items`, in the same order.
    pub fn of(items: &'a [ImportedComment], results: &[StoreResult<Comment>]) -> Self {
        let mut mapped = Vec::with_capacity(items.len());
        let mut days: BTreeMap<ArticleId, BTreeMap<NaiveDate, i64>> = BTreeMap::new();
        for (item, result) in items.iter().zip(results) {
            let Ok(stored) = result else { continue };
            mapped.push((item.source_id.as_str(), stored.id.0));
            if stored.status == CommentStatus::Approved {
                *days
                    .entry(stored.article_id)
                    .or_default()
                    .entry(stored.day)
                    .or_default() += 1;
            }
        }
        ImportedBatch {
            mapped,
            approved: days
                .into_iter()
                .map(|(article, days)| (article, days.into_iter().collect()))
                .collect(),
        }
    }
}

/// Where an old path now leads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LegacyTarget {
    /// The article's permalink, whatever it is when asked (slugs may change later).
    Article(ArticleId),
    /// A site path (`/tag/news/`) or an absolute URL (an attachment's file).
    Location(String),
}

/// An old site's path that answers 301.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LegacyRedirect {
    /// Normalised by [`normalise_path`].
    pub path: String,
    pub target: LegacyTarget,
}

/// The form old paths are kept and looked up in: percent-decoded, lowercase ASCII
/// letters left alone, a trailing slash added to paths (not to `/?p=1` forms), runs of
/// slashes collapsed. `None` for something that is no site path.
pub fn normalise_path(path: &str) -> Option<String> {
    let (path, query) = match path.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (path, None),
    };
    if !path.starts_with('/') || path.contains('\\') {
        return None;
    }
    let decoded = percent_decode(path);
    let mut out = String::with_capacity(decoded.len() + 1);
    for segment in decoded.split('/').filter(|s| !s.is_empty()) {
        out.push('/');
        out.push_str(segment);
    }
    out.push('/');
    if let Some(query) = query.filter(|q| !q.is_empty()) {
        out.push('?');
        out.push_str(query);
    }
    Some(out)
}

/// Decodes `%XX` escapes; invalid escapes and invalid UTF-8 are kept as they are.
pub fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let (Some(hi), Some(lo)) = (hex(bytes[i + 1]), hex(bytes[i + 2]))
        {
            out.push((hi * 16 + lo) as u8);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap_or_else(|_| text.to_owned())
}

/// The store's side of an import. Each method is one transaction that also records
/// the mapping, so an interrupted import resumes where it stopped.
#[async_trait]
pub trait ImportStore: Send + Sync {
    /// The local id an item of `source` became, if it was imported before.
    async fn imported_id(
        &self,
        source: &str,
        kind: ImportKind,
        source_id: &str,
    ) -> StoreResult<Option<i64>>;

    /// Creates an imported author: inactive and without a password (an admin activates
    /// them), or, when a user with the email exists, maps the author to that user.
    /// `Conflict { field: "slug" }` when the slug is taken by another email.
    async fn import_user(&self, source: &str, source_id: &str, user: &NewUser)
    -> StoreResult<User>;

    /// Inserts an article under `wanted` as its id when that id is free (else the next
    /// one), with the given creation and last-modified times, as `insert_article` otherwise
    /// does (slug rules, tags, a revision, a change notice).
    async fn import_article(
        &self,
        source: &str,
        source_id: &str,
        wanted: Option<ArticleId>,
        article: &ArticleWrite,
        created_at: DateTime<Utc>,
        updated_at: DateTime<Utc>,
    ) -> StoreResult<Article>;

    /// Inserts comments of any kind in one transaction, in order, each under its
    /// `wanted` id when free (else the next one), moving the counters as
    /// `insert_comment` does. Each comment succeeds or fails alone (a savepoint each):
    /// `NotFound` when its parent was not imported or is on another article.
    async fn import_comments(
        &self,
        source: &str,
        comments: &[ImportedComment],
    ) -> StoreResult<Vec<StoreResult<Comment>>>;

    /// Sets (or replaces) where old paths lead, in one write; each `path` as
    /// [`normalise_path`] makes it. Returns how many were new or changed (so a second
    /// identical import reports none). `NotFound` when a target article does not exist.
    async fn put_legacy_redirects(&self, redirects: &[LegacyRedirect]) -> StoreResult<u64>;

    /// Where an old path leads; `NotFound` when it is no old path.
    async fn legacy_redirect(&self, path: &str) -> StoreResult<LegacyTarget>;

    /// Makes `key` the site's signing key (see `RevisionStore::signing_key`), as
    /// restoring a site does so that its signed links and avatars stay the same.
    /// Processes that loaded the old key keep it until they restart.
    async fn replace_signing_key(&self, key: [u8; 32]) -> StoreResult<()>;

    /// Every old path by path, and every mapping by source, kind and source id: what a
    /// dump carries.
    async fn import_records(&self) -> StoreResult<(Vec<LegacyRedirect>, Vec<Mapping>)>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_batch_maps_what_was_stored_and_counts_approved_comments_by_article_and_day() {
        use crate::engagement::NetworkHash;
        let day = |d| NaiveDate::from_ymd_opt(2026, 3, d).expect("date");
        let comment = |id: i64, article: i64, status, d| Comment {
            id: CommentId(id),
            article_id: ArticleId(article),
            parent_id: None,
            status,
            kind: CommentKind::Comment,
            author_name: "Ann".into(),
            author_email: "ann@example.org".into(),
            author_url: None,
            body: "Hi".into(),
            body_html: "<p>Hi</p>".into(),
            reader: None,
            network: NetworkHash("n".into()),
            notify_replies: false,
            reason: None,
            day: day(d),
            created_at: Utc::now(),
            updated_at: Utc::now(),
        };
        let item = |source_id: &str| ImportedComment {
            source_id: source_id.into(),
            wanted: None,
            parent: None,
            comment: NewComment {
                article_id: ArticleId(1),
                parent_id: None,
                status: CommentStatus::Approved,
                author_name: "Ann".into(),
                author_email: "ann@example.org".into(),
                author_url: None,
                body: "Hi".into(),
                body_html: "<p>Hi</p>".into(),
                reader: None,
                network: NetworkHash("n".into()),
                notify_replies: false,
                reason: None,
                day: day(1),
                created_at: Utc::now(),
            },
            kind: CommentKind::Comment,
        };
        let items = [item("a"), item("b"), item("c"), item("d"), item("e")];
        let results = vec![
            Ok(comment(10, 1, CommentStatus::Approved, 2)),
            Err(crate::StoreError::NotFound),
            Ok(comment(12, 1, CommentStatus::Approved, 2)),
            Ok(comment(13, 2, CommentStatus::Pending, 1)),
            Ok(comment(14, 1, CommentStatus::Approved, 1)),
        ];
        let batch = ImportedBatch::of(&items, &results);
        assert_eq!(batch.mapped, [("a", 10), ("c", 12), ("d", 13), ("e", 14)]);
        assert_eq!(
            batch.approved.into_iter().collect::<Vec<_>>(),
            [(ArticleId(1), vec![(day(1), 1), (day(2), 2)])]
        );
    }

    #[test]
    fn paths_are_normalised() {
        assert_eq!(
            normalise_path("/2013/01/11/foo").as_deref(),
            Some("/2013/01/11/foo/")
        );
        assert_eq!(normalise_path("//a//b/").as_deref(), Some("/a/b/"));
        assert_eq!(normalise_path("/?p=12").as_deref(), Some("/?p=12"));
        assert_eq!(normalise_path("/").as_deref(), Some("/"));
        assert_eq!(
            normalise_path("/%E6%96%87%e7%ab%a0/").as_deref(),
            Some("/文章/")
        );
        assert_eq!(normalise_path("http://x/"), None);
        assert_eq!(normalise_path("/a\\b"), None);
    }

    #[test]
    fn bad_escapes_are_kept() {
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("%zz%4"), "%zz%4");
        assert_eq!(percent_decode("%ff"), "%ff");
    }
}
