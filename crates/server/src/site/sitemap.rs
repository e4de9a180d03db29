//! What search engines crawl: `/sitemap.xml` (a sitemap index, sitemaps.org 0.9),
//! its chunks `/sitemap-pages.xml` (home, pages, tags) and `/sitemap-articles-N.xml`
//! (every public article, at most [`CHUNK`] per chunk, the protocol's limit), the
//! Google News sitemap `/news-sitemap.xml` (articles of the last 48 hours) and
//! `/robots.txt`, which names the index and keeps crawlers out of the newsroom.
//!
//! Everything is read "as readers see it now" (`ArticleQuery::public`), the same
//! query the listings use, so a draft or a scheduled story is never announced here.
//! Articles are read in batches of [`BATCH`], so a 50,000-URL chunk never holds
//! 50,000 article bodies in memory at once.

use std::fmt::Write;

use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use broadsheet_domain::{Article, ArticleQuery, ContentKind, Paged};
use chrono::{DateTime, TimeDelta, Utc};

use super::SiteContext;
use crate::app::AppState;
use crate::error::AppError;
use crate::xml::{escape, rfc3339};

/// The most URLs one sitemap may list (sitemaps.org).
const CHUNK: u32 = 50_000;
/// How many articles one store query reads; [`CHUNK`] is a multiple of it.
const BATCH: u32 = 1_000;
/// How far back the news sitemap reaches, and how many URLs it may hold (Google News).
const NEWS_WINDOW_HOURS: i64 = 48;
const NEWS_MAX: u32 = 1_000;

const SITEMAP_NS: &str = "http://www.sitemaps.org/schemas/sitemap/0.9";
const NEWS_NS: &str = "http://www.google.com/schemas/sitemap-news/0.9";

/// `GET /robots.txt`: names the sitemap index and the news sitemap, which crawlers
/// would otherwise only learn of from a search console.
pub async fn robots(State(state): State<AppState>) -> Response {
    let base = &state.config.base_url;
    let body = format!(
        "User-agent: *\nDisallow: /admin\nDisallow: /preview/\n\n\
         Sitemap: {base}/sitemap.xml\nSitemap: {base}/news-sitemap.xml\n"
    );
    ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], body).into_response()
}

/// `GET /sitemap.xml`: the index of every chunk.
pub async fn index(State(state): State<AppState>) -> Result<Response, AppError> {
    let site = SiteContext::load(&state).await?;
    let total = state
        .store
        .list_articles(&ArticleQuery::public(site.now, 1, 1))
        .await?
        .total;
    let mut xml = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<sitemapindex xmlns=\"{SITEMAP_NS}\">\n"
    );
    let mut files = vec!["/sitemap-pages.xml".to_owned()];
    files.extend((1..=chunk_count(total)).map(|n| format!("/sitemap-articles-{n}.xml")));
    for file in files {
        let _ = writeln!(
            xml,
            "<sitemap><loc>{}</loc></sitemap>",
            escape(&site.absolute(&file))
        );
    }
    xml.push_str("</sitemapindex>\n");
    Ok(xml_response(xml))
}

/// `GET /sitemap-pages.xml`: the home page, the public pages and every tag that has
/// a public article (a tag page without one is 404, so it is not listed).
pub async fn pages(State(state): State<AppState>) -> Result<Response, AppError> {
    let site = SiteContext::load(&state).await?;
    let mut urls = vec![Url {
        path: "/".to_owned(),
        lastmod: None,
    }];
    for_each_batch(&state, &site, ContentKind::Page, 1, u32::MAX, |batch| {
        urls.extend(batch.items.iter().map(|p| Url::of(p, &site)));
        true
    })
    .await?;
    let tags = state.store.public_tags(site.now).await?;
    urls.extend(tags.into_iter().map(|(tag, at)| Url {
        path: format!("/tag/{}/", tag.slug),
        lastmod: Some(at),
    }));
    Ok(xml_response(urlset(&site, &urls)))
}

