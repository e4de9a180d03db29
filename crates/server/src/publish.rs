//! Publishing a Markdown file: `broadsheet article publish FILE.md`.
//!
//! The file is parsed and validated completely before anything is written, and the
//! write is one store call, so a bad file changes nothing. A file whose slug already
//! exists updates that article, which makes `publish` safe to re-run after an edit.
//! A future-dated file is saved as scheduled and its publish job enqueued, for
//! whichever server's job worker gets to it.

use broadsheet_domain::import::normalise_path;
use broadsheet_domain::{
    Article, ArticleId, ArticleInput, ArticleWrite, LegacyRedirect, LegacyTarget, Role,
    SiteSettings, SlugLookup, Store, StoreError, User, UserId, ValidationErrors, clock,
};

use crate::frontmatter;

/// What publishing did.
#[derive(Debug)]
pub enum Outcome {
    Created(Article),
    Updated(Article),
}

impl Outcome {
    pub fn article(&self) -> &Article {
        match self {
            Outcome::Created(a) | Outcome::Updated(a) => a,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error(transparent)]
    Invalid(#[from] ValidationErrors),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Publishes (creates or updates) the article in `bytes`. `author` (a user's slug, email
/// or name) overrides the file's `author`; with neither, the oldest admin writes it.
pub async fn publish(
    store: &dyn Store,
    bytes: &[u8],
    author: Option<&str>,
) -> Result<Outcome, PublishError> {
    let settings = store.settings().await?;
    let file = frontmatter::parse(bytes, settings.tz())?;
    publish_file(store, &settings, file, author).await
}

/// Publishes (creates or updates) a parsed front-matter file, and makes its
/// `aliases` (old paths) lead to it.
pub async fn publish_file(
    store: &dyn Store,
    settings: &SiteSettings,
    file: frontmatter::MarkdownFile,
    author: Option<&str>,
) -> Result<Outcome, PublishError> {
    let author_id = resolve_author(store, author.or(file.author.as_deref())).await?;
    let slug = file
        .slug
        .clone()
        .unwrap_or_else(|| broadsheet_domain::slug::slugify(&file.title));
    let existing = match store.find_by_slug(&slug).await {
        Ok(SlugLookup::Current(article) | SlugLookup::Moved(article)) => Some(article),
        Err(StoreError::NotFound) => None,
        Err(e) => return Err(e.into()),
    };
    let input = ArticleInput {
        kind: file.kind,
        title: file.title,
        slug: Some(slug),
        excerpt: file.excerpt,
        source: file.body,
        format: file.format,
        tags: file.tags,
        author_id,
        status: file.status,
        // Re-publishing keeps the original date unless the file names one.
        published_at: file
            .date
            .or_else(|| existing.as_ref().and_then(|a| a.published_at)),
        cover_image: file.cover_image,
        featured: file.featured,
    };
    let write = prepare(input, settings)?;
    let outcome = match existing {
        Some(article) => Outcome::Updated(save(store, Some(article.id), &write).await?),
        None => Outcome::Created(save(store, None, &write).await?),
    };
    let article = outcome.article();
    let own = article.permalink(settings.tz());
    let redirects: Vec<LegacyRedirect> = file
        .aliases
        .iter()
        .filter_map(|alias| normalise_path(alias.trim()))
        .filter(|path| *path != own)
        .map(|path| LegacyRedirect {
            path,
            target: LegacyTarget::Article(article.id),
        })
        .collect();
    if !redirects.is_empty() {
        store.put_legacy_redirects(&redirects).await?;
    }
    Ok(outcome)
}

/// Validates and renders an article for this site (its reading speed, now). Every way
/// of writing an article (a file, the admin's editor) prepares it here.
pub fn prepare(
    input: ArticleInput,
    settings: &SiteSettings,
) -> Result<ArticleWrite, ValidationErrors> {
    input.prepare(settings.reading_speed, clock::now())
}

/// Stores a prepared article, as a new one when `id` is `None`, and when it is
/// scheduled enqueues the job that publishes it at its time. An article that is
/// public news now is announced ([`crate::announce`], once per article ever); one
/// that was public before and still is reports `article.updated` to webhooks.
pub async fn save(
    store: &dyn Store,
    id: Option<ArticleId>,
    write: &ArticleWrite,
) -> Result<Article, StoreError> {
    // Whether readers could see it before: saving it again is then an update.
    let was_public = match id {
        Some(id) => match store.article_by_id(id).await {
            Ok(before) => before.is_public(clock::now()),
            Err(StoreError::NotFound) => false,
            Err(err) => return Err(err),
        },
        None => false,
    };
    let article = match id {
        Some(id) => store.update_article(id, write).await?,
        None => store.insert_article(write).await?,
    };
    crate::jobs::publish::schedule(store, &article).await?;
    crate::announce::enqueue(store, &article).await?;
    if was_public && article.is_public(clock::now()) {
        crate::webhooks::events::article_updated(store, &article).await?;
    }
    Ok(article)
}

/// Finds the author a file names (slug, email or name). Without a name: the oldest
/// active admin, else the oldest user, else (on a site with no users yet) the
/// built-in desk author, so a newcomer can publish before adding anyone.
async fn resolve_author(store: &dyn Store, wanted: Option<&str>) -> Result<UserId, PublishError> {
    let users = store.list_users().await?;
    let Some(wanted) = wanted.map(str::trim).filter(|w| !w.is_empty()) else {
        let oldest = users
            .iter()
            .find(|u| u.role == Role::Admin && u.active)
            .or(users.first());
        return match oldest {
            Some(user) => Ok(user.id),
            None => Ok(crate::welcome::desk_author(store).await?),
        };
    };
    users
        .iter()
        .find(|u: &&User| {
            u.slug == wanted
                || u.email.eq_ignore_ascii_case(wanted)
                || u.display_name.eq_ignore_ascii_case(wanted)
        })
        .map(|u| u.id)
        .ok_or_else(|| {
            ValidationErrors::single(
                "author",
                format!("no user \"{wanted}\"; name an existing user's slug or email, or add one with `broadsheet user add`"),
            )
            .into()
        })
}
