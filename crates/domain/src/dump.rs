//! A whole site as one value: what `broadsheet db copy` moves between backends and
//! what the JSON export writes. Ids and timestamps are kept, so URLs, redirects and
//! "updated" dates survive a move unchanged.

use serde::{Deserialize, Serialize};

use crate::user::UserId;

use chrono::NaiveDate;

use crate::article::{Article, ArticleId};
use crate::comment::Comment;
use crate::engagement::{Counts, NetworkHash, ReaderChoices, ReaderId};
use crate::import::{LegacyRedirect, Mapping};
use crate::settings::SiteSettings;
use crate::stats::Activity;
use crate::user::User;

/// The version of the dump format; bumped when a field changes meaning.
/// Version 2 added engagement (counters and readers' choices); version 3 comment kinds,
/// imported sites' old paths and id mappings. Older dumps still load: every later
/// field has a default.
pub const FORMAT_VERSION: u32 = 3;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SiteDump {
    pub format_version: u32,
    pub settings: SiteSettings,
    /// Ordered by id.
    pub users: Vec<User>,
    /// Articles and pages, ordered by id, each with its tags in order.
    pub articles: Vec<Article>,
    /// Old slugs, ordered by slug.
    pub redirects: Vec<SlugRedirect>,
    /// Counters of every article anyone engaged with, ordered by article id.
    #[serde(default)]
    pub counts: Vec<ArticleCounts>,
    /// Each reader's choices, ordered by article id then reader id.
    #[serde(default)]
    pub reader_choices: Vec<ReaderRow>,
    /// The dashboard's history: each article's activity per day, ordered by article id
    /// then day.
    #[serde(default)]
    pub daily: Vec<DailyRow>,
    /// Readers' comments in every status, ordered by id (a reply after its parent).
    /// The counters above already count the approved ones.
    #[serde(default)]
    pub comments: Vec<Comment>,
    /// Newsroom users who turned off "a comment awaits moderation" emails, by id.
    #[serde(default)]
    pub comment_notices_off: Vec<UserId>,
    /// Old paths of imported sites that answer 301, by path.
    #[serde(default)]
    pub legacy_redirects: Vec<LegacyRedirect>,
    /// What each imported item became, by source, kind and source id.
    #[serde(default)]
    pub import_map: Vec<Mapping>,
}

/// One article's activity on one day in a dump.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DailyRow {
    pub article_id: ArticleId,
    pub day: NaiveDate,
    pub activity: Activity,
}

/// One article's counters in a dump.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArticleCounts {
    pub article_id: ArticleId,
    pub counts: Counts,
}

/// One reader's choices on one article in a dump (with the network hash and day the
/// per-network cap counts by).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReaderRow {
    pub article_id: ArticleId,
    pub reader: ReaderId,
    pub network: NetworkHash,
    pub day: NaiveDate,
    pub choices: ReaderChoices,
}

/// An old slug that now answers with a redirect to an article's current URL.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlugRedirect {
    pub slug: String,
    pub article_id: ArticleId,
}
