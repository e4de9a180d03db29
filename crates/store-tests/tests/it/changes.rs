//! Change notices: every write that succeeds tells every subscriber on its database,
//! in this process or another, what it changed, within a second; a write that fails
//! tells nobody anything.

use std::time::Duration;

use broadsheet_domain::{ArticleId, Change, ChangeStream, NewUser, Role, SiteSettings, StoreError};
use futures::StreamExt;
use sqlx::{Connection, PgConnection};
use tokio::time::timeout;

use crate::backends::{Backend, TestDb, backends, each_backend, each_backend_twice, named};
use crate::fixtures::{article, author};

/// How soon a notice reaches a subscriber: what `broadsheet_domain::change` promises.
const WITHIN: Duration = Duration::from_secs(1);

/// How long a subscriber hears nothing before the test believes nothing was sent.
const QUIET: Duration = Duration::from_millis(500);

pub async fn next(changes: &mut ChangeStream) -> Change {
    timeout(WITHIN, changes.next())
        .await
        .expect("a notice within a second")
        .expect("the stream goes on while its store is open")
}

pub async fn assert_quiet(changes: &mut ChangeStream, after: &str) {
    if let Ok(notice) = timeout(QUIET, changes.next()).await {
        panic!("{after} published {notice:?}");
    }
}

#[tokio::test]
async fn every_write_publishes_what_it_changed() {
    each_backend(|store| async move {
        let mut changes = store.subscribe().await.unwrap();

        let ada = author(&*store, "Ada Lovelace").await;
        assert_eq!(next(&mut changes).await, Change::Users);

        let first = store
            .insert_article(&article(&ada, "First", |_| {}))
            .await
            .unwrap();
        assert_eq!(next(&mut changes).await, Change::Article(first.id));
        let second = store
            .insert_article(&article(&ada, "Second", |_| {}))
            .await
            .unwrap();
        assert_eq!(next(&mut changes).await, Change::Article(second.id));

        store
            .update_article(first.id, &article(&ada, "First, revised", |_| {}))
            .await
            .unwrap();
        assert_eq!(
            next(&mut changes).await,
            Change::Article(first.id),
            "the updated article, not the latest"
        );

        store.save_settings(&SiteSettings::default()).await.unwrap();
        assert_eq!(next(&mut changes).await, Change::Settings);

        store.list_users().await.unwrap();
        store.article_by_id(first.id).await.unwrap();
        store.settings().await.unwrap();
        store.export_site().await.unwrap();
        assert_quiet(&mut changes, "reading").await;
    })
    .await;
}

#[tokio::test]
async fn an_import_publishes_all() {
    for backend in backends() {
        named(backend.name(), import_publishes_all(backend.clone())).await;
    }
}

async fn import_publishes_all(backend: Backend) {
    let (from_db, from) = backend.fresh_store().await;
    let ada = author(&*from, "Ada Lovelace").await;
    from.insert_article(&article(&ada, "Moved", |_| {}))
        .await
        .unwrap();
    let dump = from.export_site().await.unwrap();

    let (to_db, to) = backend.fresh_store().await;
    let mut changes = to.subscribe().await.unwrap();
    to.import_site(&dump).await.unwrap();
    assert_eq!(next(&mut changes).await, Change::All);
    assert_quiet(&mut changes, "the rest of the import").await;

    from_db.remove().await;
    to_db.remove().await;
}

#[tokio::test]
async fn another_store_on_the_same_database_hears_every_change() {
    each_backend_twice(|store, other| async move {
        let mut here = store.subscribe().await.unwrap();
        let mut there = other.subscribe().await.unwrap();

        let ada = author(&*store, "Ada Lovelace").await;
        assert_eq!(
            tokio::join!(next(&mut here), next(&mut there)),
            (Change::Users, Change::Users)
        );

        let piece = other
            .insert_article(&article(&ada, "Written elsewhere", |_| {}))
            .await
            .unwrap();
        let heard = Change::Article(piece.id);
        assert_eq!(
            tokio::join!(next(&mut here), next(&mut there)),
            (heard, heard)
        );

        store
            .update_article(piece.id, &article(&ada, "Revised here", |_| {}))
            .await
            .unwrap();
        assert_eq!(
            tokio::join!(next(&mut here), next(&mut there)),
            (heard, heard)
        );

        other.save_settings(&SiteSettings::default()).await.unwrap();
        assert_eq!(
            tokio::join!(next(&mut here), next(&mut there)),
            (Change::Settings, Change::Settings)
        );
    })
    .await;
}

