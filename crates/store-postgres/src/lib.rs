//! Broadsheet's scale-out store: PostgreSQL through sqlx, shared by every node of a site.
//!
//! [`PgStore`] implements [`broadsheet_domain::Store`] with the same observable
//! behaviour as the SQLite store (the conformance suite in `crates/store-tests` runs
//! one story against both); the schema lives in `migrations/` and is embedded.
//!
//! - Article writes take `LOCK TABLE slug_redirects IN SHARE ROW EXCLUSIVE MODE` first.
//!   A slug must be unique across current slugs (`articles`) and old ones
//!   (`slug_redirects`), which no unique index can span; the lock conflicts with itself
//!   but not with readers, so saves run one at a time while page views go on, and
//!   "check the slug, then take it" cannot interleave with another save. Newsroom saves
//!   are rare enough for that.
//! - [`PgStore::connect_in_schema`] keeps every table in one schema, so several sites,
//!   or tests running in parallel, can share a database.
//! - Timestamps are `timestamptz`; the domain hands them over truncated to milliseconds.
//! - Change notices are `NOTIFY`s sent inside each write's transaction, on the channel
//!   `broadsheet_changes` for a site in the default schema and
//!   `broadsheet_changes_<schema>` for one in another (see `changes.rs`). Sending
//!   `all` on it by hand (`NOTIFY broadsheet_changes, 'all'`) makes every node flush
//!   its caches.
//! - A batch of reader casts locks the `articles` rows it touches (`FOR NO KEY
//!   UPDATE`, in id order) before reading readers' rows, so casts from several nodes
//!   on one article never lose an update or pass the per-network cap together (see
//!   `engagement.rs`).
//! - Every article write keeps a revision in its own transaction (see `revisions.rs`).
//! - The media library keeps images as `bytea` (`media.rs`), so every node serves
//!   them without a shared disk; listings never read the image columns.

mod accounts;
mod api_tokens;
mod articles;
mod changes;
mod comments;
mod engagement;
mod jobs;
mod media;
mod push;
mod revisions;
mod rows;
mod search;
mod stats;
mod subscriptions;
mod webhooks;

use std::str::FromStr;

use async_trait::async_trait;
use broadsheet_domain::dump::FORMAT_VERSION;
use broadsheet_domain::store::StoreResult;
use broadsheet_domain::{
    Article, ArticleId, ArticleQuery, ArticleWrite, Cast, CastOutcome, Change, ChangeStream,
    Counts, NewUser, Paged, ReaderChoices, ReaderId, SiteDump, SiteSettings, SlugLookup,
    SlugRedirect, Store, StoreError, Tag, User, UserId, ViewHit, clock,
};
use chrono::{DateTime, NaiveDate, Utc};
use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::{AssertSqlSafe, Connection, Executor, PgConnection, Postgres, Transaction};

use crate::rows::{UserRow, db_error, new_user_of};

static MIGRATOR: Migrator = sqlx::migrate!();

/// The columns of [`UserRow`].
macro_rules! select_users {
    () => {
        "SELECT id, slug, display_name, email, role, bio, active, password_hash, created_at \
         FROM users"
    };
}

// After the macro, which it uses.
mod imports;

/// A Broadsheet site in a PostgreSQL database.
#[derive(Clone)]
pub struct PgStore {
    pool: PgPool,
    /// Where this site's change notices go (see [`changes::channel_of`]).
    channel: String,
}

impl PgStore {
    /// Connects to the database at `url` (`postgres://user@host/db`). Call
    /// [`Store::migrate`] before use.
    pub async fn connect(url: &str) -> Result<PgStore, StoreError> {
        let options = PgConnectOptions::from_str(url).map_err(StoreError::backend)?;
        Self::connect_with(options, changes::channel_of(None)).await
    }

    /// Connects like [`PgStore::connect`] with every table in `schema`, which is
    /// created if missing. `schema` is a lowercase identifier (`a-z`, `0-9`, `_`, not
    /// starting with a digit, at most 63 bytes).
    pub async fn connect_in_schema(url: &str, schema: &str) -> Result<PgStore, StoreError> {
        check_schema_name(schema)?;
        let options = PgConnectOptions::from_str(url).map_err(StoreError::backend)?;
        let mut conn = PgConnection::connect_with(&options)
            .await
            .map_err(db_error)?;
        // A schema name cannot be a bind parameter. The check above admits only
        // characters that need no escaping, so quoting the name is enough.
        conn.execute(AssertSqlSafe(format!(
            "CREATE SCHEMA IF NOT EXISTS \"{schema}\""
        )))
        .await
        .map_err(db_error)?;
        conn.close().await.map_err(db_error)?;
        // search_path as a startup option applies to every pooled connection, including
        // the one `migrate` opens, and unqualified names then resolve only in `schema`.
        let options = options.options([("search_path", schema)]);
        Self::connect_with(options, changes::channel_of(Some(schema))).await
    }