/// `GET /sitemap-articles-N.xml`: the Nth chunk of public articles, newest first.
pub async fn articles(
    State(state): State<AppState>,
    Path(file): Path<String>,
) -> Result<Response, AppError> {
    let n = chunk_number(&file).ok_or(AppError::NotFound)?;
    let site = SiteContext::load(&state).await?;
    let per_chunk = CHUNK / BATCH;
    let first = (n - 1) * per_chunk + 1;
    let mut urls = Vec::new();
    let mut total = 0;
    for_each_batch(
        &state,
        &site,
        ContentKind::Article,
        first,
        first + per_chunk - 1,
        |batch| {
            total = batch.total;
            urls.extend(batch.items.iter().map(|a| Url::of(a, &site)));
            true
        },
    )
    .await?;
    // Past the last chunk (but the first always exists, so the index never names a 404).
    if urls.is_empty() && (n > 1 || total > 0) {
        return Err(AppError::NotFound);
    }
    Ok(xml_response(urlset(&site, &urls)))
}

/// `GET /news-sitemap.xml`: articles published in the last 48 hours (Google News).
pub async fn news(State(state): State<AppState>) -> Result<Response, AppError> {
    let site = SiteContext::load(&state).await?;
    let since = site.now - TimeDelta::hours(NEWS_WINDOW_HOURS);
    let name = escape(&site.settings.title);
    let language = news_language(&site.settings.language);
    let mut entries = String::new();
    let mut count = 0;
    for_each_batch(&state, &site, ContentKind::Article, 1, u32::MAX, |batch| {
        for article in &batch.items {
            let Some(published) = article.published_at.filter(|at| *at >= since) else {
                // Newest first: everything after this one is older still.
                return false;
            };
            if count == NEWS_MAX {
                return false;
            }
            count += 1;
            let keywords: Vec<&str> = article.tags.iter().map(|t| t.name.as_str()).collect();
            let _ = writeln!(
                entries,
                "<url><loc>{loc}</loc><news:news><news:publication><news:name>{name}</news:name>\
                 <news:language>{language}</news:language></news:publication>\
                 <news:publication_date>{date}</news:publication_date>\
                 <news:title>{title}</news:title>{keywords}</news:news></url>",
                loc = escape(&site.absolute(&article.permalink(site.tz))),
                date = rfc3339(published),
                title = escape(&article.title),
                keywords = if keywords.is_empty() {
                    String::new()
                } else {
                    format!(
                        "<news:keywords>{}</news:keywords>",
                        escape(&keywords.join(", "))
                    )
                },
            );
        }
        true
    })
    .await?;
    let xml = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <urlset xmlns=\"{SITEMAP_NS}\" xmlns:news=\"{NEWS_NS}\">\n{entries}</urlset>\n"
    );
    Ok(xml_response(xml))
}

/// One `<url>` of a plain sitemap.
struct Url {
    path: String,
    lastmod: Option<DateTime<Utc>>,
}

impl Url {
    fn of(article: &Article, site: &SiteContext) -> Url {
        Url {
            path: article.permalink(site.tz),
            lastmod: Some(article.updated_at),
        }
    }
}

fn urlset(site: &SiteContext, urls: &[Url]) -> String {
    let mut xml =
        format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<urlset xmlns=\"{SITEMAP_NS}\">\n");
    for url in urls {
        let _ = write!(xml, "<url><loc>{}</loc>", escape(&site.absolute(&url.path)));
        if let Some(at) = url.lastmod {
            let _ = write!(xml, "<lastmod>{}</lastmod>", rfc3339(at));
        }
        xml.push_str("</url>\n");
    }
    xml.push_str("</urlset>\n");
    xml
}

/// Public content, one batch per page, as readers see it now.
fn batch_query(now: DateTime<Utc>, kind: ContentKind, page: u32) -> ArticleQuery {
    ArticleQuery {
        kind,
        // `public` caps pages at reader size; sitemaps read in bigger batches.
        per_page: BATCH,
        ..ArticleQuery::public(now, page, 1)
    }
}

