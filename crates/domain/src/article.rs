//! Articles and pages: what a writer gives ([`ArticleInput`]), what the domain makes of
//! it for a store ([`ArticleWrite`]) and what a store gives back ([`Article`]).
//!
//! Pages (About, Contact) are articles of another [`ContentKind`]: they share slugs,
//! rendering and revisions, but live at `/slug/` rather than under a date and stay
//! out of the home page, tags and feeds.

use chrono::{DateTime, Datelike, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

use crate::read_time::{self, ReadTime, ReadingSpeed};
use crate::render;
use crate::tag::{self, Tag};
use crate::{UserId, ValidationErrors};

/// Longest title we accept, in characters.
pub const MAX_TITLE_CHARS: usize = 300;
/// Longest hand-written excerpt, in characters.
pub const MAX_EXCERPT_CHARS: usize = 1000;
/// Length of the excerpt made from the body when the writer gave none.
pub const AUTO_EXCERPT_CHARS: usize = 220;
/// Most tags one article may carry.
pub const MAX_TAGS: usize = 30;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ArticleId(pub i64);

impl fmt::Display for ArticleId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// Whether a piece of content is a dated article or a standing page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ContentKind {
    Article,
    Page,
}

impl ContentKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ContentKind::Article => "article",
            ContentKind::Page => "page",
        }
    }
}

impl FromStr for ContentKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "article" | "post" => Ok(ContentKind::Article),
            "page" => Ok(ContentKind::Page),
            _ => Err(format!("unknown kind \"{s}\"; expected article or page")),
        }
    }
}

/// Where an article is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Draft,
    /// Published automatically once `published_at` has passed.
    Scheduled,
    Published,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Draft => "draft",
            Status::Scheduled => "scheduled",
            Status::Published => "published",
        }
    }
}

impl FromStr for Status {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "draft" => Ok(Status::Draft),
            "scheduled" => Ok(Status::Scheduled),
            "published" => Ok(Status::Published),
            _ => Err(format!(
                "unknown status \"{s}\"; expected draft, scheduled or published"
            )),
        }
    }
}

/// The language a body is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SourceFormat {
    Markdown,
    /// Imported HTML, kept as sanitised HTML.
    Html,
}

impl SourceFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            SourceFormat::Markdown => "markdown",
            SourceFormat::Html => "html",
        }
    }
}

impl FromStr for SourceFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "markdown" => Ok(SourceFormat::Markdown),
            "html" => Ok(SourceFormat::Html),
            _ => Err(format!("unknown format \"{s}\"; expected markdown or html")),
        }
    }
}

/// What a writer submits, from a file, a form or the API. Nothing here is trusted.
#[derive(Debug, Clone)]
pub struct ArticleInput {
    pub kind: ContentKind,
    pub title: String,
    /// Derived from the title when absent.
    pub slug: Option<String>,
    /// Made from the body when absent.
    pub excerpt: Option<String>,
    pub source: String,
    pub format: SourceFormat,
    pub tags: Vec<String>,
    pub author_id: UserId,
    pub status: Status,
    /// When it was (or will be) published; "now" for a published article without one.
    pub published_at: Option<DateTime<Utc>>,
    pub cover_image: Option<String>,
    pub featured: bool,
}

/// A validated article, rendered and counted, ready for a store to keep.
#[derive(Debug, Clone, PartialEq)]
pub struct ArticleWrite {
    pub kind: ContentKind,
    pub slug: String,
    pub title: String,
    pub excerpt: String,
    pub source: String,
    pub format: SourceFormat,
    pub body_html: String,
    pub body_text: String,
    pub tags: Vec<Tag>,
    pub author_id: UserId,
    pub status: Status,
    pub published_at: Option<DateTime<Utc>>,
    pub read_time: ReadTime,
    pub word_count: u32,
    pub cover_image: Option<String>,
    pub featured: bool,
    /// Who is saving, kept on the revision the save makes; `None` means the author
    /// (the CLI, an import).
    pub saved_by: Option<UserId>,
}

