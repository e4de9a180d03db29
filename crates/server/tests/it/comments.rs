//! Comments from the reader's side: the "Leave a Reply" form, posting and replying,
//! threads and their permalinks, every field rule (the form shown again with the
//! reader's text and each problem by its field, 422; JSON callers get JSON), the
//! commenter's own pending comment, the remember-me cookie, privacy of the email on
//! every public route, and every XSS vector posted as a comment and as a name.

use std::collections::BTreeMap;

use axum::body::Body;
use axum::extract::connect_info::MockConnectInfo;
use axum::http::{Method, Request, StatusCode, header};
use broadsheet_domain::comment::render_comment;
use broadsheet_domain::{
    Article, CommentId, CommentSettings, CommentStatus, CommentStore, NetworkHash, NewComment,
    ReaderId, SiteSettings, clock,
};
use chrono::TimeDelta;
use serde_json::Value;

use crate::util::{TestApp, TestResponse};

/// One browser: its cookies and its user agent (part of its network hash, so two
/// commenters do not share the per-network rate limit).
pub struct Commenter<'a> {
    app: &'a TestApp,
    agent: String,
    cookies: BTreeMap<String, String>,
}

impl<'a> Commenter<'a> {
    pub fn new(app: &'a TestApp, agent: &str) -> Commenter<'a> {
        Commenter {
            app,
            agent: format!("Mozilla/5.0 (test; {agent})"),
            cookies: BTreeMap::new(),
        }
    }

    async fn send(&mut self, request: axum::http::request::Builder, body: Body) -> TestResponse {
        let mut request = request.header(header::USER_AGENT, &self.agent);
        if !self.cookies.is_empty() {
            let jar: Vec<String> = self
                .cookies
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            request = request.header(header::COOKIE, jar.join("; "));
        }
        let router = self
            .app
            .router()
            .layer(MockConnectInfo(std::net::SocketAddr::from((
                [10, 9, 8, 7],
                4000,
            ))));
        let response = self.app.send(router, request.body(body).unwrap()).await;
        for set in response.headers.get_all(header::SET_COOKIE) {
            let set = set.to_str().unwrap();
            let (name, value) = set.split(';').next().unwrap().split_once('=').unwrap();
            if set.contains("Max-Age=0") {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_owned(), value.to_owned());
            }
        }
        response
    }

    pub async fn get(&mut self, path: &str) -> TestResponse {
        self.send(Request::builder().uri(path), Body::empty()).await
    }

    /// Posts the comment form of `article` as a browser does, with a form rendered a
    /// minute ago (unless `fields` bring their own token).
    pub async fn post(&mut self, article: &Article, fields: &[(&str, &str)]) -> TestResponse {
        let body = self.form_body(fields).await;
        let request = Request::builder()
            .method(Method::POST)
            .uri(format!("/articles/{}/comments", article.id))
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        self.send(request, Body::from(body)).await
    }

    /// The same, asking for JSON.
    pub async fn post_json(
        &mut self,
        article: &Article,
        fields: &[(&str, &str)],
    ) -> (TestResponse, Value) {
        let mut json = serde_json::Map::new();
        for (k, v) in fields {
            json.insert((*k).to_owned(), Value::String((*v).to_owned()));
        }
        json.insert("form_token".into(), Value::String(self.token().await));
        let request = Request::builder()
            .method(Method::POST)
            .uri(format!("/articles/{}/comments", article.id))
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::ACCEPT, "application/json");
        let response = self
            .send(request, Body::from(Value::Object(json).to_string()))
            .await;
        let value = serde_json::from_str(&response.body)
            .unwrap_or_else(|e| panic!("{e}: {} {}", response.status, response.body));
        (response, value)
    }

    async fn token(&self) -> String {
        let a_minute_ago = clock::now() - TimeDelta::minutes(1);
        self.app.comment_form_token(a_minute_ago).await
    }

    async fn form_body(&self, fields: &[(&str, &str)]) -> String {
        let mut all: Vec<(String, String)> = fields
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        if !fields.iter().any(|(k, _)| *k == "form_token") {
            all.push(("form_token".into(), self.token().await));
        }
        serde_urlencoded::to_string(all).unwrap()
    }

    pub fn reader(&self) -> Option<ReaderId> {
        self.cookies
            .get("bs_reader")
            .and_then(|id| ReaderId::parse(id))
    }
}

