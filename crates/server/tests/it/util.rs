//! `TestApp`: a whole site on a fresh SQLite file in a temp dir, driven in-process.
//!
//! Content is seeded through the domain (`ArticleInput::prepare`, then the store), the
//! same path the CLI and the admin take, so tests never depend on SQL.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, OnceLock};

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use broadsheet::AppState;
use broadsheet::config::{Config, RawApi, RawConfig, RawEngagement, RawMedia};
use broadsheet::push::config::RawPush;
use broadsheet_domain::{
    Article, ArticleId, ArticleInput, ContentKind, NewUser, Role, SiteSettings, SourceFormat,
    Status, Store, User,
};
use broadsheet_store_sqlite::SqliteStore;
use chrono::{DateTime, TimeDelta, Utc};
use http_body_util::BodyExt;
use tempfile::TempDir;
use tower::ServiceExt;

/// The public address tests configure, so canonical URLs are predictable.
pub const BASE_URL: &str = "https://news.example.com";

/// The password of every user `TestApp::user` creates.
pub const TEST_PASSWORD: &str = "correct horse battery staple";

pub struct TestApp {
    pub store: Arc<SqliteStore>,
    router: Router,
    state: AppState,
    config: Config,
    /// Numbers the users made by role, so their names and emails differ.
    users_made: AtomicU32,
    // Dropped last: the database file lives here.
    _dir: TempDir,
}

#[derive(Default)]
pub struct TestAppBuilder {
    settings: Option<SiteSettings>,
    theme_dir: Option<PathBuf>,
    engagement: Option<RawEngagement>,
    media: Option<RawMedia>,
    push: Option<RawPush>,
    restore: Option<PathBuf>,
    api: Option<RawApi>,
    base_url: Option<String>,
}

impl TestAppBuilder {
    /// The `[push]` config (which push services subscriptions may name).
    pub fn push(mut self, push: RawPush) -> Self {
        self.push = Some(push);
        self
    }

    pub fn settings(mut self, settings: SiteSettings) -> Self {
        self.settings = Some(settings);
        self
    }

    pub fn theme_dir(mut self, dir: PathBuf) -> Self {
        self.theme_dir = Some(dir);
        self
    }

    /// The `[engagement]` config (limits, trusted proxies).
    pub fn engagement(mut self, engagement: RawEngagement) -> Self {
        self.engagement = Some(engagement);
        self
    }

    /// The `[media]` config (the upload limit).
    pub fn media(mut self, media: RawMedia) -> Self {
        self.media = Some(media);
        self
    }

    /// Restores a `broadsheet export json` file before the site starts, as an operator
    /// moving a site does.
    pub fn restore(mut self, export: PathBuf) -> Self {
        self.restore = Some(export);
        self
    }

    /// The site's public address (default [`BASE_URL`]), e.g. a socket's for a client
    /// that follows the links the site gives.
    pub fn base_url(mut self, url: &str) -> Self {
        self.base_url = Some(url.to_owned());
        self
    }

    /// The `[api]` config (CORS origins, rate limits).
    pub fn api(mut self, api: RawApi) -> Self {
        self.api = Some(api);
        self
    }

    pub async fn build(self) -> TestApp {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = SqliteStore::open(&dir.path().join("site.sqlite3"))
            .await
            .expect("open the SQLite store");
        store.migrate().await.expect("migrate");
        if let Some(settings) = &self.settings {
            store.save_settings(settings).await.expect("save settings");
        }
        if let Some(export) = &self.restore {
            broadsheet::import::json::import(&store, export)
                .await
                .expect("the export restores");
        }
        let store = Arc::new(store);
        let config = Config::from_raw(RawConfig {
            data_dir: Some(dir.path().to_owned()),
            base_url: Some(self.base_url.unwrap_or_else(|| BASE_URL.into())),
            theme_dir: self.theme_dir,
            engagement: self.engagement,
            media: self.media,
            push: self.push,
            api: self.api,
            ..RawConfig::default()
        })
        .expect("valid test config");
        let state = AppState::new(store.clone(), config.clone())
            .await
            .expect("the theme loads");
        let router = broadsheet::build_router(state.clone());
        TestApp {
            store,
            router,
            state,
            config,
            users_made: AtomicU32::new(0),
            _dir: dir,
        }
    }
}

