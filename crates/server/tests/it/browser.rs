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

/// A headless Chromium through a new chromedriver, its profile and log in `dir`, with
/// or without JavaScript.
async fn open_browser(dir: &Path, javascript: bool) -> (ChromeDriver, WebDriver) {
    let driver = ChromeDriver::start(&dir.join("chromedriver.log")).await;
    let mut caps = DesiredCapabilities::chrome();
    caps.set_binary(CHROMIUM).unwrap();
    let profile = dir.join("profile");
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
    (driver, browser)
}

/// A published article on a running site, and a browser to read it with.
struct Reader {
    _dir: tempfile::TempDir,
    _server: Server,
    _driver: ChromeDriver,
    browser: WebDriver,
    /// Where the scenario starts: the article, or the site's address for the newsroom.
    start_url: String,
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

    /// A browser (with or without JavaScript) on `server`, whose files live in `dir`,
    /// starting at `start_url`.
    async fn open(
        dir: tempfile::TempDir,
        server: Server,
        start_url: String,
        javascript: bool,
    ) -> Reader {
        let (driver, browser) = open_browser(dir.path(), javascript).await;
        Reader {
            _dir: dir,
            _server: server,
            _driver: driver,
            browser,
            start_url,
        }
    }

    /// A site with its admin, Ada (ada@example.com, [`NEWSROOM_PASSWORD`]), and a
    /// browser with JavaScript; the scenario gets the site's address.
    async fn newsroom() -> Reader {
        let dir = tempfile::tempdir().unwrap();
        let site = Site::sqlite(dir.path());
        site.ok(&[
            "user",
            "add",
            "--name",
            "Ada Writer",
            "--email",
            "ada@example.com",
            "--role",
            "admin",
        ]);
        let server = site.serve();
        let start_url = server.base.clone();
        Reader::open(dir, server, start_url, true).await
    }