async fn site() -> (TestApp, Article) {
    site_with(SiteSettings::default()).await
}

async fn site_with(settings: SiteSettings) -> (TestApp, Article) {
    let app = TestApp::builder().settings(settings).build().await;
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

fn fields<'f>(comment: &'f str, author: &'f str, email: &'f str) -> Vec<(&'f str, &'f str)> {
    vec![("comment", comment), ("author", author), ("email", email)]
}

/// The comment id a 303 points at (`...#comment-N`).
fn comment_in(response: &TestResponse) -> CommentId {
    response.assert_status(StatusCode::SEE_OTHER);
    let location = response.location().expect("a Location");
    let id = location
        .rsplit_once("#comment-")
        .expect("a comment fragment")
        .1;
    CommentId(id.parse().unwrap())
}

#[tokio::test]
async fn the_form_has_the_reference_fields_labels_and_wording() {
    let (app, article) = site().await;
    let page = app.get(&app.permalink(&article).await).await;
    page.assert_status(StatusCode::OK);
    assert_eq!(page.texts("#reply-title"), ["Leave a Reply"]);
    assert_eq!(
        page.texts(".comment-notes"),
        ["Your email address will not be published. Required fields are marked *"]
    );
    assert_eq!(
        page.texts("#commentform label"),
        [
            "Comment *",
            "Name *",
            "Email *",
            "Website",
            "Leave this empty",
            "Save my name, email, and website in this browser for the next time I comment.",
            "Email me when someone replies to my comment."
        ]
    );
    // Every label names an input of the form.
    let html = page.html();
    for target in page.attrs("#commentform label", "for") {
        let selector = scraper::Selector::parse(&format!("#commentform #{target}")).unwrap();
        assert!(
            html.select(&selector).next().is_some(),
            "label for {target}"
        );
    }
    assert_eq!(
        page.attrs("#commentform", "action"),
        [format!("/articles/{}/comments", article.id)]
    );
    assert_eq!(page.attrs("#website_confirm", "tabindex"), ["-1"]);
    assert_eq!(page.attrs("input[name=form_token]", "value").len(), 1);
    assert_eq!(page.texts("[data-slot=comment-count]"), ["0 comments"]);
}

#[tokio::test]
async fn a_comment_and_a_reply_make_a_thread_with_permalinks_and_counts() {
    let (app, article) = site().await;
    let permalink = app.permalink(&article).await;
    let mut ann = Commenter::new(&app, "ann");
    let posted = ann
        .post(
            &article,
            &[
                (
                    "comment",
                    "Good reporting.\n\nThe council minutes are at https://example.org/minutes and match \
                     what you wrote about the vote.",
                ),
                ("author", "Ann"),
                ("email", "ann@example.net"),
                ("url", "https://ann.example/"),
            ],
        )
        .await;
    let first = comment_in(&posted);
    assert_eq!(
        posted.location(),
        Some(format!("{permalink}#comment-{first}").as_str())
    );
    assert!(ann.reader().is_some(), "the commenter got a reader cookie");

    let page = app.get(&permalink).await;
    assert_eq!(page.texts("[data-slot=comment-count]"), ["1 comment"]);
    assert_eq!(page.texts(".comments-title"), ["One comment"]);
    assert_eq!(
        page.texts(&format!("#comment-{first} .comment-author")),
        ["Ann"]
    );
    assert_eq!(
        page.attrs(&format!("#comment-{first} .comment-author a"), "href"),
        ["https://ann.example/"]
    );
    assert_eq!(
        page.attrs(&format!("#comment-{first} .comment-content a"), "rel"),
        ["nofollow ugc noopener"]
    );
    assert_eq!(
        page.texts(&format!("#comment-{first} .comment-content p"))
            .len(),
        2
    );
    let reply_link = page.attrs(&format!("#comment-{first} .comment-reply-link"), "href");
    assert_eq!(
        reply_link,
        [format!("{permalink}?replytocom={first}#respond")]
    );

    // The reply link without JavaScript: the form says whom it answers.
    let mut bob = Commenter::new(&app, "bob");
    let form = bob.get(reply_link[0].trim_end_matches("#respond")).await;
    assert!(form.texts("#reply-title")[0].starts_with("Leave a Reply to Ann"));
    assert_eq!(form.attrs("#comment_parent", "value"), [first.to_string()]);
    let first_s = first.to_string();
    let mut reply = fields("Agreed, Ann.", "Bob", "bob@example.net");
    reply.push(("parent", &first_s));
    let second = comment_in(&bob.post(&article, &reply).await);

    let page = app.get(&permalink).await;
    assert_eq!(page.texts("[data-slot=comment-count]"), ["2 comments"]);
    assert_eq!(
        page.texts(&format!(
            "#comment-{first} > .children > #comment-{second} .comment-author"
        )),
        ["Bob"]
    );
    let api = app
        .get(&format!("/api/v1/articles/{}/engagement", article.id))
        .await;
    let json: Value = serde_json::from_str(&api.body).unwrap();
    assert_eq!(json["comments"], 2);
    let listed = app
        .get(&format!("/api/v1/articles/{}/comments", article.id))
        .await;
    let json: Value = serde_json::from_str(&listed.body).unwrap();
    assert_eq!(json["count"], 2);
    assert_eq!(json["threads"][0]["replies"][0]["author_name"], "Bob");
}

