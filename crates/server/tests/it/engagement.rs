//! Reader engagement over HTTP: votes, reactions and ratings through forms and JSON,
//! views, limits, reader identity and privacy, live counts.
//!
//! Requests run in-process with a chosen socket peer (`MockConnectInfo`), except the
//! live stream, which is read over a real socket.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::connect_info::MockConnectInfo;
use axum::http::{Method, Request, StatusCode, header};
use broadsheet::config::RawEngagement;
use broadsheet_domain::{Article, ArticleId, Status, Store};
use serde_json::Value;

use crate::util::{BASE_URL, TestApp, TestResponse, article};

const FIREFOX: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0";
const GOOGLEBOT: &str = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)";

/// Limits high enough that only the test's own traffic matters.
pub fn generous() -> RawEngagement {
    RawEngagement {
        votes_per_minute_per_reader: Some(10_000),
        votes_per_minute_per_network: Some(100_000),
        readers_per_network_per_article_per_day: Some(100_000),
        ..RawEngagement::default()
    }
}

async fn app_with(engagement: RawEngagement) -> (TestApp, Article) {
    let app = TestApp::builder().engagement(engagement).build().await;
    let ada = app.user("Ada Lovelace").await;
    let article = app
        .publish(
            &ada,
            "Harbour bridge vote",
            "The council met.",
            &["City Hall"],
        )
        .await;
    (app, article)
}

/// One browser: its own cookie jar, address and user agent.
pub struct Reader<'a> {
    app: &'a TestApp,
    peer: SocketAddr,
    user_agent: &'static str,
    cookie: Option<String>,
    /// Extra headers on every request (Origin, X-Forwarded-For, Accept...).
    headers: Vec<(&'static str, String)>,
}

