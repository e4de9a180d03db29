//! Feeds: RSS 2.0 (`feed.xml`), Atom 1.0 (`atom.xml`) and JSON Feed 1.1 (`feed.json`)
//! for the whole site (`/feed.xml`), each tag (`/tag/{slug}/feed.xml`) and each author
//! (`/author/{slug}/feed.xml`).
//!
//! One [`Feed`] model is built from the store and written out by each format's
//! module, so the three formats never disagree. Only articles public at this instant
//! appear; a tag or author with nothing public is 404, as its listing is. Item ids are
//! `tag:` URIs made of the site's host, the article's creation date and its numeric
//! id, so they survive a retitled slug or a re-dated article. Responses carry an ETag
//! (a hash of the body) and Last-Modified (the newest item's change), and answer
//! conditional requests with 304.

mod atom;
mod json;
mod rss;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use broadsheet_domain::{Article, ArticleQuery, FeedContent};
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

use super::SiteContext;
use super::assets::matches_etag;
use super::views::safe_image_url;
use crate::app::AppState;
use crate::error::AppError;

/// How many of the newest articles a feed carries.
const FEED_ITEMS: u32 = 20;

/// Readers poll; a minute of caching spares the store without delaying news much.
const CACHE_CONTROL: &str = "public, max-age=60";

/// A feed format: its file name under a listing and its media type.
#[derive(Debug, Clone, Copy)]
enum Format {
    Rss,
    Atom,
    Json,
}

impl Format {
    const ALL: [Format; 3] = [Format::Rss, Format::Atom, Format::Json];

    fn file(self) -> &'static str {
        match self {
            Format::Rss => "feed.xml",
            Format::Atom => "atom.xml",
            Format::Json => "feed.json",
        }
    }

    fn content_type(self) -> &'static str {
        match self {
            Format::Rss => "application/rss+xml; charset=utf-8",
            Format::Atom => "application/atom+xml; charset=utf-8",
            Format::Json => "application/feed+json; charset=utf-8",
        }
    }

    fn render(self, feed: &Feed) -> String {
        match self {
            Format::Rss => rss::render(feed),
            Format::Atom => atom::render(feed),
            Format::Json => json::render(feed),
        }
    }
}

/// Which articles a feed follows.
enum Scope {
    Site,
    Tag(String),
    Author(String),
}

/// The feed routes, three formats for each scope.
pub fn routes() -> Router<AppState> {
    let mut router = Router::new();
    for format in Format::ALL {
        router = router
            .route(
                &format!("/{}", format.file()),
                get(
                    move |State(state): State<AppState>, headers: HeaderMap| async move {
                        serve(&state, Scope::Site, format, &headers).await
                    },
                ),
            )
            .route(
                &format!("/tag/{{slug}}/{}", format.file()),
                get(
                    move |State(state): State<AppState>,
                          Path(slug): Path<String>,
                          headers: HeaderMap| async move {
                        serve(&state, Scope::Tag(slug), format, &headers).await
                    },
                ),
            )
            .route(
                &format!("/author/{{slug}}/{}", format.file()),
                get(
                    move |State(state): State<AppState>,
                          Path(slug): Path<String>,
                          headers: HeaderMap| async move {
                        serve(&state, Scope::Author(slug), format, &headers).await
                    },
                ),
            );
    }
    router
}

/// A feed, whatever its format.
pub(super) struct Feed {
    pub title: String,
    pub description: String,
    pub language: String,
    /// Absolute URL of the HTML listing the feed follows.
    pub home_url: String,
    /// Absolute URL of this very feed (`atom:link rel=self`, `feed_url`).
    pub self_url: String,
    /// When anything in it last changed; the Unix epoch for an empty feed, so the
    /// document (and its ETag) stays the same until something is published.
    pub updated: DateTime<Utc>,
    pub items: Vec<Item>,
}

pub(super) struct Item {
    pub id: String,
    pub url: String,
    pub title: String,
    /// Plain text.
    pub summary: String,
    /// HTML: the body or, with `feed_content = excerpt`, the excerpt as a paragraph.
    pub content_html: String,
    pub published: DateTime<Utc>,
    pub updated: DateTime<Utc>,
    pub author_name: String,
    pub author_url: String,
    pub tags: Vec<String>,
    pub image: Option<Image>,
}

/// A cover image, as an enclosure or attachment.
pub(super) struct Image {
    pub url: String,
    pub mime_type: &'static str,
}

