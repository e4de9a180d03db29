//! Change notices: how one node learns that another process (a second node, the CLI)
//! changed something it may have cached.
//!
//! Every store write that changes what pages show publishes a [`Change`] in the same
//! transaction, and every subscriber on the same database receives it, in any process,
//! within a second: PostgreSQL delivers them with `LISTEN/NOTIFY`, SQLite through a
//! small change log that subscribers poll. A subscriber that may have missed notices
//! (a dropped connection, a log pruned under it) receives [`Change::All`] and flushes
//! everything.

use std::fmt;
use std::pin::Pin;
use std::str::FromStr;

use crate::article::ArticleId;

/// What changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Change {
    /// The site settings.
    Settings,
    /// An article or page (and so listings, tag and author pages).
    Article(ArticleId),
    /// Users (names and slugs show on pages).
    Users,
    /// An article's engagement counters (votes, reactions, ratings, views, comments).
    Engagement(ArticleId),
    /// Anything: notices may have been missed, drop every cache.
    All,
}

/// The notices a subscriber receives, until it is dropped.
pub type ChangeStream = Pin<Box<dyn futures_core::Stream<Item = Change> + Send>>;

/// The wire form, short enough for a NOTIFY payload: `settings`, `article:42`,
/// `engagement:42`, `users`, `all`.
impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Change::Settings => f.write_str("settings"),
            Change::Article(id) => write!(f, "article:{id}"),
            Change::Users => f.write_str("users"),
            Change::Engagement(id) => write!(f, "engagement:{id}"),
            Change::All => f.write_str("all"),
        }
    }
}

impl FromStr for Change {
    type Err = String;
    /// Unknown notices (from a newer node during a rolling upgrade) read as `All`,
    /// which is always safe.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "settings" => Change::Settings,
            "users" => Change::Users,
            _ => {
                let id = |prefix: &str| {
                    s.strip_prefix(prefix)
                        .and_then(|id| id.parse().ok())
                        .map(ArticleId)
                };
                match (id("article:"), id("engagement:")) {
                    (Some(id), _) => Change::Article(id),
                    (_, Some(id)) => Change::Engagement(id),
                    _ => Change::All,
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_form_round_trips_and_unknown_is_all() {
        for change in [
            Change::Settings,
            Change::Users,
            Change::All,
            Change::Article(ArticleId(42)),
            Change::Engagement(ArticleId(7)),
        ] {
            assert_eq!(change.to_string().parse::<Change>(), Ok(change));
        }
        assert_eq!("comment:9".parse::<Change>(), Ok(Change::All));
    }
}
