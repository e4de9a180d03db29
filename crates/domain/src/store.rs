//! The storage seam. Every backend implements [`Store`]; the server holds an
//! `Arc<dyn Store>` chosen at run time from the database URL, and handlers never
//! write SQL. One conformance suite (`crates/store-tests`) runs against each backend.
//!
//! Stores keep what the domain prepared; they do not validate or render. They own the
//! invariants that need a transaction: a slug is unique across current and old slugs,
//! a changed slug is kept as a redirect, and an article's tags are replaced together
//! with the article.

use async_trait::async_trait;

use crate::StoreError;
use crate::account::AccountStore;
use crate::api_token::ApiTokenStore;
use crate::article::{Article, ArticleId, ArticleQuery, ArticleWrite, Paged, SlugLookup};
use chrono::{DateTime, NaiveDate, Utc};

use crate::change::ChangeStream;
use crate::comment::CommentStore;
use crate::dump::SiteDump;
use crate::engagement::{Cast, CastOutcome, Counts, ReaderChoices, ReaderId, ViewHit};
use crate::import::ImportStore;
use crate::job::JobStore;
use crate::media::MediaStore;
use crate::push::PushStore;
use crate::revision::RevisionStore;
use crate::search::SearchStore;
use crate::settings::SiteSettings;
use crate::stats::StatsStore;
use crate::subscription::SubscriptionStore;
use crate::tag::Tag;
use crate::user::{NewUser, User, UserId};
use crate::webhook::WebhookStore;

pub type StoreResult<T> = Result<T, StoreError>;

