//! Error pages: themed, with the right status, and helpful.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode};
use broadsheet::AppState;
use broadsheet::config::Config;
use broadsheet_domain::store::StoreResult;
use broadsheet_domain::{
    AccountStore, Article, ArticleId, ArticleQuery, ArticleWrite, AuditEntry, Cast, CastOutcome,
    ChangeStream, Counts, LoginFailures, NewAuditEntry, NewUser, Paged, ReaderChoices, ReaderId,
    Session, SiteDump, SiteSettings, SlugLookup, Store, StoreError, Tag, User, UserChanges, UserId,
    ViewHit,
};
use broadsheet_domain::{Job, JobCounts, JobId, JobState, JobStore, NewJob};
use chrono::{DateTime, NaiveDate, Utc};
use http_body_util::BodyExt;
use tower::ServiceExt;

use crate::util::TestApp;

#[tokio::test]
async fn not_found_is_a_themed_page_with_a_way_home() {
    let app = TestApp::new().await;
    let ada = app.user("Ada Lovelace").await;
    let a = app.publish(&ada, "Something to read", "Text.", &[]).await;

    for path in [
        "/no/such/thing/",
        "/nothing-here/",
        "/tag/nope/",
        "/wp-login.php",
    ] {
        let page = app.get(path).await;
        page.assert_status(StatusCode::NOT_FOUND);
        assert!(
            page.header("content-type")
                .unwrap()
                .starts_with("text/html"),
            "{path}"
        );
        assert_eq!(page.texts("main h1"), ["Page not found"], "{path}");
        assert_eq!(page.texts(".site-title"), ["Broadsheet"], "{path}");
        assert!(page.attrs("main a", "href").contains(&"/".to_owned()));
        assert_eq!(page.texts(".latest h2"), ["Latest articles"]);
        assert_eq!(page.attrs(".latest a", "href"), [app.permalink(&a).await]);
        assert_eq!(page.attrs("meta[name=robots]", "content"), ["noindex"]);
    }
}

#[tokio::test]
async fn other_errors_get_a_page_too() {
    let app = TestApp::new().await;
    let page = app.request(Method::POST, "/", HeaderMap::new()).await;
    page.assert_status(StatusCode::METHOD_NOT_ALLOWED);
    assert!(page.header("allow").is_some_and(|a| a.contains("GET")));
    assert_eq!(page.texts("main h1"), ["Not allowed"]);

    // Not valid UTF-8 once percent-decoded: a bad request, not a crash.
    let page = app.get("/tag/%FF/").await;
    assert!(page.status.is_client_error(), "{}", page.status);
    assert!(
        page.header("content-type")
            .unwrap()
            .starts_with("text/html")
    );
}

#[tokio::test]
async fn head_requests_answer_like_get_without_a_body() {
    let app = TestApp::new().await;
    let ok = app.request(Method::HEAD, "/", HeaderMap::new()).await;
    ok.assert_status(StatusCode::OK);
    assert!(ok.body.is_empty());
    let missing = app.request(Method::HEAD, "/nope/", HeaderMap::new()).await;
    missing.assert_status(StatusCode::NOT_FOUND);
    assert!(missing.body.is_empty());
}

#[tokio::test]
async fn a_theme_dir_overrides_the_error_page() {
    let theme = tempfile::tempdir().unwrap();
    std::fs::write(
        theme.path().join("error.html"),
        "<!doctype html><p>Custom {{ error.status }}: {{ error.message }}</p>",
    )
    .unwrap();
    let app = TestApp::builder()
        .theme_dir(theme.path().to_owned())
        .build()
        .await;
    let page = app.get("/missing/").await;
    page.assert_status(StatusCode::NOT_FOUND);
    assert_eq!(
        page.texts("p"),
        ["Custom 404: The page you asked for is not here."]
    );
    // Everything not overridden still comes from the built-in theme.
    app.get("/").await.assert_status(StatusCode::OK);
}

/// A store whose database is gone: every call fails as a backend error would.
struct BrokenStore;

fn broken<T>() -> Result<T, StoreError> {
    Err(StoreError::Backend(
        "disk I/O error in /var/secret/site.db".into(),
    ))
}