#[tokio::test]
async fn long_threads_page_by_top_level_comment_oldest_first() {
    let settings = SiteSettings {
        comments: CommentSettings {
            per_page: 2,
            ..CommentSettings::default()
        },
        ..SiteSettings::default()
    };
    let (app, article) = site_with(settings).await;
    let permalink = app.permalink(&article).await;
    let mut ids = Vec::new();
    for n in 0..3 {
        let mut who = Commenter::new(&app, &format!("reader {n}"));
        let body = format!("Comment number {n}");
        let email = format!("r{n}@example.net");
        let posted = who.post(&article, &fields(&body, "Reader", &email)).await;
        ids.push(comment_in(&posted));
        if n == 2 {
            assert_eq!(
                posted.location(),
                Some(format!("{permalink}?comments_page=2#comment-{}", ids[2]).as_str()),
                "a new thread lands on the last page"
            );
        }
    }
    let first = app.get(&permalink).await;
    let shown: Vec<String> = first.attrs(".comment", "id");
    assert_eq!(
        shown,
        [format!("comment-{}", ids[0]), format!("comment-{}", ids[1])]
    );
    assert_eq!(
        first.attrs(".comments-pagination a[rel=next]", "href"),
        [format!("{permalink}?comments_page=2#comments")]
    );
    let second = app.get(&format!("{permalink}?comments_page=2")).await;
    assert_eq!(
        second.attrs(".comment", "id"),
        [format!("comment-{}", ids[2])]
    );
}

