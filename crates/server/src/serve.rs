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
    // Listening for the signals starts before the log says we serve, so a SIGTERM
    // sent as soon as the server is up stops it gracefully instead of killing it.
    let shutdown = ShutdownSignal::install().context("cannot listen for shutdown signals")?;
    let base_url = config.base_url.clone();
    let state = AppState::new(store, config).await?;
    let worker = Worker::new(state.store.clone(), &state.config, state.jobs.clone())
        .context("cannot set up the job worker (email, web push)")?;
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
            shutdown.received().await;
            // Live streams never end by themselves; graceful shutdown waits for them.
            closing.begin_shutdown();
        })
        .await
        .context("server failed");
    engagement.finish().await;
    worker.stop().await;
    served
}

/// Ctrl-C and (on Unix) SIGTERM, registered when installed rather than when first
/// awaited.
struct ShutdownSignal {
    #[cfg(unix)]
    interrupt: tokio::signal::unix::Signal,
    #[cfg(unix)]
    terminate: tokio::signal::unix::Signal,
}

impl ShutdownSignal {
    fn install() -> std::io::Result<ShutdownSignal> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Ok(ShutdownSignal {
                interrupt: signal(SignalKind::interrupt())?,
                terminate: signal(SignalKind::terminate())?,
            })
        }
        #[cfg(not(unix))]
        Ok(ShutdownSignal {})
    }

    async fn received(mut self) {
        #[cfg(unix)]
        tokio::select! {
            _ = self.interrupt.recv() => {},
            _ = self.terminate.recv() => {},
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
            let _ = &mut self;
        }
        tracing::info!("shutting down");
    }
}
