//! Change notices through the `change_log` table (see its migration): a write appends
//! its change inside its own transaction, and every subscriber, in any process that
//! opened the file, polls for the rows past the last one it read.

use std::collections::VecDeque;
use std::time::Duration;

use broadsheet_domain::store::StoreResult;
use broadsheet_domain::{Change, ChangeStream, clock};
use chrono::TimeDelta;
use futures::stream;
use sqlx::{SqliteConnection, SqlitePool};
use tokio::time::{Interval, MissedTickBehavior};

use crate::rows::{db_error, millis};

/// How often a subscriber looks for new rows: a change reaches it well within the
/// second the domain promises, and an idle poll is one range query on the primary key.
const POLL_INTERVAL: Duration = Duration::from_millis(200);

/// How long a row stays in the log. Subscribers read every [`POLL_INTERVAL`], so only
/// one that stopped reading for this long finds rows gone, and is told [`Change::All`].
const RETENTION: TimeDelta = TimeDelta::minutes(10);

/// Appends `change` to the log and prunes what is older than [`RETENTION`]. Call it
/// inside the write's transaction, after the write, so that the notice exists exactly
/// when the write committed.
pub(crate) async fn publish(conn: &mut SqliteConnection, change: Change) -> StoreResult<()> {
    let now = clock::now();
    sqlx::query("INSERT INTO change_log (change, at_ms) VALUES (?, ?)")
        .bind(change.to_string())
        .bind(millis(now))
        .execute(&mut *conn)
        .await
        .map_err(db_error)?;
    // Pruning removes everything up to the newest old row, a prefix by id even if the
    // clock stepped back, so the only hole a subscriber can meet is at the start. The
    // row just written is never old, so the newest id always stays: a subscriber with
    // rows left to read always finds at least one, and sees the hole before it.
    // Left to itself, SQLite answers MAX(id) by walking ids down from the newest,
    // through every recent row; the time index reads only the old ones (see its
    // migration).
    sqlx::query(
        "DELETE FROM change_log \
         WHERE id <= (SELECT MAX(id) FROM change_log INDEXED BY change_log_by_time \
                      WHERE at_ms < ?)",
    )
    .bind(millis(now - RETENTION))
    .execute(&mut *conn)
    .await
    .map_err(db_error)?;
    Ok(())
}

/// Notices from the next row written on: the rows there already are happened before
/// the subscriber asked.
pub(crate) async fn subscribe(pool: &SqlitePool) -> StoreResult<ChangeStream> {
    let last_read = sqlx::query_scalar("SELECT COALESCE(MAX(id), 0) FROM change_log")
        .fetch_one(pool)
        .await
        .map_err(db_error)?;
    let mut ticks = tokio::time::interval(POLL_INTERVAL);
    // A consumer that was busy for a while gets one poll at once, not a burst.
    ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let poller = Poller {
        pool: pool.clone(),
        last_read,
        ready: VecDeque::new(),
        ticks,
        failing: false,
    };
    // The stream is its own state: it polls only while someone waits on it, and
    // dropping it drops the pool handle with it; no task is left behind.
    Ok(Box::pin(stream::unfold(poller, Poller::next)))
}

struct Poller {
    pool: SqlitePool,
    /// The id of the last row read: ids after it are the news.
    last_read: i64,
    /// Read but not yet handed out.
    ready: VecDeque<Change>,
    ticks: Interval,
    /// Whether the last poll failed, so an outage is logged once, not every poll.
    failing: bool,
}

impl Poller {
    /// The next notice; `None` once the store is closed.
    async fn next(mut self) -> Option<(Change, Poller)> {
        loop {
            if let Some(change) = self.ready.pop_front() {
                return Some((change, self));
            }
            self.ticks.tick().await;
            let rows: Vec<(i64, String)> =
                match sqlx::query_as("SELECT id, change FROM change_log WHERE id > ? ORDER BY id")
                    .bind(self.last_read)
                    .fetch_all(&self.pool)
                    .await
                {
                    Ok(rows) => rows,
                    Err(sqlx::Error::PoolClosed) => return None,
                    // The next poll asks again from the same id, so nothing is lost.
                    Err(err) => {
                        if !self.failing {
                            tracing::warn!(%err, "cannot read the change log; retrying");
                        }
                        self.failing = true;
                        continue;
                    }
                };
            self.failing = false;
            let (Some(&(first, _)), Some(&(newest, _))) = (rows.first(), rows.last()) else {
                continue;
            };
            if first > self.last_read + 1 {
                // Rows between were pruned before this subscriber read them: what they
                // said is lost, so everything may have changed (and this covers the
                // rows that are left).
                self.ready.push_back(Change::All);
            } else {
                // `Change` reads an unknown notice as `All`; parsing never fails.
                let changes = rows.iter().map(|(_, change)| change.parse());
                self.ready
                    .extend(changes.map(|change| change.unwrap_or(Change::All)));
            }
            self.last_read = newest;
        }
    }
}