#[tokio::test]
async fn every_field_rule_reshows_the_form_with_the_text_kept_and_the_problem_named() {
    let settings = SiteSettings {
        comments: CommentSettings {
            max_length: 100,
            max_depth: 2,
            ..CommentSettings::default()
        },
        ..SiteSettings::default()
    };
    let (app, article) = site_with(settings).await;
    let mut reader = Commenter::new(&app, "reader");
    let long = "x".repeat(101);
    for (sent, field, says) in [
        (
            fields("", "Ann", "ann@example.net"),
            "comment",
            "type your comment",
        ),
        (fields("Hi", "", "ann@example.net"), "author", "your name"),
        (fields("Hi", "Ann", ""), "email", "your email"),
        (
            fields("Hi", "Ann", "ann-at-example"),
            "email",
            "not an email address",
        ),
        (
            fields(&long, "Ann", "ann@example.net"),
            "comment",
            "101 characters",
        ),
    ] {
        let page = reader.post(&article, &sent).await;
        page.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
        let error = page.texts(&format!("#{field}-error"));
        assert!(
            error.len() == 1 && error[0].contains(says),
            "{field}: {error:?}"
        );
        assert_eq!(page.attrs(&format!("#{field}"), "aria-invalid"), ["true"]);
        assert!(!page.texts(".form-errors[role=alert]").is_empty());
        // What the reader typed is still there.
        let kept_author = page.attrs("#author", "value");
        assert_eq!(kept_author, [sent[1].1]);
        assert_eq!(page.texts("#comment"), [sent[0].1]);
    }
    let mut bad_url = fields("Hi", "Ann", "ann@example.net");
    bad_url.push(("url", "javascript:alert(1)"));
    let page = reader.post(&article, &bad_url).await;
    page.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.texts("#url-error")[0].contains("http://"));
    assert_eq!(page.attrs("#url", "value"), ["javascript:alert(1)"]);

    // Replies: an unknown parent, an unapproved one, one too deep.
    let top = comment_in(
        &reader
            .post(&article, &fields("Top", "Ann", "ann@example.net"))
            .await,
    );
    let top_s = top.to_string();
    let mut deep = fields("Reply", "Bob", "bob@example.net");
    deep.push(("parent", &top_s));
    let answer = comment_in(&reader.post(&article, &deep).await);
    let pending = app
        .store
        .insert_comment(&seeded(
            &article,
            "held@example.net",
            CommentStatus::Pending,
            None,
        ))
        .await
        .unwrap();
    for (parent, says) in [
        ("4242".to_owned(), "does not exist"),
        ("nonsense".to_owned(), "does not exist"),
        (pending.id.to_string(), "not published"),
        (answer.to_string(), "at most 2 levels"),
    ] {
        let mut sent = fields("A reply", "Cat", "cat@example.net");
        sent.push(("parent", &parent));
        let page = reader.post(&article, &sent).await;
        page.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
        let error = page.texts("#parent-error");
        assert!(
            error.len() == 1 && error[0].contains(says),
            "{parent}: {error:?}"
        );
        assert_eq!(page.texts("#comment"), ["A reply"]);
    }

    // JSON callers get the JSON error, naming every field.
    let (response, json) = reader
        .post_json(&article, &[("comment", ""), ("email", "x")])
        .await;
    assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY);
    let text = json.to_string();
    for field in ["comment", "author", "email"] {
        assert!(text.contains(&format!("\"{field}\"")), "{field} in {text}");
    }
    let (created, json) = reader
        .post_json(
            &article,
            &[
                ("comment", "By script"),
                ("author", "Dan"),
                ("email", "dan@example.net"),
            ],
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED);
    assert_eq!(json["author_name"], "Dan");
    assert!(!created.body.contains("dan@example.net"));

    // Unreadable bodies and unknown articles are client errors, never 500.
    let garbage = reader
        .send(
            Request::builder()
                .method(Method::POST)
                .uri(format!("/articles/{}/comments", article.id))
                .header(header::CONTENT_TYPE, "application/json"),
            Body::from("{not json"),
        )
        .await;
    assert_eq!(garbage.status, StatusCode::BAD_REQUEST);
    let nowhere = reader
        .post(
            &Article {
                id: broadsheet_domain::ArticleId(4242),
                ..article.clone()
            },
            &fields("Hi", "A", "a@b.cd"),
        )
        .await;
    assert_eq!(nowhere.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn closed_comments_refuse_new_ones_and_say_so() {
    let settings = SiteSettings {
        comments: CommentSettings {
            enabled: false,
            ..CommentSettings::default()
        },
        ..SiteSettings::default()
    };
    let (app, article) = site_with(settings).await;
    let page = app.get(&app.permalink(&article).await).await;
    assert_eq!(page.texts(".no-comments"), ["Comments are closed."]);
    assert!(page.texts("#commentform").is_empty());
    let mut reader = Commenter::new(&app, "reader");
    let refused = reader
        .post(&article, &fields("Hi", "Ann", "ann@example.net"))
        .await;
    refused.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.body.contains("Comments are closed on this site."));
}

/// A comment seeded straight into the store.
fn seeded(
    article: &Article,
    email: &str,
    status: CommentStatus,
    reader: Option<ReaderId>,
) -> NewComment {
    let body = "Words from a seeded commenter.".to_owned();
    NewComment {
        article_id: article.id,
        parent_id: None,
        status,
        author_name: "Seeded Commenter".into(),
        author_email: email.into(),
        author_url: None,
        body_html: render_comment(&body),
        body,
        reader,
        network: NetworkHash("seeded".into()),
        notify_replies: true,
        reason: None,
        day: clock::now().date_naive(),
        created_at: clock::now(),
    }
}