impl ArticleWrite {
    /// Who the revision of this save names.
    pub fn saver(&self) -> UserId {
        self.saved_by.unwrap_or(self.author_id)
    }
}

impl ArticleInput {
    /// Validates the input and renders it: every problem is reported at once, by field.
    ///
    /// A published article dated in the future becomes scheduled; a scheduled one needs
    /// a date.
    pub fn prepare(
        self,
        speed: ReadingSpeed,
        now: DateTime<Utc>,
    ) -> Result<ArticleWrite, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let title = self.title.trim().to_owned();
        if title.is_empty() {
            errors.add("title", "is required");
        } else if title.chars().count() > MAX_TITLE_CHARS {
            errors.add(
                "title",
                format!("must be at most {MAX_TITLE_CHARS} characters"),
            );
        }
        let slug = match self.slug.as_deref().map(str::trim) {
            Some(given) if !given.is_empty() => {
                if let Err(problem) = crate::slug::validate(given) {
                    errors.add("slug", problem);
                }
                given.to_owned()
            }
            _ => {
                let derived = crate::slug::slugify(&title);
                if !title.is_empty()
                    && let Err(problem) = crate::slug::validate(&derived)
                {
                    errors.add(
                        "slug",
                        format!("could not be made from the title ({problem}); give one"),
                    );
                }
                derived
            }
        };
        let tags = tag::normalise(&self.tags);
        if tags.len() > MAX_TAGS {
            errors.add("tags", format!("at most {MAX_TAGS} tags"));
        }
        let excerpt = self.excerpt.as_deref().map(str::trim).unwrap_or_default();
        if excerpt.chars().count() > MAX_EXCERPT_CHARS {
            errors.add(
                "excerpt",
                format!("must be at most {MAX_EXCERPT_CHARS} characters"),
            );
        }
        let (status, published_at) = match (self.status, self.published_at) {
            (Status::Scheduled, None) => {
                errors.add("date", "a scheduled article needs a publication date");
                (Status::Scheduled, None)
            }
            (Status::Published, None) => (Status::Published, Some(now)),
            (Status::Published, Some(at)) if at > now => (Status::Scheduled, Some(at)),
            (status, at) => (status, at.map(crate::clock::truncate)),
        };
        errors.into_result()?;

        let RenderedBody {
            rendered,
            read_time,
            word_count,
        } = RenderedBody::of(&self.source, self.format, speed);
        let excerpt = if excerpt.is_empty() {
            let lead = render::lead_text(&rendered.html);
            let source = if lead.is_empty() {
                &rendered.text
            } else {
                &lead
            };
            render::excerpt(source, AUTO_EXCERPT_CHARS)
        } else {
            excerpt.to_owned()
        };
        Ok(ArticleWrite {
            kind: self.kind,
            slug,
            title,
            excerpt,
            source: self.source,
            format: self.format,
            read_time,
            word_count,
            body_html: rendered.html,
            body_text: rendered.text,
            tags,
            author_id: self.author_id,
            status,
            published_at,
            cover_image: self
                .cover_image
                .map(|c| c.trim().to_owned())
                .filter(|c| !c.is_empty()),
            featured: self.featured,
            saved_by: None,
        })
    }
}

/// A body rendered and counted: what a save stores and what the editor's live preview
/// shows, from the one renderer.
#[derive(Debug, Clone, PartialEq)]
pub struct RenderedBody {
    pub rendered: render::Rendered,
    pub read_time: ReadTime,
    /// Words, with CJK characters counted one each.
    pub word_count: u32,
}

impl RenderedBody {
    pub fn of(source: &str, format: SourceFormat, speed: ReadingSpeed) -> RenderedBody {
        let rendered = match format {
            SourceFormat::Markdown => render::markdown(source),
            SourceFormat::Html => render::from_html(source),
        };
        let counted = read_time::count(&rendered.text);
        RenderedBody {
            read_time: ReadTime(read_time::seconds(counted, rendered.images, speed)),
            word_count: counted.words + counted.cjk_chars,
            rendered,
        }
    }
}

