//! `broadsheet serve`: open the store, make sure the site has content, start the job
//! worker, listen, and shut down gracefully on Ctrl-C or SIGTERM: stop accepting, end
//! live streams, let in-flight requests (and their votes) finish, write the buffered
//! views, then stop the worker after the job it is running.

use std::net::SocketAddr;

use anyhow::Context;
use tokio::net::TcpListener;

use crate::app::{AppState, build_router};
use crate::config::Config;
use crate::jobs::Worker;

pub async fn run(config: Config) -> anyhow::Result<()> {
    let store = crate::backend::open(&config.database).await?;
    if crate::welcome::ensure_welcome(store.as_ref()).await? {
        tracing::info!("empty site: created the welcome article and About page");
    }
    let listener = TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    let base_url = config.base_url.clone();
    let state = AppState::new(store, config).await?;
    let worker = Worker::new(state.store.clone(), &state.config, state.jobs.clone())
        .context("cannot set up email")?;
    if let Some(outbox) = worker.outbox() {
        tracing::info!(
            "no SMTP server configured (email.smtp_host): emails are written to {}",
            outbox.display()
        );
    }
    tracing::info!(
        "serving {base_url}/ (listening on {})",
        listener.local_addr()?
    );
    let worker = worker.spawn();
    let engagement = state.engagement.clone();
    let closing = engagement.clone();
    // Connection info gives handlers the socket's peer address, which reader
    // identity needs (it is hashed, never kept).
    let app = build_router(state).into_make_service_with_connect_info::<SocketAddr>();
    let served = axum::serve(listener, app)
        .with_graceful_shutdown(async move {
            shutdown_signal().await;
            // Live streams never end by themselves; graceful shutdown waits for them.
            closing.begin_shutdown();
        })
        .await
        .context("server failed");
    engagement.finish().await;
    worker.stop().await;
    served
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = terminate => {} }
    tracing::info!("shutting down");
}
