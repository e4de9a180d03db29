//! The article page's engagement widgets in a real browser: Debian's `chromium`
//! driven through WebDriver (`chromium-driver`), against `broadsheet serve` on a real
//! socket. Once with JavaScript (the script updates the page in place) and once
//! without (the plain forms post and the server redirects back).
//!
//! Without Chromium or its driver these tests say why and pass, except in CI
//! (`CI=true`), where `.ci/run` installs both and a missing browser is a failure.

use std::future::Future;
use std::net::TcpListener;
use std::os::unix::process::CommandExt as _;
use std::panic::AssertUnwindSafe;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use futures::FutureExt as _;
use thirtyfour::prelude::*;

use crate::process::{Server, Site};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// How long the page gets to show what a test waits for.
const PATIENCE: Duration = Duration::from_secs(20);

/// Whether the browser tests can run here. In CI a missing browser fails the test;
/// elsewhere the test is skipped with the reason and the command that fixes it.
fn browser_available() -> bool {
    let missing: Vec<&str> = [CHROMIUM, CHROMEDRIVER]
        .into_iter()
        .filter(|path| !Path::new(path).exists())
        .collect();
    if missing.is_empty() {
        return true;
    }
    let fix = "apt-get install -y chromium chromium-driver";
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "browser tests need {missing:?}, which CI must install ({fix}, as .ci/run does)"
    );
    eprintln!("skipping browser test: {missing:?} not installed ({fix})");
    false
}

/// A `chromedriver` child process on a free local port, stopped (with the browsers
/// it started) when dropped.
struct ChromeDriver {
    child: Child,
    url: String,
}

impl ChromeDriver {
    async fn start(log: &Path) -> ChromeDriver {
        let client = reqwest::Client::new();
        // A port found free may be taken before the driver binds it: then the driver
        // exits, and we try another.
        for _ in 0..3 {
            let port = TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .expect("a free port")
                .port();
            let mut child = Command::new(CHROMEDRIVER)
                .arg(format!("--port={port}"))
                .arg(format!("--log-path={}", log.display()))
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                // Its own process group, so dropping it also ends the browsers it ran.
                .process_group(0)
                .spawn()
                .expect("chromedriver starts");
            let url = format!("http://127.0.0.1:{port}");
            let deadline = Instant::now() + Duration::from_secs(30);
            loop {
                if let Ok(Some(_)) = child.try_wait() {
                    break;
                }
                let ready = client
                    .get(format!("{url}/status"))
                    .send()
                    .await
                    .ok()
                    .filter(|res| res.status().is_success());
                if let Some(res) = ready {
                    let status: serde_json::Value = res.json().await.unwrap_or_default();
                    if status["value"]["ready"] == true {
                        return ChromeDriver { child, url };
                    }
                }
                if Instant::now() > deadline {
                    let _ = child.kill();
                    panic!(
                        "chromedriver did not become ready; its log:\n{}",
                        std::fs::read_to_string(log).unwrap_or_default()
                    );
                }
                tokio::time::sleep(Duration::from_millis(25)).await;
            }
        }
        panic!(
            "chromedriver would not start; its log:\n{}",
            std::fs::read_to_string(log).unwrap_or_default()
        );
    }
}