#[tokio::test]
async fn a_pending_comment_shows_its_notice_to_its_author_only() {
    let (app, article) = site().await;
    let permalink = app.permalink(&article).await;
    let mut author = Commenter::new(&app, "author");
    author.get(&permalink).await;
    // A first interaction gives the reader their cookie; then their comment is held.
    comment_in(
        &author
            .post(&article, &fields("Warm-up", "Ann", "ann@example.net"))
            .await,
    );
    let held = app
        .store
        .insert_comment(&seeded(
            &article,
            "ann@example.net",
            CommentStatus::Pending,
            author.reader(),
        ))
        .await
        .unwrap();
    let anchor = format!("#comment-{}", held.id);
    let mine = author.get(&permalink).await;
    assert_eq!(
        mine.texts(&format!("{anchor} .comment-awaiting-moderation")),
        ["Your comment is awaiting moderation."]
    );
    assert_eq!(mine.header("cache-control"), Some("private"));
    assert_eq!(
        mine.texts("[data-slot=comment-count]"),
        ["1 comment"],
        "pending does not count"
    );
    for other in [
        app.get(&permalink).await,
        Commenter::new(&app, "other").get(&permalink).await,
    ] {
        assert!(other.texts(&anchor).is_empty());
        assert!(!other.body.contains("awaiting moderation"));
    }
    let api = app
        .get(&format!("/api/v1/articles/{}/comments", article.id))
        .await;
    assert!(
        !api.body.contains(&format!("\"id\":{},", held.id)),
        "{}",
        api.body
    );
    let own_api = author
        .get(&format!("/api/v1/articles/{}/comments", article.id))
        .await;
    assert!(
        own_api.body.contains(&format!("\"id\":{},", held.id)),
        "{}",
        own_api.body
    );
}

#[tokio::test]
async fn remember_me_keeps_name_email_and_website_only_when_ticked() {
    let (app, article) = site().await;
    let permalink = app.permalink(&article).await;
    let mut reader = Commenter::new(&app, "reader");
    let mut sent = fields("Hello", "Ann", "ann@example.net");
    sent.push(("url", "https://ann.example/"));
    sent.push(("remember", "yes"));
    comment_in(&reader.post(&article, &sent).await);
    assert!(reader.cookies.contains_key("bs_commenter"));
    let page = reader.get(&permalink).await;
    assert_eq!(page.attrs("#author", "value"), ["Ann"]);
    assert_eq!(page.attrs("#email", "value"), ["ann@example.net"]);
    assert_eq!(page.attrs("#url", "value"), ["https://ann.example/"]);
    assert_eq!(page.attrs("#comment-cookies-consent", "checked").len(), 1);
    assert_eq!(page.header("cache-control"), Some("private"));

    comment_in(
        &reader
            .post(&article, &fields("Again", "Ann", "ann@example.net"))
            .await,
    );
    assert!(
        !reader.cookies.contains_key("bs_commenter"),
        "unticked: forgotten"
    );
    let page = reader.get(&permalink).await;
    assert_eq!(page.attrs("#email", "value"), [""]);

    let mut stranger = Commenter::new(&app, "stranger");
    comment_in(
        &stranger
            .post(&article, &fields("Hi", "Bo", "bo@example.net"))
            .await,
    );
    assert!(!stranger.cookies.contains_key("bs_commenter"));
}

/// Public routes a crawler can reach from the home page (following the links of HTML
/// pages, the sitemaps robots.txt names and the `<loc>`s of sitemaps, so every sitemap
/// and every tag and author feed a page names is read), plus the JSON endpoints and
/// search.
async fn crawl(app: &TestApp, article: &Article) -> Vec<(String, TestResponse)> {
    let mut todo = vec![
        "/".to_owned(),
        format!("/api/v1/articles/{}/engagement", article.id),
        format!("/api/v1/articles/{}/comments", article.id),
        "/robots.txt".to_owned(),
        "/sitemap.xml".to_owned(),
        "/feed/".to_owned(),
        "/feed.json".to_owned(),
        "/atom.xml".to_owned(),
        "/search?q=thought".to_owned(),
        "/api/v1/search?q=thought".to_owned(),
    ];
    let mut seen = std::collections::BTreeSet::new();
    let mut pages = Vec::new();
    while let Some(path) = todo.pop() {
        if !seen.insert(path.clone()) || seen.len() > 200 {
            continue;
        }
        let response = app.get(&path).await;
        let content_type = response
            .headers
            .get(header::CONTENT_TYPE)
            .map(|t| t.to_str().unwrap().to_owned())
            .unwrap_or_default();
        let links = if content_type.contains("html") {
            response.attrs("a[href], link[href]", "href")
        } else if path.starts_with("/sitemap") {
            sitemap_locs(&response.body)
        } else if path == "/robots.txt" {
            response
                .body
                .lines()
                .filter_map(|line| line.strip_prefix("Sitemap:"))
                .map(|url| url.trim().to_owned())
                .collect()
        } else {
            Vec::new()
        };
        for href in links {
            let local = href.strip_prefix(crate::util::BASE_URL).unwrap_or(&href);
            if local.starts_with('/') && !local.starts_with("/admin") {
                todo.push(local.split('#').next().unwrap().to_owned());
            }
        }
        pages.push((path, response));
    }
    pages
}