    async fn connect_with(
        options: PgConnectOptions,
        channel: String,
    ) -> Result<PgStore, StoreError> {
        let pool = PgPoolOptions::new()
            .connect_with(options)
            .await
            .map_err(db_error)?;
        Ok(PgStore { pool, channel })
    }

    /// Closes the store: waits for the queries under way, refuses new ones, and ends
    /// every change stream it handed out.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// Notifies subscribers of `change` when the transaction `tx` commits.
    async fn publish(&self, tx: &mut PgConnection, change: Change) -> StoreResult<()> {
        changes::publish(tx, &self.channel, change).await
    }

    /// Starts a transaction that may write articles: it holds the slug lock (see the
    /// crate docs).
    async fn begin_write(&self) -> StoreResult<Transaction<'static, Postgres>> {
        let mut tx = self.pool.begin().await.map_err(db_error)?;
        sqlx::query("LOCK TABLE slug_redirects IN SHARE ROW EXCLUSIVE MODE")
            .execute(&mut *tx)
            .await
            .map_err(db_error)?;
        Ok(tx)
    }
}

fn check_schema_name(schema: &str) -> StoreResult<()> {
    let valid = (1..=63).contains(&schema.len())
        && schema
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        && !schema.starts_with(|c: char| c.is_ascii_digit());
    if valid {
        Ok(())
    } else {
        Err(StoreError::Backend(format!(
            "\"{schema}\" is not a schema name of a-z, 0-9 and _"
        )))
    }
}

async fn insert_user(
    conn: &mut PgConnection,
    id: Option<UserId>,
    user: &NewUser,
    active: bool,
    created_at: DateTime<Utc>,
) -> StoreResult<User> {
    // An explicit NULL would not fall back to the identity's default, so the default
    // is asked for by name when no id is given.
    let row: UserRow = sqlx::query_as(
        "INSERT INTO users (id, slug, display_name, email, role, bio, active, password_hash, \
         created_at) \
         VALUES (COALESCE($1, nextval(pg_get_serial_sequence('users', 'id'))), \
         $2, $3, $4, $5, $6, $7, $8, $9) \
         RETURNING id, slug, display_name, email, role, bio, active, password_hash, created_at",
    )
    .bind(id.map(|id| id.0))
    .bind(&user.slug)
    .bind(&user.display_name)
    .bind(&user.email)
    .bind(user.role.as_str())
    .bind(&user.bio)
    .bind(active)
    .bind(&user.password_hash)
    .bind(created_at)
    .fetch_one(conn)
    .await
    .map_err(db_error)?;
    row.try_into()
}

async fn load_settings(conn: &mut PgConnection) -> StoreResult<SiteSettings> {
    let document: Option<String> =
        sqlx::query_scalar("SELECT document::text FROM settings WHERE id = 1")
            .fetch_optional(conn)
            .await
            .map_err(db_error)?;
    match document {
        Some(document) => serde_json::from_str(&document).map_err(StoreError::backend),
        None => Ok(SiteSettings::default()),
    }
}

async fn store_settings(conn: &mut PgConnection, settings: &SiteSettings) -> StoreResult<()> {
    let document = serde_json::to_string(settings).map_err(StoreError::backend)?;
    sqlx::query(
        "INSERT INTO settings (id, document) VALUES (1, $1::jsonb) \
         ON CONFLICT (id) DO UPDATE SET document = excluded.document",
    )
    .bind(document)
    .execute(conn)
    .await
    .map_err(db_error)?;
    Ok(())
}

