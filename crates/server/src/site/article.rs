//! An article at its permalink, and pages at `/slug/`.
//!
//! Links never break: a wrong date in the URL or an old slug answers 301 to the
//! current permalink, and WordPress-style `/slug/` links to an article answer 301 to
//! its dated permalink. None of this reveals what is not public: a draft, or an
//! article scheduled for later, is 404 under every one of its addresses.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::Response;
use broadsheet_domain::{Article, ContentKind, EngagementView, SlugLookup};
use minijinja::{Value, context};

use super::views::{ArticleView, EngagementContext, MetaView, news_article_json_ld};
use super::{SiteContext, redirect, render};
use crate::app::AppState;
use crate::engagement::identity::reader_from_headers;
use crate::engagement::routes::{ApiUrls, engage_url};
use crate::error::AppError;

/// `/{year}/{month}/{day}/{slug}/`
pub async fn article(
    State(state): State<AppState>,
    Path((year, month, day, slug)): Path<(String, String, String, String)>,
    headers: HeaderMap,
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
    show(&state, site, &article, "article.html", Some(&headers)).await
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
    show(&state, site, &item, "page.html", None).await
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

/// Renders an article or page; `engagement_for` (the request's headers) adds the
/// engagement widgets' context.
async fn show(
    state: &AppState,
    site: SiteContext,
    article: &Article,
    template: &str,
    engagement_for: Option<&HeaderMap>,
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
    let engagement = match engagement_for {
        Some(headers) => engagement_context(state, &site, article, &view, headers).await,
        None => None,
    };
    let Some(engagement) = engagement else {
        return render(
            state,
            template,
            context! { site => site.view, meta => meta, article => view },
        );
    };
    let personal = engagement.choices.is_some();
    let mut response = render(
        state,
        template,
        context! {
            site => site.view,
            meta => meta,
            article => view,
            ..Value::from_serialize(&engagement)
        },
    )?;
    if personal {
        // The page shows this reader's own choices: no shared cache may keep it.
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("private"));
    }
    Ok(response)
}

/// The widgets' context: counts from this node's cache (no query unless they changed),
/// and the reader's choices when the request carries their cookie. Engagement is an
/// extra on the page: if it cannot be loaded, the article is shown without it.
async fn engagement_context(
    state: &AppState,
    site: &SiteContext,
    article: &Article,
    view: &ArticleView,
    headers: &HeaderMap,
) -> Option<EngagementContext> {
    let counts = match state.engagement.counts(article.id).await {
        Ok(counts) => counts,
        Err(err) => {
            tracing::warn!(error = %err, article = %article.id, "article shown without engagement");
            return None;
        }
    };
    let engagement = EngagementView::new(article.id, &counts, &site.settings.reactions);
    let choices = match reader_from_headers(headers) {
        Some(reader) => match state.store.reader_choices(article.id, &reader).await {
            Ok(choices) => Some(choices),
            Err(err) => {
                tracing::warn!(error = %err, "article shown without the reader's choices");
                None
            }
        },
        None => None,
    };
    let json_ld = news_article_json_ld(view, &site.view, &engagement.rating);
    Some(EngagementContext {
        engagement,
        choices,
        engage_url: engage_url(article.id),
        api: ApiUrls::for_article(article.id),
        json_ld: Value::from_safe_string(json_ld),
    })
}