impl Drop for ChromeDriver {
    fn drop(&mut self) {
        // The whole group: the driver and any Chromium a failed test left open.
        let _ = Command::new("kill")
            .args(["-TERM", "--", &format!("-{}", self.child.id())])
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A running site and a browser to use it with, starting at `url` (an article's page
/// for readers, the admin for the newsroom).
struct Reader {
    _dir: tempfile::TempDir,
    _server: Server,
    _driver: ChromeDriver,
    browser: WebDriver,
    url: String,
}

impl Reader {
    async fn start(javascript: bool) -> Reader {
        let dir = tempfile::tempdir().unwrap();
        let site = Site::sqlite(dir.path());
        let story = dir.path().join("story.md");
        std::fs::write(
            &story,
            "---\ntitle: Tram line reopens after the flood\nslug: tram-line-reopens\n\
             tags: [Transport]\ndate: 2026-03-04 18:30\n---\n\n\
             The number 4 tram runs again from Monday, six weeks after the river rose.\n",
        )
        .unwrap();
        site.ok(&["article", "publish", story.to_str().unwrap()]);
        let server = site.serve();
        let article_url = format!("{}/2026/03/04/tram-line-reopens/", server.base);
        Reader::open(dir, server, article_url, javascript).await
    }

    /// A browser (with or without JavaScript) on `server`, whose files live in `dir`.
    async fn open(dir: tempfile::TempDir, server: Server, url: String, javascript: bool) -> Reader {
        let driver = ChromeDriver::start(&dir.path().join("chromedriver.log")).await;
        let mut caps = DesiredCapabilities::chrome();
        caps.set_binary(CHROMIUM).unwrap();
        let profile = dir.path().join("profile");
        for arg in [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--window-size=1280,1000",
            &format!("--user-data-dir={}", profile.display()),
        ] {
            caps.add_arg(arg).unwrap();
        }
        if !javascript {
            caps.add_arg("--blink-settings=scriptEnabled=false")
                .unwrap();
            caps.add_experimental_option(
                "prefs",
                serde_json::json!({ "profile.managed_default_content_settings.javascript": 2 }),
            )
            .unwrap();
        }
        let browser = WebDriver::new(&driver.url, caps)
            .await
            .expect("a Chromium session");
        Reader {
            _dir: dir,
            _server: server,
            _driver: driver,
            browser,
            url,
        }
    }

    /// Runs a scenario with the browser and the starting URL, then closes the browser
    /// whether or not the scenario passed (a session left open would be torn down
    /// synchronously, stalling the test for minutes).
    async fn run<F, Fut>(self, scenario: F)
    where
        F: FnOnce(WebDriver, String) -> Fut,
        Fut: Future<Output = ()>,
    {
        let outcome = AssertUnwindSafe(scenario(self.browser.clone(), self.url.clone()))
            .catch_unwind()
            .await;
        if outcome.is_err()
            && let Ok(source) = self.browser.source().await
        {
            eprintln!("the page when the test failed:\n{source}");
        }
        let _ = self.browser.quit().await;
        if let Err(panic) = outcome {
            std::panic::resume_unwind(panic);
        }
    }
}

/// The first element matching `css`, waiting (polling) until the page has one: after a
/// form post the browser may still be loading the page the server redirected to.
async fn find(browser: &WebDriver, css: &str) -> WebElement {
    browser
        .query(By::Css(css))
        .first()
        .await
        .unwrap_or_else(|e| panic!("no {css} on the page: {e}"))
}

async fn text(browser: &WebDriver, css: &str) -> String {
    find(browser, css)
        .await
        .text()
        .await
        .unwrap()
        .trim()
        .to_owned()
}

async fn attr(browser: &WebDriver, css: &str, name: &str) -> Option<String> {
    find(browser, css).await.attr(name).await.unwrap()
}

async fn click(browser: &WebDriver, css: &str) {
    find(browser, css)
        .await
        .click()
        .await
        .unwrap_or_else(|e| panic!("cannot click {css}: {e}"));
}

/// Clicks a button that submits a form without JavaScript and waits until the browser
/// has left the page it was on, so what is read next is the page the server answered
/// with, however slow the machine.
async fn submit(browser: &WebDriver, css: &str) {
    let button = find(browser, css).await;
    button
        .click()
        .await
        .unwrap_or_else(|e| panic!("cannot click {css}: {e}"));
    button
        .wait_until()
        .stale()
        .await
        .unwrap_or_else(|e| panic!("the page did not change after {css}: {e}"));
}

/// The page's address without its fragment (a form's redirect points at its widget).
async fn page_url(browser: &WebDriver) -> String {
    let mut url = browser.current_url().await.unwrap();
    url.set_fragment(None);
    url.to_string()
}

/// Polls a JavaScript condition until it holds.
async fn wait_until(browser: &WebDriver, condition: &str, what: &str) {
    let start = Instant::now();
    loop {
        let held = browser
            .execute(format!("return Boolean({condition});"), Vec::new())
            .await
            .expect("the condition runs")
            .json()
            .as_bool();
        if held == Some(true) {
            return;
        }
        assert!(start.elapsed() < PATIENCE, "{what} did not happen");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

const HAPPY: &str = r#"button[data-reaction="happy"]"#;
const HAPPY_COUNT: &str = r#"button[data-reaction="happy"] [data-field="count"]"#;
const HAPPY_PERCENT: &str = r#"button[data-reaction="happy"] .reaction-percent"#;

#[tokio::test]
async fn with_javascript_a_reaction_updates_the_page_in_place() {
    if !browser_available() {
        return;
    }
    let reader = Reader::start(true).await;
    reader
        .run(|browser, url| async move {
            let (browser, url) = (&browser, url.as_str());
            browser.goto(url).await.unwrap();
            wait_until(
                browser,
                r#"document.documentElement.dataset.enhanced === "1""#,
                "the engagement script starting",
            )
            .await;
            assert_eq!(text(browser, HAPPY_COUNT).await, "0");
            browser
                .execute("window.__noReload = 1;", Vec::new())
                .await
                .unwrap();

            click(browser, HAPPY).await;
            let happy = r#"document.querySelector('button[data-reaction="happy"]')"#;
            wait_until(
                browser,
                &format!(
                    r#"{happy}.querySelector('[data-field="count"]').textContent === "1"
                       && {happy}.querySelector('.reaction-percent').textContent.trim() === "100 %""#
                ),
                "Happy showing 1 vote and 100 %",
            )
            .await;
            assert_eq!(text(browser, HAPPY_PERCENT).await, "100 %");
            assert_eq!(
                attr(browser, HAPPY, "aria-pressed").await.as_deref(),
                Some("true")
            );
            let sad = r#"button[data-reaction="sad"]"#;
            assert_eq!(
                attr(browser, sad, "aria-pressed").await.as_deref(),
                Some("false")
            );
            let marker = browser
                .execute("return window.__noReload;", Vec::new())
                .await
                .unwrap();
            assert_eq!(marker.json(), &serde_json::json!(1), "the page reloaded");

            // Pressing it again takes the reaction back, still without a reload.
            click(browser, HAPPY).await;
            wait_until(
                browser,
                &format!(
                    r#"{happy}.getAttribute("aria-pressed") === "false"
                       && {happy}.querySelector('[data-field="count"]').textContent === "0""#
                ),
                "Happy being taken back",
            )
            .await;
            assert_eq!(text(browser, HAPPY_PERCENT).await, "0 %");

            // A like: the button is pressed and its count and accessible name follow.
            click(browser, r#"button[data-vote="like"]"#).await;
            wait_until(
                browser,
                r#"document.querySelector('button[data-vote="like"]').getAttribute("aria-pressed") === "true""#,
                "Like being pressed",
            )
            .await;
            let like = browser
                .find(By::Css(r#"button[data-vote="like"]"#))
                .await
                .unwrap();
            assert_eq!(
                like.find(By::Css(r#"[data-count="likes"]"#))
                    .await
                    .unwrap()
                    .text()
                    .await
                    .unwrap(),
                "1"
            );
            let name = browser
                .execute(
                    r#"return document.querySelector('button[data-vote="like"]').textContent.replace(/\s+/g, " ").trim();"#,
                    Vec::new(),
                )
                .await
                .unwrap();
            assert_eq!(name.json(), &serde_json::json!("Like, 1 like"));
            let marker = browser
                .execute("return window.__noReload;", Vec::new())
                .await
                .unwrap();
            assert_eq!(marker.json(), &serde_json::json!(1), "the page reloaded");
        })
        .await;
}

#[tokio::test]
async fn without_javascript_reactions_and_ratings_post_and_come_back() {
    if !browser_available() {
        return;
    }
    let reader = Reader::start(false).await;
    reader
        .run(|browser, url| async move {
            let (browser, url) = (&browser, url.as_str());
            browser.goto(url).await.unwrap();
            // The script did not run: this is the plain HTML page.
            assert_eq!(attr(browser, "html", "data-enhanced").await, None);
            assert_eq!(text(browser, HAPPY_COUNT).await, "0");
            assert_eq!(
                attr(browser, HAPPY, "aria-pressed").await.as_deref(),
                Some("false")
            );

            // The form posts, the server redirects back, the page shows the reaction.
            submit(browser, HAPPY).await;
            assert_eq!(page_url(browser).await, url);
            assert_eq!(text(browser, HAPPY_COUNT).await, "1");
            assert_eq!(text(browser, HAPPY_PERCENT).await, "100 %");
            assert_eq!(
                attr(browser, HAPPY, "aria-pressed").await.as_deref(),
                Some("true")
            );
            assert_eq!(text(browser, "#rating-heading").await, "Average Rating");
            assert_eq!(text(browser, ".rating-none").await, "No ratings yet");
            assert!(
                !browser
                    .find(By::Css(".clear-rating"))
                    .await
                    .unwrap()
                    .is_displayed()
                    .await
                    .unwrap(),
                "Clear my rating is offered before the reader rated"
            );

            // Four stars through the radio group, then "Rate".
            click(browser, r#"label[for="rate-4"]"#).await;
            assert!(
                browser
                    .find(By::Css("#rate-4"))
                    .await
                    .unwrap()
                    .is_selected()
                    .await
                    .unwrap()
            );
            submit(browser, ".rating-form button[type=submit]").await;
            assert_eq!(page_url(browser).await, url);
            assert_eq!(text(browser, "#rating-heading").await, "Average Rating");
            assert_eq!(text(browser, r#"[data-field="average"]"#).await, "4.0");
            assert_eq!(
                text(browser, r#"[data-star="4"] [data-field="percent"]"#).await,
                "100"
            );
            assert!(
                browser
                    .find(By::Css("#rate-4"))
                    .await
                    .unwrap()
                    .is_selected()
                    .await
                    .unwrap(),
                "the reader's rating is checked"
            );
            // The reaction survived the rating.
            assert_eq!(text(browser, HAPPY_COUNT).await, "1");

            // And the rating can be taken back.
            submit(browser, ".clear-rating button").await;
            assert_eq!(text(browser, ".rating-none").await, "No ratings yet");
            assert!(
                !browser
                    .find(By::Css("#rate-4"))
                    .await
                    .unwrap()
                    .is_selected()
                    .await
                    .unwrap()
            );
        })
        .await;
}

/// Types into a form field, replacing what it held.
async fn fill(browser: &WebDriver, css: &str, value: &str) {
    let field = find(browser, css).await;
    field.clear().await.unwrap();
    field.send_keys(value).await.unwrap();
}

#[tokio::test]
async fn without_javascript_the_first_admin_sets_up_signs_out_and_signs_in() {
    if !browser_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let server = Site::sqlite(dir.path()).serve();
    let admin = format!("{}/admin", server.base);
    let reader = Reader::open(dir, server, admin, false).await;
    reader
        .run(|browser, url| async move {
            let browser = &browser;
            // A new site sends its first visitor to the admin's setup.
            browser.goto(&url).await.unwrap();
            assert_eq!(text(browser, "h1").await, "Welcome to Broadsheet");
            assert!(page_url(browser).await.ends_with("/admin/setup"));
            fill(browser, "#f-name", "Grace Hopper").await;
            fill(browser, "#f-email", "grace@example.com").await;
            fill(browser, "#f-password", "a long enough password").await;
            fill(browser, "#f-password_again", "a long enough password").await;
            submit(browser, "main button[type=submit]").await;
            assert_eq!(text(browser, "h1").await, "Good to see you, Grace Hopper");
            assert_eq!(
                attr(browser, ".admin-nav a[aria-current=page]", "href")
                    .await
                    .as_deref(),
                Some("/admin")
            );

            submit(browser, ".admin-user button").await;
            assert_eq!(text(browser, "h1").await, "Sign in");
            fill(browser, "#f-email", "grace@example.com").await;
            fill(browser, "#f-password", "not the password").await;
            submit(browser, "main button[type=submit]").await;
            assert!(
                text(browser, ".notice-error")
                    .await
                    .contains("do not match")
            );
            assert_eq!(
                attr(browser, "#f-email", "value").await.as_deref(),
                Some("grace@example.com")
            );
            fill(browser, "#f-password", "a long enough password").await;
            submit(browser, "main button[type=submit]").await;
            assert_eq!(text(browser, "h1").await, "Good to see you, Grace Hopper");
            browser.goto(&format!("{url}/audit")).await.unwrap();
            assert_eq!(
                text(browser, ".audit tbody td:nth-child(3)").await,
                "user.setup"
            );
        })
        .await;
}
