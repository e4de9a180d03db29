//! An article at its permalink, and pages at `/slug/`.
//!
//! Links never break: a wrong date in the URL or an old slug answers 301 to the
//! current permalink, and WordPress-style `/slug/` links to an article answer 301 to
//! its dated permalink. None of this reveals what is not public: a draft, or an
//! article scheduled for later, is 404 under every one of its addresses.

use axum::extract::{Path, State};
use axum::response::Response;
use broadsheet_domain::{Article, ContentKind, SlugLookup};
use minijinja::context;

use super::views::{ArticleView, MetaView};
use super::{SiteContext, redirect, render};
use crate::app::AppState;
use crate::error::AppError;

/// `/{year}/{month}/{day}/{slug}/`
pub async fn article(
    State(state): State<AppState>,
    Path((year, month, day, slug)): Path<(String, String, String, String)>,
) -> Result<Response, AppError> {
    // Only date-shaped paths are permalinks; `/a/b/c/slug/` is not a way to reach an
    // article.
    let digits = |s: &str, len: std::ops::RangeInclusive<usize>| {
        len.contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit())
    };
    if !(digits(&year, 4..=4) && digits(&month, 1..=2) && digits(&day, 1..=2)) {
        return Err(AppError::NotFound);
    }
    let site = SiteContext::load(&state).await?;
    let (article, moved) = find_public(&state, &site, &slug).await?;
    let permalink = article.permalink(site.tz);
    if moved || permalink != format!("/{year}/{month}/{day}/{slug}/") {
        return Ok(redirect::moved(&permalink));
    }
    show(&state, site, &article, "article.html")
}

/// `/{slug}/`: a page, or the old WordPress-style address of an article.
pub async fn page(
    State(state): State<AppState>,
    Path(slug): Path<String>,
) -> Result<Response, AppError> {
    let site = SiteContext::load(&state).await?;
    let (item, moved) = find_public(&state, &site, &slug).await?;
    if moved || item.kind == ContentKind::Article {
        return Ok(redirect::moved(&item.permalink(site.tz)));
    }
    show(&state, site, &item, "page.html")
}

/// An article or page under a current (`false`) or old (`true`) slug, if readers may
/// see it now.
async fn find_public(
    state: &AppState,
    site: &SiteContext,
    slug: &str,
) -> Result<(Article, bool), AppError> {
    let (article, moved) = match state.store.find_by_slug(slug).await? {
        SlugLookup::Current(a) => (a, false),
        SlugLookup::Moved(a) => (a, true),
    };
    if !article.is_public(site.now) {
        return Err(AppError::NotFound);
    }
    Ok((article, moved))
}

fn show(
    state: &AppState,
    site: SiteContext,
    article: &Article,
    template: &str,
) -> Result<Response, AppError> {
    let view = ArticleView::full(article, site.tz, &site.base_url);
    let meta = MetaView {
        title: Some(view.title.clone()),
        description: view.excerpt.clone(),
        canonical: view.canonical.clone(),
        path: view.url.clone(),
        kind: if article.kind == ContentKind::Article {
            "article"
        } else {
            "website"
        },
        ..MetaView::default()
    };
    render(
        state,
        template,
        context! { site => site.view, meta => meta, article => view },
    )
}
