//! Revisions: every save of an article keeps a snapshot of what the writer controls, so
//! an editor can see what changed and go back.
//!
//! Stores write the revision in the same transaction as the article, so "every save
//! keeps one" holds whoever saves (the admin, the CLI, an import). Autosaves are the
//! exception that keeps the list readable: an autosave replaces the article's latest
//! revision when that one is itself an autosave, so a writer typing for an hour leaves
//! one autosave behind their last real save, not hundreds.
//!
//! [`RevisionStore`] also holds the other newsroom-only article operations the admin
//! needs: deleting, the tag list for suggestions and the key that signs preview links.

use std::fmt;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::article::{
    Article, ArticleId, ArticleInput, ArticleWrite, AuthorRef, ContentKind, SourceFormat, Status,
};
use crate::store::StoreResult;
use crate::tag::Tag;
use crate::user::UserId;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RevisionId(pub i64);

impl fmt::Display for RevisionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// One kept save of an article: the fields a writer sets, not what the domain derives
/// from them (HTML, read time), which restoring computes again.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Revision {
    pub id: RevisionId,
    pub article_id: ArticleId,
    pub kind: ContentKind,
    pub title: String,
    pub slug: String,
    pub excerpt: String,
    pub source: String,
    pub format: SourceFormat,
    /// Tag names in the writer's order.
    pub tags: Vec<String>,
    pub status: Status,
    pub published_at: Option<DateTime<Utc>>,
    pub cover_image: Option<String>,
    pub featured: bool,
    pub saved_at: DateTime<Utc>,
    /// Who saved: the signed-in user, or the author for saves without one (CLI, import).
    pub saved_by: AuthorRef,
    pub autosave: bool,
}

/// One field that differs between a revision and the article as it is now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldChange {
    pub field: &'static str,
    /// As the revision has it.
    pub then: String,
    /// As the article has it now.
    pub now: String,
}

impl Revision {
    /// The fields other than the body that differ from `current`, in form order. Dates
    /// are shown in UTC (RFC 3339); the body is diffed line by line by the caller.
    pub fn changed_fields(&self, current: &Article) -> Vec<FieldChange> {
        let tags_now: Vec<String> = current.tags.iter().map(|t| t.name.clone()).collect();
        let date = |at: Option<DateTime<Utc>>| at.map(|at| at.to_rfc3339()).unwrap_or_default();
        let pairs = [
            ("title", self.title.clone(), current.title.clone()),
            ("slug", self.slug.clone(), current.slug.clone()),
            ("excerpt", self.excerpt.clone(), current.excerpt.clone()),
            ("tags", self.tags.join(", "), tags_now.join(", ")),
            (
                "kind",
                self.kind.as_str().into(),
                current.kind.as_str().into(),
            ),
            (
                "status",
                self.status.as_str().into(),
                current.status.as_str().into(),
            ),
            ("date", date(self.published_at), date(current.published_at)),
            (
                "cover image",
                self.cover_image.clone().unwrap_or_default(),
                current.cover_image.clone().unwrap_or_default(),
            ),
            (
                "featured",
                self.featured.to_string(),
                current.featured.to_string(),
            ),
            (
                "format",
                self.format.as_str().into(),
                current.format.as_str().into(),
            ),
        ];
        pairs
            .into_iter()
            .filter(|(_, then, now)| then != now)
            .map(|(field, then, now)| FieldChange { field, then, now })
            .collect()
    }
}

impl Revision {
    /// The input that saves this revision again over its article, by `author` (the
    /// article's author now, which revisions do not change).
    pub fn to_input(&self, author: UserId) -> ArticleInput {
        ArticleInput {
            kind: self.kind,
            title: self.title.clone(),
            slug: Some(self.slug.clone()),
            excerpt: Some(self.excerpt.clone()),
            source: self.source.clone(),
            format: self.format,
            tags: self.tags.clone(),
            author_id: author,
            status: self.status,
            published_at: self.published_at,
            cover_image: self.cover_image.clone(),
            featured: self.featured,
        }
    }
}