#[async_trait::async_trait]
impl Store for BrokenStore {
    fn backend(&self) -> &'static str {
        "broken"
    }
    async fn migrate(&self) -> StoreResult<()> {
        broken()
    }
    async fn create_user(&self, _: &NewUser) -> StoreResult<User> {
        broken()
    }
    async fn user_by_id(&self, _: UserId) -> StoreResult<User> {
        broken()
    }
    async fn user_by_slug(&self, _: &str) -> StoreResult<User> {
        broken()
    }
    async fn user_by_email(&self, _: &str) -> StoreResult<User> {
        broken()
    }
    async fn list_users(&self) -> StoreResult<Vec<User>> {
        broken()
    }
    async fn insert_article(&self, _: &ArticleWrite) -> StoreResult<Article> {
        broken()
    }
    async fn update_article(&self, _: ArticleId, _: &ArticleWrite) -> StoreResult<Article> {
        broken()
    }
    async fn article_by_id(&self, _: ArticleId) -> StoreResult<Article> {
        broken()
    }
    async fn find_by_slug(&self, _: &str) -> StoreResult<SlugLookup> {
        broken()
    }
    async fn list_articles(&self, _: &ArticleQuery) -> StoreResult<Paged<Article>> {
        broken()
    }
    async fn publish_due(&self, _: ArticleId, _: DateTime<Utc>) -> StoreResult<bool> {
        broken()
    }
    async fn scheduled_articles(&self) -> StoreResult<Vec<(ArticleId, DateTime<Utc>)>> {
        broken()
    }
    async fn tag_by_slug(&self, _: &str) -> StoreResult<Tag> {
        broken()
    }
    async fn public_tags(&self, _: DateTime<Utc>) -> StoreResult<Vec<(Tag, DateTime<Utc>)>> {
        broken()
    }
    async fn settings(&self) -> StoreResult<SiteSettings> {
        broken()
    }
    async fn save_settings(&self, _: &SiteSettings) -> StoreResult<()> {
        broken()
    }
    async fn export_site(&self) -> StoreResult<SiteDump> {
        broken()
    }
    async fn import_site(&self, _: &SiteDump) -> StoreResult<()> {
        broken()
    }
    async fn subscribe(&self) -> StoreResult<ChangeStream> {
        // The server starts (it must, to answer 500s); no notice ever comes.
        Ok(Box::pin(futures::stream::pending()))
    }
    async fn cast(&self, _: &[Cast], _: u32) -> StoreResult<Vec<CastOutcome>> {
        broken()
    }
    async fn counts(&self, _: ArticleId) -> StoreResult<Counts> {
        broken()
    }
    async fn reader_choices(&self, _: ArticleId, _: &ReaderId) -> StoreResult<ReaderChoices> {
        broken()
    }
    async fn record_views(&self, _: &[ViewHit]) -> StoreResult<u64> {
        broken()
    }
    async fn network_salt(&self, _: NaiveDate, _: [u8; 32]) -> StoreResult<[u8; 32]> {
        broken()
    }
}