/// The URLs a sitemap (or sitemap index) lists.
fn sitemap_locs(xml: &str) -> Vec<String> {
    xml.split("<loc>")
        .skip(1)
        .filter_map(|rest| rest.split_once("</loc>"))
        .map(|(loc, _)| loc.replace("&amp;", "&"))
        .collect()
}

#[tokio::test]
async fn a_commenters_email_appears_on_no_public_route() {
    let (app, article) = site().await;
    let marker = "marker-7f3a9c@privacy.example";
    let mut commenter = Commenter::new(&app, "marked");
    let mut sent = fields("A public thought.", "Marked Commenter", marker);
    sent.push(("remember", "yes"));
    comment_in(&commenter.post(&article, &sent).await);
    app.store
        .insert_comment(&seeded(&article, marker, CommentStatus::Pending, None))
        .await
        .unwrap();
    let pages = crawl(&app, &article).await;
    let permalink = app.permalink(&article).await;
    assert!(
        pages.iter().any(|(p, _)| *p == permalink),
        "the crawl reached the article"
    );
    assert!(pages.iter().any(|(p, _)| p.starts_with("/tag/")));
    assert!(pages.iter().any(|(p, _)| p.starts_with("/author/")));
    for reached in ["/sitemap-articles-1.xml", "/news-sitemap.xml"] {
        assert!(
            pages.iter().any(|(p, _)| p == reached),
            "the crawl read {reached}"
        );
    }
    assert!(
        pages
            .iter()
            .any(|(p, _)| p.starts_with("/tag/") && p.ends_with(".xml")),
        "the crawl read a tag feed"
    );
    assert!(
        pages
            .iter()
            .any(|(p, _)| p.starts_with("/author/") && p.ends_with(".xml")),
        "the crawl read an author feed"
    );
    let needles = [
        marker.to_owned(),
        marker.to_uppercase(),
        marker.replace('@', "%40"),
    ];
    for (path, response) in &pages {
        for needle in &needles {
            assert!(
                !response.body.contains(needle.as_str()),
                "{path} shows the email"
            );
            for (name, value) in &response.headers {
                assert!(
                    !value.to_str().unwrap_or("").contains(needle.as_str()),
                    "{path}: {name}"
                );
            }
        }
    }
    // The article page showed the comment, with its avatar, and still no email.
    let page = app.get(&app.permalink(&article).await).await;
    assert_eq!(page.texts(".comment-author"), ["Marked Commenter"]);
    assert_eq!(
        page.html()
            .select(&scraper::Selector::parse(".comment svg.avatar").unwrap())
            .count(),
        1
    );
}

