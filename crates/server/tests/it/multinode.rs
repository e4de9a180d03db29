//! Several nodes on one PostgreSQL database behave as one site, and a site moves
//! between backends without a byte of any page changing.
//!
//! These tests need PostgreSQL (`BROADSHEET_TEST_POSTGRES_URL`). In CI they fail when
//! it is missing; on a developer's machine they say why they skipped.

use std::time::Duration;

use sqlx::Connection;

use crate::process::{Page, Server, Site};

/// A fresh, empty database for one test, on the server named by the environment.
pub struct TestDatabase {
    admin_url: String,
    name: String,
    pub url: String,
}

impl TestDatabase {
    pub async fn create() -> Option<TestDatabase> {
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
    pub async fn drop_database(self) {
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
        let body = without_form_token(&page.body);
        pages.push((path.to_string(), page.status, page.location, body));
    }
    pages
}

/// The page with its comment form's token blanked: the token signs the moment the form
/// was rendered, so it differs on every render by design.
fn without_form_token(page: &str) -> String {
    const FIELD: &str = "name=\"form_token\" value=\"";
    match page.split_once(FIELD) {
        Some((before, after)) => {
            let rest = after.split_once('"').map_or("", |(_, rest)| rest);
            format!("{before}{FIELD}\"{rest}")
        }
        None => page.to_owned(),
    }
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

const REACTIONS: [&str; 6] = ["happy", "sad", "excited", "sleepy", "angry", "surprise"];

/// Limits far above what one test sends from one address.
const GENEROUS_LIMITS: &str = "[engagement]\nvotes_per_minute_per_reader = 10000\nvotes_per_minute_per_network = 1000000\nreaders_per_network_per_article_per_day = 1000000\n";

/// One reader: a client that keeps the reader cookie it was given.
struct Reader {
    client: reqwest::Client,
    cookie: std::sync::Mutex<Option<String>>,
}

impl Reader {
    fn new() -> Reader {
        Reader {
            client: reqwest::Client::new(),
            cookie: std::sync::Mutex::new(None),
        }
    }

    /// Casts a reaction through the JSON path; returns the answer's reaction counts.
    async fn react(&self, base: &str, article: i64, key: &str) -> serde_json::Value {
        let mut req = self
            .client
            .post(format!("{base}/articles/{article}/engage"))
            .header("accept", "application/json")
            .form(&[("action", "react"), ("value", key)]);
        if let Some(cookie) = self.cookie.lock().unwrap().clone() {
            req = req.header("cookie", cookie);
        }
        let res = req.send().await.expect("vote");
        if let Some(set) = res.headers().get("set-cookie") {
            let pair = set.to_str().unwrap().split(';').next().unwrap().to_owned();
            *self.cookie.lock().unwrap() = Some(pair);
        }
        assert_eq!(res.status(), 200, "vote refused");
        res.json().await.expect("JSON answer")
    }
}

fn reaction_counts(engagement: &serde_json::Value) -> Vec<u64> {
    let reactions = engagement["reactions"].as_array().expect("reactions");
    REACTIONS
        .iter()
        .map(|key| {
            reactions
                .iter()
                .find(|r| r["key"] == *key)
                .and_then(|r| r["count"].as_u64())
                .expect("a count per reaction")
        })
        .collect()
}

/// Reads an SSE stream in the background and hands over each `engagement` event.
fn follow_live(url: String) -> tokio::sync::mpsc::UnboundedReceiver<serde_json::Value> {
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        let mut res = reqwest::get(&url).await.expect("open the live stream");
        let mut buffer = String::new();
        while let Ok(Some(chunk)) = res.chunk().await {
            buffer.push_str(&String::from_utf8_lossy(&chunk));
            while let Some(end) = buffer.find("\n\n") {
                let event: String = buffer.drain(..end + 2).collect();
                if let Some(data) = event.lines().find_map(|l| l.strip_prefix("data:"))
                    && let Ok(json) = serde_json::from_str(data.trim())
                {
                    let _ = tx.send(json);
                }
            }
        }
    });
    rx
}