/// The author of an article as pages show them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthorRef {
    pub id: UserId,
    pub slug: String,
    pub display_name: String,
}

impl AuthorRef {
    pub fn url(&self) -> String {
        format!("/author/{}/", self.slug)
    }
}

/// An article or page as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Article {
    pub id: ArticleId,
    pub kind: ContentKind,
    pub slug: String,
    pub title: String,
    pub excerpt: String,
    pub source: String,
    pub format: SourceFormat,
    pub body_html: String,
    pub body_text: String,
    pub tags: Vec<Tag>,
    pub author: AuthorRef,
    pub status: Status,
    pub published_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub read_time: ReadTime,
    pub word_count: u32,
    pub cover_image: Option<String>,
    pub featured: bool,
}

impl Article {
    /// Whether readers may see it at `now`.
    pub fn is_public(&self, now: DateTime<Utc>) -> bool {
        is_public(self.status, self.published_at, now)
    }

    /// The public path: `/YYYY/MM/DD/slug/` for articles (the date in the site's time
    /// zone, as WordPress does, so imported sites keep their URLs), `/slug/` for pages.
    pub fn permalink(&self, tz: chrono_tz::Tz) -> String {
        permalink(self.kind, &self.slug, self.published_at, tz)
    }

    /// Whether the article was edited after it was published (worth showing "Updated").
    /// Both the first save and the publication date must lie more than a minute before
    /// the last save: an article saved once with an earlier date (an import, a
    /// backdated story) was never edited.
    pub fn was_updated(&self) -> bool {
        let edited = |since: DateTime<Utc>| self.updated_at - since > chrono::TimeDelta::minutes(1);
        edited(self.created_at) && self.published_at.is_some_and(edited)
    }

    /// The write that stores this article again as it is, as restoring a dump does:
    /// what the domain prepared is kept, nothing is rendered or counted again.
    pub fn to_write(&self) -> ArticleWrite {
        ArticleWrite {
            kind: self.kind,
            slug: self.slug.clone(),
            title: self.title.clone(),
            excerpt: self.excerpt.clone(),
            source: self.source.clone(),
            format: self.format,
            body_html: self.body_html.clone(),
            body_text: self.body_text.clone(),
            tags: self.tags.clone(),
            author_id: self.author.id,
            status: self.status,
            published_at: self.published_at,
            read_time: self.read_time,
            word_count: self.word_count,
            cover_image: self.cover_image.clone(),
            featured: self.featured,
            saved_by: None,
        }
    }
}

/// Whether readers may see an article in this state at `now` (see
/// [`Article::is_public`]), for callers that hold only these fields.
pub fn is_public(status: Status, published_at: Option<DateTime<Utc>>, now: DateTime<Utc>) -> bool {
    matches!(status, Status::Published | Status::Scheduled)
        && published_at.is_some_and(|at| at <= now)
}

/// The public path of an article or page (see [`Article::permalink`]), for callers
/// that hold only these fields.
pub fn permalink(
    kind: ContentKind,
    slug: &str,
    published_at: Option<DateTime<Utc>>,
    tz: chrono_tz::Tz,
) -> String {
    match (kind, published_at) {
        (ContentKind::Article, Some(at)) => {
            let local = at.with_timezone(&tz);
            format!(
                "/{:04}/{:02}/{:02}/{slug}/",
                local.year(),
                local.month(),
                local.day(),
            )
        }
        _ => format!("/{slug}/"),
    }
}

/// What a store finds under a slug.
#[derive(Debug, Clone, PartialEq)]
pub enum SlugLookup {
    /// The slug is the article's current one.
    Current(Article),
    /// The slug is one the article had before; the site answers 301 to its new URL.
    Moved(Article),
}

