//! A whole site as one value: what `broadsheet db copy` moves between backends and
//! what the JSON export writes. Ids and timestamps are kept, so URLs, redirects and
//! "updated" dates survive a move unchanged.

use serde::{Deserialize, Serialize};

use crate::article::{Article, ArticleId};
use crate::settings::SiteSettings;
use crate::user::User;

/// The version of the dump format; bumped when a field changes meaning.
pub const FORMAT_VERSION: u32 = 1;

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
}

/// An old slug that now answers with a redirect to an article's current URL.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlugRedirect {
    pub slug: String,
    pub article_id: ArticleId,
}
