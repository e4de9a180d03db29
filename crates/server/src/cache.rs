//! A per-node cache cell that other processes can invalidate.
//!
//! Nodes keep only what is cheap to lose: a value is loaded on first use, kept until
//! the store reports a change that may affect it (see `AppState::watch_changes`), and
//! reloaded after at most [`MAX_AGE`] as a backstop for what no notice announces
//! (a page whose scheduled time passes). A generation counter makes sure that a load
//! racing with an invalidation never stores the stale value it read.

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Longest a value is served without a reload, whatever the notices say.
pub const MAX_AGE: Duration = Duration::from_secs(60);

pub struct Cached<T> {
    state: Mutex<CellState<T>>,
}

struct CellState<T> {
    value: Option<(Arc<T>, Instant)>,
    generation: u64,
}

impl<T> Default for Cached<T> {
    fn default() -> Self {
        Cached {
            state: Mutex::new(CellState {
                value: None,
                generation: 0,
            }),
        }
    }
}

impl<T> Cached<T> {
    /// The cached value, or a fresh one from `load` (which is then cached unless an
    /// invalidation arrived while it ran).
    pub async fn get_or_load<E, Fut>(&self, load: impl FnOnce() -> Fut) -> Result<Arc<T>, E>
    where
        Fut: Future<Output = Result<T, E>>,
    {
        let generation = {
            let state = self.lock();
            if let Some((value, at)) = &state.value
                && at.elapsed() < MAX_AGE
            {
                return Ok(value.clone());
            }
            state.generation
        };
        let fresh = Arc::new(load().await?);
        let mut state = self.lock();
        if state.generation == generation {
            state.value = Some((fresh.clone(), Instant::now()));
        }
        Ok(fresh)
    }

    /// Drops the value; the next read loads it again.
    pub fn invalidate(&self) {
        let mut state = self.lock();
        state.value = None;
        state.generation += 1;
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, CellState<T>> {
        // A panic while holding this lock cannot leave the cell inconsistent (each
        // critical section is a few assignments), so a poisoned lock is used as is.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    #[tokio::test]
    async fn loads_once_until_invalidated() {
        let cell = Cached::<u32>::default();
        let loads = AtomicU32::new(0);
        let load = || async { Ok::<_, ()>(loads.fetch_add(1, Ordering::SeqCst) + 1) };
        assert_eq!(*cell.get_or_load(load).await.unwrap(), 1);
        assert_eq!(*cell.get_or_load(load).await.unwrap(), 1);
        cell.invalidate();
        assert_eq!(*cell.get_or_load(load).await.unwrap(), 2);
    }

    #[tokio::test]
    async fn a_load_racing_an_invalidation_is_not_kept() {
        let cell = Cached::<&str>::default();
        let value = cell
            .get_or_load(|| async {
                cell.invalidate(); // a notice arrives while the old value is being read
                Ok::<_, ()>("stale")
            })
            .await
            .unwrap();
        assert_eq!(*value, "stale"); // this reader still gets what it read...
        let next = cell
            .get_or_load(|| async { Ok::<_, ()>("fresh") })
            .await
            .unwrap();
        assert_eq!(*next, "fresh"); // ...but nobody after it does.
    }

    #[tokio::test]
    async fn errors_are_not_cached() {
        let cell = Cached::<u32>::default();
        assert!(
            cell.get_or_load(|| async { Err::<u32, _>("down") })
                .await
                .is_err()
        );
        assert_eq!(
            *cell.get_or_load(|| async { Ok::<_, ()>(7) }).await.unwrap(),
            7
        );
    }
}