/// Which articles a listing may include.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Visibility {
    /// What readers may see at this instant.
    Public { now: DateTime<Utc> },
    /// Everything, for the newsroom.
    Any,
}

/// A listing request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArticleQuery {
    pub kind: ContentKind,
    pub visibility: Visibility,
    /// A tag slug.
    pub tag: Option<String>,
    pub author: Option<UserId>,
    /// Only articles in this state (the newsroom's listing; readers' listings leave it
    /// `None` and rely on `visibility`).
    pub status: Option<Status>,
    /// Only articles whose title contains this text, ignoring case.
    pub title_search: Option<String>,
    /// Only articles published at or after this instant.
    pub published_from: Option<DateTime<Utc>>,
    /// Only articles published before this instant.
    pub published_before: Option<DateTime<Utc>>,
    /// 1-based.
    pub page: u32,
    pub per_page: u32,
}

impl ArticleQuery {
    /// Published articles as readers see them now, newest first.
    pub fn public(now: DateTime<Utc>, page: u32, per_page: u32) -> Self {
        ArticleQuery {
            kind: ContentKind::Article,
            visibility: Visibility::Public { now },
            tag: None,
            author: None,
            status: None,
            title_search: None,
            published_from: None,
            published_before: None,
            page: page.max(1),
            per_page: per_page.clamp(1, 100),
        }
    }

    /// The title search as a SQL `LIKE` pattern (`%text%`, lowercased), with the
    /// wildcards `%` and `_` and the escape character `\` escaped, for
    /// `lower(title) LIKE pattern ESCAPE '\'`. `None` when there is no search or it is
    /// blank.
    pub fn title_pattern(&self) -> Option<String> {
        let text = self.title_search.as_deref()?.trim();
        if text.is_empty() {
            return None;
        }
        let mut pattern = String::with_capacity(text.len() + 2);
        pattern.push('%');
        for c in text.to_lowercase().chars() {
            if matches!(c, '%' | '_' | '\\') {
                pattern.push('\\');
            }
            pattern.push(c);
        }
        pattern.push('%');
        Some(pattern)
    }

    /// Rows to skip for this page.
    pub fn offset(&self) -> u64 {
        u64::from(self.page.saturating_sub(1)) * u64::from(self.per_page)
    }
}

/// One page of a listing with the total, for pagination.
#[derive(Debug, Clone, PartialEq)]
pub struct Paged<T> {
    pub items: Vec<T>,
    pub total: u64,
    pub page: u32,
    pub per_page: u32,
}

impl<T> Paged<T> {
    /// Number of pages (at least 1, so an empty listing still has its first page).
    pub fn pages(&self) -> u32 {
        let per = u64::from(self.per_page.max(1));
        (self.total.div_ceil(per)).max(1) as u32
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn input() -> ArticleInput {
        ArticleInput {
            kind: ContentKind::Article,
            title: "  Hello, World  ".into(),
            slug: None,
            excerpt: None,
            source: "Some **bold** words here.\n\n![pic](/a.png)".into(),
            format: SourceFormat::Markdown,
            tags: vec!["Pete Hegseth".into(), "NATO".into()],
            author_id: UserId(1),
            status: Status::Published,
            published_at: None,
            cover_image: None,
            featured: false,
        }
    }

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap()
    }

    #[test]
    fn prepare_renders_counts_and_derives() {
        let w = input().prepare(ReadingSpeed::default(), now()).unwrap();
        assert_eq!(w.title, "Hello, World");
        assert_eq!(w.slug, "hello-world");
        assert_eq!(w.excerpt, "Some bold words here.");
        assert!(w.body_html.contains("<strong>bold</strong>"));
        assert_eq!(w.word_count, 4);
        assert_eq!(w.read_time, ReadTime(1 + 12)); // 4 words ≈ 1.2 s, one image 12 s
        assert_eq!(w.published_at, Some(now()));
        assert_eq!(w.tags[0].hashtag(), "#PeteHegseth");
    }