/// Calls `each` with the public `kind` of batch pages `first..=last` in turn,
/// stopping after the last page that has any, or when `each` answers false.
async fn for_each_batch(
    state: &AppState,
    site: &SiteContext,
    kind: ContentKind,
    first: u32,
    last: u32,
    mut each: impl FnMut(&Paged<Article>) -> bool,
) -> Result<(), AppError> {
    for page in first..=last {
        let batch = state
            .store
            .list_articles(&batch_query(site.now, kind, page))
            .await?;
        if !each(&batch) || page >= batch.pages() {
            break;
        }
    }
    Ok(())
}

/// How many article chunks `total` public articles fill (at least one, possibly
/// empty, so the index is never empty).
fn chunk_count(total: u64) -> u64 {
    total.div_ceil(u64::from(CHUNK)).max(1)
}

/// `N` from `N.xml`, in its one canonical spelling (no `0`, `01` or `+1`).
fn chunk_number(file: &str) -> Option<u32> {
    let digits = file.strip_suffix(".xml")?;
    let canonical = !digits.is_empty()
        && !digits.starts_with('0')
        && digits.bytes().all(|b| b.is_ascii_digit());
    // Above this the page arithmetic would overflow; no site has that many chunks.
    let n: u32 = digits.parse().ok().filter(|_| canonical)?;
    (n <= u32::MAX / CHUNK).then_some(n)
}

/// The language as Google News wants it: an ISO 639 code, except Chinese, which is
/// `zh-cn` (simplified) or `zh-tw` (traditional).
fn news_language(tag: &str) -> String {
    let lower = tag.trim().to_ascii_lowercase();
    let mut parts = lower.split(['-', '_']);
    let primary = parts.next().unwrap_or_default();
    if primary == "zh" {
        let traditional = parts.any(|p| matches!(p, "hant" | "tw" | "hk" | "mo"));
        return if traditional { "zh-tw" } else { "zh-cn" }.to_owned();
    }
    let iso639 =
        (2..=3).contains(&primary.len()) && primary.bytes().all(|b| b.is_ascii_lowercase());
    if iso639 {
        primary.to_owned()
    } else {
        "en".to_owned()
    }
}

fn xml_response(xml: String) -> Response {
    (
        [(header::CONTENT_TYPE, "application/xml; charset=utf-8")],
        xml,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_hold_at_most_fifty_thousand_urls() {
        assert_eq!(chunk_count(0), 1);
        assert_eq!(chunk_count(1), 1);
        assert_eq!(chunk_count(50_000), 1);
        assert_eq!(chunk_count(50_001), 2);
        assert_eq!(chunk_count(100_001), 3);
        assert_eq!(CHUNK % BATCH, 0);
    }

    #[test]
    fn chunk_numbers_have_one_spelling() {
        assert_eq!(chunk_number("1.xml"), Some(1));
        assert_eq!(chunk_number("12.xml"), Some(12));
        for bad in [
            "0.xml",
            "01.xml",
            "+1.xml",
            "1",
            "x.xml",
            ".xml",
            "1.xml.xml",
        ] {
            assert_eq!(chunk_number(bad), None, "{bad}");
        }
        assert_eq!(chunk_number("99999999999.xml"), None);
        assert_eq!(chunk_number(&format!("{}.xml", u32::MAX / CHUNK + 1)), None);
    }

    #[test]
    fn news_language_is_iso_639_or_chinese_script() {
        assert_eq!(news_language("en"), "en");
        assert_eq!(news_language("de-AT"), "de");
        assert_eq!(news_language("zh-Hans"), "zh-cn");
        assert_eq!(news_language("zh-TW"), "zh-tw");
        assert_eq!(news_language("zh-Hant-HK"), "zh-tw");
        assert_eq!(news_language("fil"), "fil");
        assert_eq!(news_language(""), "en");
    }

    #[test]
    fn dates_are_w3c_datetimes() {
        let at = DateTime::parse_from_rfc3339("2026-03-01T10:20:30.456Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(rfc3339(at), "2026-03-01T10:20:30Z");
    }
}
