//! Which backends the suite runs against, and a fresh database of each for every test.
//!
//! SQLite always runs, in a temporary file. PostgreSQL runs when
//! `BROADSHEET_TEST_POSTGRES_URL` is set, each test in a schema of its own so tests run
//! in parallel; a passing test drops its schema, a failing one leaves it for a look.
//! In CI (`CI=true`) a missing URL fails every test rather than quietly testing half.

use std::any::Any;
use std::future::Future;
use std::io::Write;
use std::pin::Pin;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Once};

use broadsheet_domain::Store;
use broadsheet_store_postgres::PgStore;
use broadsheet_store_sqlite::SqliteStore;
use sqlx::{AssertSqlSafe, Connection, Executor, PgConnection};
use tempfile::TempDir;

const POSTGRES_URL_VAR: &str = "BROADSHEET_TEST_POSTGRES_URL";

#[derive(Debug, Clone)]
pub enum Backend {
    Sqlite,
    Postgres { url: String },
}

/// The backends to test in this environment.
pub fn backends() -> Vec<Backend> {
    let mut backends = vec![Backend::Sqlite];
    match std::env::var(POSTGRES_URL_VAR) {
        Ok(url) if !url.trim().is_empty() => backends.push(Backend::Postgres { url }),
        _ if std::env::var("CI").is_ok_and(|ci| ci == "true" || ci == "1") => panic!(
            "CI is set but {POSTGRES_URL_VAR} is not: CI must run the conformance suite \
             against PostgreSQL too (e.g. postgres://postgres@127.0.0.1:5432/test)"
        ),
        _ => {
            static NOTICE: Once = Once::new();
            // Straight to stderr: the test harness captures `eprintln!`, and the reason
            // half the suite did not run should not be hidden.
            NOTICE.call_once(|| {
                let _ = writeln!(
                    std::io::stderr(),
                    "note: {POSTGRES_URL_VAR} is unset, so the store conformance suite tests \
                     SQLite only; set it (e.g. postgres://postgres@127.0.0.1:5432/test) to \
                     test PostgreSQL too"
                );
            });
        }
    }
    backends
}

impl Backend {
    pub fn name(&self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres { .. } => "postgres",
        }
    }

    /// A new, empty database: nothing migrated yet.
    pub fn create(&self) -> TestDb {
        match self {
            Backend::Sqlite => TestDb::Sqlite(tempfile::tempdir().expect("temp dir")),
            Backend::Postgres { url } => {
                static SEQUENCE: AtomicU32 = AtomicU32::new(0);
                let started = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .expect("clock after 1970")
                    .as_secs();
                // Unique across parallel tests in this process and across runs, so a
                // schema left by an earlier failure is never reused.
                let schema = format!(
                    "store_test_{started}_{}_{}",
                    std::process::id(),
                    SEQUENCE.fetch_add(1, Ordering::Relaxed)
                );
                TestDb::Postgres {
                    url: url.clone(),
                    schema,
                }
            }
        }
    }

    /// A store on a new database, migrated and ready.
    pub async fn fresh_store(&self) -> (TestDb, Arc<dyn Store>) {
        let db = self.create();
        let store = db.connect().await;
        store.migrate().await.expect("migrate a new database");
        (db, store)
    }
}

/// One test's database.
pub enum TestDb {
    Sqlite(TempDir),
    Postgres { url: String, schema: String },
}

/// Closes a store when awaited, which the `Store` trait cannot do.
pub type Close = Pin<Box<dyn Future<Output = ()> + Send>>;

impl TestDb {
    /// Opens a store on this database, as another process starting would.
    pub async fn connect(&self) -> Arc<dyn Store> {
        self.connect_closable().await.0
    }

    /// Opens a store like [`TestDb::connect`], with the means to close it.
    pub async fn connect_closable(&self) -> (Arc<dyn Store>, Close) {
        match self {
            TestDb::Sqlite(dir) => {
                let store = SqliteStore::open(&dir.path().join("site").join("broadsheet.db"))
                    .await
                    .expect("open SQLite");
                let closing = store.clone();
                (
                    Arc::new(store),
                    Box::pin(async move { closing.close().await }),
                )
            }
            TestDb::Postgres { url, schema } => {
                let store = PgStore::connect_in_schema(url, schema)
                    .await
                    .expect("connect to PostgreSQL");
                let closing = store.clone();
                (
                    Arc::new(store),
                    Box::pin(async move { closing.close().await }),
                )
            }
        }
    }

    /// Removes the database once its test has passed.
    pub async fn remove(self) {
        if let TestDb::Postgres { url, schema } = self {
            let mut conn = PgConnection::connect(&url).await.expect("connect to drop");
            conn.execute(AssertSqlSafe(format!("DROP SCHEMA \"{schema}\" CASCADE")))
                .await
                .expect("drop the test schema");
            conn.close().await.expect("close");
        }
    }
}

/// Runs `story` against a fresh store of every backend in turn.
pub async fn each_backend<F, Fut>(story: F)
where
    F: Fn(Arc<dyn Store>) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    for backend in backends() {
        let (db, store) = backend.fresh_store().await;
        named(backend.name(), story(store)).await;
        db.remove().await;
    }
}

/// Runs `story` against two stores on one fresh database of every backend in turn, as
/// two processes sharing a site (two nodes, a node and the CLI) would open it.
pub async fn each_backend_twice<F, Fut>(story: F)
where
    F: Fn(Arc<dyn Store>, Arc<dyn Store>) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    for backend in backends() {
        let (db, store) = backend.fresh_store().await;
        let other = db.connect().await;
        named(backend.name(), story(store, other)).await;
        db.remove().await;
    }
}

/// Runs a story and, if it fails, fails again naming the backend (or backends) it ran
/// against, so every failure says where it happened.
pub async fn named(name: &str, story: impl Future<Output = ()> + Send + 'static) {
    if let Err(failure) = tokio::spawn(story).await {
        match failure.try_into_panic() {
            Ok(panic) => panic!("[{name}] {}", panic_message(&*panic)),
            Err(failure) => panic!("[{name}] story did not finish: {failure}"),
        }
    }
}

fn panic_message(panic: &(dyn Any + Send)) -> &str {
    panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied())
        .unwrap_or("(no message)")
}
