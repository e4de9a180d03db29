//! The public site: what readers see, as server-rendered HTML that works without
//! JavaScript.
//!
//! Every public path ends in a slash (`/`, `/2026/03/01/slug/`, `/about/`,
//! `/tag/nato/page/2/`), as WordPress's do, so imported sites keep their URLs; a path
//! without one is answered with a 301 to the slash form. Anything that is not public
//! at this instant (a draft, an article scheduled for later) is "not found", also
//! through its old slugs and its tags, so nothing leaks before publication.
//!
//! Errors come back from handlers as [`AppError`](crate::error::AppError);
//! [`error_page::themed_errors`] turns them into the theme's error page.

pub(crate) mod article;
pub(crate) mod assets;
pub mod error_page;
mod feed;
mod legacy;
mod listing;
pub mod meta;
mod preview;
mod redirect;
mod sitemap;
pub mod views;

use std::sync::Arc;

use axum::Router;
use axum::http::{Method, Uri};
use axum::middleware::from_fn_with_state;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use broadsheet_domain::SiteSettings;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde::Serialize;

use crate::app::{AppState, SiteChrome};
use crate::error::AppError;
use views::{NavLink, SiteView};

/// The site's routes. Takes the state because the error-page middleware, which wraps
/// exactly these routes (API routes answer JSON instead), renders with the theme and
/// the store.
pub fn routes(state: AppState) -> Router<AppState> {
    Router::new()
        .route("/", get(listing::home))
        .route("/page/{n}/", get(listing::home_page))
        .route("/tag/{slug}/", get(listing::tag))
        .route("/tag/{slug}/page/{n}/", get(listing::tag_page))
        .route("/author/{slug}/", get(listing::author))
        .route("/author/{slug}/page/{n}/", get(listing::author_page))
        .route("/{year}/{month}/{day}/{slug}/", get(article::article))
        .route("/{slug}/", get(article::page))
        .route("/search", get(crate::search::page::search))
        .route("/preview/{id}", get(preview::preview))
        .route("/assets/{file}", get(assets::asset))
        .route("/favicon.ico", get(assets::favicon))
        .route("/robots.txt", get(sitemap::robots))
        .route("/sitemap.xml", get(sitemap::index))
        .route("/sitemap-pages.xml", get(sitemap::pages))
        .route("/sitemap-articles-{file}", get(sitemap::articles))
        .route("/news-sitemap.xml", get(sitemap::news))
        .merge(feed::routes())
        .fallback(fallback)
        .layer(from_fn_with_state(state.clone(), legacy::redirects))
        .layer(from_fn_with_state(state, error_page::themed_errors))
}

/// Unknown paths: the slash form of a path without one, else 404.
async fn fallback(method: Method, uri: Uri) -> Response {
    if (method == Method::GET || method == Method::HEAD)
        && let Some(target) = redirect::with_trailing_slash(&uri)
    {
        return redirect::moved(&target);
    }
    AppError::NotFound.into_response()
}

/// What every page needs: the settings, "now", and the site's view model.
pub(crate) struct SiteContext {
    pub settings: SiteSettings,
    /// The chrome these came from (its identity tells whether it was reloaded).
    pub chrome: Arc<SiteChrome>,
    pub tz: Tz,
    pub now: DateTime<Utc>,
    pub view: SiteView,
    pub base_url: String,
}

impl SiteContext {
    pub async fn load(state: &AppState) -> Result<SiteContext, AppError> {
        let now = broadsheet_domain::clock::now();
        let chrome = state.chrome().await?;
        let settings = chrome.settings.clone();
        let tz = settings.tz();
        // Oldest first, so the first page an editor made (usually "About") leads.
        let nav = chrome
            .pages
            .iter()
            .rev()
            .map(|p| NavLink {
                title: p.title.clone(),
                url: p.permalink(tz),
            })
            .collect();
        let base_url = state.config.base_url.clone();
        Ok(SiteContext {
            view: SiteView::new(&settings, &base_url, nav, now),
            tz,
            now,
            settings,
            chrome,
            base_url,
        })
    }

    /// The absolute URL of a site path.
    pub fn absolute(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }
}

/// Renders a template into an HTML response.
pub(crate) fn render(
    state: &AppState,
    template: &str,
    context: impl Serialize,
) -> Result<Response, AppError> {
    Ok(Html(state.theme.render(template, context)?).into_response())
}
