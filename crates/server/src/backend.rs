//! Picks the storage backend from the configuration at run time, as atuin's server
//! does from its database URL: SQLite by default, PostgreSQL for a `postgres://` URL.

use std::sync::Arc;

use anyhow::Context;
use broadsheet_domain::Store;
use broadsheet_store_postgres::PgStore;
use broadsheet_store_sqlite::SqliteStore;

use crate::config::Database;

/// Opens (creating if needed) and migrates the configured database.
pub async fn open(database: &Database) -> anyhow::Result<Arc<dyn Store>> {
    let store: Arc<dyn Store> = match database {
        Database::Sqlite(path) => Arc::new(
            SqliteStore::open(path)
                .await
                .with_context(|| format!("cannot open SQLite database {}", path.display()))?,
        ),
        Database::Postgres(url) => Arc::new(
            PgStore::connect(url)
                .await
                .with_context(|| format!("cannot connect to {database:?}"))?,
        ),
    };
    store
        .migrate()
        .await
        .with_context(|| format!("cannot migrate {database:?}"))?;
    Ok(store)
}
