//! Application state and the router. `build_router` lives in the library so tests
//! drive the whole site in-process, exactly as `broadsheet serve` does over a socket.

use std::sync::Arc;

use axum::Router;
use broadsheet_domain::Store;

use crate::config::Config;
use crate::theme::Theme;

/// Everything a request handler may need, cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub config: Arc<Config>,
    pub theme: Arc<Theme>,
}

impl AppState {
    pub fn new(store: Arc<dyn Store>, config: Config) -> anyhow::Result<AppState> {
        let theme = Theme::load(config.theme_dir.as_deref())?;
        Ok(AppState {
            store,
            config: Arc::new(config),
            theme: Arc::new(theme),
        })
    }
}

/// The whole HTTP surface of one node.
pub fn build_router(state: AppState) -> Router {
    // The site's routes take the state for their error-page middleware.
    crate::site::routes(state.clone())
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .with_state(state)
}