    /// Runs a scenario with the browser and the starting URL, then closes the browser
    /// whether or not the scenario passed (a session left open would be torn down
    /// synchronously, stalling the test for minutes).
    async fn run<F, Fut>(self, scenario: F)
    where
        F: FnOnce(WebDriver, String) -> Fut,
        Fut: Future<Output = ()>,
    {
        let outcome = AssertUnwindSafe(scenario(self.browser.clone(), self.start_url.clone()))
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

/// The password `Site` gives the CLI's `user add`.
const NEWSROOM_PASSWORD: &str = "correct horse battery";

#[tokio::test]
async fn the_editor_previews_as_you_type_autosaves_and_publishes() {
    if !browser_available() {
        return;
    }
    Reader::newsroom()
        .await
        .run(|browser, base| async move {
            let (browser, base) = (&browser, base.as_str());
            browser.goto(&format!("{base}/admin/login")).await.unwrap();
            let type_into = |css: &'static str, keys: &'static str| async move {
                find(browser, css).await.send_keys(keys).await.unwrap();
            };
            type_into("#f-email", "ada@example.com").await;
            type_into("#f-password", NEWSROOM_PASSWORD).await;
            submit(browser, "form button[type=submit]").await;

            browser
                .goto(&format!("{base}/admin/articles/new"))
                .await
                .unwrap();
            type_into("#f-title", "Night trams return").await;
            type_into("#f-source", "The **night** trams run again.").await;
            wait_until(
                browser,
                r#"document.querySelector("[data-preview] strong")?.textContent === "night""#,
                "the live preview",
            )
            .await;
            assert!(text(browser, "[data-read-time]").await.starts_with("Read time: "));
            wait_until(
                browser,
                r#"/^\/admin\/articles\/\d+$/.test(location.pathname)
                   && document.querySelector("[data-autosave-status]").textContent.startsWith("Saved ")"#,
                "the first autosave creating the draft",
            )
            .await;

            type_into("#f-tags", "Transport").await;
            click(browser, "#f-status option[value=published]").await;
            submit(browser, "button[value=save]").await;
            assert_eq!(text(browser, ".notice-ok").await, "Saved.");
            let path = attr(browser, ".lede a", "href").await.expect("a link to the article");
            browser.goto(&format!("{base}{path}")).await.unwrap();
            assert_eq!(text(browser, "h1.article-title").await, "Night trams return");
            assert!(text(browser, ".article-body").await.contains("night trams run again"));
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

/// A photo to upload: a gradient, so its resized copies differ from it.
fn photo(path: &Path) {
    let image = image::RgbImage::from_fn(1200, 800, |x, y| {
        image::Rgb([(x % 256) as u8, (y % 256) as u8, 120])
    });
    image.save(path).expect("a PNG written");
}

/// The newsroom from its first minute, as issue 5 asks a browser to prove it: set up
/// the first admin, upload an image, write an article with a tag and the image, watch
/// the preview, publish, read it on the site; then a contributor, added from the
/// admin, finds no way to publish, and a forged publish is refused.
#[tokio::test]
async fn a_new_newsroom_publishes_an_illustrated_article_and_a_contributor_cannot() {
    if !browser_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let image_path = dir.path().join("harbour.png");
    photo(&image_path);
    let server = Site::sqlite(dir.path()).serve();
    let start = format!("{}/admin", server.base);
    let reader = Reader::open(dir, server, start, true).await;
    reader
        .run(|browser, admin| async move {
            let browser = &browser;
            let base = admin.trim_end_matches("/admin").to_owned();

            // First-run setup.
            browser.goto(&admin).await.unwrap();
            assert!(page_url(browser).await.ends_with("/admin/setup"));
            fill(browser, "#f-name", "Grace Hopper").await;
            fill(browser, "#f-email", "grace@example.com").await;
            fill(browser, "#f-password", "a long enough password").await;
            fill(browser, "#f-password_again", "a long enough password").await;
            submit(browser, "main button[type=submit]").await;
            assert!(page_url(browser).await.ends_with("/admin"));

            // An image into the media library; its Markdown comes from the library.
            browser.goto(&format!("{admin}/media")).await.unwrap();
            fill(browser, "#f-alt", "The harbour at dawn").await;
            find(browser, "#f-file")
                .await
                .send_keys(image_path.to_str().unwrap())
                .await
                .unwrap();
            submit(browser, "form.media-upload button[type=submit]").await;
            let markdown = attr(browser, "input[readonly][value^='![']", "value")
                .await
                .expect("the image's Markdown");
            assert!(markdown.starts_with("![The harbour at dawn](/media/"), "{markdown}");

            // The article, with a tag and the image, previewed as it is typed.
            browser.goto(&format!("{admin}/articles/new")).await.unwrap();
            fill(browser, "#f-title", "Ships return to the harbour").await;
            fill(browser, "#f-tags", "Harbour").await;
            fill(
                browser,
                "#f-source",
                &format!("The first ferries came in at six.\n\n{markdown}\n"),
            )
            .await;
            wait_until(
                browser,
                r#"!!document.querySelector("[data-preview] img[srcset]")"#,
                "the preview showing the image with its resized copies",
            )
            .await;
            wait_until(
                browser,
                r#"/^\/admin\/articles\/\d+$/.test(location.pathname)
                   && document.querySelector("[data-autosave-status]").textContent.startsWith("Saved ")"#,
                "the first autosave creating the draft",
            )
            .await;
            click(browser, "#f-status option[value=published]").await;
            submit(browser, "button[value=save]").await;
            assert_eq!(text(browser, ".notice-ok").await, "Saved.");
            let path = attr(browser, ".lede a", "href")
                .await
                .expect("a link to the article");

            // On the site, as a reader sees it.
            browser.goto(&format!("{base}{path}")).await.unwrap();
            assert_eq!(
                text(browser, "h1.article-title").await,
                "Ships return to the harbour"
            );
            assert_eq!(text(browser, ".hashtags a").await, "#Harbour");
            let srcset = attr(browser, ".article-body img", "srcset")
                .await
                .expect("a srcset on the article's image");
            assert!(srcset.contains("/w480/"), "{srcset}");
            wait_until(
                browser,
                r#"document.querySelector(".article-body img").naturalWidth > 0"#,
                "the image loaded",
            )
            .await;

            // A contributor, added by the admin with a temporary password.
            browser.goto(&format!("{admin}/users")).await.unwrap();
            fill(browser, "#f-name", "Cal Contributor").await;
            fill(browser, "#f-email", "cal@example.com").await;
            click(browser, "input[name=access][value=password]").await;
            fill(browser, "#f-password", "temporary password 1").await;
            submit(browser, ".add-user button[type=submit]").await;
            assert!(text(browser, ".users").await.contains("cal@example.com"));
            submit(browser, ".admin-user button").await;
            fill(browser, "#f-email", "cal@example.com").await;
            fill(browser, "#f-password", "temporary password 1").await;
            submit(browser, "main button[type=submit]").await;

            // The contributor's editor offers no way to publish...
            browser.goto(&format!("{admin}/articles/new")).await.unwrap();
            assert!(
                browser.find_all(By::Css("#f-status")).await.unwrap().is_empty(),
                "a contributor gets no status choice"
            );
            assert_eq!(text(browser, "button[value=save]").await, "Submit for review");
            fill(browser, "#f-title", "My first scoop").await;
            fill(browser, "#f-source", "Something happened.").await;
            wait_until(
                browser,
                r#"/^\/admin\/articles\/\d+$/.test(location.pathname)
                   && document.querySelector("[data-autosave-status]").textContent.startsWith("Saved ")"#,
                "the first autosave creating the draft",
            )
            .await;
            // ...and a forged publish is refused.
            browser
                .execute(
                    r#"document.querySelector("input[name=status]").value = "published";"#,
                    Vec::new(),
                )
                .await
                .unwrap();
            submit(browser, "button[value=save]").await;
            assert!(
                browser
                    .source()
                    .await
                    .unwrap()
                    .contains("Contributors cannot publish"),
                "the refusal says why"
            );
            browser.goto(&format!("{base}/")).await.unwrap();
            let home = browser.source().await.unwrap();
            assert!(home.contains("Ships return to the harbour"));
            assert!(!home.contains("My first scoop"));
        })
        .await;
}

/// Fills in the comment form and sends it, once the form is old enough for the spam
/// screen (which refuses a form sent within seconds of being shown).
async fn leave_a_reply(browser: &WebDriver, comment: &str, name: &str, email: &str) {
    fill(browser, "#comment", comment).await;
    fill(browser, "#author", name).await;
    fill(browser, "#email", email).await;
    tokio::time::sleep(Duration::from_millis(3_500)).await;
    submit(browser, "#submit").await;
}

#[tokio::test]
async fn without_javascript_a_comment_and_a_reply_make_a_thread_and_a_held_one_shows_only_to_its_author()
 {
    if !browser_available() {
        return;
    }
    let reader = Reader::start(false).await;
    reader
        .run(|browser, url| async move {
            let (browser, url) = (&browser, url.as_str());
            browser.goto(url).await.unwrap();
            assert_eq!(text(browser, "#reply-title").await, "Leave a Reply");
            leave_a_reply(
                browser,
                "Good to have the tram back before the school term.",
                "Ann Reader",
                "ann@example.net",
            )
            .await;
            assert_eq!(page_url(browser).await, url);
            let fragment = browser
                .current_url()
                .await
                .unwrap()
                .fragment()
                .map(str::to_owned);
            let first = fragment.expect("the redirect points at the comment");
            assert!(first.starts_with("comment-"), "{first}");
            assert_eq!(
                text(browser, &format!("#{first} .comment-author")).await,
                "Ann Reader"
            );
            assert_eq!(
                text(browser, "[data-slot=comment-count]").await,
                "1 comment"
            );

            // Reply through the comment's own Reply link.
            submit(browser, &format!("#{first} .comment-reply-link")).await;
            assert!(
                text(browser, "#reply-title")
                    .await
                    .starts_with("Leave a Reply to Ann Reader")
            );
            leave_a_reply(
                browser,
                "It runs every ten minutes now.",
                "Bob",
                "bob@example.net",
            )
            .await;
            assert_eq!(
                text(browser, &format!("#{first} .children .comment-author")).await,
                "Bob"
            );
            assert_eq!(
                text(browser, "[data-slot=comment-count]").await,
                "2 comments"
            );

            // Two links hold a comment for moderation: its author sees it, marked.
            leave_a_reply(
                browser,
                "Timetable: https://example.org/tram and https://example.org/bus",
                "Cat",
                "cat@example.net",
            )
            .await;
            assert_eq!(
                text(browser, ".comment-pending .comment-awaiting-moderation").await,
                "Your comment is awaiting moderation."
            );
            assert_eq!(
                text(browser, "[data-slot=comment-count]").await,
                "2 comments"
            );

            // Another reader (no cookies) sees the thread but not the held comment.
            browser.delete_all_cookies().await.unwrap();
            browser.goto(url).await.unwrap();
            assert_eq!(
                text(browser, &format!("#{first} .children .comment-author")).await,
                "Bob"
            );
            assert!(
                browser
                    .find_all(By::Css(".comment-pending"))
                    .await
                    .unwrap()
                    .is_empty()
            );
            assert!(
                !browser
                    .source()
                    .await
                    .unwrap()
                    .contains("awaiting moderation")
            );
        })
        .await;
}

/// Asks the page for a value a promise computes, polling until it has settled.
async fn settled(browser: &WebDriver, promise: &str, what: &str) -> String {
    browser
        .execute(
            format!(
                "window.__settled = undefined; Promise.resolve().then(() => {promise})\
                 .then(v => {{ window.__settled = String(v); }}, \
                       e => {{ window.__settled = 'error: ' + e; }}); return true;"
            ),
            Vec::new(),
        )
        .await
        .expect("the script runs");
    wait_until(browser, "window.__settled !== undefined", what).await;
    browser
        .execute("return window.__settled;", Vec::new())
        .await
        .expect("the value")
        .json()
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn the_bell_registers_the_service_worker_and_bad_subscriptions_are_named() {
    if !browser_available() {
        return;
    }
    let reader = Reader::start(true).await;
    reader
        .run(|browser, url| async move {
            let (browser, url) = (&browser, url.as_str());
            browser.goto(url).await.unwrap();
            // Chromium can take pushes, so the script shows the bell.
            wait_until(
                browser,
                "!document.querySelector('[data-push-bell]').hidden",
                "the bell to appear",
            )
            .await;
            assert_eq!(
                text(browser, ".push-bell-label").await,
                "Notify me of new articles"
            );
            assert_eq!(
                attr(browser, ".push-bell-button", "aria-pressed")
                    .await
                    .as_deref(),
                Some("false")
            );
            click(browser, ".push-bell-button").await;
            // The click registers /sw.js for the whole site (a wrong Content-Type
            // would make the browser refuse it). Headless Chromium reaches no real
            // push service, so the subscription itself cannot complete here.
            let registration = settled(
                browser,
                "navigator.serviceWorker.ready.then(r => r.active.scriptURL + ' ' + r.scope)",
                "the service worker's activation",
            )
            .await;
            let origin = url.split("/2026/").next().unwrap();
            assert_eq!(registration, format!("{origin}/sw.js {origin}/"));
            // What the page would send with broken keys is refused field by field.
            let refused = settled(
                browser,
                "fetch('/push/subscriptions', {method: 'POST', headers: \
                 {'Content-Type': 'application/json'}, body: JSON.stringify({endpoint: \
                 'https://fcm.googleapis.com/fcm/send/x', keys: {p256dh: 'x', auth: ''}})})\
                 .then(r => r.json().then(j => r.status + ' ' + \
                 j.error.fields.map(f => f.field + ': ' + f.message).join('; ')))",
                "the refused subscription",
            )
            .await;
            assert_eq!(
                refused,
                "422 keys.p256dh: is not base64url; keys.auth: is missing"
            );
        })
        .await;
}
