//! Several nodes on one PostgreSQL database behave as one site, and a site moves
//! between backends without a byte of any page changing.
//!
//! These tests need PostgreSQL (`BROADSHEET_TEST_POSTGRES_URL`). In CI they fail when
//! it is missing; on a developer's machine they say why they skipped.

use std::time::Duration;

use sqlx::Connection;

use crate::process::{Page, Server, Site};

/// A fresh, empty database for one test, on the server named by the environment.
struct TestDatabase {
    admin_url: String,
    name: String,
    url: String,
}

impl TestDatabase {
    async fn create() -> Option<TestDatabase> {
        let Ok(admin_url) = std::env::var("BROADSHEET_TEST_POSTGRES_URL") else {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "CI=true but BROADSHEET_TEST_POSTGRES_URL is not set: the PostgreSQL tests cannot run"
            );
            eprintln!("skipped: set BROADSHEET_TEST_POSTGRES_URL to run the PostgreSQL tests");
            return None;
        };
        let name = format!(
            "bs_it_{}_{}",
            std::process::id(),
            chrono::Utc::now().timestamp_nanos_opt().unwrap_or_default()
        );
        let mut conn = sqlx::PgConnection::connect(&admin_url)
            .await
            .expect("connect to BROADSHEET_TEST_POSTGRES_URL");
        // The name is made here from digits and underscores, never from input.
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut conn)
            .await
            .expect("create a test database");
        let base = admin_url.split('?').next().unwrap_or(&admin_url);
        let url = format!(
            "{}/{name}",
            &base[..base.rfind('/').expect("URL has a path")]
        );
        Some(TestDatabase {
            admin_url,
            name,
            url,
        })
    }

    async fn query_i64(&self, sql: &'static str) -> i64 {
        let mut conn = sqlx::PgConnection::connect(&self.url)
            .await
            .expect("connect");
        sqlx::query_scalar(sql)
            .fetch_one(&mut conn)
            .await
            .expect(sql)
    }

    /// Drops the database (only after a passing test: a failed one is kept to look at).
    async fn drop_database(self) {
        let mut conn = sqlx::PgConnection::connect(&self.admin_url)
            .await
            .expect("connect");
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE {} WITH (FORCE)",
            self.name
        )))
        .execute(&mut conn)
        .await
        .expect("drop the test database");
    }
}

const WITHIN: Duration = Duration::from_secs(1);

fn title_is(title: &'static str) -> impl Fn(&Page) -> bool {
    move |p| p.body.contains(&format!("<title>{title}</title>"))
}

#[tokio::test]
async fn two_nodes_on_one_postgres_act_as_one_site() {
    let Some(db) = TestDatabase::create().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let site = Site::with_database(dir.path(), &db.url);

    // Both nodes start at the same moment on the empty database.
    let (a, b) = (site.spawn(), site.spawn());
    let (a, b) = (a.ready(), b.ready());
    let applied = db.query_i64("SELECT count(*) FROM _sqlx_migrations").await;
    let distinct = db
        .query_i64("SELECT count(DISTINCT version) FROM _sqlx_migrations")
        .await;
    assert!(
        applied > 0 && applied == distinct,
        "{applied} rows for {distinct} migrations"
    );
    let welcome = db
        .query_i64("SELECT count(*) FROM articles WHERE slug = 'welcome-to-your-new-newsroom'")
        .await;
    assert_eq!(welcome, 1, "the welcome article was written once");

    // Warm both nodes' caches, then change things through other processes.
    for node in [&a, &b] {
        assert!(title_is("Broadsheet")(&node.get("/").await));
    }

    // An article published by the CLI is served by both nodes.
    let story = dir.path().join("story.md");
    std::fs::write(
        &story,
        "---\ntitle: Ferry strike ends\nslug: ferry-strike-ends\ndate: 2026-05-02 08:00\ntags: [Ferries]\n---\nThe boats sail again.\n",
    )
    .unwrap();
    site.ok(&["article", "publish", story.to_str().unwrap()]);
    for node in [&b, &a] {
        node.wait_for("/2026/05/02/ferry-strike-ends/", WITHIN, |p| {
            p.status == 200
        })
        .await;
    }

    // A settings change invalidates both nodes' cached settings within a second.
    site.ok(&["settings", "set", "title", "The Harbour Gazette"]);
    for node in [&a, &b] {
        let took = node
            .wait_for("/", WITHIN, title_is("The Harbour Gazette"))
            .await;
        eprintln!("{}: settings visible after {took:?}", node.base);
    }

    // An edited page invalidates both nodes' cached navigation within a second.
    let about = dir.path().join("about.md");
    std::fs::write(
        &about,
        "---\ntitle: About the Gazette\nslug: about\ntype: page\n---\nWho we are.\n",
    )
    .unwrap();
    site.ok(&["article", "publish", about.to_str().unwrap()]);
    for node in [&a, &b] {
        node.wait_for("/2026/05/02/ferry-strike-ends/", WITHIN, |p| {
            p.body.contains(">About the Gazette</a>")
        })
        .await;
    }
    drop((a, b));
    db.drop_database().await;
}