#[async_trait]
impl Store for PgStore {
    fn backend(&self) -> &'static str {
        "postgres"
    }

    async fn migrate(&self) -> StoreResult<()> {
        // sqlx's PostgreSQL migrator holds `pg_advisory_lock` while it runs, keyed on
        // the database name (so shared by every schema in it): when two nodes start at
        // once, the second waits, then finds every migration applied. The lock belongs
        // to the session and sqlx does not release it when a migration fails, so the
        // migrator gets a connection of its own: on failure it is dropped, which ends
        // the session and the lock with it, instead of going back to the pool locked.
        let mut conn = PgConnection::connect_with(&self.pool.connect_options())
            .await
            .map_err(db_error)?;
        // `run_direct` is `Migrator::run` on a connection; sqlx keeps it for futures that
        // must be `Send`, where `run` fails with "implementation of `Acquire` is not
        // general enough" (launchbadge/sqlx#2016).
        MIGRATOR
            .run_direct(None, &mut conn, false)
            .await
            .map_err(StoreError::backend)?;
        conn.close().await.map_err(db_error)
    }

    async fn create_user(&self, user: &NewUser) -> StoreResult<User> {
        let mut tx = self.pool.begin().await.map_err(db_error)?;
        let created = insert_user(&mut tx, None, user, true, clock::now()).await?;
        self.publish(&mut tx, Change::Users).await?;
        tx.commit().await.map_err(db_error)?;
        Ok(created)
    }

    async fn user_by_id(&self, id: UserId) -> StoreResult<User> {
        let row: UserRow = sqlx::query_as(concat!(select_users!(), " WHERE id = $1"))
            .bind(id.0)
            .fetch_one(&self.pool)
            .await
            .map_err(db_error)?;
        row.try_into()
    }

    async fn user_by_slug(&self, slug: &str) -> StoreResult<User> {
        let row: UserRow = sqlx::query_as(concat!(select_users!(), " WHERE slug = $1"))
            .bind(slug)
            .fetch_one(&self.pool)
            .await
            .map_err(db_error)?;
        row.try_into()
    }

    async fn user_by_email(&self, email: &str) -> StoreResult<User> {
        let row: UserRow = sqlx::query_as(concat!(select_users!(), " WHERE email = $1"))
            .bind(email)
            .fetch_one(&self.pool)
            .await
            .map_err(db_error)?;
        row.try_into()
    }

    async fn list_users(&self) -> StoreResult<Vec<User>> {
        let rows: Vec<UserRow> =
            sqlx::query_as(concat!(select_users!(), " ORDER BY created_at, id"))
                .fetch_all(&self.pool)
                .await
                .map_err(db_error)?;
        rows.into_iter().map(User::try_from).collect()
    }

    async fn insert_article(&self, article: &ArticleWrite) -> StoreResult<Article> {
        let now = clock::now();
        let mut tx = self.begin_write().await?;
        let id = articles::insert(&mut tx, None, article, now, now).await?;
        let stored = articles::by_id(&mut tx, id).await?;
        self.publish(&mut tx, Change::Article(id)).await?;
        tx.commit().await.map_err(db_error)?;
        Ok(stored)
    }

    async fn update_article(&self, id: ArticleId, article: &ArticleWrite) -> StoreResult<Article> {
        self.save_article(id, article, false).await
    }

    async fn article_by_id(&self, id: ArticleId) -> StoreResult<Article> {
        let mut conn = self.pool.acquire().await.map_err(db_error)?;
        articles::by_id(&mut conn, id).await
    }

    async fn find_by_slug(&self, slug: &str) -> StoreResult<SlugLookup> {
        let mut conn = self.pool.acquire().await.map_err(db_error)?;
        articles::by_slug(&mut conn, slug).await
    }

    async fn list_articles(&self, query: &ArticleQuery) -> StoreResult<Paged<Article>> {
        let mut conn = self.pool.acquire().await.map_err(db_error)?;
        articles::list(&mut conn, query).await
    }

    async fn publish_due(&self, id: ArticleId, now: DateTime<Utc>) -> StoreResult<bool> {
        let mut tx = self.pool.begin().await.map_err(db_error)?;
        // The condition is the whole decision: a racing caller waits for the first
        // one's row lock, then finds the article no longer scheduled. No slug lock:
        // the slug does not change.
        let flipped = sqlx::query(
            "UPDATE articles SET status = 'published' \
             WHERE id = $1 AND status = 'scheduled' AND published_at <= $2",
        )
        .bind(id.0)
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(db_error)?
        .rows_affected()
            == 1;
        if flipped {
            self.publish(&mut tx, Change::Article(id)).await?;
        } else {
            let exists: bool =
                sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM articles WHERE id = $1)")
                    .bind(id.0)
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(db_error)?;
            if !exists {
                return Err(StoreError::NotFound);
            }
        }
        tx.commit().await.map_err(db_error)?;
        Ok(flipped)
    }

    async fn scheduled_articles(&self) -> StoreResult<Vec<(ArticleId, DateTime<Utc>)>> {
        let rows: Vec<(i64, DateTime<Utc>)> = sqlx::query_as(
            "SELECT id, published_at FROM articles \
             WHERE status = 'scheduled' AND published_at IS NOT NULL \
             ORDER BY published_at, id",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(db_error)?;
        Ok(rows
            .into_iter()
            .map(|(id, at)| (ArticleId(id), at))
            .collect())
    }

    async fn tag_by_slug(&self, slug: &str) -> StoreResult<Tag> {
        let (name, slug) = sqlx::query_as("SELECT name, slug FROM tags WHERE slug = $1")
            .bind(slug)
            .fetch_one(&self.pool)
            .await
            .map_err(db_error)?;
        Ok(Tag { name, slug })
    }

    async fn public_tags(&self, now: DateTime<Utc>) -> StoreResult<Vec<(Tag, DateTime<Utc>)>> {
        let rows: Vec<(String, String, DateTime<Utc>)> = sqlx::query_as(
            // The public predicate word for word as in listings (and their index).
            "SELECT t.name, t.slug, MAX(a.updated_at) FROM tags t \
             JOIN article_tags at ON at.tag_id = t.id \
             JOIN articles a ON a.id = at.article_id \
             WHERE a.kind = 'article' AND a.status IN ('published', 'scheduled') \
               AND a.published_at <= $1 \
             GROUP BY t.id, t.name, t.slug ORDER BY t.slug",
        )
        .bind(now)
        .fetch_all(&self.pool)
        .await
        .map_err(db_error)?;
        Ok(rows
            .into_iter()
            .map(|(name, slug, at)| (Tag { name, slug }, at))
            .collect())
    }

    async fn settings(&self) -> StoreResult<SiteSettings> {
        let mut conn = self.pool.acquire().await.map_err(db_error)?;
        load_settings(&mut conn).await
    }

    async fn save_settings(&self, settings: &SiteSettings) -> StoreResult<()> {
        let mut tx = self.pool.begin().await.map_err(db_error)?;
        store_settings(&mut tx, settings).await?;
        self.publish(&mut tx, Change::Settings).await?;
        tx.commit().await.map_err(db_error)
    }

    async fn export_site(&self) -> StoreResult<SiteDump> {
        // One snapshot for every query, so the dump is consistent even while editors
        // keep saving.
        let mut tx = self
            .pool
            .begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            .await
            .map_err(db_error)?;
        let settings = load_settings(&mut tx).await?;
        let users: Vec<UserRow> = sqlx::query_as(concat!(select_users!(), " ORDER BY id"))
            .fetch_all(&mut *tx)
            .await
            .map_err(db_error)?;
        let articles = articles::all(&mut tx).await?;
        // Byte order, as SQLite sorts, rather than the database's collation.
        let redirects: Vec<(String, i64)> = sqlx::query_as(
            "SELECT slug, article_id FROM slug_redirects ORDER BY slug COLLATE \"C\"",
        )
        .fetch_all(&mut *tx)
        .await
        .map_err(db_error)?;
        let (counts, reader_choices) = engagement::export(&mut tx).await?;
        let daily = stats::export(&mut tx).await?;
        let comments = comments::export(&mut tx).await?;
        let comment_notices_off = accounts::export_comment_notices(&mut tx).await?;
        let (legacy_redirects, import_map) = imports::export(&mut tx).await?;
        tx.commit().await.map_err(db_error)?;
        Ok(SiteDump {
            format_version: FORMAT_VERSION,
            settings,
            users: users
                .into_iter()
                .map(User::try_from)
                .collect::<StoreResult<_>>()?,
            articles,
            redirects: redirects
                .into_iter()
                .map(|(slug, id)| SlugRedirect {
                    slug,
                    article_id: ArticleId(id),
                })
                .collect(),
            counts,
            reader_choices,
            daily,
            comments,
            comment_notices_off,
            legacy_redirects,
            import_map,
        })
    }

    async fn import_site(&self, dump: &SiteDump) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        let has_content: bool = sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM users) OR EXISTS (SELECT 1 FROM articles)",
        )
        .fetch_one(&mut *tx)
        .await
        .map_err(db_error)?;
        if has_content {
            return Err(StoreError::Conflict { field: "site" });
        }
        store_settings(&mut tx, &dump.settings).await?;
        for user in &dump.users {
            let new = new_user_of(user);
            insert_user(&mut tx, Some(user.id), &new, user.active, user.created_at).await?;
        }
        for article in &dump.articles {
            let write = article.to_write();
            let id = Some(article.id);
            articles::insert(&mut tx, id, &write, article.created_at, article.updated_at).await?;
        }
        for redirect in &dump.redirects {
            articles::add_redirect(&mut tx, &redirect.slug, redirect.article_id).await?;
        }
        engagement::import(&mut tx, &dump.counts, &dump.reader_choices).await?;
        stats::import(&mut tx, &dump.daily).await?;
        comments::import(&mut tx, &dump.comments).await?;
        accounts::import_comment_notices(&mut tx, &dump.comment_notices_off).await?;
        imports::import(&mut tx, &dump.legacy_redirects, &dump.import_map).await?;
        // Rows inserted with their own ids leave the identities behind; the next new
        // user or article must not be handed an id the dump already used.
        for table in [
            "SELECT setval(pg_get_serial_sequence('users', 'id'), COALESCE(MAX(id), 0) + 1, false) FROM users",
            "SELECT setval(pg_get_serial_sequence('articles', 'id'), COALESCE(MAX(id), 0) + 1, false) FROM articles",
            "SELECT setval(pg_get_serial_sequence('comments', 'id'), COALESCE(MAX(id), 0) + 1, false) FROM comments",
        ] {
            sqlx::query(table)
                .execute(&mut *tx)
                .await
                .map_err(db_error)?;
        }
        self.publish(&mut tx, Change::All).await?;
        tx.commit().await.map_err(db_error)
    }

    async fn subscribe(&self) -> StoreResult<ChangeStream> {
        changes::subscribe(&self.pool, &self.channel).await
    }

    async fn cast(&self, casts: &[Cast], network_cap: u32) -> StoreResult<Vec<CastOutcome>> {
        if casts.is_empty() {
            return Ok(Vec::new());
        }
        let mut tx = self.pool.begin().await.map_err(db_error)?;
        let (outcomes, changed) = engagement::cast(&mut tx, casts, network_cap).await?;
        for article in changed {
            self.publish(&mut tx, Change::Engagement(article)).await?;
        }
        tx.commit().await.map_err(db_error)?;
        Ok(outcomes)
    }

    async fn counts(&self, article: ArticleId) -> StoreResult<Counts> {
        let mut conn = self.pool.acquire().await.map_err(db_error)?;
        engagement::counts(&mut conn, article).await
    }

    async fn reader_choices(
        &self,
        article: ArticleId,
        reader: &ReaderId,
    ) -> StoreResult<ReaderChoices> {
        let mut conn = self.pool.acquire().await.map_err(db_error)?;
        engagement::reader_choices(&mut conn, article, reader).await
    }

    async fn record_views(&self, hits: &[ViewHit]) -> StoreResult<u64> {
        if hits.is_empty() {
            return Ok(0);
        }
        let mut tx = self.pool.begin().await.map_err(db_error)?;
        let (counted, grew) = engagement::record_views(&mut tx, hits).await?;
        for article in grew {
            self.publish(&mut tx, Change::Engagement(article)).await?;
        }
        tx.commit().await.map_err(db_error)?;
        Ok(counted)
    }

    async fn network_salt(&self, day: NaiveDate, candidate: [u8; 32]) -> StoreResult<[u8; 32]> {
        let mut tx = self.pool.begin().await.map_err(db_error)?;
        let salt = engagement::network_salt(&mut tx, day, candidate).await?;
        tx.commit().await.map_err(db_error)?;
        Ok(salt)
    }
}

#[cfg(test)]
mod tests {
    use super::check_schema_name;

    #[test]
    fn schema_names_are_plain_identifiers() {
        for good in ["broadsheet", "site_2", "_x"] {
            assert!(check_schema_name(good).is_ok(), "{good}");
        }
        let too_long = "a".repeat(64);
        for bad in ["", "Site", "a-b", "a\"b", "2site", "a b", too_long.as_str()] {
            assert!(check_schema_name(bad).is_err(), "{bad}");
        }
    }
}
