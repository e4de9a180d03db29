//! One notion of "now" for everything that is stored.
//!
//! Timestamps are kept to the millisecond: SQLite keeps them as integer milliseconds
//! and PostgreSQL as `timestamptz`, and truncating here means a value read back from
//! either backend equals the value written, so copying a site between backends is exact.

use chrono::{DateTime, DurationRound, TimeDelta, Utc};

/// The current time, truncated to whole milliseconds.
pub fn now() -> DateTime<Utc> {
    truncate(Utc::now())
}

/// Truncates a timestamp to whole milliseconds, the precision every store keeps.
pub fn truncate(t: DateTime<Utc>) -> DateTime<Utc> {
    t.duration_trunc(TimeDelta::milliseconds(1)).unwrap_or(t)
}