/// Every path a reader could visit on the test site, and what each answered.
async fn snapshot(server: &Server, paths: &[&str]) -> Vec<(String, u16, Option<String>, String)> {
    let mut pages = Vec::new();
    for path in paths {
        let page = server.get(path).await;
        pages.push((path.to_string(), page.status, page.location, page.body));
    }
    pages
}

#[tokio::test]
async fn db_copy_round_trip_keeps_every_page_byte_identical() {
    let Some(db) = TestDatabase::create().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let first = dir.path().join("first");
    let sqlite = Site::sqlite(&first);
    sqlite.ok(&["settings", "set", "per_page", "1"]);
    // Content with tags, several pages of listings, and a changed slug.
    for (slug, title) in [
        ("harbour-vote", "Harbour vote"),
        ("ferry-news", "Ferry news"),
    ] {
        let file = dir.path().join(format!("{slug}.md"));
        std::fs::write(
            &file,
            format!("---\ntitle: {title} & <more>\nslug: {slug}\ndate: 2026-05-0{} 08:00\ntags: [City Hall, Ferries]\n---\nText with *emphasis* and a [link](https://example.org).\n", slug.len() % 9),
        )
        .unwrap();
        sqlite.ok(&["article", "publish", file.to_str().unwrap()]);
    }
    let server = sqlite.serve(); // adds no welcome content: the site has some
    let paths: Vec<String> = {
        let home = server.get("/").await.body;
        assert!(home.contains("/page/2/"), "{home}");
        let mut paths: Vec<String> = [
            "/",
            "/page/2/",
            "/page/3/",
            "/tag/city-hall/",
            "/tag/ferries/page/2/",
            "/no-such-page/",
            "/harbour-vote/",
        ]
        .map(String::from)
        .to_vec();
        for slug in ["harbour-vote", "ferry-news"] {
            let moved = server.get(&format!("/{slug}/")).await;
            paths.push(
                moved
                    .location
                    .expect("an article's /slug/ redirects to its permalink"),
            );
        }
        let author = home
            .split("href=\"/author/")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .expect("an author link");
        paths.push(format!("/author/{author}"));
        paths
    };
    let paths: Vec<&str> = paths.iter().map(String::as_str).collect();
    let before = snapshot(&server, &paths).await;
    drop(server);

    let to_pg = sqlite.ok(&[
        "db",
        "copy",
        "--from",
        &format!("sqlite:{}", first.join("broadsheet.sqlite3").display()),
        "--to",
        &db.url,
    ]);
    let on_pg = Site::with_database(&dir.path().join("pg"), &db.url).serve();
    let pg = snapshot(&on_pg, &paths).await;
    drop(on_pg);

    let last = dir.path().join("last.sqlite3");
    let back = sqlite.ok(&[
        "db",
        "copy",
        "--from",
        &db.url,
        "--to",
        &format!("sqlite:{}", last.display()),
    ]);
    let on_last = Site::with_database(
        &dir.path().join("last"),
        &format!("sqlite:{}", last.display()),
    )
    .serve();
    let after = snapshot(&on_last, &paths).await;

    for ((path, ..), (a, b)) in before.iter().zip(before.iter().zip(&pg)) {
        assert_eq!(a, b, "{path} differs between SQLite and PostgreSQL");
    }
    assert_eq!(before, after, "a page differs after the round trip");
    assert!(
        before.iter().any(|(_, status, _, _)| *status == 301),
        "a redirect was compared"
    );
    assert!(
        before.iter().any(|(_, status, _, _)| *status == 404),
        "an error page was compared"
    );
    // Both copies report the same counts and checksum.
    let summary = |printed: &str| printed.trim().trim_start_matches("copied ").to_owned();
    assert_eq!(summary(&to_pg), summary(&back), "{to_pg} vs {back}");
    drop(on_last);
    db.drop_database().await;
}