#[async_trait]
pub trait Store:
    JobStore
    + RevisionStore
    + AccountStore
    + MediaStore
    + StatsStore
    + CommentStore
    + SearchStore
    + SubscriptionStore
    + WebhookStore
    + PushStore
    + ImportStore
    + ApiTokenStore
    + Send
    + Sync
    + 'static
{
    /// A short name for logs and test output ("sqlite", "postgres").
    fn backend(&self) -> &'static str;

    /// Brings the schema up to date. Safe to call from several processes at once.
    async fn migrate(&self) -> StoreResult<()>;

    // --- users ---

    /// Creates a user. `Conflict { field: "email" }` or `Conflict { field: "slug" }` when
    /// either is taken.
    async fn create_user(&self, user: &NewUser) -> StoreResult<User>;
    async fn user_by_id(&self, id: UserId) -> StoreResult<User>;
    async fn user_by_slug(&self, slug: &str) -> StoreResult<User>;
    async fn user_by_email(&self, email: &str) -> StoreResult<User>;
    /// All users, oldest first.
    async fn list_users(&self) -> StoreResult<Vec<User>>;

    // --- articles and pages ---

    /// Creates an article. `Conflict { field: "slug" }` when the slug is in use, as a
    /// current slug or an old one of another article. An old slug of nobody's is
    /// reused freely (its redirect is dropped). `NotFound` when the author does not exist.
    async fn insert_article(&self, article: &ArticleWrite) -> StoreResult<Article>;

    /// Replaces an article. When the slug changes, the old one is kept as a redirect to
    /// this article; `Conflict { field: "slug" }` when the new slug belongs to another.
    async fn update_article(&self, id: ArticleId, article: &ArticleWrite) -> StoreResult<Article>;

    async fn article_by_id(&self, id: ArticleId) -> StoreResult<Article>;

    /// Finds an article or page by a current or old slug; `NotFound` otherwise.
    async fn find_by_slug(&self, slug: &str) -> StoreResult<SlugLookup>;

    /// A page of articles, newest first (by publication time, then id), with the total.
    async fn list_articles(&self, query: &ArticleQuery) -> StoreResult<Paged<Article>>;

    /// Publishes a scheduled article whose time has come: flips it from `scheduled` to
    /// `published` when its `published_at <= now`, in one conditional write. True only
    /// for the one caller that flipped it (false when it was already published, is
    /// not due, or was unscheduled meanwhile), which alone publishes
    /// `Change::Article(id)`. `NotFound` for an unknown article.
    async fn publish_due(&self, id: ArticleId, now: DateTime<Utc>) -> StoreResult<bool>;

    /// Every scheduled article and page with its publication time, soonest first: what
    /// the job worker makes sure has a publish job when it starts.
    async fn scheduled_articles(&self) -> StoreResult<Vec<(ArticleId, DateTime<Utc>)>>;

    /// A tag by slug, as it is named on the article that used it first.
    async fn tag_by_slug(&self, slug: &str) -> StoreResult<Tag>;

    /// Every tag with an article readers can see at `now` (so its tag page exists),
    /// by slug, each with the latest `updated_at` of those articles: what a sitemap
    /// lists without reading the articles themselves.
    async fn public_tags(&self, now: DateTime<Utc>) -> StoreResult<Vec<(Tag, DateTime<Utc>)>>;

    // --- settings ---

    /// The site settings; the defaults when none were saved.
    async fn settings(&self) -> StoreResult<SiteSettings>;
    async fn save_settings(&self, settings: &SiteSettings) -> StoreResult<()>;

    // --- moving a whole site ---

    /// Everything the store keeps, for `db copy` and export.
    async fn export_site(&self) -> StoreResult<SiteDump>;

    /// Restores a dump into an empty store, keeping ids and timestamps (and moving id
    /// sequences past them). `Conflict { field: "site" }` when the store has content.
    async fn import_site(&self, dump: &SiteDump) -> StoreResult<()>;

    // --- change notices ---

    /// Subscribes to change notices from every process on this database (see
    /// [`crate::change`]). Every write above that succeeds publishes its notice:
    /// user writes `Users`, article writes `Article(id)`, settings `Settings`, an
    /// import `All`.
    ///
    /// The stream carries every notice committed after this returns, and ends only
    /// when the store is closed; dropping it stops the listening.
    async fn subscribe(&self) -> StoreResult<ChangeStream>;

    // --- engagement ---

    /// Applies reader actions in order, all in ONE transaction (the server batches
    /// concurrent votes into one write). Each cast writes the reader's row and the
    /// article's counters together, so counters always equal the rows. Votes and
    /// reactions toggle (see `ReaderAction`). A reader new to an article is refused
    /// (`NetworkCapReached`) when their network hash already added `network_cap`
    /// readers to it on the cast's day. The article's activity on the cast's day
    /// ([`crate::stats::Activity`]) moves in the same transaction. Publishes
    /// `Engagement(id)` once per article whose counters changed.
    async fn cast(&self, casts: &[Cast], network_cap: u32) -> StoreResult<Vec<CastOutcome>>;

    /// An article's counters (zeros for an article nobody engaged with yet);
    /// `NotFound` for an unknown article.
    async fn counts(&self, article: ArticleId) -> StoreResult<Counts>;

    /// What one reader chose on one article.
    async fn reader_choices(
        &self,
        article: ArticleId,
        reader: &ReaderId,
    ) -> StoreResult<ReaderChoices>;

    /// Counts views: each (article, viewer, day) once, however often it is recorded and
    /// by however many nodes. Returns how many were new. Hits for unknown articles are
    /// ignored. New views count in the article's activity on their day too, in the same
    /// transaction. Publishes `Engagement(id)` for each article whose count grew.
    async fn record_views(&self, hits: &[ViewHit]) -> StoreResult<u64>;

    /// The salt for network hashes on `day`, shared by every node: the first caller's
    /// `candidate` is kept and every later caller gets that one. Salts of days before
    /// `day - 1` are deleted, so yesterday's hashes cannot be recomputed for long.
    async fn network_salt(&self, day: NaiveDate, candidate: [u8; 32]) -> StoreResult<[u8; 32]>;
}
