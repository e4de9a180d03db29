//! Broadsheet's domain: what an article, a page, a tag, an author and the site's
//! settings are, the rules that hold for them, and the [`Store`] trait through which
//! every backend keeps them.
//!
//! This crate does no I/O and knows no HTTP or SQL (CI checks that `sqlx` never enters
//! its dependency tree). Everything a store keeps has already been validated and
//! computed here: Markdown is rendered and sanitised, the reading time is counted and
//! slugs are checked before a write ever reaches a backend, so both backends store the
//! same thing and the site never recomputes on a page view.

pub mod account;
pub mod api_token;
pub mod article;
pub mod change;
pub mod clock;
pub mod comment;
pub mod dump;
pub mod engagement;
pub mod error;
pub mod import;
pub mod job;
pub mod media;
pub mod permission;
pub mod push;
pub mod read_time;
pub mod render;
pub mod revision;
pub mod search;
pub mod settings;
pub mod slug;
pub mod spam;
pub mod stats;
pub mod store;
pub mod subscription;
pub mod tag;
pub mod user;
pub mod webhook;

pub use account::{AccountStore, AuditEntry, LoginFailures, NewAuditEntry, Session, UserChanges};
pub use api_token::{ApiToken, ApiTokenId, ApiTokenStore, NewApiToken, Scope};
pub use article::{
    Article, ArticleId, ArticleInput, ArticleQuery, ArticleWrite, AuthorRef, ContentKind, Paged,
    RenderedBody, SlugLookup, SourceFormat, Status, Visibility,
};
pub use change::{Change, ChangeStream};
pub use comment::{
    CheckedComment, Comment, CommentCounts, CommentId, CommentInput, CommentKind, CommentPage,
    CommentQuery, CommentSettings, CommentStatus, CommentStore, NewComment,
};
pub use dump::{ArticleCounts, DailyRow, ReaderRow, SiteDump, SlugRedirect};
pub use engagement::{
    Cast, CastOutcome, Counts, EngagementView, NetworkHash, ReactionDef, ReaderAction,
    ReaderChoices, ReaderId, ViewHit, Vote,
};
pub use error::{FieldError, StoreError, ValidationErrors};
pub use import::{
    ImportKind, ImportStore, ImportedBatch, ImportedComment, LegacyRedirect, LegacyTarget, Mapping,
};
pub use job::{Job, JobCounts, JobId, JobState, JobStore, NewJob};
pub use media::{Media, MediaBytes, MediaId, MediaStore, NewMedia, NewVariant};
pub use permission::{Action, Target, permits, user_permits};
pub use push::{
    ClaimedPush, NewPushSubscription, PushOutcome, PushProgress, PushStore, PushSubscription,
    PushSubscriptionId, PushTopic,
};
pub use revision::{FieldChange, Revision, RevisionId, RevisionStore};
pub use search::{
    Candidate, Highlighted, Ranked, SearchHit, SearchQuery, SearchResults, SearchStore, SearchTerms,
};
pub use settings::{FeedContent, SiteSettings};
pub use stats::{Activity, DayActivity, StatsStore, TopArticle};
pub use store::Store;
pub use subscription::{
    Delivery, DeliveryCounts, SubscribeRequest, Subscriber, SubscriberCounts, SubscriberId,
    SubscriberStatus, SubscriptionStore,
};
pub use tag::Tag;
pub use user::{NewUser, Role, User, UserId};
pub use webhook::{
    NewWebhook, Webhook, WebhookAttempt, WebhookDelivery, WebhookDeliveryId, WebhookDeliveryState,
    WebhookEvent, WebhookId, WebhookStore,
};