    #[test]
    fn prepare_reports_every_problem() {
        let mut bad = input();
        bad.title = " ".into();
        bad.slug = Some("Not A Slug".into());
        bad.status = Status::Scheduled;
        let errors = bad.prepare(ReadingSpeed::default(), now()).unwrap_err();
        assert_eq!(errors.for_field("title"), Some("is required"));
        assert!(errors.for_field("slug").is_some());
        assert!(errors.for_field("date").is_some());
    }

    #[test]
    fn future_published_becomes_scheduled() {
        let mut later = input();
        later.published_at = Some(now() + chrono::TimeDelta::days(1));
        let w = later.prepare(ReadingSpeed::default(), now()).unwrap();
        assert_eq!(w.status, Status::Scheduled);
    }

    /// `w` as a store gives it back.
    fn stored(w: ArticleWrite) -> Article {
        Article {
            id: ArticleId(1),
            kind: w.kind,
            slug: w.slug,
            title: w.title,
            excerpt: w.excerpt,
            source: w.source,
            format: w.format,
            body_html: w.body_html,
            body_text: w.body_text,
            tags: w.tags,
            author: AuthorRef {
                id: w.author_id,
                slug: "a".into(),
                display_name: "A".into(),
            },
            status: w.status,
            published_at: w.published_at,
            created_at: now(),
            updated_at: now(),
            read_time: w.read_time,
            word_count: w.word_count,
            cover_image: w.cover_image,
            featured: w.featured,
        }
    }

    #[test]
    fn a_stored_article_gives_back_its_write() {
        let mut given = input();
        given.cover_image = Some("/media/a.jpg".into());
        given.featured = true;
        let w = given.prepare(ReadingSpeed::default(), now()).unwrap();
        assert_eq!(stored(w.clone()).to_write(), w);
    }

    #[test]
    fn permalink_uses_the_site_time_zone() {
        let w = input().prepare(ReadingSpeed::default(), now()).unwrap();
        let mut article = Article {
            published_at: Some(Utc.with_ymd_and_hms(2026, 3, 1, 23, 30, 0).unwrap()),
            ..stored(w)
        };
        assert_eq!(
            article.permalink(chrono_tz::UTC),
            "/2026/03/01/hello-world/"
        );
        assert_eq!(
            article.permalink(chrono_tz::Europe::Berlin),
            "/2026/03/02/hello-world/"
        );
        assert!(article.is_public(Utc.with_ymd_and_hms(2026, 3, 2, 0, 0, 0).unwrap()));
        assert!(!article.is_public(now()));
        article.kind = ContentKind::Page;
        assert_eq!(article.permalink(chrono_tz::UTC), "/hello-world/");

        // Saved once with an earlier date (a backdated story): never edited.
        article.published_at = Some(now() - chrono::TimeDelta::days(3));
        assert!(!article.was_updated());
        // Saved again an hour after creation: edited.
        article.updated_at = now() + chrono::TimeDelta::hours(1);
        assert!(article.was_updated());
    }

    #[test]
    fn title_pattern_escapes_like_wildcards() {
        let mut query = ArticleQuery::public(now(), 1, 10);
        assert_eq!(query.title_pattern(), None);
        query.title_search = Some("  ".into());
        assert_eq!(query.title_pattern(), None);
        query.title_search = Some(" 100%_Sure\\ ".into());
        assert_eq!(
            query.title_pattern().as_deref(),
            Some("%100\\%\\_sure\\\\%")
        );
    }

    #[test]
    fn pages_count_at_least_one() {
        let paged: Paged<()> = Paged {
            items: vec![],
            total: 0,
            page: 1,
            per_page: 10,
        };
        assert_eq!(paged.pages(), 1);
        assert_eq!(Paged::<()> { total: 21, ..paged }.pages(), 3);
    }
}
