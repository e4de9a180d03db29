//! `TestApp`: a whole site on a fresh SQLite file in a temp dir, driven in-process.
//!
//! Content is seeded through the domain (`ArticleInput::prepare`, then the store), the
//! same path the CLI and the admin take, so tests never depend on SQL.

use std::path::PathBuf;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use broadsheet::AppState;
use broadsheet::config::{Config, RawConfig, RawEngagement};
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

pub struct TestApp {
    pub store: Arc<SqliteStore>,
    router: Router,
    // Dropped last: the database file lives here.
    _dir: TempDir,
}

#[derive(Default)]
pub struct TestAppBuilder {
    settings: Option<SiteSettings>,
    theme_dir: Option<PathBuf>,
    engagement: Option<RawEngagement>,
}

impl TestAppBuilder {
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

    pub async fn build(self) -> TestApp {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = SqliteStore::open(&dir.path().join("site.sqlite3"))
            .await
            .expect("open the SQLite store");
        store.migrate().await.expect("migrate");
        if let Some(settings) = &self.settings {
            store.save_settings(settings).await.expect("save settings");
        }
        let store = Arc::new(store);
        let config = Config::from_raw(RawConfig {
            data_dir: Some(dir.path().to_owned()),
            base_url: Some(BASE_URL.into()),
            theme_dir: self.theme_dir,
            engagement: self.engagement,
            ..RawConfig::default()
        })
        .expect("valid test config");
        let state = AppState::new(store.clone(), config)
            .await
            .expect("the theme loads");
        let router = broadsheet::build_router(state);
        TestApp {
            store,
            router,
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

    /// The directory holding the site's database file.
    pub fn data_dir(&self) -> &std::path::Path {
        self._dir.path()
    }

    /// The router, for tests that serve it over a socket.
    pub fn router(&self) -> Router {
        self.router.clone()
    }

    // --- seeding ---

    pub async fn user(&self, name: &str) -> User {
        let email = format!("{}@example.com", broadsheet_domain::slug::slugify(name));
        let new = NewUser::validate(name, &email, Role::Author, None).expect("valid user");
        self.store.create_user(&new).await.expect("create user")
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