#[tokio::test]
async fn every_xss_vector_posted_as_a_comment_and_as_a_name_renders_inert() {
    // The shared Cure53 set when it is there, else the repository's own fixture.
    let (vectors, _) = crate::xss::load_vectors();
    let vectors: Vec<String> = vectors.into_iter().map(|v| v.source).collect();
    let settings = SiteSettings {
        comments: CommentSettings {
            per_page: 500,
            max_length: 100_000,
            ..CommentSettings::default()
        },
        ..SiteSettings::default()
    };
    let (app, article) = site_with(settings).await;
    let mut posted = Vec::new();
    for (n, vector) in vectors.iter().enumerate() {
        let email = format!("v{n}@example.net");
        let name: String = vector.chars().take(100).collect();
        let name = if name.trim().is_empty() || name.chars().any(char::is_control) {
            format!("Vector {n}")
        } else {
            name
        };
        let url = format!("https://v{n}.example/");
        for sent in [
            vec![
                ("comment", vector.as_str()),
                ("author", "Tester"),
                ("email", email.as_str()),
            ],
            vec![
                ("comment", "A comment."),
                ("author", name.as_str()),
                ("email", email.as_str()),
                ("url", url.as_str()),
            ],
        ] {
            let body = if sent[0].1 == "A comment." {
                format!("A comment for vector {n}.")
            } else {
                sent[0].1.to_owned()
            };
            let mut sent = sent.clone();
            sent[0].1 = &body;
            let mut who = Commenter::new(&app, &format!("vector {n} {}", sent[1].1.len()));
            let response = who.post(&article, &sent).await;
            assert!(
                response.status == StatusCode::SEE_OTHER
                    || response.status == StatusCode::UNPROCESSABLE_ENTITY,
                "vector {n}: {}",
                response.status
            );
            if response.status == StatusCode::SEE_OTHER {
                posted.push(comment_in(&response));
            }
        }
    }
    assert!(
        posted.len() >= vectors.len(),
        "most vectors are valid comments"
    );
    // Whatever the spam screen held, a moderator could approve: show them all.
    app.store
        .set_comment_status(&posted, CommentStatus::Approved)
        .await
        .unwrap();
    let page = app.get(&app.permalink(&article).await).await;
    page.assert_status(StatusCode::OK);
    let html = page.html();
    let comments = scraper::Selector::parse(".comment-list").unwrap();
    let list = html
        .select(&comments)
        .next()
        .expect("the comments are shown");
    // Avatars are the theme's own inline SVG; nothing else executable may appear.
    let found: Vec<String> = crate::xss::executable_parts(list)
        .into_iter()
        .filter(|part| part != "<svg> element")
        .collect();
    assert!(found.is_empty(), "{found:?}");
    let svgs = html
        .select(&scraper::Selector::parse(".comment-list svg").unwrap())
        .count();
    let avatars = html
        .select(&scraper::Selector::parse(".comment-list svg.avatar").unwrap())
        .count();
    assert_eq!(svgs, avatars, "only avatars are SVG");
    assert_eq!(avatars, posted.len());
}

#[tokio::test]
async fn a_comment_held_by_the_sites_rules_is_shown_to_its_author_as_awaiting_moderation() {
    let settings = SiteSettings {
        comments: CommentSettings {
            hold_all: true,
            ..CommentSettings::default()
        },
        ..SiteSettings::default()
    };
    let (app, article) = site_with(settings).await;
    let permalink = app.permalink(&article).await;
    let mut author = Commenter::new(&app, "author");
    let held = comment_in(
        &author
            .post(
                &article,
                &fields("Held for a moderator.", "Ann", "ann@example.net"),
            )
            .await,
    );
    let stored = app.store.comment_by_id(held).await.unwrap();
    assert_eq!(stored.status, CommentStatus::Pending);
    let anchor = format!("#comment-{held}");
    let mine = author.get(&permalink).await;
    assert_eq!(
        mine.texts(&format!("{anchor} .comment-awaiting-moderation")),
        ["Your comment is awaiting moderation."]
    );
    let theirs = Commenter::new(&app, "other").get(&permalink).await;
    assert!(theirs.texts(&anchor).is_empty());
    assert_eq!(theirs.texts("[data-slot=comment-count]"), ["0 comments"]);
}

#[tokio::test]
async fn a_cached_page_shows_a_moderators_approval_and_edit_within_a_second() {
    let (app, article) = site().await;
    let permalink = app.permalink(&article).await;
    let held = app
        .store
        .insert_comment(&seeded(
            &article,
            "ann@example.net",
            CommentStatus::Pending,
            None,
        ))
        .await
        .unwrap();
    let anchor = format!("#comment-{} .comment-content", held.id);
    assert!(app.get(&permalink).await.texts(&anchor).is_empty());
    app.store
        .set_comment_status(&[held.id], CommentStatus::Approved)
        .await
        .unwrap();
    let shows = |text: &'static str| {
        let (app, permalink, anchor) = (&app, &permalink, &anchor);
        async move {
            for _ in 0..50 {
                if app.get(permalink).await.texts(anchor) == [text] {
                    return true;
                }
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            }
            false
        }
    };
    assert!(
        shows("Words from a seeded commenter.").await,
        "approval shown"
    );
    app.store
        .update_comment_body(held.id, "Edited.", &render_comment("Edited."))
        .await
        .unwrap();
    assert!(shows("Edited.").await, "edit shown");
}
