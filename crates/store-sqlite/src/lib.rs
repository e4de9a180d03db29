//! Broadsheet's embedded default store: the whole site in one SQLite file, through sqlx.
//!
//! [`SqliteStore`] implements [`broadsheet_domain::Store`]; the schema lives in
//! `migrations/` and is embedded in the binary.
//!
//! - WAL journal: page views (readers) never wait for an editor's save (the one writer).
//! - `synchronous = NORMAL`: in WAL mode a commit that returned survives the process
//!   being killed at any moment; only a power cut or OS crash may lose the last few
//!   commits, and neither corrupts the file. `FULL` would fsync on every commit to
//!   cover those too, at a cost every save would pay.
//! - Every write transaction starts with `BEGIN IMMEDIATE`, taking SQLite's single write
//!   lock up front. The slug rules read before they write; under a plain (deferred)
//!   `BEGIN` two such transactions could both read and then one would fail with
//!   `SQLITE_BUSY` on its first write, which `busy_timeout` cannot wait out. Holding the
//!   lock from the start also makes "check the slug, then take it" atomic.
//! - Timestamps are INTEGER milliseconds since the Unix epoch, the precision the domain
//!   keeps (see [`broadsheet_domain::clock`]).
//! - Change notices go through a `change_log` table that every write appends to in its
//!   own transaction and that subscribers poll (see `changes.rs`): SQLite has no
//!   NOTIFY, and the processes sharing the file (a server, the CLI) have only the file
//!   in common.
//! - Engagement (votes, reactions, ratings, views) writes readers' rows and moves the
//!   articles' counters in one `BEGIN IMMEDIATE` transaction per call, so a batch of
//!   casts from the server's vote writer costs one commit (see `engagement.rs`).
//! - Every article write keeps a revision in its own transaction (see `revisions.rs`).
//! - The media library keeps images as BLOBs (`media.rs`), so a site's images travel
//!   with its one file; listings never read the image columns.

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

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use broadsheet_domain::dump::FORMAT_VERSION;
use broadsheet_domain::store::StoreResult;
use broadsheet_domain::{
    Article, ArticleId, ArticleQuery, ArticleWrite, Cast, CastOutcome, Change, ChangeStream,
    Counts, NewUser, Paged, ReaderChoices, ReaderId, SiteDump, SiteSettings, SlugLookup,
    SlugRedirect, Store, StoreError, Tag, User, UserId, ViewHit, clock,
};
use chrono::{DateTime, NaiveDate, Utc};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{SqliteConnection, migrate::Migrator};

use crate::rows::{UserRow, db_error, from_millis, millis, new_user_of};

static MIGRATOR: Migrator = sqlx::migrate!();

/// How long a writer waits for another to finish before giving up; saves are short.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// The columns of [`UserRow`].
macro_rules! select_users {
    () => {
        "SELECT id, slug, display_name, email, role, bio, active, password_hash, created_at \
         FROM users"
    };
}

// After the macro, which it uses.
mod imports;

/// A Broadsheet site in one SQLite database file.
#[derive(Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
}

impl SqliteStore {
    /// Opens the database at `path`, creating the file and its directory if missing.
    /// Call [`Store::migrate`] before use.
    pub async fn open(path: &Path) -> Result<SqliteStore, StoreError> {
        Self::connect(SqliteConnectOptions::new().filename(path)).await
    }

    /// Opens a database named by a `sqlite:` URL (`sqlite://site.db`,
    /// `sqlite::memory:`), creating it if missing. Call [`Store::migrate`] before use.
    pub async fn open_url(url: &str) -> Result<SqliteStore, StoreError> {
        Self::connect(SqliteConnectOptions::from_str(url).map_err(StoreError::backend)?).await
    }

    async fn connect(options: SqliteConnectOptions) -> Result<SqliteStore, StoreError> {
        if let Some(dir) = options.get_filename().parent()
            && !dir.as_os_str().is_empty()
        {
            std::fs::create_dir_all(dir).map_err(StoreError::backend)?;
        }
        let options = options
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // Durable across a killed process in WAL mode; see the crate docs.
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(BUSY_TIMEOUT);
        let pool = SqlitePoolOptions::new()
            .connect_with(options)
            .await
            .map_err(db_error)?;
        Ok(SqliteStore { pool })
    }

    /// Closes the store: waits for the queries under way, refuses new ones, and ends
    /// every change stream it handed out (within a poll interval).
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// Starts a transaction that holds the write lock from its first statement (see
    /// the crate docs).
    async fn begin_write(&self) -> StoreResult<sqlx::Transaction<'static, sqlx::Sqlite>> {
        self.pool
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(db_error)
    }
}