impl TestApp {
    pub async fn new() -> TestApp {
        TestApp::builder().build().await
    }

    pub fn builder() -> TestAppBuilder {
        TestAppBuilder::default()
    }

    /// The site's validated config, as its state has it.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The directory holding the site's database file.
    pub fn data_dir(&self) -> &std::path::Path {
        self._dir.path()
    }

    /// The hidden token of a comment form rendered at `at`: a form rendered long
    /// enough ago passes the spam screen's "too fast" check.
    pub async fn comment_form_token(&self, at: DateTime<Utc>) -> String {
        broadsheet::comments::screen::form_token(&self.state, at)
            .await
            .expect("a form token")
    }

    /// The node's state, for tests that call into the server's library.
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// The router, for tests that serve it over a socket.
    pub fn router(&self) -> Router {
        self.router.clone()
    }

    /// A second node on this app's database: its own state, caches and limits, as
    /// another process would have.
    pub async fn second_node(&self) -> Router {
        broadsheet::build_router(self.node_state().await)
    }

    /// The state of another node on this app's database, for tests that call the
    /// server's functions directly.
    pub async fn node_state(&self) -> AppState {
        let store = SqliteStore::open(&self.data_dir().join("site.sqlite3"))
            .await
            .expect("open the SQLite store again");
        AppState::new(Arc::new(store), self.config.clone())
            .await
            .expect("the theme loads")
    }

    // --- seeding ---

    /// A user who can sign in with [`TEST_PASSWORD`]: `app.user("Ada Lovelace")` is an
    /// author of that name, `app.user(Role::Editor)` an editor named after the role.
    pub async fn user(&self, who: impl Into<UserSpec>) -> User {
        let (name, role) = match who.into() {
            UserSpec::Named(name) => (name, Role::Author),
            UserSpec::Role(role) => {
                let n = self.users_made.fetch_add(1, Ordering::Relaxed) + 1;
                (format!("{} {n}", capitalised(role.as_str())), role)
            }
        };
        let email = format!("{}@example.com", broadsheet_domain::slug::slugify(&name));
        let new =
            NewUser::validate(&name, &email, role, Some(test_password_hash())).expect("valid user");
        self.store.create_user(&new).await.expect("create user")
    }

    /// Signs `user` in through the login form (with [`TEST_PASSWORD`]).
    pub async fn sign_in(&self, user: &User) -> Session {
        self.sign_in_on(self.router(), user).await
    }

    /// Signs `user` in through the login form of `router` (this app's or a second
    /// node's).
    pub async fn sign_in_on(&self, router: Router, user: &User) -> Session {
        let body = serde_urlencoded::to_string([
            ("email", user.email.as_str()),
            ("password", TEST_PASSWORD),
        ])
        .expect("form");
        let request = Request::post("/admin/login")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(body))
            .expect("request");
        let response = send(router.clone(), request).await;
        response.assert_status(StatusCode::SEE_OTHER);
        let cookie = response
            .header("set-cookie")
            .and_then(|c| c.split(';').next())
            .expect("a session cookie")
            .to_owned();
        let mut session = Session {
            router,
            cookie,
            csrf: String::new(),
        };
        let home = session.get("/admin").await;
        home.assert_status(StatusCode::OK);
        session.csrf = home
            .attrs("meta[name=csrf-token]", "content")
            .pop()
            .expect("the page carries the CSRF token");
        session
    }

    pub async fn user_with_bio(&self, name: &str, bio: &str) -> User {
        let email = format!("{}@example.com", broadsheet_domain::slug::slugify(name));
        let mut new = NewUser::validate(name, &email, Role::Author, None).expect("valid user");
        new.bio = bio.to_owned();
        self.store.create_user(&new).await.expect("create user")
    }

    /// Stores an input through the domain's validation and rendering.
    pub async fn insert(&self, input: ArticleInput) -> Article {
        let write = input
            .prepare(self.speed().await, broadsheet_domain::clock::now())
            .expect("valid article input");
        self.store.insert_article(&write).await.expect("insert")
    }

    pub async fn update(&self, id: ArticleId, input: ArticleInput) -> Article {
        let write = input
            .prepare(self.speed().await, broadsheet_domain::clock::now())
            .expect("valid article input");
        self.store.update_article(id, &write).await.expect("update")
    }

    /// A published article, an hour old, by `author`.
    pub async fn publish(&self, author: &User, title: &str, body: &str, tags: &[&str]) -> Article {
        self.insert(article(author, title, body, tags)).await
    }

    async fn speed(&self) -> broadsheet_domain::read_time::ReadingSpeed {
        self.store.settings().await.expect("settings").reading_speed
    }

    pub async fn permalink(&self, article: &Article) -> String {
        article.permalink(self.store.settings().await.expect("settings").tz())
    }

    // --- requests ---

    pub async fn get(&self, path: &str) -> TestResponse {
        self.request(Method::GET, path, HeaderMap::new()).await
    }

    pub async fn request(&self, method: Method, path: &str, headers: HeaderMap) -> TestResponse {
        let mut request = Request::builder().method(method).uri(path);
        for (name, value) in &headers {
            request = request.header(name, value);
        }
        self.send(
            self.router.clone(),
            request.body(Body::empty()).expect("request"),
        )
        .await
    }

    /// Sends any request through `router` (this app's, perhaps with extra layers).
    pub async fn send(&self, router: Router, request: Request<Body>) -> TestResponse {
        send(router, request).await
    }
}

