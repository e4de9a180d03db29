//! The `broadsheet` binary as an operator uses it: real processes, a real socket, one
//! data directory shared between the server and the CLI.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_broadsheet");

fn broadsheet(data_dir: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .arg("--data-dir")
        .arg(data_dir)
        .args(args)
        .env_remove("BROADSHEET_DATABASE_URL")
        .env_remove("BROADSHEET_CONFIG")
        .env("BROADSHEET_PASSWORD", "correct horse battery")
        .output()
        .expect("the broadsheet binary runs")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A `broadsheet serve` process on a free port, killed when dropped.
struct Server {
    child: Child,
    base: String,
}

impl Server {
    fn start(data_dir: &Path) -> Server {
        let mut child = Command::new(BIN)
            .arg("--data-dir")
            .arg(data_dir)
            .args(["serve", "--listen", "127.0.0.1:0"])
            .env_remove("BROADSHEET_DATABASE_URL")
            .env("BROADSHEET_LOG", "info")
            .stderr(Stdio::piped())
            .spawn()
            .expect("serve starts");
        // The server logs its bound address once it accepts connections: wait for that
        // line instead of sleeping.
        let (tx, rx) = mpsc::channel();
        let err = child.stderr.take().expect("stderr is piped");
        std::thread::spawn(move || {
            for line in BufReader::new(err).lines().map_while(Result::ok) {
                if let Some(addr) = line.split("listening on ").nth(1) {
                    let _ = tx.send(addr.trim_end_matches(')').to_owned());
                }
            }
        });
        let addr = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("the server reports its address");
        Server {
            child,
            base: format!("http://{addr}"),
        }
    }

    async fn get(&self, path: &str) -> (u16, String) {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let res = client
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .expect("request");
        (res.status().as_u16(), res.text().await.unwrap())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
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
    let server = Server::start(dir.path());

    let (status, home) = server.get("/").await;
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

    let (_, home) = server.get("/").await;
    assert!(
        home.contains("Harbour bridge vote &amp; the &lt;late&gt; session"),
        "{home}"
    );
    let (status, page) = server.get("/2026/03/04/harbour-bridge-vote/").await;
    assert_eq!(status, 200);
    // 406 words at 200 per minute: 2 min 2 s (121.8 s rounds to 122).
    assert!(page.contains("2 min 2 s"), "read time missing in {page}");
    assert!(page.contains("#CityHall") && page.contains("#HarbourBridge"));
    let (status, tag) = server.get("/tag/city-hall/").await;
    assert_eq!(status, 200);
    assert!(tag.contains("harbour-bridge-vote"), "{tag}");

    // Publishing the same slug again updates the article in place.
    std::fs::write(&file, story(40)).unwrap();
    let out = broadsheet(dir.path(), &["article", "publish", file.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("updated"));
    let (_, page) = server.get("/2026/03/04/harbour-bridge-vote/").await;
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
