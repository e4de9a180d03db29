//! Reader engagement over HTTP: likes and dislikes, emoji reactions, star ratings,
//! views and live counts (SPEC.md sections 1 and 4). The domain and the stores own the
//! semantics (toggles, counters in the same transaction as the reader's row); this
//! module owns who is asking, how often they may, and how the numbers travel.
//!
//! - [`identity`]: the reader cookie, the client address (trusted proxies) and the
//!   daily-salted network hash; no raw address leaves a request.
//! - [`origin`]: cross-site form posts are refused.
//! - [`limits`]: per-reader and per-network rate limits.
//! - [`gate`]: which articles may be engaged with (public articles), cached per node.
//! - [`writer`]: the vote writer that batches concurrent votes into one transaction.
//! - [`views`]: bot filtering and the view buffer, flushed every half second.
//! - [`live`]: the per-node counts cache and the fan-out of live events.
//! - [`routes`]: the HTTP endpoints.
//!
//! One [`Engagement`] per node holds all of it, in [`crate::AppState`].

pub mod gate;
pub mod identity;
pub mod limits;
pub mod live;
pub mod origin;
pub mod routes;
pub mod views;
pub mod writer;

use std::sync::{Arc, Weak};
use std::time::Duration;

use broadsheet_domain::{ArticleId, Change, Counts, EngagementView, SiteSettings, Store};
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use tokio::sync::watch;

use crate::app::{SiteChrome, load_chrome};
use crate::cache::Cached;
use crate::config::EngagementConfig;
use crate::error::AppError;

pub use routes::routes;

/// How often idle rate-limit keys are forgotten.
const FORGET_IDLE_EVERY: Duration = Duration::from_secs(60);

/// This node's engagement machinery.
pub struct Engagement {
    store: Arc<dyn Store>,
    chrome: Arc<Cached<SiteChrome>>,
    pub identity: identity::Identity,
    pub limits: limits::Limits,
    pub writer: writer::VoteWriter,
    pub views: views::ViewBuffer,
    pub hub: live::Hub,
    pub gate: gate::ArticleGate,
    /// Set when the server starts shutting down, so live streams end and let the
    /// graceful shutdown finish.
    closing: watch::Sender<bool>,
}

impl Engagement {
    /// Starts the vote writer, the view flusher and the limiter housekeeping. The
    /// background tasks hold only weak references (the writer ends with its queue), so
    /// dropping the state stops them.
    pub fn start(
        store: Arc<dyn Store>,
        chrome: Arc<Cached<SiteChrome>>,
        config: &EngagementConfig,
        base_url: &str,
    ) -> Arc<Engagement> {
        let engagement = Arc::new(Engagement {
            writer: writer::VoteWriter::start(
                store.clone(),
                config.readers_per_network_per_article_per_day.get(),
            ),
            store,
            chrome,
            identity: identity::Identity::new(config.trusted_proxies.clone(), base_url),
            limits: limits::Limits::new(config),
            views: views::ViewBuffer::default(),
            hub: live::Hub::default(),
            gate: gate::ArticleGate::default(),
            closing: watch::Sender::new(false),
        });
        tokio::spawn(flush_views(Arc::downgrade(&engagement)));
        tokio::spawn(forget_idle(Arc::downgrade(&engagement)));
        engagement
    }

    /// Follows one change notice (from any node).
    pub fn on_change(self: &Arc<Self>, change: &Change) {
        match change {
            Change::Engagement(id) => {
                if let Some(due) = self.hub.changed(*id) {
                    tokio::spawn(self.clone().push(*id, due));
                }
            }
            Change::Article(id) => self.gate.forget(*id),
            Change::All => {
                self.gate.forget_all();
                for (id, due) in self.hub.changed_all() {
                    tokio::spawn(self.clone().push(id, due));
                }
            }
            // The reaction set lives in the settings; live readers see a changed set
            // with the next change of counts, pages at once (they read the chrome).
            Change::Settings | Change::Users => {}
        }
    }

