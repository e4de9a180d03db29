//! Fresh counts for pages and live updates for readers, from one per-node hub.
//!
//! Every node follows the store's change notices (see `AppState::new`), which cross
//! nodes through the database (LISTEN/NOTIFY on PostgreSQL). For `Engagement(id)` the
//! hub drops the article's cached [`Counts`], so the next page view loads them once and
//! every later view until the next change costs no query. If readers are following the
//! article live, the hub also loads the counts and broadcasts them as one JSON
//! document to all of them: at most once per [`PUSH_EVERY`] per article however many
//! votes arrive (a burst of notices becomes one load and one event), and never for
//! articles nobody follows.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use broadsheet_domain::{ArticleId, Counts, Store, StoreError};
use tokio::sync::broadcast;

use crate::cache::Cached;

/// Shortest time between two live events for one article.
pub const PUSH_EVERY: Duration = Duration::from_millis(150);

/// Articles whose counts a node keeps; past this the cache starts over (a site with
/// more articles being read at once than this has other problems).
const MAX_CACHED: usize = 20_000;

/// Events a slow live reader may fall behind by; a reader who falls further just
/// skips to the latest (each event carries all the counts, not a difference).
const CHANNEL_CAPACITY: usize = 4;

#[derive(Default)]
pub struct Hub {
    counts: Mutex<HashMap<ArticleId, Arc<Cached<Counts>>>>,
    channels: Mutex<HashMap<ArticleId, Channel>>,
}

struct Channel {
    sender: broadcast::Sender<Arc<str>>,
    /// A push is planned and has not started loading yet: later notices ride on it.
    scheduled: bool,
    last_push: Option<Instant>,
}

impl Hub {
    /// An article's counters, from this node's cache when nothing changed since they
    /// were loaded.
    pub async fn counts(
        &self,
        store: &dyn Store,
        id: ArticleId,
    ) -> Result<Arc<Counts>, StoreError> {
        let cell = {
            let mut cells = lock(&self.counts);
            if cells.len() >= MAX_CACHED && !cells.contains_key(&id) {
                cells.clear();
            }
            cells.entry(id).or_default().clone()
        };
        cell.get_or_load(|| store.counts(id)).await
    }

    /// The article's counters changed. Drops the cached ones and says how long to wait
    /// before pushing to live readers, if a push is due (`None`: nobody follows the
    /// article, or a push is already planned and will load the latest counts).
    pub fn changed(&self, id: ArticleId) -> Option<Duration> {
        if let Some(cell) = lock(&self.counts).remove(&id) {
            // A load in flight on the removed cell must not be served later.
            cell.invalidate();
        }
        let mut channels = lock(&self.channels);
        let channel = channels.get_mut(&id)?;
        if channel.sender.receiver_count() == 0 {
            channels.remove(&id);
            return None;
        }
        if channel.scheduled {
            return None;
        }
        channel.scheduled = true;
        let due = channel.last_push.map_or(Duration::ZERO, |at| {
            (at + PUSH_EVERY).saturating_duration_since(Instant::now())
        });
        Some(due)
    }

    /// Every article may have changed (a missed notice, an import).
    pub fn changed_all(&self) -> Vec<(ArticleId, Duration)> {
        let ids: Vec<ArticleId> = {
            let mut counts = lock(&self.counts);
            for cell in counts.values() {
                cell.invalidate();
            }
            counts.clear();
            lock(&self.channels).keys().copied().collect()
        };
        ids.into_iter()
            .filter_map(|id| self.changed(id).map(|due| (id, due)))
            .collect()
    }

    /// A push is starting: notices from now on plan the next one.
    pub fn push_starting(&self, id: ArticleId) {
        if let Some(channel) = lock(&self.channels).get_mut(&id) {
            channel.scheduled = false;
            channel.last_push = Some(Instant::now());
        }
    }

    /// Sends one event to the article's live readers.
    pub fn send(&self, id: ArticleId, json: Arc<str>) {
        let mut channels = lock(&self.channels);
        if let Some(channel) = channels.get(&id)
            && channel.sender.send(json).is_err()
        {
            // Every reader left since the push was planned.
            channels.remove(&id);
        }
    }

    /// Follows an article's events.
    pub fn subscribe(&self, id: ArticleId) -> broadcast::Receiver<Arc<str>> {
        lock(&self.channels)
            .entry(id)
            .or_insert_with(|| Channel {
                sender: broadcast::channel(CHANNEL_CAPACITY).0,
                scheduled: false,
                last_push: None,
            })
            .sender
            .subscribe()
    }

    /// A live reader left: forget the article if it was the last one.
    pub fn unsubscribed(&self, id: ArticleId) {
        let mut channels = lock(&self.channels);
        if channels
            .get(&id)
            .is_some_and(|c| c.sender.receiver_count() == 0)
        {
            channels.remove(&id);
        }
    }

    /// How many articles have live readers on this node (for tests and logs).
    pub fn followed_articles(&self) -> usize {
        lock(&self.channels).len()
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // Every critical section here is a map operation: a poisoned lock is still sound.
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notices_plan_one_push_per_burst_and_only_for_followed_articles() {
        let hub = Hub::default();
        let id = ArticleId(1);
        assert_eq!(hub.changed(id), None, "nobody follows it");
        let mut receiver = hub.subscribe(id);
        assert_eq!(
            hub.changed(id),
            Some(Duration::ZERO),
            "first push is immediate"
        );
        assert_eq!(hub.changed(id), None, "rides on the planned push");
        hub.push_starting(id);
        let due = hub
            .changed(id)
            .expect("a notice after the load started plans another");
        assert!(due > Duration::ZERO && due <= PUSH_EVERY, "{due:?}");
        hub.send(id, "{}".into());
        assert_eq!(&*receiver.try_recv().unwrap(), "{}");
        drop(receiver);
        hub.unsubscribed(id);
        assert_eq!(hub.followed_articles(), 0);
    }
}
