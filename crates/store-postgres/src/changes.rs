//! Change notices through PostgreSQL's `LISTEN`/`NOTIFY`: a write calls `pg_notify`
//! inside its transaction, which PostgreSQL delivers on commit and drops on rollback,
//! and every subscriber listens on a connection of its own.

use std::time::Duration;

use broadsheet_domain::store::StoreResult;
use broadsheet_domain::{Change, ChangeStream};
use futures::stream;
use sqlx::PgConnection;
use sqlx::postgres::{PgListener, PgPool, PgPoolOptions};
use tokio::time::sleep;

use crate::rows::db_error;

/// The channel of a site whose tables are in `public`, PostgreSQL's default schema.
const CHANNEL: &str = "broadsheet_changes";

/// The longest identifier PostgreSQL keeps, in bytes: `LISTEN` cuts a longer channel
/// name short, and `pg_notify` refuses it.
const MAX_CHANNEL_LEN: usize = 63;

/// How long a subscriber whose connection failed waits before trying again.
const RETRY_AFTER: Duration = Duration::from_secs(1);

/// The channel for a site whose tables are in `schema` (`None`: wherever the URL's
/// search path puts them): [`CHANNEL`] for the default schema, and
/// `broadsheet_changes_<schema>` for another, because channels belong to the database,
/// not to a schema, and sites (or tests) sharing a database must not hear each other.
pub(crate) fn channel_of(schema: Option<&str>) -> String {
    match schema {
        None | Some("public") => CHANNEL.to_owned(),
        Some(schema) => {
            let mut channel = format!("{CHANNEL}_{schema}");
            // Schema names are ASCII (see `check_schema_name`), so any cut is on a char
            // boundary. Two long names alike up to the cut share a channel: each site
            // then flushes a little more than it must, and never misses a notice.
            channel.truncate(MAX_CHANNEL_LEN);
            channel
        }
    }
}

/// Sends `change` on `channel` when the transaction `conn` is in commits. Call it
/// after the write, so that a write that fails publishes nothing.
pub(crate) async fn publish(
    conn: &mut PgConnection,
    channel: &str,
    change: Change,
) -> StoreResult<()> {
    sqlx::query("SELECT pg_notify($1, $2)")
        .bind(channel)
        .bind(change.to_string())
        .execute(conn)
        .await
        .map_err(db_error)?;
    Ok(())
}

/// Listens on `channel`; the stream hears every change committed after this returns.
pub(crate) async fn subscribe(store: &PgPool, channel: &str) -> StoreResult<ChangeStream> {
    // The listener holds its connection for as long as the subscription lasts, so it
    // gets a pool of its own, which it also reconnects through, rather than taking one
    // of the store's connections. Both go when the stream is dropped.
    let own = PgPoolOptions::new()
        .max_connections(1)
        .max_lifetime(None)
        .idle_timeout(None)
        .connect_with((*store.connect_options()).clone())
        .await
        .map_err(db_error)?;
    let listener = listen(&own, channel).await.map_err(db_error)?;
    let listening = Listening {
        listener: Some(listener),
        own,
        channel: channel.to_owned(),
        store: store.clone(),
    };
    // The stream is its own state: dropping it drops the listener, whose connection
    // stops listening and closes with its pool; no task is left behind.
    Ok(Box::pin(stream::unfold(listening, Listening::next)))
}

async fn listen(pool: &PgPool, channel: &str) -> Result<PgListener, sqlx::Error> {
    let mut listener = PgListener::connect_with(pool).await?;
    listener.listen(channel).await?;
    Ok(listener)
}

struct Listening {
    /// `None` after a failure, until listening again.
    listener: Option<PgListener>,
    /// The listener's own pool, to listen again through.
    own: PgPool,
    channel: String,
    /// The store's pool: closing it ends the stream.
    store: PgPool,
}

impl Listening {
    /// The next notice; `None` once the store is closed.
    async fn next(mut self) -> Option<(Change, Listening)> {
        let mut closed = self.store.close_event();
        loop {
            let Some(listener) = &mut self.listener else {
                match closed
                    .do_until(listen(&self.own, &self.channel))
                    .await
                    .ok()?
                {
                    Ok(listener) => {
                        self.listener = Some(listener);
                        // Listening again: whatever was sent while it was not is lost.
                        return Some((Change::All, self));
                    }
                    Err(err) => {
                        tracing::debug!(%err, "change notices: cannot listen yet; retrying");
                        closed.do_until(sleep(RETRY_AFTER)).await.ok()?;
                        continue;
                    }
                }
            };
            match closed.do_until(listener.try_recv()).await.ok()? {
                // `Change` reads an unknown notice as `All`; parsing never fails.
                Ok(Some(notice)) => {
                    let change = notice.payload().parse().unwrap_or(Change::All);
                    return Some((change, self));
                }
                // `PgListener` lost its connection and is back and listening on a new
                // one: notices sent in between are lost.
                Ok(None) => return Some((Change::All, self)),
                Err(err) => {
                    tracing::warn!(%err, "change notices: the listener failed; listening again");
                    // A listener that failed may still hold a dead connection; a new
                    // one starts clean, and the next turn tells the subscriber `All`
                    // once it listens.
                    self.listener = None;
                    closed.do_until(sleep(RETRY_AFTER)).await.ok()?;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_schema_has_a_channel_postgres_keeps_whole() {
        assert_eq!(channel_of(None), "broadsheet_changes");
        assert_eq!(channel_of(Some("public")), "broadsheet_changes");
        assert_eq!(channel_of(Some("site_2")), "broadsheet_changes_site_2");
        let longest = "s".repeat(63);
        assert_eq!(channel_of(Some(&longest)).len(), MAX_CHANNEL_LEN);
    }
}