async fn serve(
    state: &AppState,
    scope: Scope,
    format: Format,
    headers: &HeaderMap,
) -> Result<Response, AppError> {
    let site = SiteContext::load(state).await?;
    let mut query = ArticleQuery::public(site.now, 1, FEED_ITEMS);
    let (title, description, listing) = match &scope {
        Scope::Site => (
            site.settings.title.clone(),
            site.settings.description.clone(),
            "/".to_owned(),
        ),
        Scope::Tag(slug) => {
            let tag = state.store.tag_by_slug(slug).await?;
            query.tag = Some(tag.slug.clone());
            (
                format!("{} – #{}", site.settings.title, tag.name),
                format!("Articles tagged {} on {}", tag.name, site.settings.title),
                format!("/tag/{}/", tag.slug),
            )
        }
        Scope::Author(slug) => {
            let user = state.store.user_by_slug(slug).await?;
            query.author = Some(user.id);
            (
                format!("{} – {}", site.settings.title, user.display_name),
                format!(
                    "Articles by {} on {}",
                    user.display_name, site.settings.title
                ),
                format!("/author/{}/", user.slug),
            )
        }
    };
    let found = state.store.list_articles(&query).await?;
    // As on the listings: a tag or author with nothing public could name a story that
    // is still a draft.
    if found.total == 0 && !matches!(scope, Scope::Site) {
        return Err(AppError::NotFound);
    }
    let items: Vec<Item> = found.items.iter().map(|a| item(a, &site)).collect();
    let updated = items
        .iter()
        .map(|i| i.updated)
        .max()
        .unwrap_or(DateTime::UNIX_EPOCH);
    let feed = Feed {
        title,
        description,
        language: site.settings.language.clone(),
        home_url: site.absolute(&listing),
        self_url: site.absolute(&format!("{listing}{}", format.file())),
        updated,
        items,
    };
    let body = format.render(&feed);
    Ok(conditional(
        headers,
        body,
        format.content_type(),
        (!feed.items.is_empty()).then_some(updated),
    ))
}

fn item(article: &Article, site: &SiteContext) -> Item {
    let published = article.published_at.unwrap_or(article.created_at);
    let content_html = match site.settings.feed_content {
        FeedContent::Full => article.body_html.clone(),
        FeedContent::Excerpt => format!("<p>{}</p>", crate::xml::escape(&article.excerpt)),
    };
    Item {
        id: stable_id(&site.base_url, article),
        url: site.absolute(&article.permalink(site.tz)),
        title: article.title.clone(),
        summary: article.excerpt.clone(),
        content_html,
        published,
        updated: article.updated_at.max(published),
        author_name: article.author.display_name.clone(),
        author_url: site.absolute(&article.author.url()),
        tags: article.tags.iter().map(|t| t.name.clone()).collect(),
        image: article
            .cover_image
            .as_deref()
            .and_then(safe_image_url)
            .map(|url| Image {
                mime_type: image_type(&url),
                url: if url.starts_with('/') {
                    site.absolute(&url)
                } else {
                    url
                },
            }),
    }
}

/// A `tag:` URI (RFC 4151) that never changes for an article: the host, the day it was
/// first saved and its id.
fn stable_id(base_url: &str, article: &Article) -> String {
    let host = base_url
        .split_once("://")
        .map_or(base_url, |(_, rest)| rest)
        .split(['/', ':'])
        .next()
        .unwrap_or_default();
    format!(
        "tag:{host},{}:article:{}",
        article.created_at.format("%Y-%m-%d"),
        article.id.0
    )
}

/// The media type of an image by its file extension.
fn image_type(url: &str) -> &'static str {
    let path = url.split(['?', '#']).next().unwrap_or_default();
    let ext = path
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "jpg" | "jpeg" => "image/jpeg",
        "png" => "image/png",
        "webp" => "image/webp",
        "gif" => "image/gif",
        "avif" => "image/avif",
        "svg" => "image/svg+xml",
        _ => "application/octet-stream",
    }
}

/// The response, or 304 when the reader's copy is current: `If-None-Match` decides
/// when sent (RFC 9110 §13.1.3), else `If-Modified-Since`.
fn conditional(
    headers: &HeaderMap,
    body: String,
    content_type: &'static str,
    last_modified: Option<DateTime<Utc>>,
) -> Response {
    let etag = format!("\"f{:x}\"", Sha256::digest(body.as_bytes()));
    let mut cache = HeaderMap::new();
    cache.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(CACHE_CONTROL),
    );
    if let Ok(value) = HeaderValue::from_str(&etag) {
        cache.insert(header::ETAG, value);
    }
    if let Some(at) = last_modified
        && let Ok(value) = HeaderValue::from_str(&http_date(at))
    {
        cache.insert(header::LAST_MODIFIED, value);
    }
    let fresh = if headers.contains_key(header::IF_NONE_MATCH) {
        matches_etag(headers, &etag)
    } else {
        let since = headers
            .get(header::IF_MODIFIED_SINCE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| DateTime::parse_from_rfc2822(v).ok());
        // HTTP dates have whole seconds; the item times have milliseconds.
        matches!((since, last_modified), (Some(since), Some(at)) if at.timestamp() <= since.timestamp())
    };
    if fresh {
        return (StatusCode::NOT_MODIFIED, cache).into_response();
    }
    (
        cache,
        [(header::CONTENT_TYPE, HeaderValue::from_static(content_type))],
        body,
    )
        .into_response()
}

/// An IMF-fixdate, as HTTP wants: `Sun, 06 Nov 1994 08:49:37 GMT`.
fn http_date(at: DateTime<Utc>) -> String {
    at.format("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_types_come_from_the_extension() {
        assert_eq!(image_type("https://x.test/a/B.JPG?w=3"), "image/jpeg");
        assert_eq!(image_type("/media/1/800.webp"), "image/webp");
        assert_eq!(image_type("/media/1/cover"), "application/octet-stream");
    }

    #[test]
    fn http_dates_are_imf_fixdates() {
        let at = DateTime::parse_from_rfc3339("1994-11-06T08:49:37Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(http_date(at), "Sun, 06 Nov 1994 08:49:37 GMT");
    }
}
