//! What a page tells search engines and link previews about itself: the canonical
//! URL, the description, OpenGraph and Twitter card tags (rendered by `base.html`
//! from [`MetaView`]), and schema.org JSON-LD: `NewsArticle` and `BreadcrumbList` on
//! articles, `WebSite` with a `SearchAction` on the home page.
//!
//! JSON-LD is built with `serde_json` (never by pasting strings into a template) and
//! then made safe for the `<script>` element it sits in, so a headline such as
//! `</script><!--` stays data.

use broadsheet_domain::engagement::RatingSummary;
use minijinja::Value;
use serde::Serialize;
use serde_json::json;

use super::views::{ArticleView, SiteView};

/// The document's `<head>`: title, description, canonical URL, pagination links,
/// link-preview tags and structured data.
#[derive(Debug, Clone, Default, Serialize)]
pub struct MetaView {
    /// The page's own title; `base.html` appends the site title.
    pub title: Option<String>,
    pub description: String,
    /// Absolute URL.
    pub canonical: String,
    /// This page's site path, to mark the current navigation link.
    pub path: String,
    /// Absolute URLs of the neighbouring pages of a listing.
    pub prev: Option<String>,
    pub next: Option<String>,
    /// `website` or `article`, as OpenGraph names them.
    pub kind: &'static str,
    /// Ask search engines not to index (error pages, previews).
    pub noindex: bool,
    /// Absolute URL of the image link previews show (an article's cover).
    pub image: Option<String>,
    /// JSON-LD documents, each already escaped for a `<script>` element and marked
    /// safe: HTML escaping would break the JSON.
    pub json_ld: Vec<Value>,
}

/// A site path made absolute; absolute URLs (a cover image on a CDN) stay as they are.
fn absolute(site: &SiteView, url: &str) -> String {
    if url.starts_with('/') {
        format!("{}{url}", site.base_url)
    } else {
        url.to_owned()
    }
}

/// The head of an article or page; articles also carry `NewsArticle` (with its
/// `AggregateRating` once anyone rated, when `rating` is known) and a `BreadcrumbList`.
pub fn for_article(
    view: &ArticleView,
    site: &SiteView,
    rating: Option<&RatingSummary>,
) -> MetaView {
    let is_article = view.kind == "article";
    let json_ld = if is_article {
        vec![
            script_value(&news_article(view, site, rating)),
            script_value(&article_breadcrumbs(view, site)),
        ]
    } else {
        Vec::new()
    };
    MetaView {
        title: Some(view.title.clone()),
        description: view.excerpt.clone(),
        canonical: view.canonical.clone(),
        path: view.url.clone(),
        kind: if is_article { "article" } else { "website" },
        image: view.cover_image.as_deref().map(|i| absolute(site, i)),
        json_ld,
        ..MetaView::default()
    }
}

/// The `WebSite` document of the home page, whose `SearchAction` lets search engines
/// offer a search box that lands on the site's own search page.
pub fn website_json_ld(site: &SiteView) -> Value {
    script_value(&json!({
        "@context": "https://schema.org",
        "@type": "WebSite",
        "name": site.title,
        "description": site.description,
        "url": format!("{}/", site.base_url),
        "inLanguage": site.language,
        "potentialAction": {
            "@type": "SearchAction",
            "target": {
                "@type": "EntryPoint",
                "urlTemplate": format!("{}/search?q={{search_term_string}}", site.base_url),
            },
            "query-input": "required name=search_term_string",
        },
    }))
}

fn news_article(
    article: &ArticleView,
    site: &SiteView,
    rating: Option<&RatingSummary>,
) -> serde_json::Value {
    let mut doc = json!({
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "headline": article.title,
        "description": article.excerpt,
        "url": article.canonical,
        "mainEntityOfPage": article.canonical,
        "inLanguage": site.language,
        "author": {
            "@type": "Person",
            "name": article.author.name,
            "url": absolute(site, &article.author.url),
        },
        "publisher": {
            "@type": "Organization",
            "name": site.title,
            "url": format!("{}/", site.base_url),
        },
        "keywords": article.tags.iter().map(|t| t.name.as_str()).collect::<Vec<_>>(),
    });
    if let Some(published) = &article.published {
        doc["datePublished"] = json!(published.iso);
        let modified = article.updated.as_ref().unwrap_or(published);
        doc["dateModified"] = json!(modified.iso);
    }
    if let Some(image) = &article.cover_image {
        doc["image"] = json!([absolute(site, image)]);
    }
    if let Some(RatingSummary {
        average: Some(average),
        count,
        ..
    }) = rating
        && *count > 0
    {
        doc["aggregateRating"] = json!({
            "@type": "AggregateRating",
            "ratingValue": average,
            "ratingCount": count,
            "bestRating": 5,
            "worstRating": 1,
        });
    }
    doc
}

/// Home › the article's first tag (the kicker above its title) › the article.
fn article_breadcrumbs(article: &ArticleView, site: &SiteView) -> serde_json::Value {
    let mut trail = vec![(site.title.clone(), format!("{}/", site.base_url))];
    if let Some(tag) = article.tags.first() {
        trail.push((tag.name.clone(), absolute(site, &tag.url)));
    }
    trail.push((article.title.clone(), article.canonical.clone()));
    let items: Vec<_> = trail
        .into_iter()
        .enumerate()
        .map(|(i, (name, item))| {
            json!({"@type": "ListItem", "position": i + 1, "name": name, "item": item})
        })
        .collect();
    json!({
        "@context": "https://schema.org",
        "@type": "BreadcrumbList",
        "itemListElement": items,
    })
}

/// A JSON-LD document as a safe template value for `<script type="application/ld+json">`.
fn script_value(doc: &serde_json::Value) -> Value {
    Value::from_safe_string(script_safe_json(&doc.to_string()))
}

/// JSON that cannot end or confuse the `<script>` element it sits in: `<`, `>` and `&`
/// (which could spell `</script>` or `<!--`) become `\u` escapes, which mean the same
/// characters to a JSON parser. U+2028 and U+2029 too, for older script parsers.
fn script_safe_json(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    for c in json.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_ld_cannot_close_its_script() {
        let json = script_safe_json(r#"{"headline":"</script><script>alert(1)</script> & <!--"}"#);
        assert!(
            !json.contains('<') && !json.contains('>') && !json.contains('&'),
            "{json}"
        );
        let back: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(
            back["headline"],
            "</script><script>alert(1)</script> & <!--"
        );
    }
}