#[tokio::test]
async fn votes_split_across_two_nodes_give_exact_counters_and_reach_live_streams_everywhere() {
    let Some(db) = TestDatabase::create().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let site = Site::with_database(dir.path(), &db.url).with_config_text(GENEROUS_LIMITS);
    let (a, b) = (site.spawn(), site.spawn());
    let (a, b) = (a.ready(), b.ready());
    let story = dir.path().join("story.md");
    std::fs::write(&story, "---\ntitle: Tide tables\nslug: tide-tables\ndate: 2026-05-02 08:00\n---\nHigh water at noon.\n").unwrap();
    site.ok(&["article", "publish", story.to_str().unwrap()]);
    let page = a.get("/2026/05/02/tide-tables/").await.body;
    let article: i64 = page
        .split("/articles/")
        .find_map(|rest| {
            rest.split_once("/engage")
                .and_then(|(id, _)| id.parse().ok())
        })
        .expect("the article page has its engage form");

    // A live stream on node A, open before any vote.
    let mut live_a = follow_live(format!("{}/api/v1/articles/{article}/live", a.base));
    let first = tokio::time::timeout(Duration::from_secs(5), live_a.recv())
        .await
        .expect("the first live event")
        .unwrap();
    assert_eq!(reaction_counts(&first), [0; 6]);

    // 200 readers at once, alternating between the nodes: each reacts, every fifth
    // presses the same reaction again (removing it), every seventh switches.
    let mut expected = [0u64; 6];
    let mut tasks = Vec::new();
    for i in 0..200usize {
        let base = if i % 2 == 0 {
            a.base.clone()
        } else {
            b.base.clone()
        };
        let first = i % 6;
        let last = match (i % 5 == 0, i % 7 == 0) {
            (true, _) => None,
            (false, true) => Some((i + 1) % 6),
            (false, false) => Some(first),
        };
        if let Some(k) = last {
            expected[k] += 1;
        }
        tasks.push(tokio::spawn(async move {
            let reader = Reader::new();
            reader.react(&base, article, REACTIONS[first]).await;
            if i % 5 == 0 {
                reader.react(&base, article, REACTIONS[first]).await;
            } else if i % 7 == 0 {
                reader.react(&base, article, REACTIONS[(i + 1) % 6]).await;
            }
        }));
    }
    for task in tasks {
        task.await.expect("a reader task");
    }
    for node in [&a, &b] {
        let url = format!("/api/v1/articles/{article}/engagement");
        let took = node
            .wait_for(&url, Duration::from_secs(3), |p| {
                serde_json::from_str::<serde_json::Value>(&p.body)
                    .is_ok_and(|e| reaction_counts(&e) == expected)
            })
            .await;
        eprintln!("{}: exact counters after {took:?}", node.base);
    }

    // One more vote on node B reaches the live stream on node A.
    Reader::new().react(&b.base, article, "angry").await;
    let mut want = expected;
    want[4] += 1;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(3);
    loop {
        let event = tokio::time::timeout_at(deadline, live_a.recv())
            .await
            .expect("node A's live stream shows node B's vote")
            .expect("stream open");
        if reaction_counts(&event) == want {
            break;
        }
    }
    drop((a, b));
    db.drop_database().await;
}

#[tokio::test]
async fn two_nodes_publish_a_scheduled_article_once() {
    let Some(db) = TestDatabase::create().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let site = Site::with_database(dir.path(), &db.url)
        .with_config_text("[jobs]\npoll_interval_ms = 20\n");
    let (a, b) = (site.spawn(), site.spawn());
    let (a, b) = (a.ready(), b.ready());

    // Published from the CLI a few seconds ahead: saved as scheduled, with its job.
    // Whole seconds, as the file gives it.
    let at =
        chrono::SubsecRound::trunc_subsecs(chrono::Utc::now() + chrono::TimeDelta::seconds(3), 0);
    let story = dir.path().join("later.md");
    std::fs::write(
        &story,
        format!(
            "---\ntitle: Tide tables for June\nslug: tide-tables\ndate: {}\n---\nLow water at noon.\n",
            at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        ),
    )
    .unwrap();
    let said = site.ok(&["article", "publish", story.to_str().unwrap()]);
    assert!(said.contains("(scheduled)"), "{said}");

    let published =
        "SELECT count(*) FROM articles WHERE slug = 'tide-tables' AND status = 'published'";
    let start = std::time::Instant::now();
    while db.query_i64(published).await == 0 {
        assert!(
            start.elapsed() < Duration::from_secs(15),
            "not published within 15 s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(chrono::Utc::now() >= at, "not before its time");
    // Both nodes kept polling meanwhile; give a second claim, were one possible, time.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let jobs = db
        .query_i64("SELECT count(*) FROM jobs WHERE kind = 'publish_article'")
        .await;
    let done_once = db
        .query_i64(
            "SELECT count(*) FROM jobs WHERE kind = 'publish_article' AND state = 'done' \
             AND attempts = 1",
        )
        .await;
    assert_eq!((jobs, done_once), (1, 1), "one job, run once");
    for node in [&a, &b] {
        node.wait_for("/", WITHIN, |p| p.body.contains("Tide tables for June"))
            .await;
    }
    drop((a, b));
    db.drop_database().await;
}