/// Sends a request through a router and reads the whole response.
pub async fn send(router: Router, request: Request<Body>) -> TestResponse {
    let response = router
        .oneshot(request)
        .await
        .expect("the router is infallible");
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    TestResponse {
        status,
        headers,
        body: String::from_utf8_lossy(&bytes).into_owned(),
    }
}

/// Who `TestApp::user` makes: a named author, or someone with a role.
pub enum UserSpec {
    Named(String),
    Role(Role),
}

impl From<&str> for UserSpec {
    fn from(name: &str) -> Self {
        UserSpec::Named(name.to_owned())
    }
}

impl From<Role> for UserSpec {
    fn from(role: Role) -> Self {
        UserSpec::Role(role)
    }
}

fn capitalised(word: &str) -> String {
    let mut chars = word.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// One argon2 hash of [`TEST_PASSWORD`] for every test user: hashing is slow on
/// purpose, and the tests need it only once.
fn test_password_hash() -> String {
    static HASH: OnceLock<String> = OnceLock::new();
    HASH.get_or_init(|| broadsheet::password::hash(TEST_PASSWORD).expect("hash"))
        .clone()
}

/// A signed-in browser: the session cookie and the CSRF token the pages carry.
pub struct Session {
    router: Router,
    /// `broadsheet_session=...`, as a `Cookie` header sends it.
    pub cookie: String,
    pub csrf: String,
}

/// One part of a multipart form.
pub struct Part {
    pub name: String,
    pub filename: Option<String>,
    pub content_type: Option<String>,
    pub bytes: Vec<u8>,
}

impl Part {
    pub fn text(name: &str, value: &str) -> Part {
        Part {
            name: name.to_owned(),
            filename: None,
            content_type: None,
            bytes: value.as_bytes().to_vec(),
        }
    }

    pub fn file(name: &str, filename: &str, content_type: &str, bytes: Vec<u8>) -> Part {
        Part {
            name: name.to_owned(),
            filename: Some(filename.to_owned()),
            content_type: Some(content_type.to_owned()),
            bytes,
        }
    }
}

impl Session {
    /// The same session on another router (a second node).
    pub fn on(&self, router: Router) -> Session {
        Session {
            router,
            cookie: self.cookie.clone(),
            csrf: self.csrf.clone(),
        }
    }

    pub async fn get(&self, path: &str) -> TestResponse {
        self.send(Request::get(path), Body::empty()).await
    }

    /// Posts a urlencoded form with the session's CSRF token added.
    pub async fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> TestResponse {
        let mut all: Vec<(&str, &str)> = fields.to_vec();
        all.push(("csrf", &self.csrf));
        self.post_form_raw(path, &all).await
    }

    /// Posts a urlencoded form exactly as given (no CSRF token added).
    pub async fn post_form_raw(&self, path: &str, fields: &[(&str, &str)]) -> TestResponse {
        let body = serde_urlencoded::to_string(fields).expect("form");
        let request =
            Request::post(path).header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        self.send(request, Body::from(body)).await
    }

    /// Posts a multipart form, with the CSRF token in the query as multipart forms
    /// send it.
    pub async fn post_multipart(&self, path: &str, parts: &[Part]) -> TestResponse {
        self.post_multipart_accepting(path, "text/html", parts)
            .await
    }

    /// [`Session::post_multipart`] with an `Accept` header, as a script sends it.
    pub async fn post_multipart_accepting(
        &self,
        path: &str,
        accept: &str,
        parts: &[Part],
    ) -> TestResponse {
        let boundary = "broadsheet-test-boundary-7d1f";
        let mut body = Vec::new();
        for part in parts {
            body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
            let mut disposition = format!("Content-Disposition: form-data; name=\"{}\"", part.name);
            if let Some(filename) = &part.filename {
                disposition.push_str(&format!("; filename=\"{filename}\""));
            }
            body.extend_from_slice(disposition.as_bytes());
            body.extend_from_slice(b"\r\n");
            if let Some(content_type) = &part.content_type {
                body.extend_from_slice(format!("Content-Type: {content_type}\r\n").as_bytes());
            }
            body.extend_from_slice(b"\r\n");
            body.extend_from_slice(&part.bytes);
            body.extend_from_slice(b"\r\n");
        }
        body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
        let separator = if path.contains('?') { '&' } else { '?' };
        let query = serde_urlencoded::to_string([("csrf", &self.csrf)]).expect("query");
        let request = Request::post(format!("{path}{separator}{query}"))
            .header(
                header::CONTENT_TYPE,
                format!("multipart/form-data; boundary={boundary}"),
            )
            .header(header::ACCEPT, accept);
        self.send(request, Body::from(body)).await
    }

    /// Sends a request with the session cookie.
    pub async fn send(&self, request: axum::http::request::Builder, body: Body) -> TestResponse {
        let request = request
            .header(header::COOKIE, &self.cookie)
            .body(body)
            .expect("request");
        send(self.router.clone(), request).await
    }
}

/// An input for a published article an hour old; tests change what they need.
pub fn article(author: &User, title: &str, body: &str, tags: &[&str]) -> ArticleInput {
    ArticleInput {
        kind: ContentKind::Article,
        title: title.to_owned(),
        slug: None,
        excerpt: None,
        source: body.to_owned(),
        format: SourceFormat::Markdown,
        tags: tags.iter().map(|t| (*t).to_owned()).collect(),
        author_id: author.id,
        status: Status::Published,
        published_at: Some(hours_ago(1)),
        cover_image: None,
        featured: false,
    }
}

pub fn hours_ago(hours: i64) -> DateTime<Utc> {
    broadsheet_domain::clock::now() - TimeDelta::hours(hours)
}

pub struct TestResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl TestResponse {
    pub fn location(&self) -> Option<&str> {
        self.headers
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn html(&self) -> scraper::Html {
        scraper::Html::parse_document(&self.body)
    }

    /// Texts of all elements matching a CSS selector, whitespace collapsed.
    pub fn texts(&self, selector: &str) -> Vec<String> {
        let selector = scraper::Selector::parse(selector).expect("valid selector");
        self.html()
            .select(&selector)
            .map(|e| e.text().collect::<Vec<_>>().join(" "))
            .map(|t| t.split_whitespace().collect::<Vec<_>>().join(" "))
            .collect()
    }

    /// Values of one attribute on all elements matching a selector.
    pub fn attrs(&self, selector: &str, attr: &str) -> Vec<String> {
        let selector = scraper::Selector::parse(selector).expect("valid selector");
        self.html()
            .select(&selector)
            .filter_map(|e| e.value().attr(attr).map(str::to_owned))
            .collect()
    }

    #[track_caller]
    pub fn assert_status(&self, status: StatusCode) -> &Self {
        assert_eq!(self.status, status, "body: {}", self.body);
        self
    }

    #[track_caller]
    pub fn assert_moved_to(&self, location: &str) {
        assert_eq!(
            self.status,
            StatusCode::MOVED_PERMANENTLY,
            "body: {}",
            self.body
        );
        assert_eq!(self.location(), Some(location));
    }
}