#[async_trait]
pub trait RevisionStore: Send + Sync {
    /// Saves an article as an autosave: like `Store::update_article`, except that the
    /// revision it keeps replaces the article's latest revision when that one is an
    /// autosave too. Only drafts are autosaved: `Conflict { field: "status" }` when the
    /// article is not a draft (any more), so an autosave that was on its way while a
    /// save published the article cannot take it back.
    async fn autosave_article(&self, id: ArticleId, article: &ArticleWrite)
    -> StoreResult<Article>;

    /// An article's revisions, newest first. `NotFound` for an unknown article.
    async fn list_revisions(&self, article: ArticleId) -> StoreResult<Vec<Revision>>;

    async fn revision(&self, id: RevisionId) -> StoreResult<Revision>;

    /// Deletes an article with its revisions, tags, counters and old slugs (which stop
    /// redirecting). Publishes `Article(id)`. `NotFound` for an unknown article.
    async fn delete_article(&self, id: ArticleId) -> StoreResult<()>;

    /// Every tag in use or once used, by name, for the editor's suggestions.
    async fn list_tags(&self) -> StoreResult<Vec<Tag>>;

    /// The key that signs preview links, shared by every node: the first caller's
    /// `candidate` is kept and every later caller gets that one.
    async fn signing_key(&self, candidate: [u8; 32]) -> StoreResult<[u8; 32]>;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::read_time::ReadingSpeed;

    fn article() -> Article {
        let write = ArticleInput {
            kind: ContentKind::Article,
            title: "Now".into(),
            slug: None,
            excerpt: Some("Short".into()),
            source: "Body".into(),
            format: SourceFormat::Markdown,
            tags: vec!["NATO".into(), "Ukraine".into()],
            author_id: UserId(1),
            status: Status::Draft,
            published_at: None,
            cover_image: None,
            featured: false,
        }
        .prepare(ReadingSpeed::default(), crate::clock::now())
        .unwrap();
        let author = AuthorRef {
            id: UserId(1),
            slug: "a".into(),
            display_name: "A".into(),
        };
        Article {
            id: ArticleId(1),
            kind: write.kind,
            slug: write.slug,
            title: write.title,
            excerpt: write.excerpt,
            source: write.source,
            format: write.format,
            body_html: write.body_html,
            body_text: write.body_text,
            tags: write.tags,
            author,
            status: write.status,
            published_at: None,
            created_at: crate::clock::now(),
            updated_at: crate::clock::now(),
            read_time: write.read_time,
            word_count: write.word_count,
            cover_image: None,
            featured: false,
        }
    }

    #[test]
    fn changed_fields_names_only_what_differs() {
        let current = article();
        let revision = Revision {
            id: RevisionId(1),
            article_id: current.id,
            kind: current.kind,
            title: "Then".into(),
            slug: current.slug.clone(),
            excerpt: current.excerpt.clone(),
            source: "Older body".into(),
            format: current.format,
            tags: vec!["NATO".into()],
            status: current.status,
            published_at: None,
            cover_image: None,
            featured: true,
            saved_at: current.updated_at,
            saved_by: current.author.clone(),
            autosave: false,
        };
        let changes = revision.changed_fields(&current);
        let fields: Vec<_> = changes.iter().map(|c| c.field).collect();
        assert_eq!(fields, ["title", "tags", "featured"]);
        assert_eq!(changes[0].then, "Then");
        assert_eq!(changes[0].now, "Now");
        assert_eq!(changes[1].then, "NATO");
        assert_eq!(changes[1].now, "NATO, Ukraine");

        let restored = revision
            .to_input(UserId(9))
            .prepare(ReadingSpeed::default(), crate::clock::now())
            .unwrap();
        assert_eq!(restored.title, "Then");
        assert_eq!(restored.source, "Older body");
        assert_eq!(restored.excerpt, "Short");
        assert_eq!(restored.tags.len(), 1);
        assert!(restored.featured);
        assert_eq!(restored.author_id, UserId(9));
    }
}