    /// Sends the article's current counts to its live readers, after `due`.
    async fn push(self: Arc<Self>, id: ArticleId, due: Duration) {
        tokio::time::sleep(due).await;
        self.hub.push_starting(id);
        match self.view_json(id).await {
            Ok(json) => self.hub.send(id, json),
            Err(err) => {
                tracing::warn!(error = %err, article = %id, "could not load counts for live readers")
            }
        }
    }

    /// The article's counts as pages show them, from this node's cache.
    pub async fn view(&self, id: ArticleId) -> Result<EngagementView, AppError> {
        let chrome = load_chrome(&self.chrome, self.store.as_ref()).await?;
        let counts = self.counts(id).await?;
        Ok(EngagementView::new(id, &counts, &chrome.settings.reactions))
    }

    /// The cached counters of an article.
    pub async fn counts(&self, id: ArticleId) -> Result<Arc<Counts>, AppError> {
        Ok(self.hub.counts(self.store.as_ref(), id).await?)
    }

    async fn view_json(&self, id: ArticleId) -> Result<Arc<str>, AppError> {
        let view = self.view(id).await?;
        Ok(serde_json::to_string(&view)
            .map_err(AppError::internal)?
            .into())
    }

    /// Resolves once the server is shutting down.
    pub fn closed(&self) -> impl Future<Output = ()> + Send + 'static {
        let mut closing = self.closing.subscribe();
        async move {
            // An error means the sender is gone, which is a shutdown too.
            let _ = closing.wait_for(|closing| *closing).await;
        }
    }

    /// The server stopped accepting requests: end live streams so in-flight requests
    /// can finish.
    pub fn begin_shutdown(&self) {
        self.closing.send_replace(true);
    }

    /// The last step of a graceful shutdown, after the last request: writes buffered
    /// views. (Votes need nothing: each request waited for its own commit.)
    pub async fn finish(&self) {
        self.views.flush(self.store.as_ref()).await;
    }
}

/// The calendar day at `now` in the site's time zone: views count once per reader and
/// day, and the per-network cap is per day.
pub fn today(settings: &SiteSettings, now: DateTime<Utc>) -> NaiveDate {
    now.with_timezone(&settings.tz()).date_naive()
}

/// Whole seconds until the next day starts in the site's time zone (at least one).
pub fn seconds_until_tomorrow(settings: &SiteSettings, now: DateTime<Utc>) -> u64 {
    let tz = settings.tz();
    let next_midnight = today(settings, now)
        .succ_opt()
        .and_then(|day| day.and_hms_opt(0, 0, 0))
        .and_then(|midnight| tz.from_local_datetime(&midnight).earliest());
    match next_midnight {
        Some(at) => u64::try_from((at.with_timezone(&Utc) - now).num_seconds())
            .unwrap_or(0)
            .max(1),
        // A zone without a midnight that day (a DST jump at 00:00): an hour is close.
        None => 3600,
    }
}

async fn flush_views(engagement: Weak<Engagement>) {
    let mut every = tokio::time::interval(views::FLUSH_EVERY);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        let Some(engagement) = engagement.upgrade() else {
            break;
        };
        engagement.views.flush(engagement.store.as_ref()).await;
    }
}

async fn forget_idle(engagement: Weak<Engagement>) {
    let mut every = tokio::time::interval(FORGET_IDLE_EVERY);
    every.tick().await; // the first tick is immediate
    loop {
        every.tick().await;
        let Some(engagement) = engagement.upgrade() else {
            break;
        };
        engagement.limits.forget_idle();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_are_the_sites() {
        let berlin = SiteSettings {
            time_zone: "Europe/Berlin".into(),
            ..SiteSettings::default()
        };
        let now = Utc.with_ymd_and_hms(2026, 3, 1, 23, 30, 0).unwrap();
        assert_eq!(today(&berlin, now).to_string(), "2026-03-02");
        assert_eq!(
            today(&SiteSettings::default(), now).to_string(),
            "2026-03-01"
        );
        // 00:30 in Berlin: 23.5 hours to go.
        assert_eq!(seconds_until_tomorrow(&berlin, now), 23 * 3600 + 1800);
    }
}
