//! Application state and the router. `build_router` lives in the library so tests
//! drive the whole site in-process, exactly as `broadsheet serve` does over a socket.

use std::sync::Arc;

use anyhow::Context;
use axum::Router;
use broadsheet_domain::{
    Article, ArticleQuery, ContentKind, SiteSettings, Store, StoreError, clock,
};
use futures::StreamExt;

use crate::cache::Cached;
use crate::config::Config;
use crate::theme::Theme;

/// Everything a request handler may need, cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub config: Arc<Config>,
    pub theme: Arc<Theme>,
    chrome: Arc<Cached<SiteChrome>>,
}

/// What every page shows around its content: the site settings and the pages in the
/// navigation. Read on every request and changed rarely, so each node caches it and
/// drops it when the store announces a change (from this node, another node or the
/// CLI).
#[derive(Debug)]
pub struct SiteChrome {
    pub settings: SiteSettings,
    /// Public pages, newest first.
    pub pages: Vec<Article>,
}

impl AppState {
    /// Loads the theme and starts following the store's change notices, so this
    /// node's caches never outlive a change by more than the notice's delivery time.
    pub async fn new(store: Arc<dyn Store>, config: Config) -> anyhow::Result<AppState> {
        let theme = Theme::load(config.theme_dir.as_deref())?;
        let chrome: Arc<Cached<SiteChrome>> = Arc::default();
        // Subscribed before the first load, so no change can fall between the two.
        let mut changes = store
            .subscribe()
            .await
            .context("cannot follow the database's change notices")?;
        let weak = Arc::downgrade(&chrome);
        tokio::spawn(async move {
            while let Some(change) = changes.next().await {
                // Settings, pages (any article may be one) and a missed-notice flush
                // all touch the chrome; changes are rare next to page views, so every
                // notice drops it.
                let Some(chrome) = weak.upgrade() else { break };
                tracing::debug!(%change, "dropping cached site chrome");
                chrome.invalidate();
            }
        });
        Ok(AppState {
            store,
            config: Arc::new(config),
            theme: Arc::new(theme),
            chrome,
        })
    }

    /// The site settings and navigation pages, from this node's cache.
    pub async fn chrome(&self) -> Result<Arc<SiteChrome>, StoreError> {
        self.chrome
            .get_or_load(|| async {
                let settings = self.store.settings().await?;
                let pages = self
                    .store
                    .list_articles(&ArticleQuery {
                        kind: ContentKind::Page,
                        ..ArticleQuery::public(clock::now(), 1, 100)
                    })
                    .await?
                    .items;
                Ok(SiteChrome { settings, pages })
            })
            .await
    }
}

/// The whole HTTP surface of one node.
pub fn build_router(state: AppState) -> Router {
    // The site's routes take the state for their error-page middleware.
    crate::site::routes(state.clone())
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .with_state(state)
}