#[tokio::test]
async fn a_failing_database_is_a_themed_500_that_reveals_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let state = AppState::new(Arc::new(BrokenStore), Config::for_data_dir(dir.path()))
        .await
        .unwrap();
    let router = broadsheet::build_router(state);
    for path in ["/", "/2026/01/02/story/", "/about/", "/tag/x/"] {
        let response = router
            .clone()
            .oneshot(Request::get(path).body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(
            response.status(),
            StatusCode::INTERNAL_SERVER_ERROR,
            "{path}"
        );
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        let body = String::from_utf8_lossy(&bytes);
        assert!(body.contains("Something went wrong"), "{path}: {body}");
        assert!(body.contains("<nav class=\"site-nav\""), "themed: {body}");
        assert!(
            !body.contains("secret") && !body.contains("disk I/O"),
            "{body}"
        );
    }
    // Assets need no database.
    let css = router
        .oneshot(Request::get("/favicon.ico").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(css.status(), StatusCode::OK);
}

#[async_trait::async_trait]
impl JobStore for BrokenStore {
    async fn enqueue_job(&self, _: &NewJob) -> StoreResult<JobId> {
        broken()
    }
    async fn claim_jobs(&self, _: DateTime<Utc>, _: Duration, _: u32) -> StoreResult<Vec<Job>> {
        broken()
    }
    async fn complete_job(&self, _: JobId, _: DateTime<Utc>) -> StoreResult<()> {
        broken()
    }
    async fn fail_job(
        &self,
        _: JobId,
        _: &str,
        _: DateTime<Utc>,
        _: DateTime<Utc>,
    ) -> StoreResult<JobState> {
        broken()
    }
    async fn retry_job(&self, _: JobId, _: DateTime<Utc>) -> StoreResult<()> {
        broken()
    }
    async fn job_by_id(&self, _: JobId) -> StoreResult<Job> {
        broken()
    }
    async fn list_jobs(&self, _: Option<JobState>, _: u32) -> StoreResult<Vec<Job>> {
        broken()
    }
    async fn job_counts(&self) -> StoreResult<JobCounts> {
        broken()
    }
    async fn prune_jobs(&self, _: DateTime<Utc>) -> StoreResult<u64> {
        broken()
    }
}

#[async_trait::async_trait]
impl broadsheet_domain::RevisionStore for BrokenStore {
    async fn autosave_article(&self, _: ArticleId, _: &ArticleWrite) -> StoreResult<Article> {
        broken()
    }
    async fn list_revisions(&self, _: ArticleId) -> StoreResult<Vec<broadsheet_domain::Revision>> {
        broken()
    }
    async fn revision(
        &self,
        _: broadsheet_domain::RevisionId,
    ) -> StoreResult<broadsheet_domain::Revision> {
        broken()
    }
    async fn delete_article(&self, _: ArticleId) -> StoreResult<()> {
        broken()
    }
    async fn list_tags(&self) -> StoreResult<Vec<Tag>> {
        broken()
    }
    async fn signing_key(&self, _: [u8; 32]) -> StoreResult<[u8; 32]> {
        broken()
    }
}

#[async_trait::async_trait]
impl broadsheet_domain::MediaStore for BrokenStore {
    async fn insert_media(
        &self,
        _: &broadsheet_domain::NewMedia,
    ) -> StoreResult<broadsheet_domain::Media> {
        broken()
    }
    async fn media_by_id(
        &self,
        _: broadsheet_domain::MediaId,
    ) -> StoreResult<broadsheet_domain::Media> {
        broken()
    }
    async fn list_media(&self, _: u32, _: u64) -> StoreResult<Paged<broadsheet_domain::Media>> {
        broken()
    }
    async fn media_bytes(
        &self,
        _: broadsheet_domain::MediaId,
        _: Option<u32>,
    ) -> StoreResult<broadsheet_domain::MediaBytes> {
        broken()
    }
    async fn update_media_alt(
        &self,
        _: broadsheet_domain::MediaId,
        _: &str,
    ) -> StoreResult<broadsheet_domain::Media> {
        broken()
    }
    async fn delete_media(&self, _: broadsheet_domain::MediaId) -> StoreResult<()> {
        broken()
    }
}

#[async_trait::async_trait]
impl broadsheet_domain::CommentStore for BrokenStore {
    async fn insert_comment(
        &self,
        _: &broadsheet_domain::NewComment,
    ) -> StoreResult<broadsheet_domain::Comment> {
        broken()
    }
    async fn comment_by_id(
        &self,
        _: broadsheet_domain::CommentId,
    ) -> StoreResult<broadsheet_domain::Comment> {
        broken()
    }
    async fn article_comments(
        &self,
        _: ArticleId,
        _: Option<&broadsheet_domain::ReaderId>,
        _: u32,
        _: u32,
    ) -> StoreResult<broadsheet_domain::CommentPage> {
        broken()
    }
    async fn set_comment_status(
        &self,
        _: &[broadsheet_domain::CommentId],
        _: broadsheet_domain::CommentStatus,
    ) -> StoreResult<Vec<broadsheet_domain::Comment>> {
        broken()
    }
    async fn update_comment_body(
        &self,
        _: broadsheet_domain::CommentId,
        _: &str,
        _: &str,
    ) -> StoreResult<broadsheet_domain::Comment> {
        broken()
    }
    async fn list_comments(
        &self,
        _: &broadsheet_domain::CommentQuery,
    ) -> StoreResult<Paged<broadsheet_domain::Comment>> {
        broken()
    }
    async fn comment_status_counts(&self) -> StoreResult<broadsheet_domain::CommentCounts> {
        broken()
    }
    async fn has_approved_comment_from(&self, _: &str) -> StoreResult<bool> {
        broken()
    }
    async fn recent_duplicate(
        &self,
        _: ArticleId,
        _: &str,
        _: &str,
        _: DateTime<Utc>,
    ) -> StoreResult<bool> {
        broken()
    }
    async fn comments_by_email(&self, _: &str) -> StoreResult<Vec<broadsheet_domain::Comment>> {
        broken()
    }
    async fn stop_reply_notifications(&self, _: &str) -> StoreResult<u64> {
        broken()
    }
    async fn erase_commenter(&self, _: &str) -> StoreResult<u64> {
        broken()
    }
}

#[async_trait::async_trait]
impl broadsheet_domain::SubscriptionStore for BrokenStore {
    async fn add_subscriber(
        &self,
        _: &broadsheet_domain::SubscribeRequest,
        _: DateTime<Utc>,
    ) -> StoreResult<broadsheet_domain::Subscriber> {
        broken()
    }
    async fn subscriber_by_id(
        &self,
        _: broadsheet_domain::SubscriberId,
    ) -> StoreResult<broadsheet_domain::Subscriber> {
        broken()
    }
    async fn confirm_subscriber(
        &self,
        _: broadsheet_domain::SubscriberId,
        _: DateTime<Utc>,
    ) -> StoreResult<broadsheet_domain::Subscriber> {
        broken()
    }
    async fn unsubscribe(
        &self,
        _: broadsheet_domain::SubscriberId,
        _: DateTime<Utc>,
    ) -> StoreResult<()> {
        broken()
    }
    async fn list_subscribers(
        &self,
        _: Option<broadsheet_domain::SubscriberStatus>,
        _: Option<broadsheet_domain::SubscriberId>,
        _: u32,
    ) -> StoreResult<Vec<broadsheet_domain::Subscriber>> {
        broken()
    }
    async fn subscriber_counts(&self) -> StoreResult<broadsheet_domain::SubscriberCounts> {
        broken()
    }
    async fn queue_deliveries(&self, _: ArticleId, _: DateTime<Utc>) -> StoreResult<u64> {
        broken()
    }
    async fn claim_deliveries(
        &self,
        _: ArticleId,
        _: DateTime<Utc>,
        _: std::time::Duration,
        _: u32,
    ) -> StoreResult<Vec<broadsheet_domain::Delivery>> {
        broken()
    }
    async fn mark_sent(
        &self,
        _: ArticleId,
        _: &[broadsheet_domain::SubscriberId],
        _: DateTime<Utc>,
    ) -> StoreResult<()> {
        broken()
    }
    async fn release_deliveries(
        &self,
        _: ArticleId,
        _: &[broadsheet_domain::SubscriberId],
    ) -> StoreResult<()> {
        broken()
    }
    async fn delivery_failed(
        &self,
        _: ArticleId,
        _: broadsheet_domain::SubscriberId,
        _: DateTime<Utc>,
    ) -> StoreResult<broadsheet_domain::SubscriberStatus> {
        broken()
    }
    async fn delivery_counts(
        &self,
        _: ArticleId,
    ) -> StoreResult<broadsheet_domain::DeliveryCounts> {
        broken()
    }
}

#[async_trait::async_trait]
impl broadsheet_domain::WebhookStore for BrokenStore {
    async fn create_webhook(
        &self,
        _: &broadsheet_domain::NewWebhook,
        _: DateTime<Utc>,
    ) -> StoreResult<broadsheet_domain::Webhook> {
        broken()
    }
    async fn list_webhooks(&self) -> StoreResult<Vec<broadsheet_domain::Webhook>> {
        broken()
    }
    async fn webhook_by_id(
        &self,
        _: broadsheet_domain::WebhookId,
    ) -> StoreResult<broadsheet_domain::Webhook> {
        broken()
    }
    async fn delete_webhook(&self, _: broadsheet_domain::WebhookId) -> StoreResult<()> {
        broken()
    }
    async fn add_webhook_deliveries(
        &self,
        _: broadsheet_domain::WebhookEvent,
        _: &str,
        _: &str,
        _: DateTime<Utc>,
    ) -> StoreResult<Vec<broadsheet_domain::WebhookDeliveryId>> {
        broken()
    }
    async fn webhook_delivery_by_id(
        &self,
        _: broadsheet_domain::WebhookDeliveryId,
    ) -> StoreResult<broadsheet_domain::WebhookDelivery> {
        broken()
    }
    async fn record_webhook_attempt(
        &self,
        _: broadsheet_domain::WebhookDeliveryId,
        _: &broadsheet_domain::WebhookAttempt,
        _: DateTime<Utc>,
    ) -> StoreResult<()> {
        broken()
    }
    async fn list_webhook_deliveries(
        &self,
        _: Option<broadsheet_domain::WebhookId>,
        _: u32,
    ) -> StoreResult<Vec<broadsheet_domain::WebhookDelivery>> {
        broken()
    }
}

#[async_trait::async_trait]
impl broadsheet_domain::SearchStore for BrokenStore {
    async fn search(
        &self,
        _: &broadsheet_domain::SearchQuery,
    ) -> StoreResult<broadsheet_domain::SearchResults> {
        broken()
    }
}

#[async_trait::async_trait]
impl broadsheet_domain::PushStore for BrokenStore {
    async fn subscribe_push(
        &self,
        _: &broadsheet_domain::NewPushSubscription,
        _: DateTime<Utc>,
    ) -> StoreResult<broadsheet_domain::PushSubscription> {
        broken()
    }
    async fn unsubscribe_push(
        &self,
        _: &str,
        _: Option<&broadsheet_domain::PushTopic>,
    ) -> StoreResult<Option<broadsheet_domain::PushSubscription>> {
        broken()
    }
    async fn push_subscription_by_endpoint(
        &self,
        _: &str,
    ) -> StoreResult<broadsheet_domain::PushSubscription> {
        broken()
    }
    async fn count_push_subscriptions(&self) -> StoreResult<u64> {
        broken()
    }
    async fn plan_push(&self, _: ArticleId, _: DateTime<Utc>) -> StoreResult<u64> {
        broken()
    }
    async fn claim_pushes(
        &self,
        _: ArticleId,
        _: DateTime<Utc>,
        _: DateTime<Utc>,
        _: std::time::Duration,
        _: u32,
    ) -> StoreResult<Vec<broadsheet_domain::ClaimedPush>> {
        broken()
    }
    async fn finish_push(
        &self,
        _: ArticleId,
        _: broadsheet_domain::PushSubscriptionId,
        _: &broadsheet_domain::PushOutcome,
        _: DateTime<Utc>,
    ) -> StoreResult<()> {
        broken()
    }
    async fn push_progress(&self, _: ArticleId) -> StoreResult<broadsheet_domain::PushProgress> {
        broken()
    }
}

#[async_trait::async_trait]
impl broadsheet_domain::ImportStore for BrokenStore {
    async fn imported_id(
        &self,
        _: &str,
        _: broadsheet_domain::ImportKind,
        _: &str,
    ) -> StoreResult<Option<i64>> {
        broken()
    }

    async fn import_user(&self, _: &str, _: &str, _: &NewUser) -> StoreResult<User> {
        broken()
    }

    async fn import_article(
        &self,
        _: &str,
        _: &str,
        _: Option<ArticleId>,
        _: &ArticleWrite,
        _: DateTime<Utc>,
        _: DateTime<Utc>,
    ) -> StoreResult<Article> {
        broken()
    }

    async fn import_comments(
        &self,
        _: &str,
        _: &[broadsheet_domain::ImportedComment],
    ) -> StoreResult<Vec<StoreResult<broadsheet_domain::Comment>>> {
        broken()
    }

    async fn put_legacy_redirects(
        &self,
        _: &[broadsheet_domain::LegacyRedirect],
    ) -> StoreResult<u64> {
        broken()
    }

    async fn legacy_redirect(&self, _: &str) -> StoreResult<broadsheet_domain::LegacyTarget> {
        broken()
    }

    async fn replace_signing_key(&self, _: [u8; 32]) -> StoreResult<()> {
        broken()
    }

    async fn import_records(
        &self,
    ) -> StoreResult<(
        Vec<broadsheet_domain::LegacyRedirect>,
        Vec<broadsheet_domain::Mapping>,
    )> {
        broken()
    }
}

#[async_trait::async_trait]
impl broadsheet_domain::ApiTokenStore for BrokenStore {
    async fn create_api_token(
        &self,
        _: &broadsheet_domain::NewApiToken,
    ) -> StoreResult<broadsheet_domain::ApiToken> {
        broken()
    }
    async fn api_token_user(&self, _: &str) -> StoreResult<(broadsheet_domain::ApiToken, User)> {
        broken()
    }
    async fn touch_api_token(
        &self,
        _: broadsheet_domain::ApiTokenId,
        _: chrono::DateTime<chrono::Utc>,
    ) -> StoreResult<()> {
        broken()
    }
    async fn list_api_tokens(
        &self,
        _: Option<UserId>,
    ) -> StoreResult<Vec<broadsheet_domain::ApiToken>> {
        broken()
    }
    async fn api_token_by_id(
        &self,
        _: broadsheet_domain::ApiTokenId,
    ) -> StoreResult<broadsheet_domain::ApiToken> {
        broken()
    }
    async fn revoke_api_token(
        &self,
        _: broadsheet_domain::ApiTokenId,
        _: chrono::DateTime<chrono::Utc>,
    ) -> StoreResult<broadsheet_domain::ApiToken> {
        broken()
    }
}

#[async_trait::async_trait]
impl broadsheet_domain::StatsStore for BrokenStore {
    async fn activity_rows(
        &self,
        _: NaiveDate,
        _: NaiveDate,
    ) -> StoreResult<Vec<broadsheet_domain::DayActivity>> {
        broken()
    }

    async fn top_articles(
        &self,
        _: NaiveDate,
        _: u32,
    ) -> StoreResult<Vec<broadsheet_domain::TopArticle>> {
        broken()
    }

    async fn reaction_totals(&self) -> StoreResult<std::collections::BTreeMap<String, u64>> {
        broken()
    }
}

#[async_trait::async_trait]
impl AccountStore for BrokenStore {
    async fn create_session(&self, _: &Session) -> StoreResult<()> {
        broken()
    }
    async fn session_user(&self, _: &str, _: DateTime<Utc>) -> StoreResult<(Session, User)> {
        broken()
    }
    async fn touch_session(&self, _: &str, _: DateTime<Utc>) -> StoreResult<()> {
        broken()
    }
    async fn delete_session(&self, _: &str) -> StoreResult<()> {
        broken()
    }
    async fn delete_user_sessions(&self, _: UserId) -> StoreResult<()> {
        broken()
    }
    async fn login_failures(&self, _: &str) -> StoreResult<LoginFailures> {
        broken()
    }
    async fn record_login_failure(&self, _: &str, _: DateTime<Utc>) -> StoreResult<LoginFailures> {
        broken()
    }
    async fn clear_login_failures(&self, _: &str) -> StoreResult<()> {
        broken()
    }
    async fn create_first_admin(&self, _: &NewUser) -> StoreResult<User> {
        broken()
    }
    async fn update_user(&self, _: UserId, _: &UserChanges) -> StoreResult<User> {
        broken()
    }
    async fn set_password(&self, _: UserId, _: &str) -> StoreResult<()> {
        broken()
    }
    async fn create_password_reset(&self, _: &str, _: UserId, _: DateTime<Utc>) -> StoreResult<()> {
        broken()
    }
    async fn take_password_reset(&self, _: &str, _: DateTime<Utc>) -> StoreResult<UserId> {
        broken()
    }
    async fn record_audit(&self, _: &NewAuditEntry) -> StoreResult<()> {
        broken()
    }
    async fn list_audit(&self, _: u32, _: u32) -> StoreResult<Paged<AuditEntry>> {
        broken()
    }

    async fn set_comment_notices(&self, _: UserId, _: bool, _: DateTime<Utc>) -> StoreResult<()> {
        broken()
    }

    async fn comment_notices_off(&self) -> StoreResult<Vec<UserId>> {
        broken()
    }
}
