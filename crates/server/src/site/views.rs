//! What templates see. Handlers turn domain values into these view models, so the
//! templates get ready-made strings (URLs, dates in the site's time zone, read times)
//! and never a field they should not print, such as an author's email.
//!
//! Everything here is plain data that the templates escape, except the article body,
//! which the domain sanitised at save and which is handed over as a safe value.

use broadsheet_domain::read_time::ReadTime;
use broadsheet_domain::{Article, EngagementView, ReaderChoices, SiteSettings, Tag, User};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use minijinja::Value;
use serde::Serialize;

use crate::engagement::routes::ApiUrls;

/// The site itself: masthead, navigation, language.
#[derive(Debug, Clone, Serialize)]
pub struct SiteView {
    pub title: String,
    pub description: String,
    pub language: String,
    pub base_url: String,
    /// Public pages (About, Contact), for the navigation.
    pub nav: Vec<NavLink>,
    /// The current year in the site's time zone, for the footer.
    pub year: i32,
}

impl SiteView {
    pub fn new(
        settings: &SiteSettings,
        base_url: &str,
        nav: Vec<NavLink>,
        now: DateTime<Utc>,
    ) -> Self {
        use chrono::Datelike;
        SiteView {
            title: settings.title.clone(),
            description: settings.description.clone(),
            language: settings.language.clone(),
            base_url: base_url.to_owned(),
            nav,
            year: now.with_timezone(&settings.tz()).year(),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct NavLink {
    pub title: String,
    pub url: String,
}

/// A date as pages show it.
#[derive(Debug, Clone, Serialize)]
pub struct DateView {
    /// RFC 3339 with the site's offset, for `<time datetime>`.
    pub iso: String,
    /// "28 November 2026".
    pub human: String,
    /// "14:05", in the site's time zone.
    pub time: String,
}

impl DateView {
    pub fn new(at: DateTime<Utc>, tz: Tz) -> DateView {
        let local = at.with_timezone(&tz);
        DateView {
            iso: local.to_rfc3339_opts(chrono::SecondsFormat::Secs, false),
            human: local.format("%-d %B %Y").to_string(),
            time: local.format("%H:%M").to_string(),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct ReadTimeView {
    /// "3 min 2 s".
    pub short: String,
    /// "3 minutes, 2 seconds", for assistive technology and tooltips.
    pub long: String,
    pub seconds: u32,
}

impl From<ReadTime> for ReadTimeView {
    fn from(rt: ReadTime) -> Self {
        ReadTimeView {
            short: rt.short(),
            long: rt.long(),
            seconds: rt.0,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct TagView {
    pub name: String,
    /// "pete-hegseth": what the subscribe form sends and a tag's bell follows.
    pub slug: String,
    /// "#PeteHegseth".
    pub hashtag: String,
    pub url: String,
}

impl From<&Tag> for TagView {
    fn from(tag: &Tag) -> Self {
        TagView {
            name: tag.name.clone(),
            slug: tag.slug.clone(),
            hashtag: tag.hashtag(),
            url: tag.url(),
        }
    }
}

/// An author as readers see them: no email, no role.
#[derive(Debug, Clone, Serialize)]
pub struct AuthorView {
    pub name: String,
    pub url: String,
    pub bio: String,
}

impl From<&User> for AuthorView {
    fn from(user: &User) -> Self {
        AuthorView {
            name: user.display_name.clone(),
            url: user.url(),
            bio: user.bio.clone(),
        }
    }
}

/// An article or page, for a listing card or its own page.
#[derive(Debug, Clone, Serialize)]
pub struct ArticleView {
    pub id: i64,
    /// `article` or `page`.
    pub kind: &'static str,
    pub title: String,
    /// The permalink path.
    pub url: String,
    /// The absolute permalink, for `<link rel="canonical">`.
    pub canonical: String,
    pub excerpt: String,
    /// The sanitised body, marked safe; `None` on listing cards.
    pub body: Option<Value>,
    pub author: AuthorView,
    pub published: Option<DateView>,
    /// Set when the article was edited after publication.
    pub updated: Option<DateView>,
    pub read_time: ReadTimeView,
    pub tags: Vec<TagView>,
    pub cover_image: Option<String>,
    pub featured: bool,
}

impl ArticleView {
    /// The card shown in listings: everything but the body.
    pub fn card(article: &Article, tz: Tz, base_url: &str) -> ArticleView {
        let url = article.permalink(tz);
        ArticleView {
            id: article.id.0,
            kind: article.kind.as_str(),
            title: article.title.clone(),
            canonical: format!("{base_url}{url}"),
            url,
            excerpt: article.excerpt.clone(),
            body: None,
            author: AuthorView {
                name: article.author.display_name.clone(),
                url: article.author.url(),
                bio: String::new(),
            },
            published: article.published_at.map(|at| DateView::new(at, tz)),
            updated: article
                .was_updated()
                .then(|| DateView::new(article.updated_at, tz)),
            read_time: article.read_time.into(),
            tags: article.tags.iter().map(TagView::from).collect(),
            cover_image: article.cover_image.as_deref().and_then(safe_image_url),
            featured: article.featured,
        }
    }

    /// The whole article for its own page.
    pub fn full(article: &Article, tz: Tz, base_url: &str) -> ArticleView {
        ArticleView {
            // The domain rendered and sanitised the body at save (ammonia's
            // allow-list); this is the one value templates print unescaped.
            body: Some(Value::from_safe_string(article.body_html.clone())),
            ..ArticleView::card(article, tz, base_url)
        }
    }
}

/// What an article page's engagement widgets need, under the names the templates use.
#[derive(Debug, Clone, Serialize)]
pub struct EngagementContext {
    /// The counts, percentages and rating summary.
    pub engagement: EngagementView,
    /// The reader's own vote, reaction and rating, when the request carries their
    /// cookie (the page is then private to them).
    pub choices: Option<ReaderChoices>,
    /// Where the widgets' forms post.
    pub engage_url: String,
    /// The JSON endpoints, the live stream, the view beacon and pixel.
    pub api: ApiUrls,
}

/// A cover image URL is typed by a writer and not sanitised like the body: only
/// site-relative paths and http(s) URLs reach an `src` attribute.
pub(crate) fn safe_image_url(url: &str) -> Option<String> {
    let url = url.trim();
    let lower = url.to_ascii_lowercase();
    let ok = (url.starts_with('/') && !url.starts_with("//"))
        || lower.starts_with("https://")
        || lower.starts_with("http://");
    ok.then(|| url.to_owned())
}

/// Where a listing is in its pages.
#[derive(Debug, Clone, Serialize)]
pub struct PaginationView {
    pub page: u32,
    pub pages: u32,
    pub total: u64,
    /// Paths of the neighbouring pages.
    pub prev_url: Option<String>,
    pub next_url: Option<String>,
}

impl PaginationView {
    /// `base` is the listing's first page, e.g. `/` or `/tag/nato/`.
    pub fn new(base: &str, page: u32, pages: u32, total: u64) -> PaginationView {
        PaginationView {
            page,
            pages,
            total,
            prev_url: (page > 1).then(|| page_url(base, page - 1)),
            next_url: (page < pages).then(|| page_url(base, page + 1)),
        }
    }
}

/// The path of page `n` of a listing: page 1 is the listing itself.
pub fn page_url(base: &str, n: u32) -> String {
    if n <= 1 {
        base.to_owned()
    } else {
        format!("{base}page/{n}/")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn page_urls_and_neighbours() {
        assert_eq!(page_url("/", 1), "/");
        assert_eq!(page_url("/tag/nato/", 3), "/tag/nato/page/3/");
        let p = PaginationView::new("/", 2, 3, 25);
        assert_eq!(p.prev_url.as_deref(), Some("/"));
        assert_eq!(p.next_url.as_deref(), Some("/page/3/"));
        let last = PaginationView::new("/", 3, 3, 25);
        assert!(last.next_url.is_none());
    }

    #[test]
    fn dates_use_the_site_zone() {
        let at = Utc.with_ymd_and_hms(2026, 3, 1, 23, 30, 0).unwrap();
        let d = DateView::new(at, chrono_tz::Europe::Berlin);
        assert_eq!(d.human, "2 March 2026");
        assert_eq!(d.time, "00:30");
        assert_eq!(d.iso, "2026-03-02T00:30:00+01:00");
    }

    #[test]
    fn cover_images_must_be_web_urls() {
        assert_eq!(
            safe_image_url("/media/a.jpg").as_deref(),
            Some("/media/a.jpg")
        );
        assert!(safe_image_url("https://cdn.example.com/a.jpg").is_some());
        for bad in [
            "javascript:alert(1)",
            "data:image/svg+xml,<svg>",
            "//evil.example/a.png",
            "",
        ] {
            assert!(safe_image_url(bad).is_none(), "{bad}");
        }
    }
}
