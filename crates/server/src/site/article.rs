//! An article at its permalink, and pages at `/slug/`.
//!
//! Links never break: a wrong date in the URL or an old slug answers 301 to the
//! current permalink, and WordPress-style `/slug/` links to an article answer 301 to
//! its dated permalink. None of this reveals what is not public: a draft, or an
//! article scheduled for later, is 404 under every one of its addresses.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{Html, IntoResponse, Response};
use broadsheet_domain::{
    Article, ArticleId, ContentKind, Counts, EngagementView, ReaderId, SlugLookup,
};
use minijinja::{Value, context};

use super::views::{ArticleView, EngagementContext};
use super::{SiteContext, meta, redirect, render};
use crate::app::{AppState, SiteChrome};
use crate::comments::form::{self as comment_form, CommentsQuery, CommentsRequest};
use crate::engagement::identity::reader_from_headers;
use crate::engagement::routes::{ApiUrls, engage_url};
use crate::error::AppError;

/// `/{year}/{month}/{day}/{slug}/`
pub async fn article(
    State(state): State<AppState>,
    Path((year, month, day, slug)): Path<(String, String, String, String)>,
    Query(query): Query<CommentsQuery>,
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
    let comments = CommentsRequest::from_query(&query);
    show(
        &state,
        site,
        &article,
        template_of(&article),
        Some((&headers, comments)),
    )
    .await
}

/// An article page with its comments section as `request` asks (the comment form
/// shown again with its problems, say).
pub(crate) async fn show_with_comments(
    state: &AppState,
    article: &Article,
    headers: &HeaderMap,
    request: CommentsRequest,
) -> Result<Response, AppError> {
    let site = SiteContext::load(state).await?;
    show(
        state,
        site,
        article,
        template_of(article),
        Some((headers, request)),
    )
    .await
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
    show(&state, site, &item, template_of(&item), None).await
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

/// Renders an article or page; `engagement_for` (the request's headers and what it
/// asked of the comments) adds the engagement widgets and the comments section.
async fn show(
    state: &AppState,
    site: SiteContext,
    article: &Article,
    template: &str,
    engagement_for: Option<(&HeaderMap, CommentsRequest)>,
) -> Result<Response, AppError> {
    // Engagement is an extra on the page: if its counts cannot be loaded, the article
    // is shown without it.
    let counts = match engagement_for {
        Some(_) => match state.engagement.counts(article.id).await {
            Ok(counts) => Some(counts),
            Err(err) => {
                tracing::warn!(error = %err, article = %article.id, "article shown without engagement");
                None
            }
        },
        None => None,
    };
    let reader = engagement_for
        .as_ref()
        .and_then(|(headers, _)| reader_from_headers(headers));
    // A reader without a cookie sees what every such reader sees: the page made from
    // this article, these counts and this chrome is reused as long as all three are
    // the very ones it was made from. Another page of comments, a reply form or a
    // form filled in from the remember-me cookie is the reader's own.
    let plain = engagement_for.as_ref().is_none_or(|(headers, request)| {
        request.is_plain() && !comment_form::has_remembered(headers)
    });
    let shared = reader.is_none() && plain;
    if shared
        && let Some(counts) = &counts
        && let Some(html) = state
            .pages
            .get(article, &site.chrome, counts, site.view.year)
    {
        return Ok(Html(html).into_response());
    }

    let view = ArticleView::full(article, site.tz, &site.base_url);
    let Some(counts) = counts else {
        let meta = meta::for_article(&view, &site.view, None);
        return render(
            state,
            template,
            context! { site => site.view, meta => meta, article => view },
        );
    };
    let comments = match engagement_for {
        Some((headers, request)) => {
            let built = comment_form::context(
                state,
                &site.settings,
                article,
                reader.as_ref(),
                headers,
                request,
                counts.comments,
            );
            Some(built.await?)
        }
        None => None,
    };
    let engagement = engagement_context(state, &site, article, &counts, reader).await;
    let meta = meta::for_article(&view, &site.view, Some(&engagement.engagement.rating));
    let personal = engagement.choices.is_some() || !plain;
    let year = site.view.year;
    let html = state.theme.render(
        template,
        context! {
            site => site.view,
            meta => meta,
            article => view,
            comments => comments,
            ..Value::from_serialize(&engagement)
        },
    )?;
    let html = Bytes::from(html);
    if shared {
        state
            .pages
            .put(article, &site.chrome, &counts, year, html.clone());
    }
    let mut response = Html(html).into_response();
    if personal {
        // The page shows this reader's own choices: no shared cache may keep it.
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("private"));
    }
    Ok(response)
}

/// The template an article or page is shown with.
pub(super) fn template_of(article: &Article) -> &'static str {
    match article.kind {
        ContentKind::Article => "article.html",
        ContentKind::Page => "page.html",
    }
}

/// The widgets' context: the counts, and the reader's choices when the request carries
/// their cookie.
async fn engagement_context(
    state: &AppState,
    site: &SiteContext,
    article: &Article,
    counts: &Counts,
    reader: Option<ReaderId>,
) -> EngagementContext {
    let engagement = EngagementView::new(article.id, counts, &site.settings.reactions);
    let choices = match reader {
        Some(reader) => match state.store.reader_choices(article.id, &reader).await {
            Ok(choices) => Some(choices),
            Err(err) => {
                tracing::warn!(error = %err, "article shown without the reader's choices");
                None
            }
        },
        None => None,
    };
    EngagementContext {
        engagement,
        choices,
        engage_url: engage_url(article.id),
        api: ApiUrls::for_article(article.id),
    }
}

/// Rendered article pages for readers without a cookie, one per article, on this
/// node. Rendering the page with its widgets is most of its cost, and between two
/// changes every such reader gets the same bytes. An entry is only used while the
/// article (as just read from the store), its counts and the site chrome are the same
/// as when it was rendered: the counts and the chrome by identity (each cache hands out
/// the same `Arc` until it reloads), the article by value. So a page is never older
/// than the caches it was made from, and needs no invalidation of its own.
#[derive(Default)]
pub struct PageCache {
    pages: Mutex<HashMap<ArticleId, CachedPage>>,
}

struct CachedPage {
    article: Article,
    chrome: Arc<SiteChrome>,
    counts: Arc<Counts>,
    /// The footer's year.
    year: i32,
    html: Bytes,
}

/// Pages kept; past this the cache starts over (about 20 KB each).
const MAX_CACHED_PAGES: usize = 1000;

impl PageCache {
    fn get(
        &self,
        article: &Article,
        chrome: &Arc<SiteChrome>,
        counts: &Arc<Counts>,
        year: i32,
    ) -> Option<Bytes> {
        let pages = self.lock();
        let page = pages.get(&article.id)?;
        let same = Arc::ptr_eq(&page.chrome, chrome)
            && Arc::ptr_eq(&page.counts, counts)
            && page.year == year
            && page.article == *article;
        same.then(|| page.html.clone())
    }

    fn put(
        &self,
        article: &Article,
        chrome: &Arc<SiteChrome>,
        counts: &Arc<Counts>,
        year: i32,
        html: Bytes,
    ) {
        let mut pages = self.lock();
        if pages.len() >= MAX_CACHED_PAGES && !pages.contains_key(&article.id) {
            pages.clear();
        }
        pages.insert(
            article.id,
            CachedPage {
                article: article.clone(),
                chrome: chrome.clone(),
                counts: counts.clone(),
                year,
                html,
            },
        );
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<ArticleId, CachedPage>> {
        // Map operations only: a poisoned lock is still sound.
        self.pages.lock().unwrap_or_else(|p| p.into_inner())
    }
}
