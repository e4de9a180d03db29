//! Application state and the router. `build_router` lives in the library so tests
//! drive the whole site in-process, exactly as `broadsheet serve` does over a socket.

use std::sync::Arc;

use anyhow::Context;
use axum::Router;
use broadsheet_domain::{
    Article, ArticleQuery, Change, ContentKind, SiteSettings, Store, StoreError, clock,
};
use futures::StreamExt;

use crate::cache::Cached;
use crate::config::Config;
use crate::engagement::Engagement;
use crate::jobs::JobsHandle;
use crate::theme::Theme;

/// Everything a request handler may need, cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub config: Arc<Config>,
    pub theme: Arc<Theme>,
    /// Votes, views and live counts (see [`crate::engagement`]).
    pub engagement: Arc<Engagement>,
    /// Wakes this node's job worker after enqueueing a job that is due at once.
    pub jobs: JobsHandle,
    /// Sign-in limits of this node (see [`crate::auth`]).
    pub auth: Arc<crate::auth::Auth>,
    /// Comment spam screening: this node's per-network limits and the form key.
    pub comment_screen: Arc<crate::comments::screen::Screen>,
    /// The notification bell: the VAPID public key browsers subscribe with and this
    /// node's limit on subscription writes (see [`crate::push`]).
    pub push: Arc<crate::push::limit::PushState>,
    /// The developer API's rate limits (see [`crate::api`]).
    pub api: Arc<crate::api::ApiState>,
    /// Rendered article pages for readers without a cookie.
    pub(crate) pages: Arc<crate::site::article::PageCache>,
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
        let engagement = Engagement::start(
            store.clone(),
            chrome.clone(),
            &config.engagement,
            &config.base_url,
        );
        let weak_chrome = Arc::downgrade(&chrome);
        let weak_engagement = Arc::downgrade(&engagement);
        tokio::spawn(async move {
            while let Some(change) = changes.next().await {
                let (Some(chrome), Some(engagement)) =
                    (weak_chrome.upgrade(), weak_engagement.upgrade())
                else {
                    break;
                };
                // Settings, pages (any article may be one) and a missed-notice flush
                // touch the chrome. Votes and views do not, and arrive by the
                // thousand per second, so they must not drop it.
                if !matches!(change, Change::Engagement(_)) {
                    tracing::debug!(%change, "dropping cached site chrome");
                    chrome.invalidate();
                }
                engagement.on_change(&change);
            }
        });
        let push = crate::push::limit::PushState::start(
            crate::push::vapid::VapidKey::load_or_create(&config.push.vapid_key_file)
                .context("cannot set up web push")?
                .public_key()
                .to_owned(),
        );
        let auth: Arc<crate::auth::Auth> = Arc::default();
        tokio::spawn(crate::auth::login::forget_idle(Arc::downgrade(&auth)));
        let comment_screen: Arc<crate::comments::screen::Screen> = Arc::default();
        tokio::spawn(crate::comments::screen::forget_idle(Arc::downgrade(
            &comment_screen,
        )));
        let api = Arc::new(crate::api::ApiState::new(&config.api));
        Ok(AppState {
            store,
            config: Arc::new(config),
            theme: Arc::new(theme),
            engagement,
            jobs: JobsHandle::default(),
            auth,
            comment_screen,
            push,
            api,
            pages: Arc::default(),
            chrome,
        })
    }

    /// The site settings and navigation pages, from this node's cache.
    pub async fn chrome(&self) -> Result<Arc<SiteChrome>, StoreError> {
        load_chrome(&self.chrome, self.store.as_ref()).await
    }
}

/// The chrome from `cell`, loaded from `store` when the cell is empty.
pub(crate) async fn load_chrome(
    cell: &Cached<SiteChrome>,
    store: &dyn Store,
) -> Result<Arc<SiteChrome>, StoreError> {
    cell.get_or_load(|| async {
        let settings = store.settings().await?;
        let pages = store
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

/// The whole HTTP surface of one node.
pub fn build_router(state: AppState) -> Router {
    // The site's routes take the state for their error-page middleware. The
    // engagement routes are merged after it: they choose between themed pages (forms)
    // and JSON (the API) themselves.
    crate::site::routes(state.clone())
        .merge(crate::engagement::routes(state.clone()))
        .merge(crate::comments::notify::stop::routes(state.clone()))
        .merge(crate::comments::routes(state.clone()))
        .merge(crate::newsletter::routes(state.clone()))
        .merge(crate::admin::router(state.clone()))
        .merge(crate::media::routes::routes())
        .merge(crate::push::routes::routes())
        .merge(crate::api::router(state.clone()))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::api::wp::advertise,
        ))
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .with_state(state)
}