async fn insert_user(
    conn: &mut SqliteConnection,
    id: Option<UserId>,
    user: &NewUser,
    active: bool,
    created_at: DateTime<Utc>,
) -> StoreResult<User> {
    let row: UserRow = sqlx::query_as(
        "INSERT INTO users (id, slug, display_name, email, role, bio, active, password_hash, \
         created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) \
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
    .bind(millis(created_at))
    .fetch_one(conn)
    .await
    .map_err(db_error)?;
    row.try_into()
}

async fn load_settings(conn: &mut SqliteConnection) -> StoreResult<SiteSettings> {
    let document: Option<String> = sqlx::query_scalar("SELECT document FROM settings WHERE id = 1")
        .fetch_optional(conn)
        .await
        .map_err(db_error)?;
    match document {
        Some(document) => serde_json::from_str(&document).map_err(StoreError::backend),
        None => Ok(SiteSettings::default()),
    }
}

async fn store_settings(conn: &mut SqliteConnection, settings: &SiteSettings) -> StoreResult<()> {
    let document = serde_json::to_string(settings).map_err(StoreError::backend)?;
    sqlx::query(
        "INSERT INTO settings (id, document) VALUES (1, ?) \
         ON CONFLICT (id) DO UPDATE SET document = excluded.document",
    )
    .bind(document)
    .execute(conn)
    .await
    .map_err(db_error)?;
    Ok(())
}

#[async_trait]
impl Store for SqliteStore {
    fn backend(&self) -> &'static str {
        "sqlite"
    }

    async fn migrate(&self) -> StoreResult<()> {
        // sqlx's SQLite migrator takes no lock of its own. Running it inside one
        // IMMEDIATE transaction makes a second process wait for the first and then find
        // the work done; each migration becomes a savepoint within it.
        let mut tx = self.begin_write().await?;
        // `run_direct` is `Migrator::run` on a connection; sqlx keeps it for futures that
        // must be `Send`, where `run` fails with "implementation of `Acquire` is not
        // general enough" (launchbadge/sqlx#2016).
        MIGRATOR
            .run_direct(None, &mut *tx, false)
            .await
            .map_err(StoreError::backend)?;
        tx.commit().await.map_err(db_error)
    }

    async fn create_user(&self, user: &NewUser) -> StoreResult<User> {
        let mut tx = self.begin_write().await?;
        let created = insert_user(&mut tx, None, user, true, clock::now()).await?;
        changes::publish(&mut tx, Change::Users).await?;
        tx.commit().await.map_err(db_error)?;
        Ok(created)
    }

    async fn user_by_id(&self, id: UserId) -> StoreResult<User> {
        let row: UserRow = sqlx::query_as(concat!(select_users!(), " WHERE id = ?"))
            .bind(id.0)
            .fetch_one(&self.pool)
            .await
            .map_err(db_error)?;
        row.try_into()
    }

    async fn user_by_slug(&self, slug: &str) -> StoreResult<User> {
        let row: UserRow = sqlx::query_as(concat!(select_users!(), " WHERE slug = ?"))
            .bind(slug)
            .fetch_one(&self.pool)
            .await
            .map_err(db_error)?;
        row.try_into()
    }

    async fn user_by_email(&self, email: &str) -> StoreResult<User> {
        let row: UserRow = sqlx::query_as(concat!(select_users!(), " WHERE email = ?"))
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
        changes::publish(&mut tx, Change::Article(id)).await?;
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
        let mut tx = self.begin_write().await?;
        // The condition is the whole decision: of several callers, only the first
        // finds the article still scheduled.
        let flipped = sqlx::query(
            "UPDATE articles SET status = 'published' \
             WHERE id = ? AND status = 'scheduled' AND published_at <= ?",
        )
        .bind(id.0)
        .bind(millis(now))
        .execute(&mut *tx)
        .await
        .map_err(db_error)?
        .rows_affected()
            == 1;
        if flipped {
            changes::publish(&mut tx, Change::Article(id)).await?;
        } else {
            let exists: bool =
                sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM articles WHERE id = ?)")
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
        let rows: Vec<(i64, i64)> = sqlx::query_as(
            "SELECT id, published_at FROM articles \
             WHERE status = 'scheduled' AND published_at IS NOT NULL \
             ORDER BY published_at, id",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(db_error)?;
        rows.into_iter()
            .map(|(id, at)| Ok((ArticleId(id), from_millis(at)?)))
            .collect()
    }

    async fn tag_by_slug(&self, slug: &str) -> StoreResult<Tag> {
        let (name, slug) = sqlx::query_as("SELECT name, slug FROM tags WHERE slug = ?")
            .bind(slug)
            .fetch_one(&self.pool)
            .await
            .map_err(db_error)?;
        Ok(Tag { name, slug })
    }

    async fn public_tags(&self, now: DateTime<Utc>) -> StoreResult<Vec<(Tag, DateTime<Utc>)>> {
        let rows: Vec<(String, String, i64)> = sqlx::query_as(
            // The public predicate word for word as in listings (and their index).
            "SELECT t.name, t.slug, MAX(a.updated_at) FROM tags t \
             JOIN article_tags at ON at.tag_id = t.id \
             JOIN articles a ON a.id = at.article_id \
             WHERE a.kind = 'article' AND a.status IN ('published', 'scheduled') \
               AND a.published_at <= ? \
             GROUP BY t.id ORDER BY t.slug",
        )
        .bind(millis(now))
        .fetch_all(&self.pool)
        .await
        .map_err(db_error)?;
        rows.into_iter()
            .map(|(name, slug, at)| Ok((Tag { name, slug }, from_millis(at)?)))
            .collect()
    }

    async fn settings(&self) -> StoreResult<SiteSettings> {
        let mut conn = self.pool.acquire().await.map_err(db_error)?;
        load_settings(&mut conn).await
    }

    async fn save_settings(&self, settings: &SiteSettings) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        store_settings(&mut tx, settings).await?;
        changes::publish(&mut tx, Change::Settings).await?;
        tx.commit().await.map_err(db_error)
    }

    async fn export_site(&self) -> StoreResult<SiteDump> {
        // One read transaction is one WAL snapshot: the dump is consistent even while
        // editors keep saving.
        let mut tx = self.pool.begin().await.map_err(db_error)?;
        let settings = load_settings(&mut tx).await?;
        let users: Vec<UserRow> = sqlx::query_as(concat!(select_users!(), " ORDER BY id"))
            .fetch_all(&mut *tx)
            .await
            .map_err(db_error)?;
        let articles = articles::all(&mut tx).await?;
        let redirects: Vec<(String, i64)> =
            sqlx::query_as("SELECT slug, article_id FROM slug_redirects ORDER BY slug")
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
        // AUTOINCREMENT has already moved its counters past the ids inserted above.
        changes::publish(&mut tx, Change::All).await?;
        tx.commit().await.map_err(db_error)
    }

    async fn subscribe(&self) -> StoreResult<ChangeStream> {
        changes::subscribe(&self.pool).await
    }

    async fn cast(&self, casts: &[Cast], network_cap: u32) -> StoreResult<Vec<CastOutcome>> {
        if casts.is_empty() {
            return Ok(Vec::new());
        }
        // One IMMEDIATE transaction and so one commit for the whole batch: the commit,
        // not the statements, is what a write costs here.
        let mut tx = self.begin_write().await?;
        let (outcomes, changed) = engagement::cast(&mut tx, casts, network_cap).await?;
        for article in changed {
            changes::publish(&mut tx, Change::Engagement(article)).await?;
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
        let mut tx = self.begin_write().await?;
        let (counted, grew) = engagement::record_views(&mut tx, hits).await?;
        for article in grew {
            changes::publish(&mut tx, Change::Engagement(article)).await?;
        }
        tx.commit().await.map_err(db_error)?;
        Ok(counted)
    }

    async fn network_salt(&self, day: NaiveDate, candidate: [u8; 32]) -> StoreResult<[u8; 32]> {
        let mut tx = self.begin_write().await?;
        let salt = engagement::network_salt(&mut tx, day, candidate).await?;
        tx.commit().await.map_err(db_error)?;
        Ok(salt)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use broadsheet_domain::Role;

    async fn works(store: &SqliteStore) {
        store.migrate().await.unwrap();
        let user =
            NewUser::validate("Ada Lovelace", "ada@example.org", Role::Author, None).unwrap();
        let ada = store.create_user(&user).await.unwrap();
        assert_eq!(store.user_by_id(ada.id).await.unwrap(), ada);
    }

    #[tokio::test]
    async fn a_file_url_creates_the_file_and_its_directory() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("data").join("site.db");
        let store = SqliteStore::open_url(&format!("sqlite://{}", path.display()))
            .await
            .unwrap();
        works(&store).await;
        assert!(path.is_file());
    }

    #[tokio::test]
    async fn an_in_memory_database_opens_and_migrates() {
        let store = SqliteStore::open_url("sqlite::memory:").await.unwrap();
        works(&store).await;
    }

    #[tokio::test]
    async fn a_subscriber_whose_unread_notices_were_pruned_is_told_all() {
        use futures::StreamExt;

        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("site.db"))
            .await
            .unwrap();
        store.migrate().await.unwrap();
        let mut changes = store.subscribe().await.unwrap();
        // The stream reads the log only while polled, so this notice stays unread...
        store.save_settings(&SiteSettings::default()).await.unwrap();
        // ...until it is older than the log keeps, and the next write prunes it.
        sqlx::query("UPDATE change_log SET at_ms = 0")
            .execute(&store.pool)
            .await
            .unwrap();
        let ada = NewUser::validate("Ada Lovelace", "ada@example.org", Role::Author, None);
        store.create_user(&ada.unwrap()).await.unwrap();
        let remaining: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM change_log")
            .fetch_one(&store.pool)
            .await
            .unwrap();
        assert_eq!(remaining, 1, "only the newest notice is left");

        assert_eq!(changes.next().await, Some(Change::All), "instead of Users");
        store.save_settings(&SiteSettings::default()).await.unwrap();
        assert_eq!(
            changes.next().await,
            Some(Change::Settings),
            "then as usual"
        );
    }
}