#[tokio::test]
async fn a_failed_write_publishes_nothing() {
    each_backend(|store| async move {
        let ada = author(&*store, "Ada Lovelace").await;
        let taken = store
            .insert_article(&article(&ada, "Taken", |_| {}))
            .await
            .unwrap();
        let other = store
            .insert_article(&article(&ada, "Other", |_| {}))
            .await
            .unwrap();
        let dump = store.export_site().await.unwrap();
        let mut changes = store.subscribe().await.unwrap();

        let onto_taken = article(&ada, "Taken", |a| a.slug = Some(taken.slug.clone()));
        let err = store.insert_article(&onto_taken).await.unwrap_err();
        assert!(
            matches!(err, StoreError::Conflict { field: "slug" }),
            "{err:?}"
        );
        let err = store
            .update_article(other.id, &onto_taken)
            .await
            .unwrap_err();
        assert!(
            matches!(err, StoreError::Conflict { field: "slug" }),
            "{err:?}"
        );
        let err = store
            .update_article(ArticleId(4242), &article(&ada, "Ghost", |_| {}))
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::NotFound), "{err:?}");
        let same_email = NewUser::validate("Someone Else", &ada.email, Role::Author, None).unwrap();
        let err = store.create_user(&same_email).await.unwrap_err();
        assert!(
            matches!(err, StoreError::Conflict { field: "email" }),
            "{err:?}"
        );
        let err = store.import_site(&dump).await.unwrap_err();
        assert!(
            matches!(err, StoreError::Conflict { field: "site" }),
            "{err:?}"
        );
        assert_quiet(&mut changes, "a failed write").await;

        let next_piece = store
            .insert_article(&article(&ada, "Next", |_| {}))
            .await
            .unwrap();
        assert_eq!(
            next(&mut changes).await,
            Change::Article(next_piece.id),
            "the first notice is the first write that succeeded"
        );
    })
    .await;
}

#[tokio::test]
async fn changes_stay_in_their_database() {
    for backend in backends() {
        named(backend.name(), stay_in_their_database(backend.clone())).await;
    }
}

async fn stay_in_their_database(backend: Backend) {
    let (mine_db, mine) = backend.fresh_store().await;
    let (theirs_db, theirs) = backend.fresh_store().await;
    let mut changes = mine.subscribe().await.unwrap();

    author(&*theirs, "Ada Lovelace").await;
    theirs
        .save_settings(&SiteSettings::default())
        .await
        .unwrap();
    assert_quiet(&mut changes, "another database").await;
    author(&*mine, "Ada Lovelace").await;
    assert_eq!(next(&mut changes).await, Change::Users);

    mine_db.remove().await;
    theirs_db.remove().await;
}

#[tokio::test]
async fn a_stream_ends_when_its_store_is_closed() {
    for backend in backends() {
        named(backend.name(), ends_when_closed(backend.clone())).await;
    }
}

async fn ends_when_closed(backend: Backend) {
    let db = backend.create();
    let (store, close) = db.connect_closable().await;
    store.migrate().await.unwrap();
    let mut changes = store.subscribe().await.unwrap();
    close.await;
    let end = timeout(WITHIN, changes.next()).await;
    assert_eq!(end, Ok(None), "the stream ends within a second");
    db.remove().await;
}

/// The PostgreSQL connection of this database's subscribers: the one whose last query
/// was to listen on its channel (see `channel_of` in the PostgreSQL store).
async fn listener_pids(admin: &mut PgConnection, db: &TestDb) -> Vec<i32> {
    let TestDb::Postgres { schema, .. } = db else {
        unreachable!("only PostgreSQL subscribers hold a connection");
    };
    sqlx::query_scalar("SELECT pid FROM pg_stat_activity WHERE query = $1")
        .bind(format!("LISTEN \"broadsheet_changes_{schema}\""))
        .fetch_all(admin)
        .await
        .unwrap()
}

/// A subscriber on PostgreSQL holds a connection (SQLite's only read the file now and
/// then). When it is cut, notices may have been missed: the subscriber is told `All`,
/// and hears what follows.
#[tokio::test]
async fn a_subscriber_that_lost_its_connection_is_told_all() {
    for backend in backends() {
        if let Backend::Postgres { url } = &backend {
            named("postgres", lose_connection(backend.clone(), url.clone())).await;
        }
    }
}

async fn lose_connection(backend: Backend, url: String) {
    let (db, store) = backend.fresh_store().await;
    let mut changes = store.subscribe().await.unwrap();
    let mut admin = PgConnection::connect(&url).await.unwrap();
    let pids = listener_pids(&mut admin, &db).await;
    assert_eq!(pids.len(), 1, "one subscriber listens");
    let cut: bool = sqlx::query_scalar("SELECT pg_terminate_backend($1)")
        .bind(pids[0])
        .fetch_one(&mut admin)
        .await
        .unwrap();
    assert!(cut);

    assert_eq!(next(&mut changes).await, Change::All);
    author(&*store, "Ada Lovelace").await;
    assert_eq!(next(&mut changes).await, Change::Users, "listening again");

    admin.close().await.unwrap();
    db.remove().await;
}

/// Dropping a subscription lets go of its PostgreSQL connection.
#[tokio::test]
async fn a_dropped_subscription_closes_its_connection() {
    for backend in backends() {
        if let Backend::Postgres { url } = &backend {
            named("postgres", drop_subscription(backend.clone(), url.clone())).await;
        }
    }
}

async fn drop_subscription(backend: Backend, url: String) {
    let (db, store) = backend.fresh_store().await;
    let changes = store.subscribe().await.unwrap();
    let mut admin = PgConnection::connect(&url).await.unwrap();
    let pids = listener_pids(&mut admin, &db).await;
    assert_eq!(pids.len(), 1, "one subscriber listens");

    drop(changes);
    let gone = async {
        loop {
            let alive: bool =
                sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE pid = $1)")
                    .bind(pids[0])
                    .fetch_one(&mut admin)
                    .await
                    .unwrap();
            if !alive {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    timeout(WITHIN, gone)
        .await
        .expect("the connection closes within a second");

    admin.close().await.unwrap();
    db.remove().await;
}
