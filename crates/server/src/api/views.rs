//! The JSON shapes of `/api/v1`, each a `ToSchema` so the OpenAPI document describes
//! exactly what is sent. Times are RFC 3339 strings in UTC; URLs are absolute.

use broadsheet_domain::{Article, Comment, Tag, User};
use chrono::{DateTime, SecondsFormat, Utc};
use chrono_tz::Tz;
use serde::Serialize;
use utoipa::ToSchema;

/// RFC 3339 in UTC, to the second.
pub fn rfc3339(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// An article's author as the API shows them (never their email).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AuthorView {
    pub id: i64,
    pub slug: String,
    pub name: String,
    pub url: String,
}

/// A tag.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TagView {
    pub slug: String,
    pub name: String,
    pub url: String,
}

impl TagView {
    pub fn new(tag: &Tag, base: &str) -> TagView {
        TagView {
            slug: tag.slug.clone(),
            name: tag.name.clone(),
            url: format!("{base}{}", tag.url()),
        }
    }
}

/// A newsroom user with public articles, as their author page shows them.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AuthorProfile {
    pub id: i64,
    pub slug: String,
    pub name: String,
    pub bio: String,
    pub url: String,
}

impl AuthorProfile {
    pub fn new(user: &User, base: &str) -> AuthorProfile {
        AuthorProfile {
            id: user.id.0,
            slug: user.slug.clone(),
            name: user.display_name.clone(),
            bio: user.bio.clone(),
            url: format!("{base}/author/{}/", user.slug),
        }
    }
}

/// An article or page in a listing.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ArticleSummary {
    pub id: i64,
    /// `article` or `page`.
    pub kind: String,
    pub slug: String,
    pub title: String,
    pub excerpt: String,
    /// Where readers read it.
    pub url: String,
    pub published_at: Option<String>,
    pub updated_at: String,
    pub author: AuthorView,
    pub tags: Vec<TagView>,
    pub reading_time_minutes: u32,
    pub word_count: u32,
    pub cover_image: Option<String>,
    pub featured: bool,
}

impl ArticleSummary {
    pub fn new(article: &Article, tz: Tz, base: &str) -> ArticleSummary {
        ArticleSummary {
            id: article.id.0,
            kind: article.kind.as_str().to_owned(),
            slug: article.slug.clone(),
            title: article.title.clone(),
            excerpt: article.excerpt.clone(),
            url: format!("{base}{}", article.permalink(tz)),
            published_at: article.published_at.map(rfc3339),
            updated_at: rfc3339(article.updated_at),
            author: AuthorView {
                id: article.author.id.0,
                slug: article.author.slug.clone(),
                name: article.author.display_name.clone(),
                url: format!("{base}{}", article.author.url()),
            },
            tags: article.tags.iter().map(|t| TagView::new(t, base)).collect(),
            reading_time_minutes: article.read_time.minutes(),
            word_count: article.word_count,
            cover_image: article.cover_image.clone(),
            featured: article.featured,
        }
    }
}

/// One article or page with its body and its readers' engagement.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ArticleFull {
    #[serde(flatten)]
    pub summary: ArticleSummary,
    /// The body, rendered and sanitised.
    pub body_html: String,
    /// Likes, reactions, ratings and comments as the page shows them
    /// (`GET /api/v1/articles/{id}/engagement`); `null` for a page.
    #[schema(value_type = Option<Object>)]
    pub engagement: Option<serde_json::Value>,
}

/// An article as the newsroom sees it through a token: its source and status too.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ManagedArticle {
    #[serde(flatten)]
    pub summary: ArticleSummary,
    /// `draft`, `scheduled` or `published`.
    pub status: String,
    /// `markdown` or `html`.
    pub format: String,
    /// What the writer wrote.
    pub source: String,
    pub body_html: String,
    pub created_at: String,
}

impl ManagedArticle {
    pub fn new(article: &Article, tz: Tz, base: &str) -> ManagedArticle {
        ManagedArticle {
            summary: ArticleSummary::new(article, tz, base),
            status: article.status.as_str().to_owned(),
            format: article.format.as_str().to_owned(),
            source: article.source.clone(),
            body_html: article.body_html.clone(),
            created_at: rfc3339(article.created_at),
        }
    }
}

/// A page of results with the totals.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub total: u64,
    pub page: u32,
    pub per_page: u32,
    pub pages: u32,
}

/// A comment as moderators see it (with the commenter's email and why it was held).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ModeratedComment {
    pub id: i64,
    pub article_id: i64,
    pub parent_id: Option<i64>,
    /// `pending`, `approved`, `spam` or `trash`.
    pub status: String,
    pub author_name: String,
    pub author_email: String,
    pub author_url: Option<String>,
    pub body: String,
    pub body_html: String,
    /// Why the screen held it or took it for spam.
    pub reason: Option<String>,
    pub created_at: String,
}

impl ModeratedComment {
    pub fn new(comment: &Comment) -> ModeratedComment {
        ModeratedComment {
            id: comment.id.0,
            article_id: comment.article_id.0,
            parent_id: comment.parent_id.map(|p| p.0),
            status: comment.status.as_str().to_owned(),
            author_name: comment.author_name.clone(),
            author_email: comment.author_email.clone(),
            author_url: comment.author_url.clone(),
            body: comment.body.clone(),
            body_html: comment.body_html.clone(),
            reason: comment.reason.clone(),
            created_at: rfc3339(comment.created_at),
        }
    }
}

/// An image in the media library.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MediaItem {
    pub id: i64,
    pub url: String,
    pub width: u32,
    pub height: u32,
    pub alt: String,
    pub filename: String,
    pub content_type: String,
    pub size: u64,
    /// What to put in an article's Markdown to show the image.
    pub markdown: String,
    pub created_at: String,
}

/// The error body of every failed request.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Machine-readable: `not_found`, `bad_request`, `unauthorized`, `forbidden`,
    /// `conflict`, `precondition_failed`, `payload_too_large`, `unsupported_media_type`,
    /// `validation_failed`, `rate_limited`, `internal`, ...
    pub code: String,
    pub message: String,
    /// The (first) input field at fault.
    pub field: Option<String>,
    /// Every field problem of a validation error.
    #[schema(value_type = Option<Vec<Object>>)]
    pub fields: Option<serde_json::Value>,
}

/// A JSON object described in prose (answers of the reader endpoints).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(value_type = Object)]
pub struct JsonObject(pub serde_json::Value);