impl<'a> Reader<'a> {
    pub fn new(app: &'a TestApp) -> Reader<'a> {
        Reader::at(app, "10.1.2.3")
    }

    pub fn at(app: &'a TestApp, ip: &str) -> Reader<'a> {
        Reader {
            app,
            peer: SocketAddr::new(ip.parse().expect("an IP"), 40_000),
            user_agent: FIREFOX,
            cookie: None,
            headers: Vec::new(),
        }
    }

    fn with(mut self, name: &'static str, value: &str) -> Self {
        self.headers.push((name, value.to_owned()));
        self
    }

    pub async fn send(
        &mut self,
        method: Method,
        path: &str,
        body: Option<(&str, String)>,
    ) -> TestResponse {
        let mut request = Request::builder()
            .method(method)
            .uri(path)
            .header(header::USER_AGENT, self.user_agent);
        if let Some(cookie) = &self.cookie {
            request = request.header(header::COOKIE, cookie);
        }
        for (name, value) in &self.headers {
            request = request.header(*name, value);
        }
        let body = match body {
            Some((content_type, text)) => {
                request = request.header(header::CONTENT_TYPE, content_type);
                Body::from(text)
            }
            None => Body::empty(),
        };
        let router = self.app.router().layer(MockConnectInfo(self.peer));
        let response = self
            .app
            .send(router, request.body(body).expect("a request"))
            .await;
        if let Some(set) = response.header("set-cookie") {
            let pair = set.split(';').next().unwrap_or_default().to_owned();
            assert!(pair.starts_with("bs_reader="), "{set}");
            self.cookie = Some(pair);
        }
        response
    }

    async fn get(&mut self, path: &str) -> TestResponse {
        self.send(Method::GET, path, None).await
    }

    /// Posts a widget's form, as a browser without JavaScript does.
    pub async fn form(&mut self, id: ArticleId, action: &str, value: &str) -> TestResponse {
        let body = format!("action={action}&value={value}");
        self.send(
            Method::POST,
            &format!("/articles/{id}/engage"),
            Some(("application/x-www-form-urlencoded", body)),
        )
        .await
    }

    /// Posts the same form asking for JSON, as the widgets' script does.
    async fn json(&mut self, id: ArticleId, action: &str, value: &str) -> (TestResponse, Value) {
        self.headers.push(("accept", "application/json".into()));
        let response = self.form(id, action, value).await;
        self.headers.pop();
        let json = serde_json::from_str(&response.body)
            .unwrap_or_else(|e| panic!("{e}: {} {}", response.status, response.body));
        (response, json)
    }

    fn reader_id(&self) -> String {
        self.cookie
            .as_deref()
            .and_then(|c| c.strip_prefix("bs_reader="))
            .expect("a reader cookie")
            .to_owned()
    }
}

/// The counts the API shows (straight from the store, not a node's cache).
async fn counts(app: &TestApp, id: ArticleId) -> broadsheet_domain::Counts {
    app.store.counts(id).await.expect("counts")
}

async fn api(app: &TestApp, id: ArticleId) -> Value {
    let response = app.get(&format!("/api/v1/articles/{id}/engagement")).await;
    response.assert_status(StatusCode::OK);
    serde_json::from_str(&response.body).expect("JSON")
}

/// Polls until `check` holds, for at most `within`; returns how long it took.
pub async fn eventually<F, Fut>(within: Duration, what: &str, mut check: F) -> Duration
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let start = Instant::now();
    loop {
        if check().await {
            return start.elapsed();
        }
        assert!(start.elapsed() < within, "{what}: not within {within:?}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn forms_redirect_back_to_the_widget_and_count() {
    let (app, post) = app_with(generous()).await;
    let permalink = app.permalink(&post).await;
    let mut reader = Reader::new(&app);

    let liked = reader.form(post.id, "vote", "like").await;
    liked.assert_status(StatusCode::SEE_OTHER);
    assert_eq!(liked.location(), Some(&*format!("{permalink}#likes")));
    let cookie = liked
        .header("set-cookie")
        .expect("a new reader gets a cookie");
    for attribute in ["HttpOnly", "SameSite=Lax", "Path=/", "Secure"] {
        assert!(cookie.contains(attribute), "{cookie}");
    }

    // Back on the article (no JavaScript): the page already shows the reader's vote,
    // though the node's counts cache only hears of it through a notice.
    let back = reader.get(&permalink).await;
    assert_eq!(back.texts(r#"[data-count="likes"]"#), ["1"]);

    let reacted = reader.form(post.id, "react", "happy").await;
    assert_eq!(reacted.location(), Some(&*format!("{permalink}#reactions")));
    assert!(
        reacted.header("set-cookie").is_none(),
        "the cookie is reused"
    );
    let rated = reader.form(post.id, "rate", "4").await;
    assert_eq!(rated.location(), Some(&*format!("{permalink}#rating")));

    let c = counts(&app, post.id).await;
    assert_eq!((c.likes, c.dislikes), (1, 0));
    assert_eq!(c.reactions.get("happy"), Some(&1));
    assert_eq!(c.ratings, [0, 0, 0, 1, 0]);

    let cleared = reader.form(post.id, "clear_rating", "").await;
    assert_eq!(cleared.location(), Some(&*format!("{permalink}#rating")));
    assert_eq!(counts(&app, post.id).await.ratings, [0; 5]);
}

#[tokio::test]
async fn json_callers_get_the_new_counts_and_their_choices() {
    let (app, post) = app_with(generous()).await;
    let mut reader = Reader::new(&app);

    let (response, json) = reader.json(post.id, "vote", "like").await;
    response.assert_status(StatusCode::OK);
    assert_eq!(response.header("cache-control"), Some("no-store"));
    assert_eq!(json["engagement"]["likes"], 1);
    assert_eq!(json["engagement"]["article_id"], post.id.0);
    assert_eq!(json["choices"]["vote"], "like");

    // The same reader again: one vote, and casting it again takes it back.
    let (_, json) = reader.json(post.id, "vote", "like").await;
    assert_eq!(json["engagement"]["likes"], 0);
    assert!(json["choices"]["vote"].is_null());

    // A JSON body works as well as a form.
    let mut request = Request::builder()
        .method(Method::POST)
        .uri(format!("/articles/{}/engage", post.id))
        .header(header::ACCEPT, "application/json")
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::USER_AGENT, FIREFOX);
    if let Some(cookie) = &reader.cookie {
        request = request.header(header::COOKIE, cookie);
    }
    let response = app
        .send(
            app.router(),
            request
                .body(Body::from(r#"{"action":"rate","value":5}"#))
                .unwrap(),
        )
        .await;
    response.assert_status(StatusCode::OK);
    let json: Value = serde_json::from_str(&response.body).unwrap();
    assert_eq!(json["engagement"]["rating"]["average"], 5.0);
    assert_eq!(json["choices"]["rating"], 5);
}

#[tokio::test]
async fn a_reader_counts_once_and_switching_moves_the_count() {
    let (app, post) = app_with(generous()).await;
    let mut reader = Reader::new(&app);
    reader.form(post.id, "vote", "like").await;
    reader.form(post.id, "vote", "dislike").await;
    reader.form(post.id, "react", "happy").await;
    reader.form(post.id, "react", "sad").await;
    reader.form(post.id, "rate", "2").await;
    reader.form(post.id, "rate", "5").await;
    let c = counts(&app, post.id).await;
    assert_eq!((c.likes, c.dislikes), (0, 1));
    assert_eq!(c.reactions.get("happy").copied().unwrap_or(0), 0);
    assert_eq!(c.reactions.get("sad"), Some(&1));
    assert_eq!(c.ratings, [0, 0, 0, 0, 1]);

    let mine = reader
        .get(&format!("/api/v1/articles/{}/engagement/me", post.id))
        .await;
    mine.assert_status(StatusCode::OK);
    assert_eq!(mine.header("cache-control"), Some("private, no-store"));
    let mine: Value = serde_json::from_str(&mine.body).unwrap();
    assert_eq!(mine["vote"], "dislike");
    assert_eq!(mine["reaction"], "sad");
    assert_eq!(mine["rating"], 5);
}

#[tokio::test]
async fn percentages_shown_sum_to_100() {
    let (app, post) = app_with(generous()).await;
    for key in ["happy", "sad", "excited"] {
        Reader::new(&app).form(post.id, "react", key).await;
    }
    for stars in ["5", "4", "4"] {
        Reader::new(&app).form(post.id, "rate", stars).await;
    }
    let json = api(&app, post.id).await;
    let percents: Vec<u64> = json["reactions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["percent"].as_u64().unwrap())
        .collect();
    assert_eq!(percents, [34, 33, 33, 0, 0, 0]);
    let stars: u64 = json["rating"]["stars"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["percent"].as_u64().unwrap())
        .sum();
    assert_eq!(stars, 100);
    assert_eq!(json["rating"]["average"], 4.3);
}

#[tokio::test]
async fn bad_input_is_422_naming_the_field_and_changes_nothing() {
    let (app, post) = app_with(generous()).await;
    let mut reader = Reader::new(&app);
    for (action, value, field) in [
        ("react", "delighted", "value"),
        ("rate", "6", "value"),
        ("rate", "four", "value"),
        ("vote", "maybe", "value"),
        ("shout", "x", "action"),
    ] {
        let (response, json) = reader.json(post.id, action, value).await;
        response.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(json["error"]["field"], field, "{action}={value}");
        assert_eq!(json["error"]["code"], "validation_failed");
    }
    // A form gets the theme's error page, with the same status and the problem named.
    let page = reader.form(post.id, "react", "delighted").await;
    page.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        page.header("content-type")
            .unwrap()
            .starts_with("text/html")
    );
    assert!(page.body.contains("reactions"), "{}", page.body);
    assert_eq!(counts(&app, post.id).await, Default::default());
}

#[tokio::test]
async fn drafts_and_unknown_articles_are_not_found() {
    let (app, _) = app_with(generous()).await;
    let ada = app.user("Grace Hopper").await;
    let draft = app
        .insert(broadsheet_domain::ArticleInput {
            status: Status::Draft,
            published_at: None,
            ..article(&ada, "Not yet", "Secret.", &[])
        })
        .await;
    let mut reader = Reader::new(&app);
    for id in [
        draft.id.0.to_string(),
        "999999".into(),
        "abc".into(),
        "-1".into(),
    ] {
        let form = reader
            .send(
                Method::POST,
                &format!("/articles/{id}/engage"),
                Some((
                    "application/x-www-form-urlencoded",
                    "action=vote&value=like".into(),
                )),
            )
            .await;
        form.assert_status(StatusCode::NOT_FOUND);
        for path in [
            format!("/api/v1/articles/{id}/engagement"),
            format!("/api/v1/articles/{id}/engagement/me"),
            format!("/api/v1/articles/{id}/live"),
            format!("/articles/{id}/view.gif"),
        ] {
            reader.get(&path).await.assert_status(StatusCode::NOT_FOUND);
        }
    }
    assert_eq!(counts(&app, draft.id).await, Default::default());
}

#[tokio::test]
async fn cross_site_posts_are_refused() {
    let (app, post) = app_with(generous()).await;
    let mut evil = Reader::new(&app).with("origin", "https://evil.example");
    let refused = evil.form(post.id, "vote", "like").await;
    refused.assert_status(StatusCode::FORBIDDEN);
    assert!(refused.header("set-cookie").is_none());
    let mut evil_referer =
        Reader::new(&app).with("referer", "https://evil.example/news.example.com/");
    evil_referer
        .form(post.id, "vote", "like")
        .await
        .assert_status(StatusCode::FORBIDDEN);
    let (response, json) = Reader::new(&app)
        .with("origin", "null")
        .json(post.id, "vote", "like")
        .await;
    response.assert_status(StatusCode::FORBIDDEN);
    assert_eq!(json["error"]["code"], "forbidden");
    assert_eq!(counts(&app, post.id).await.likes, 0);

    // Same origin (as configured, or as addressed) is fine.
    let mut own = Reader::new(&app).with("origin", BASE_URL);
    own.form(post.id, "vote", "like")
        .await
        .assert_status(StatusCode::SEE_OTHER);
    let mut addressed = Reader::new(&app)
        .with("origin", "http://node-2.internal:8080")
        .with("host", "node-2.internal:8080");
    addressed
        .form(post.id, "vote", "like")
        .await
        .assert_status(StatusCode::SEE_OTHER);
    assert_eq!(counts(&app, post.id).await.likes, 2);
}

#[tokio::test]
async fn rate_limits_answer_429_with_retry_after() {
    let (app, post) = app_with(RawEngagement {
        votes_per_minute_per_reader: Some(3),
        votes_per_minute_per_network: Some(5),
        ..generous()
    })
    .await;
    let mut eager = Reader::new(&app);
    for _ in 0..3 {
        eager
            .form(post.id, "vote", "like")
            .await
            .assert_status(StatusCode::SEE_OTHER);
    }
    let (limited, json) = eager.json(post.id, "vote", "like").await;
    limited.assert_status(StatusCode::TOO_MANY_REQUESTS);
    let retry: u64 = limited.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry), "{retry}");
    assert_eq!(json["error"]["code"], "rate_limited");
    // A form gets the themed page, still saying when to retry.
    let page = eager.form(post.id, "vote", "like").await;
    page.assert_status(StatusCode::TOO_MANY_REQUESTS);
    assert!(page.header("retry-after").is_some());
    assert!(
        page.header("content-type")
            .unwrap()
            .starts_with("text/html")
    );
    assert_eq!(counts(&app, post.id).await.likes, 1); // three toggles: like, unlike, like

    // The network had three of its five; two more readers use them up.
    for _ in 0..2 {
        Reader::new(&app)
            .form(post.id, "react", "sad")
            .await
            .assert_status(StatusCode::SEE_OTHER);
    }
    Reader::new(&app)
        .form(post.id, "react", "sad")
        .await
        .assert_status(StatusCode::TOO_MANY_REQUESTS);
    // Another network is not affected.
    Reader::at(&app, "10.9.9.9")
        .form(post.id, "react", "sad")
        .await
        .assert_status(StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn the_network_cap_is_429_too() {
    let (app, post) = app_with(RawEngagement {
        readers_per_network_per_article_per_day: Some(2),
        ..generous()
    })
    .await;
    let mut first = Reader::new(&app);
    first.form(post.id, "vote", "like").await;
    Reader::new(&app).form(post.id, "vote", "like").await;
    let (capped, json) = Reader::new(&app).json(post.id, "vote", "like").await;
    capped.assert_status(StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(json["error"]["code"], "network_cap_reached");
    assert!(
        json["error"]["message"]
            .as_str()
            .unwrap()
            .contains("network")
    );
    assert!(capped.header("retry-after").is_some());
    assert!(capped.header("set-cookie").is_none());
    // Readers already counted may still change their minds.
    first
        .form(post.id, "vote", "dislike")
        .await
        .assert_status(StatusCode::SEE_OTHER);
    let c = counts(&app, post.id).await;
    assert_eq!((c.likes, c.dislikes), (1, 1));
}

#[tokio::test]
async fn forwarded_for_counts_only_from_trusted_proxies() {
    let (app, post) = app_with(RawEngagement {
        trusted_proxies: Some(vec!["127.0.0.1".into()]),
        readers_per_network_per_article_per_day: Some(1),
        ..generous()
    })
    .await;
    let vote = |ip: &'static str, forwarded: &'static str| {
        let app = &app;
        async move {
            Reader::at(app, ip)
                .with("x-forwarded-for", forwarded)
                .form(post.id, "vote", "like")
                .await
                .status
        }
    };
    // An untrusted peer cannot pick its network by naming another address.
    assert_eq!(vote("10.0.0.9", "203.0.113.1").await, StatusCode::SEE_OTHER);
    assert_eq!(
        vote("10.0.0.9", "203.0.113.2").await,
        StatusCode::TOO_MANY_REQUESTS,
        "same socket address, same network, whatever the header says"
    );
    // Behind the trusted proxy, each forwarded address is its own network.
    assert_eq!(
        vote("127.0.0.1", "203.0.113.1").await,
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        vote("127.0.0.1", "203.0.113.2").await,
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        vote("127.0.0.1", "203.0.113.1").await,
        StatusCode::TOO_MANY_REQUESTS
    );
    // A client's own entry left of the real one changes nothing.
    assert_eq!(
        vote("127.0.0.1", "198.51.100.4, 203.0.113.2").await,
        StatusCode::TOO_MANY_REQUESTS
    );
    assert_eq!(counts(&app, post.id).await.likes, 3);
}

#[tokio::test]
async fn no_raw_ip_address_reaches_the_database() {
    let (app, post) = app_with(RawEngagement {
        trusted_proxies: Some(vec!["127.0.0.1".into()]),
        ..generous()
    })
    .await;
    let mut ids = Vec::new();
    for (peer, forwarded) in [
        ("127.0.0.1", "203.0.113.77"), // behind the trusted proxy
        ("203.0.113.77", "127.0.0.1"), // untrusted, with a spoofed header
        ("127.0.0.1", "127.0.0.1"),
    ] {
        let mut reader = Reader::at(&app, peer).with("x-forwarded-for", forwarded);
        reader.form(post.id, "react", "happy").await;
        reader.form(post.id, "rate", "3").await;
        reader
            .send(Method::POST, &format!("/articles/{}/view", post.id), None)
            .await
            .assert_status(StatusCode::NO_CONTENT);
        ids.push(reader.reader_id());
    }
    // A cookie-less pixel view too.
    Reader::at(&app, "203.0.113.77")
        .get(&format!("/articles/{}/view.gif", post.id))
        .await
        .assert_status(StatusCode::OK);
    eventually(Duration::from_secs(5), "views flushed", || async {
        counts(&app, post.id).await.views == 4
    })
    .await;

    let mut bytes = Vec::new();
    for suffix in ["", "-wal", "-shm"] {
        let path = app.data_dir().join(format!("site.sqlite3{suffix}"));
        if let Ok(file) = std::fs::read(&path) {
            bytes.extend(file);
        }
    }
    let haystack = String::from_utf8_lossy(&bytes);
    // The readers' rows are there (so we are looking at the right bytes)...
    for id in &ids {
        assert!(
            haystack.contains(id.as_str()),
            "reader {id} is not in the files"
        );
    }
    // ...and no address is.
    for ip in ["203.0.113.77", "127.0.0.1"] {
        assert!(!haystack.contains(ip), "{ip} was stored");
    }
}

#[tokio::test]
async fn views_count_once_per_reader_per_day_and_bots_not_at_all() {
    let (app, post) = app_with(generous()).await;
    let beacon = format!("/articles/{}/view", post.id);
    let pixel = format!("/articles/{}/view.gif", post.id);
    let views = || async { counts(&app, post.id).await.views };

    let mut ann = Reader::new(&app);
    let first = ann.send(Method::POST, &beacon, None).await;
    first.assert_status(StatusCode::NO_CONTENT);
    assert_eq!(first.header("cache-control"), Some("no-store"));
    assert!(
        first.header("set-cookie").is_some(),
        "the viewer becomes a reader"
    );
    let took = eventually(Duration::from_secs(3), "the first view", || async {
        views().await == 1
    })
    .await;
    assert!(took < Duration::from_millis(1500), "flushed after {took:?}");

    // Ann again, by beacon and by pixel: still one.
    ann.send(Method::POST, &beacon, None).await;
    ann.get(&pixel).await;
    // Bob without JavaScript: the pixel.
    let mut bob = Reader::at(&app, "10.7.7.7");
    let gif = bob.get(&pixel).await;
    gif.assert_status(StatusCode::OK);
    assert_eq!(gif.header("content-type"), Some("image/gif"));
    assert_eq!(gif.header("cache-control"), Some("no-store"));
    assert!(gif.body.starts_with("GIF89a"));
    // A crawler, then Cy. Once Cy's view is in, the crawler's would be too.
    let mut bot = Reader::new(&app);
    bot.user_agent = GOOGLEBOT;
    bot.send(Method::POST, &beacon, None)
        .await
        .assert_status(StatusCode::NO_CONTENT);
    assert!(bot.cookie.is_none(), "bots are not made readers");
    Reader::at(&app, "10.8.8.8")
        .send(Method::POST, &beacon, None)
        .await;
    eventually(Duration::from_secs(3), "three views", || async {
        views().await >= 3
    })
    .await;
    assert_eq!(views().await, 3);

    // Cross-site beacons are refused like cross-site votes.
    Reader::new(&app)
        .with("origin", "https://evil.example")
        .send(Method::POST, &beacon, None)
        .await
        .assert_status(StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn the_engagement_api_is_cacheable_for_a_second() {
    let (app, post) = app_with(generous()).await;
    Reader::new(&app).form(post.id, "vote", "like").await;
    let response = app
        .get(&format!("/api/v1/articles/{}/engagement", post.id))
        .await;
    response.assert_status(StatusCode::OK);
    assert_eq!(response.header("cache-control"), Some("public, max-age=1"));
    let json: Value = serde_json::from_str(&response.body).unwrap();
    assert_eq!(json["reactions"].as_array().unwrap().len(), 6);
    assert_eq!(json["reactions"][0]["key"], "happy");
    // Without a cookie, "me" is nobody in particular and makes nobody a reader.
    let me = app
        .get(&format!("/api/v1/articles/{}/engagement/me", post.id))
        .await;
    assert_eq!(me.body, r#"{"vote":null,"reaction":null,"rating":null}"#);
    assert!(me.header("set-cookie").is_none());
}

#[tokio::test]
async fn the_article_page_shows_counts_choices_and_json_ld() {
    let (app, post) = app_with(generous()).await;
    let permalink = app.permalink(&post).await;
    let anonymous = app.get(&permalink).await;
    anonymous.assert_status(StatusCode::OK);
    assert_ne!(anonymous.header("cache-control"), Some("private"));
    let ld = json_ld(&anonymous);
    assert_eq!(ld["@type"], "NewsArticle");
    assert_eq!(ld["headline"], "Harbour bridge vote");
    assert!(ld.get("aggregateRating").is_none(), "not rated yet");
    assert!(
        anonymous
            .body
            .contains(&format!("/articles/{}/view.gif", post.id))
    );

    let mut reader = Reader::new(&app);
    reader.form(post.id, "rate", "4").await;
    Reader::new(&app).form(post.id, "rate", "5").await;
    reader.form(post.id, "vote", "like").await;
    // The page's counts come from the node's cache, dropped by the change notice.
    eventually(
        Duration::from_secs(5),
        "the page shows the rating",
        || async {
            json_ld(&app.get(&permalink).await)
                .get("aggregateRating")
                .is_some_and(|r| r["ratingCount"] == 2)
        },
    )
    .await;
    let page = reader.get(&permalink).await;
    assert_eq!(page.header("cache-control"), Some("private"));
    let rating = &json_ld(&page)["aggregateRating"];
    assert_eq!(rating["ratingValue"], 4.5);
    assert_eq!(
        (rating["bestRating"].clone(), rating["worstRating"].clone()),
        (5.into(), 1.into())
    );
    assert!(
        page.body.contains(r#"aria-pressed="true""#),
        "the reader's like is shown"
    );
}

fn json_ld(page: &TestResponse) -> Value {
    let texts = page.texts(r#"script[type="application/ld+json"]"#);
    let text = texts.first().expect("a JSON-LD block");
    serde_json::from_str(text).expect("valid JSON-LD")
}

#[tokio::test]
async fn live_readers_get_the_counts_then_each_change() {
    let (app, post) = app_with(generous()).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(
        axum::serve(
            listener,
            app.router()
                .into_make_service_with_connect_info::<SocketAddr>(),
        )
        .into_future(),
    );
    let base = format!("http://{addr}");
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();

    let mut live = tokio::time::timeout(
        Duration::from_secs(10),
        client
            .get(format!("{base}/api/v1/articles/{}/live", post.id))
            .send(),
    )
    .await
    .expect("the stream opens")
    .unwrap();
    assert_eq!(live.status(), reqwest::StatusCode::OK);
    assert!(
        live.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    let first = next_event(&mut live).await;
    assert_eq!(first["likes"], 0);

    let voted = client
        .post(format!("{base}/articles/{}/engage", post.id))
        .header("user-agent", FIREFOX)
        .form(&[("action", "vote"), ("value", "like")])
        .send()
        .await
        .unwrap();
    assert_eq!(voted.status(), reqwest::StatusCode::SEE_OTHER);
    let second = next_event(&mut live).await;
    assert_eq!(second["likes"], 1);
    drop(live);
    server.abort();
}

/// Reads the stream until a whole `engagement` event arrived; its JSON data.
async fn next_event(response: &mut reqwest::Response) -> Value {
    let mut text = String::new();
    tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            if let Some(end) = text.find("\n\n") {
                let event: String = text.drain(..end + 2).collect();
                if let Some(data) = event
                    .lines()
                    .find_map(|line| line.strip_prefix("data:"))
                    .filter(|_| {
                        event.contains("event: engagement") || event.contains("event:engagement")
                    })
                {
                    return serde_json::from_str(data.trim()).expect("JSON data");
                }
                continue; // a keep-alive comment
            }
            let chunk = response
                .chunk()
                .await
                .expect("the stream")
                .expect("more data");
            text.push_str(&String::from_utf8_lossy(&chunk));
        }
    })
    .await
    .expect("an event within 10 s")
}

/// What one reader ends up with, by the toggle rules.
#[derive(Default, Debug, Clone, PartialEq)]
struct Model {
    vote: Option<&'static str>,
    reaction: Option<&'static str>,
    rating: Option<u8>,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_readers_at_once_end_with_exact_counts() {
    let (app, post) = app_with(generous()).await;
    let app = std::sync::Arc::new(app);
    const KEYS: [&str; 6] = ["happy", "sad", "excited", "sleepy", "angry", "surprise"];
    let mut tasks = Vec::new();
    for n in 0..200u64 {
        let app = app.clone();
        tasks.push(tokio::spawn(async move {
            let mut reader = Reader::new(&app);
            let mut model = Model::default();
            // A small deterministic generator per reader.
            let mut x = n.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
            let mut next = move |m: u64| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x % m
            };
            for _ in 0..(3 + next(5)) {
                let status = match next(4) {
                    0 => {
                        let vote = ["like", "dislike"][next(2) as usize];
                        model.vote = (model.vote != Some(vote)).then_some(vote);
                        reader.form(post.id, "vote", vote).await.status
                    }
                    1 => {
                        let key = KEYS[next(6) as usize];
                        model.reaction = (model.reaction != Some(key)).then_some(key);
                        reader.form(post.id, "react", key).await.status
                    }
                    2 => {
                        let stars = next(5) as u8 + 1;
                        model.rating = Some(stars);
                        reader
                            .form(post.id, "rate", &stars.to_string())
                            .await
                            .status
                    }
                    _ => {
                        model.rating = None;
                        reader.form(post.id, "clear_rating", "").await.status
                    }
                };
                assert_eq!(status, StatusCode::SEE_OTHER);
            }
            // The server agrees with the model about this reader.
            let mine = reader
                .get(&format!("/api/v1/articles/{}/engagement/me", post.id))
                .await;
            let mine: Value = serde_json::from_str(&mine.body).unwrap();
            assert_eq!(mine["vote"].as_str(), model.vote, "{model:?}");
            assert_eq!(mine["reaction"].as_str(), model.reaction, "{model:?}");
            assert_eq!(mine["rating"].as_u64(), model.rating.map(u64::from));
            model
        }));
    }
    let mut expected = broadsheet_domain::Counts::default();
    for task in tasks {
        let model = task.await.expect("a reader's task");
        match model.vote {
            Some("like") => expected.likes += 1,
            Some(_) => expected.dislikes += 1,
            None => {}
        }
        if let Some(key) = model.reaction {
            *expected.reactions.entry(key.to_owned()).or_default() += 1;
        }
        if let Some(stars) = model.rating {
            expected.ratings[usize::from(stars) - 1] += 1;
        }
    }
    let mut actual = counts(&app, post.id).await;
    actual.reactions.retain(|_, count| *count > 0);
    assert_eq!(actual, expected);
}

#[tokio::test]
async fn views_buffered_at_a_graceful_shutdown_are_written() {
    use crate::process::Site;
    let dir = tempfile::tempdir().unwrap();
    let site = Site::sqlite(dir.path());
    let server = site.serve();
    let story = dir.path().join("story.md");
    std::fs::write(
        &story,
        "---\ntitle: Last ferry\nslug: last-ferry\ndate: 2026-05-02 08:00\n---\nThe last one.\n",
    )
    .unwrap();
    site.ok(&["article", "publish", story.to_str().unwrap()]);
    let page = server.get("/2026/05/02/last-ferry/").await;
    let id: i64 = page
        .body
        .split("data-article-id=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .and_then(|id| id.parse().ok())
        .expect("the article's id");

    // A view, then SIGTERM straight away: the view may still be in the buffer.
    let client = reqwest::Client::new();
    let beacon = client
        .post(format!("{}/articles/{id}/view", server.base))
        .header("user-agent", FIREFOX)
        .send()
        .await
        .unwrap();
    assert_eq!(beacon.status(), reqwest::StatusCode::NO_CONTENT);
    let status = server.terminate();
    assert!(
        status.success(),
        "a graceful shutdown exits cleanly: {status}"
    );

    let store = broadsheet_store_sqlite::SqliteStore::open(&dir.path().join("broadsheet.sqlite3"))
        .await
        .unwrap();
    assert_eq!(store.counts(ArticleId(id)).await.unwrap().views, 1);
}

#[tokio::test]
async fn pages_for_readers_without_a_cookie_are_reused_but_never_stale() {
    let (app, post) = app_with(generous()).await;
    let ada = app.user("Ada Byron").await;
    let permalink = app.permalink(&post).await;
    let first = app.get(&permalink).await;
    assert_eq!(first.texts(r#"[data-count="likes"]"#), ["0"]);
    assert_eq!(app.get(&permalink).await.body, first.body);

    // A vote on this node shows at once.
    Reader::new(&app).form(post.id, "vote", "like").await;
    let voted = app.get(&permalink).await;
    assert_eq!(voted.texts(r#"[data-count="likes"]"#), ["1"]);

    // So does an edit, though no notice has arrived: the article is read each time.
    let mut edit = article(&ada, "Harbour bridge vote, updated", "New text.", &[]);
    edit.slug = Some(post.slug.clone());
    edit.published_at = post.published_at;
    app.update(post.id, edit).await;
    let edited = app.get(&permalink).await;
    assert_eq!(edited.texts("h1"), ["Harbour bridge vote, updated"]);
    assert!(edited.body.contains("New text."));
    assert_eq!(edited.texts(r#"[data-count="likes"]"#), ["1"]);
}
