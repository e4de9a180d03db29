//! The `broadsheet` binary as an operator uses it: real processes, a real socket, one
//! data directory shared between the server and the CLI.

use std::path::Path;
use std::process::Output;
use std::time::Duration;

use crate::process::{Site, stderr};

fn broadsheet(data_dir: &Path, args: &[&str]) -> Output {
    Site::sqlite(data_dir).run(args)
}

const STORY: &str = "---
title: Harbour bridge vote & the <late> session
slug: harbour-bridge-vote
tags: [City Hall, Harbour Bridge]
date: 2026-03-04 18:30
---

The council voted **late on Tuesday**. WORDS
";

fn story(words: usize) -> String {
    STORY.replace("WORDS", &"word ".repeat(words))
}

#[tokio::test]
async fn publish_from_a_separate_process_shows_at_once_on_a_running_server() {
    let dir = tempfile::tempdir().unwrap();
    let server = Site::sqlite(dir.path()).serve();

    let home = server.get("/").await;
    let (status, home) = (home.status, home.body);
    assert_eq!(status, 200);
    assert!(home.contains("Welcome to your new newsroom"), "{home}");

    let file = dir.path().join("story.md");
    std::fs::write(&file, story(400)).unwrap();
    let out = broadsheet(dir.path(), &["article", "publish", file.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let printed = String::from_utf8_lossy(&out.stdout);
    assert!(
        printed.contains("/2026/03/04/harbour-bridge-vote/"),
        "{printed}"
    );

    let home = server.get("/").await.body;
    assert!(
        home.contains("Harbour bridge vote &amp; the &lt;late&gt; session"),
        "{home}"
    );
    let got = server.get("/2026/03/04/harbour-bridge-vote/").await;
    let (status, page) = (got.status, got.body);
    assert_eq!(status, 200);
    // 406 words at 200 per minute: 2 min 2 s (121.8 s rounds to 122).
    assert!(page.contains("2 min 2 s"), "read time missing in {page}");
    assert!(page.contains("#CityHall") && page.contains("#HarbourBridge"));
    let got = server.get("/tag/city-hall/").await;
    let (status, tag) = (got.status, got.body);
    assert_eq!(status, 200);
    assert!(tag.contains("harbour-bridge-vote"), "{tag}");

    // Publishing the same slug again updates the article in place.
    std::fs::write(&file, story(40)).unwrap();
    let out = broadsheet(dir.path(), &["article", "publish", file.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("updated"));
    let page = server.get("/2026/03/04/harbour-bridge-vote/").await.body;
    assert!(page.contains("14 s"), "updated read time missing in {page}");
}

#[test]
fn bad_files_are_refused_with_the_problem_named_and_nothing_written() {
    let dir = tempfile::tempdir().unwrap();
    let cases: [(&str, &[u8], &str); 5] = [
        ("no-title.md", b"---\nslug: no-title\n---\nBody\n", "title"),
        (
            "bad-date.md",
            b"---\ntitle: Bad date\ndate: the 31st of Smarch\n---\nBody\n",
            "Smarch",
        ),
        (
            "bad-status.md",
            b"---\ntitle: Bad status\nstatus: live\n---\nBody\n",
            "status",
        ),
        (
            "bad-utf8.md",
            b"---\ntitle: Bad bytes\n---\nBody \xff\xfe\n",
            "UTF-8",
        ),
        (
            "bad-slug.md",
            b"---\ntitle: Bad slug\nslug: Not A Slug\n---\nBody\n",
            "slug",
        ),
    ];
    for (name, bytes, problem) in cases {
        let file = dir.path().join(name);
        std::fs::write(&file, bytes).unwrap();
        let out = broadsheet(dir.path(), &["article", "publish", file.to_str().unwrap()]);
        assert!(!out.status.success(), "{name} was accepted");
        let err = stderr(&out);
        assert!(err.contains(problem), "{name}: {err}");
        assert!(!err.contains("panicked"), "{name}: {err}");
    }
    // Nothing was written: a good file is the first and only article.
    let good = dir.path().join("good.md");
    std::fs::write(&good, b"---\ntitle: Bad date\n---\nFine now.\n").unwrap();
    let out = broadsheet(dir.path(), &["article", "publish", good.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("created"));
}

#[test]
fn user_add_and_config_default() {
    let dir = tempfile::tempdir().unwrap();
    let add = |email: &str| {
        broadsheet(
            dir.path(),
            &[
                "user",
                "add",
                "--name",
                "Ada Lovelace",
                "--email",
                email,
                "--role",
                "editor",
            ],
        )
    };
    let out = add("ada@example.org");
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("/author/ada-lovelace/"));
    let out = add("ada@example.org");
    assert!(!out.status.success());
    assert!(stderr(&out).contains("email"), "{}", stderr(&out));
    let out = add("not-an-email");
    assert!(stderr(&out).contains("email"), "{}", stderr(&out));

    let out = broadsheet(dir.path(), &["config", "default"]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let config = dir.path().join("broadsheet.toml");
    std::fs::write(&config, &text).unwrap();
    // The printed example is a valid config file as it stands.
    let with_config = |config: &Path, email: &str| {
        broadsheet(
            dir.path(),
            &[
                "--config",
                config.to_str().unwrap(),
                "user",
                "add",
                "--name",
                email,
                "--email",
                email,
            ],
        )
    };
    let out = with_config(&config, "grace@example.org");
    assert!(out.status.success(), "{}", stderr(&out));
    std::fs::write(&config, "lisen = \"oops\"\n").unwrap();
    let out = with_config(&config, "x@example.org");
    assert!(!out.status.success());
    assert!(stderr(&out).contains("lisen"), "{}", stderr(&out));
}

#[tokio::test]
async fn a_settings_change_from_the_cli_reaches_a_running_server_within_a_second() {
    let dir = tempfile::tempdir().unwrap();
    let site = Site::sqlite(dir.path());
    let server = site.serve();
    assert!(
        server
            .get("/")
            .await
            .body
            .contains("<title>Broadsheet</title>")
    );

    let printed = site.ok(&["settings", "set", "title", "The Harbour Gazette"]);
    assert!(
        printed.contains("title = \"The Harbour Gazette\""),
        "{printed}"
    );
    let took = server
        .wait_for("/", Duration::from_secs(1), |p| {
            p.body.contains("<title>The Harbour Gazette</title>")
        })
        .await;
    eprintln!("settings change visible after {took:?}");

    let out = site.run(&["settings", "set", "time_zone", "Mars/Olympus"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("time_zone"), "{}", stderr(&out));
}

#[tokio::test]
async fn comments_are_listed_approved_and_marked_as_spam_from_the_shell() {
    use broadsheet_domain::{
        ArticleId, CommentId, CommentStatus, CommentStore, NetworkHash, NewComment, clock,
    };
    use broadsheet_store_sqlite::SqliteStore;

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("story.md");
    std::fs::write(&file, story(10)).unwrap();
    let site = Site::sqlite(dir.path());
    site.ok(&["article", "publish", file.to_str().unwrap()]);
    // Comments as the comment form stores them, in the same database file.
    let store = SqliteStore::open(&dir.path().join("broadsheet.sqlite3"))
        .await
        .unwrap();
    let mut ids = Vec::new();
    for name in ["Pat", "Sam"] {
        let now = clock::now();
        let body = format!("{name} thinks the bridge is late.");
        let comment = store
            .insert_comment(&NewComment {
                article_id: ArticleId(1),
                parent_id: None,
                status: CommentStatus::Pending,
                author_name: name.into(),
                author_email: format!("{}@example.net", name.to_lowercase()),
                author_url: None,
                body_html: broadsheet_domain::comment::render_comment(&body),
                body,
                reader: None,
                network: NetworkHash("net".into()),
                notify_replies: false,
                reason: Some("has 3 links (the limit is 2)".into()),
                day: now.date_naive(),
                created_at: now,
            })
            .await
            .unwrap();
        ids.push(comment.id.to_string());
    }

    let listed = site.ok(&["comments", "list"]);
    assert!(
        listed.starts_with("pending 2 · approved 0 · spam 0 · trash 0\n"),
        "{listed}"
    );
    assert!(listed.contains(&format!("#{}  ", ids[0])), "{listed}");
    assert!(
        listed.contains("Pat <pat@example.net>  (held: has 3 links"),
        "{listed}"
    );
    assert!(
        listed.contains("    Sam thinks the bridge is late."),
        "{listed}"
    );

    let approved = site.ok(&["comments", "approve", &ids[0], "999"]);
    assert_eq!(
        approved,
        format!(
            "approved: {}\nunchanged (already approved, or no such comment): 999\n",
            ids[0]
        )
    );
    site.ok(&["comments", "spam", &ids[1]]);
    let status = |id: &str| {
        let store = &store;
        let id = CommentId(id.parse().unwrap());
        async move { store.comment_by_id(id).await.unwrap().status }
    };
    assert_eq!(status(&ids[0]).await, CommentStatus::Approved);
    assert_eq!(status(&ids[1]).await, CommentStatus::Spam);
    let spam = site.ok(&["comments", "list", "--status", "spam"]);
    assert!(spam.contains("Sam <sam@example.net>"), "{spam}");
    assert!(!spam.contains("Pat <"), "{spam}");

    let out = broadsheet(dir.path(), &["comments", "list", "--status", "deleted"]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("unknown comment status"),
        "{}",
        stderr(&out)
    );
    let out = broadsheet(dir.path(), &["comments", "approve"]);
    assert!(!out.status.success(), "ids are required");
}
