//! `broadsheet import wordpress FILE.xml`: a WordPress export (WXR) into the site.
//!
//! The file is read twice, as a stream both times. The first pass checks that the XML
//! is whole (so a broken file is refused, line named, before anything is written) and
//! collects what later items refer to: authors, categories, and attachments (their
//! URLs, for galleries and featured images). The second pass imports item by item.
//!
//! - Posts and pages keep their WordPress ids as Broadsheet ids when free; every item
//!   is recorded in the store's import map with its write, so a second run skips what
//!   the first did and changes nothing.
//! - Dates: `post_date_gmt` when WordPress set one, else `post_date` in the site's time
//!   zone (drafts have no GMT date). The old dated URL uses `post_date`, WordPress's
//!   local date, as WordPress built it.
//! - Statuses: publish and future are published (a future date makes it scheduled);
//!   draft, pending and private become drafts (private and password-protected posts
//!   must not become public by moving house); trash and auto-drafts are skipped.
//! - Authors become inactive contributors without a password; an admin activates them.
//!   An author whose email belongs to a user already is that user.
//! - Categories and tags both become tags (the default "Uncategorized" is dropped).
//! - Comments keep their threads, statuses and kinds (pingbacks and trackbacks), and
//!   their text is turned into the site's plain-text comments.
//! - Old URLs answer 301: `/?p=ID`, `/?page_id=ID`, the item's own `<link>`,
//!   `/YYYY/MM/DD/slug/`, `/slug/`, `/category/x/` (nested ones too), `/tag/x/` when
//!   the slug changed, and attachment pages (to the post they belong to).

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::io::BufReader;
use std::path::Path;

use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;

use broadsheet_domain::comment::{is_web_url, render_comment};
use broadsheet_domain::import::normalise_path;
use broadsheet_domain::{
    ArticleId, ArticleInput, CommentId, CommentKind, CommentStatus, ContentKind, ImportKind,
    ImportedComment, LegacyRedirect, LegacyTarget, NetworkHash, NewComment, NewUser, Role,
    SourceFormat, Status, Store, StoreError, UserId, article, render, slug, tag,
};

use super::shortcodes::{self, Attachment, Attachments};
use super::wxr::{self, Author, Entry, Item, ItemComment, Term, WxrError, WxrReader};
use super::{Summary, progress};

/// An import that could not start or was refused. The message carries its cause (a
/// caller shows one line), so the cause is not also reported as the error's source,
/// which `{:#}` would print a second time.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("cannot read {path}: {cause}")]
    Io { path: String, cause: std::io::Error },
    #[error("{path}: {cause}")]
    Wxr { path: String, cause: WxrError },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What the first pass learns.
#[derive(Debug, Default)]
struct Scan {
    channel: wxr::Channel,
    authors: Vec<Author>,
    categories: Vec<Term>,
    tags: Vec<Term>,
    attachments: HashMap<i64, Attachment>,
    /// Attachment pages' old paths, by attachment id.
    attachment_links: HashMap<i64, String>,
    items: u64,
}

impl Attachments for Scan {
    fn by_id(&self, id: i64) -> Option<&Attachment> {
        self.attachments.get(&id)
    }

    fn of_post(&self, post: i64) -> Vec<&Attachment> {
        let mut own: Vec<&Attachment> = self
            .attachments
            .values()
            .filter(|a| a.parent == Some(post))
            .collect();
        own.sort_by_key(|a| (a.menu_order, a.id));
        own
    }
}

fn open(path: &Path) -> Result<WxrReader<BufReader<File>>, ImportError> {
    let file = File::open(path).map_err(|cause| ImportError::Io {
        path: path.display().to_string(),
        cause,
    })?;
    Ok(WxrReader::new(BufReader::with_capacity(256 * 1024, file)))
}

/// Names the file in a reader's error.
fn wxr_error(path: &Path) -> impl Fn(WxrError) -> ImportError + '_ {
    move |cause| ImportError::Wxr {
        path: path.display().to_string(),
        cause,
    }
}

fn scan(path: &Path) -> Result<Scan, ImportError> {
    let mut reader = open(path)?;
    let mut scan = Scan::default();
    while let Some(entry) = reader.next_entry().map_err(wxr_error(path))? {
        match entry {
            Entry::Author(author) => scan.authors.push(author),
            Entry::Term(term) if term.taxonomy == "category" => scan.categories.push(term),
            Entry::Term(term) if term.taxonomy == "post_tag" => scan.tags.push(term),
            Entry::Term(_) => {}
            Entry::Item(item) => {
                scan.items += 1;
                if item.post_type == "attachment"
                    && let Some(id) = item.post_id
                {
                    if let Some(path) = link_path(&item.link) {
                        scan.attachment_links.insert(id, path);
                    }
                    scan.attachments.insert(
                        id,
                        Attachment {
                            id,
                            url: item.attachment_url.clone(),
                            title: item.title.clone(),
                            caption: item.excerpt.clone(),
                            parent: item.post_parent,
                            menu_order: item.menu_order,
                        },
                    );
                }
            }
        }
    }
    scan.channel = reader.channel().clone();
    Ok(scan)
}

/// Imports a WXR file. Fails only when the file cannot be read or is not whole XML
/// (before anything is written) or the store fails; anything wrong with one item is
/// noted in the summary and the import goes on.
pub async fn import(store: &dyn Store, path: &Path) -> Result<Summary, ImportError> {
    let scan = scan(path)?;
    let settings = store.settings().await?;
    let mut run = Run {
        store,
        tz: settings.tz(),
        speed: settings.reading_speed,
        source: source_of(&scan.channel, path),
        users: HashMap::new(),
        fallback_author: None,
        summary: Summary::default(),
        scan: &scan,
    };
    if scan.channel.wxr_version.is_none() {
        run.summary.warn(
            path.display().to_string(),
            "the file names no wp:wxr_version; read as WXR 1.2",
        );
    }
    for author in &scan.authors {
        run.author(author).await?;
    }
    run.term_redirects().await?;

    let bar = progress(scan.items, "importing");
    let mut reader = open(path)?;
    while let Some(entry) = reader.next_entry().map_err(wxr_error(path))? {
        if let Entry::Item(item) = entry {
            run.item(&item).await?;
            bar.inc(1);
        }
    }
    bar.finish_and_clear();
    run.attachment_redirects().await?;
    Ok(run.summary)
}

/// The old site's identity in the import map: its URL.
fn source_of(channel: &wxr::Channel, path: &Path) -> String {
    [&channel.base_blog_url, &channel.link]
        .into_iter()
        .map(|url| url.trim().trim_end_matches('/'))
        .find(|url| !url.is_empty())
        .map(str::to_owned)
        .unwrap_or_else(|| format!("file:{}", path.display()))
}

/// The path (and query) of a URL on the old site.
fn link_path(link: &str) -> Option<String> {
    let link = link.trim();
    let rest = match link.find("://") {
        Some(at) => {
            let after = &link[at + 3..];
            &after[after.find('/').unwrap_or(after.len())..]
        }
        None => link,
    };
    let rest = if rest.is_empty() { "/" } else { rest };
    let rest = rest.split('#').next().unwrap_or(rest);
    normalise_path(rest)
}

/// A WordPress date ("2013-01-10 20:15:40"); `None` for the zero date and nonsense.
fn wp_date(text: &str) -> Option<NaiveDateTime> {
    if text.is_empty() || text.starts_with("0000") {
        return None;
    }
    NaiveDateTime::parse_from_str(text.trim(), "%Y-%m-%d %H:%M:%S").ok()
}

/// The GMT date when WordPress set one, else the local date in the site's zone.
fn instant(gmt: &str, local: &str, tz: Tz) -> Option<DateTime<Utc>> {
    wp_date(gmt).map(|d| d.and_utc()).or_else(|| {
        wp_date(local)
            .and_then(|d| tz.from_local_datetime(&d).earliest())
            .map(|d| d.with_timezone(&Utc))
    })
}

struct Run<'a> {
    store: &'a dyn Store,
    tz: Tz,
    speed: broadsheet_domain::read_time::ReadingSpeed,
    source: String,
    /// Author logins to users.
    users: HashMap<String, UserId>,
    fallback_author: Option<UserId>,
    summary: Summary,
    scan: &'a Scan,
}

impl Run<'_> {
    /// Creates (or finds) the user for a WordPress author.
    async fn author(&mut self, author: &Author) -> Result<Option<UserId>, StoreError> {
        let login = author.login.trim();
        if login.is_empty() {
            self.summary
                .skip("an author without a login", "no wp:author_login");
            return Ok(None);
        }
        if let Some(id) = self.users.get(login) {
            return Ok(Some(*id));
        }
        if let Some(id) = self
            .store
            .imported_id(&self.source, ImportKind::User, login)
            .await?
        {
            self.users.insert(login.to_owned(), UserId(id));
            return Ok(Some(UserId(id)));
        }
        let full_name = format!("{} {}", author.first_name.trim(), author.last_name.trim());
        let name = [author.display_name.trim(), full_name.trim(), login]
            .into_iter()
            .find(|n| !n.is_empty() && !slug::slugify(n).is_empty())
            .unwrap_or("WordPress author");
        let email = author.email.trim();
        // An author without a usable address still needs a unique one; .invalid never
        // delivers (RFC 2606).
        let email = if broadsheet_domain::user::looks_like_email(email) {
            email.to_owned()
        } else {
            format!("{}@wordpress-import.invalid", slug::slugify(login))
        };
        let item = format!("author {login}");
        let mut new = match NewUser::validate(name, &email, Role::Contributor, None) {
            Ok(new) => new,
            Err(e) => {
                self.summary.fail(item, e.to_string());
                return Ok(None);
            }
        };
        let base = new.slug.clone();
        for attempt in 1..=5 {
            match self.store.import_user(&self.source, login, &new).await {
                Ok(user) => {
                    if user.email == new.email && user.display_name == new.display_name {
                        self.summary.count("authors", 1);
                    } else {
                        self.summary.warn(
                            item,
                            format!("mapped to the existing user {}", user.display_name),
                        );
                    }
                    self.users.insert(login.to_owned(), user.id);
                    return Ok(Some(user.id));
                }
                Err(StoreError::Conflict { field: "slug" }) => {
                    new.slug = format!("{base}-{}", attempt + 1);
                }
                Err(e) => return Err(e),
            }
        }
        self.summary
            .fail(item, "no free slug for the author's name");
        Ok(None)
    }

    /// The author of an item: its `dc:creator`, else the site's oldest admin.
    async fn author_of(&mut self, creator: &str) -> Result<UserId, StoreError> {
        let creator = creator.trim();
        if !creator.is_empty() {
            if let Some(id) = self.users.get(creator) {
                return Ok(*id);
            }
            let author = Author {
                login: creator.to_owned(),
                ..Author::default()
            };
            if let Some(id) = self.author(&author).await? {
                return Ok(id);
            }
        }
        if let Some(id) = self.fallback_author {
            return Ok(id);
        }
        let users = self.store.list_users().await?;
        let id = match users.iter().find(|u| u.role == Role::Admin && u.active) {
            Some(admin) => admin.id,
            None => crate::welcome::desk_author(self.store).await?,
        };
        self.fallback_author = Some(id);
        Ok(id)
    }

    /// `/category/x/` (with its parents' slugs for nested ones) and `/?cat=ID` lead to
    /// the tag; `/tag/x/` too when the slug changed.
    async fn term_redirects(&mut self) -> Result<(), StoreError> {
        let mut redirects = Vec::new();
        let by_slug: HashMap<&str, &Term> = self
            .scan
            .categories
            .iter()
            .map(|t| (t.slug.as_str(), t))
            .collect();
        for category in &self.scan.categories {
            let Some(tag) = tag::Tag::from_name(&category.name) else {
                continue;
            };
            let mut path = vec![category.slug.as_str()];
            let mut parent = category.parent.as_str();
            while let Some(up) = by_slug.get(parent).filter(|_| path.len() < 10) {
                path.insert(0, up.slug.as_str());
                parent = up.parent.as_str();
            }
            let target = tag.url();
            let mut paths = vec![format!("/category/{}/", path.join("/"))];
            if path.len() > 1 {
                paths.push(format!("/category/{}/", category.slug));
            }
            if let Some(id) = category.id {
                paths.push(format!("/?cat={id}"));
            }
            push_redirects(&mut redirects, paths, LegacyTarget::Location(target));
        }
        for term in &self.scan.tags {
            let Some(tag) = tag::Tag::from_name(&term.name) else {
                continue;
            };
            push_redirects(
                &mut redirects,
                vec![
                    format!("/tag/{}/", term.slug),
                    format!("/?tag={}", term.slug),
                ],
                LegacyTarget::Location(tag.url()),
            );
        }
        self.save_redirects(redirects, "old category and tag URLs")
            .await
    }

    async fn save_redirects(
        &mut self,
        redirects: Vec<LegacyRedirect>,
        what: &'static str,
    ) -> Result<(), StoreError> {
        if redirects.is_empty() {
            return Ok(());
        }
        let changed = self.store.put_legacy_redirects(&redirects).await?;
        if changed > 0 {
            self.summary.count(what, changed);
        }
        Ok(())
    }

    /// Attachment pages lead to the post they belong to (or, orphaned, to the file).
    async fn attachment_redirects(&mut self) -> Result<(), StoreError> {
        let mut redirects = Vec::new();
        let mut ids: Vec<&i64> = self.scan.attachments.keys().collect();
        ids.sort();
        for &id in ids {
            let attachment = &self.scan.attachments[&id];
            let post = match attachment.parent {
                Some(parent) => self
                    .store
                    .imported_id(&self.source, ImportKind::Post, &parent.to_string())
                    .await?
                    .map(ArticleId),
                None => None,
            };
            let target = match post {
                Some(article) => LegacyTarget::Article(article),
                None if is_web_url(&attachment.url) => {
                    LegacyTarget::Location(attachment.url.clone())
                }
                None => continue,
            };
            let mut paths = vec![format!("/?attachment_id={id}"), format!("/?p={id}")];
            paths.extend(self.scan.attachment_links.get(&id).cloned());
            push_redirects(&mut redirects, paths, target);
        }
        self.save_redirects(redirects, "attachment pages").await
    }

    async fn item(&mut self, item: &Item) -> Result<(), StoreError> {
        let label = label(item);
        match item.post_type.as_str() {
            "post" | "page" => self.post(item, &label).await,
            // Counted with its page's redirect once every post is in.
            "attachment" => Ok(()),
            "nav_menu_item" | "wp_navigation" => {
                self.summary
                    .skip(label, "a navigation menu item (Broadsheet builds its own)");
                Ok(())
            }
            "revision" => {
                self.summary
                    .skip(label, "an old revision (the current text is imported)");
                Ok(())
            }
            "" => {
                self.summary.fail(label, "no wp:post_type");
                Ok(())
            }
            other => {
                self.summary.skip(
                    label,
                    format!("a \"{other}\" item (only posts and pages are content here)"),
                );
                Ok(())
            }
        }
    }

    async fn post(&mut self, item: &Item, label: &str) -> Result<(), StoreError> {
        let Some(wp_id) = item.post_id else {
            self.summary.fail(label, "no wp:post_id");
            return Ok(());
        };
        let kind = if item.post_type == "page" {
            ContentKind::Page
        } else {
            ContentKind::Article
        };
        let noun = if kind == ContentKind::Page {
            "pages"
        } else {
            "posts"
        };
        let mapped = self
            .store
            .imported_id(&self.source, ImportKind::Post, &wp_id.to_string())
            .await?;
        let fresh = mapped.is_none();
        let article = match mapped {
            Some(id) => {
                self.summary.skip(label, "imported before");
                ArticleId(id)
            }
            None => {
                let status = match item.status.as_str() {
                    "publish" | "future" => Status::Published,
                    "draft" | "pending" | "private" => {
                        if item.status != "draft" {
                            self.summary
                                .warn(label, format!("was {}, kept as a draft", item.status));
                        }
                        Status::Draft
                    }
                    "trash" | "auto-draft" | "inherit" => {
                        self.summary
                            .skip(label, format!("has the status \"{}\"", item.status));
                        return Ok(());
                    }
                    other => {
                        self.summary.warn(
                            label,
                            format!("has the unknown status \"{other}\", kept as a draft"),
                        );
                        Status::Draft
                    }
                };
                let status = if item.post_password.is_empty() {
                    status
                } else {
                    self.summary.warn(
                        label,
                        "was password-protected, kept as a draft (Broadsheet has no passwords on posts)",
                    );
                    Status::Draft
                };
                match self.write_post(item, wp_id, kind, status, label).await? {
                    Some(article) => {
                        self.summary.count(noun, 1);
                        article
                    }
                    None => return Ok(()),
                }
            }
        };
        self.comments(item, article, fresh).await
    }

    /// Prepares and stores a post or page; `None` when it failed (noted).
    async fn write_post(
        &mut self,
        item: &Item,
        wp_id: i64,
        kind: ContentKind,
        status: Status,
        label: &str,
    ) -> Result<Option<ArticleId>, StoreError> {
        let author_id = self.author_of(&item.creator).await?;
        let now = broadsheet_domain::clock::now();
        let published_at = instant(&item.post_date_gmt, &item.post_date, self.tz);
        let updated_at = instant(&item.post_modified_gmt, &item.post_modified, self.tz)
            .or(published_at)
            .unwrap_or(now)
            .min(now);
        let title = {
            let t = item.title.trim();
            let t = if t.is_empty() { "Untitled" } else { t };
            t.chars().take(article::MAX_TITLE_CHARS).collect::<String>()
        };
        let mut tags: Vec<String> = item
            .terms
            .iter()
            // WXR 1.0 wrote categories without a domain and tags as domain="tag".
            .filter(|t| match t.domain.as_str() {
                "category" | "" => {
                    t.slug != "uncategorized" && !t.name.eq_ignore_ascii_case("uncategorized")
                }
                "post_tag" | "tag" => true,
                _ => false,
            })
            .map(|t| t.name.clone())
            .collect();
        let distinct = tag::normalise(&tags).len();
        if distinct > article::MAX_TAGS {
            self.summary.warn(
                label,
                format!(
                    "kept the first {} of its {distinct} categories and tags",
                    article::MAX_TAGS
                ),
            );
            let keep: Vec<String> = tag::normalise(&tags)
                .into_iter()
                .take(article::MAX_TAGS)
                .map(|t| t.name)
                .collect();
            tags = keep;
        }
        let excerpt = {
            let text = render::from_html(&item.excerpt).text;
            let text = text.trim();
            (!text.is_empty()).then(|| text.chars().take(article::MAX_EXCERPT_CHARS).collect())
        };
        let cover_image = item
            .meta("_thumbnail_id")
            .and_then(|id| id.trim().parse::<i64>().ok())
            .and_then(|id| self.scan.attachments.get(&id))
            .map(|a| a.url.clone())
            .filter(|url| !url.is_empty());
        let source = shortcodes::to_html(&item.content, Some(wp_id), self.scan);
        let wanted_slug = slug_for(item, &title, kind, wp_id);
        let mut slug_now = wanted_slug.clone();
        for attempt in 0..2 {
            let input = ArticleInput {
                kind,
                title: title.clone(),
                slug: Some(slug_now.clone()),
                excerpt: excerpt.clone(),
                source: source.clone(),
                format: SourceFormat::Html,
                tags: tags.clone(),
                author_id,
                status,
                published_at: if status == Status::Draft && wp_date(&item.post_date_gmt).is_none() {
                    None
                } else {
                    published_at
                },
                cover_image: cover_image.clone(),
                featured: item.is_sticky,
            };
            let write = match input.prepare(self.speed, now) {
                Ok(write) => write,
                Err(e) => {
                    self.summary.fail(label, e.to_string());
                    return Ok(None);
                }
            };
            let created_at = write.published_at.unwrap_or(updated_at).min(updated_at);
            let stored = self
                .store
                .import_article(
                    &self.source,
                    &wp_id.to_string(),
                    Some(ArticleId(wp_id)),
                    &write,
                    created_at,
                    updated_at,
                )
                .await;
            match stored {
                Ok(article) => {
                    crate::jobs::publish::schedule(self.store, &article).await?;
                    if article.id.0 != wp_id {
                        self.summary.warn(
                            label,
                            format!("its id was taken; it is article {} now", article.id),
                        );
                    }
                    if article.slug != item.post_name && !item.post_name.is_empty() {
                        self.summary
                            .warn(label, format!("its slug is \"{}\" now", article.slug));
                    }
                    self.post_redirects(item, wp_id, &article).await?;
                    return Ok(Some(article.id));
                }
                Err(StoreError::Conflict { field: "slug" }) if attempt == 0 => {
                    slug_now = format!("{wanted_slug}-{wp_id}");
                }
                Err(StoreError::Conflict { field }) => {
                    self.summary
                        .fail(label, format!("its {field} is taken by another article"));
                    return Ok(None);
                }
                Err(e) => return Err(e),
            }
        }
        Ok(None)
    }

    /// The old URLs of a post that now lead to it.
    async fn post_redirects(
        &mut self,
        item: &Item,
        wp_id: i64,
        article: &broadsheet_domain::Article,
    ) -> Result<(), StoreError> {
        let mut paths = vec![format!("/?p={wp_id}")];
        if item.post_type == "page" {
            paths.push(format!("/?page_id={wp_id}"));
        }
        paths.extend(link_path(&item.link));
        let old_slug = if item.post_name.is_empty() {
            String::new()
        } else {
            broadsheet_domain::import::percent_decode(&item.post_name)
        };
        if !old_slug.is_empty() && item.post_type == "post" {
            if let Some(date) = wp_date(&item.post_date) {
                paths.push(format!("{}/{old_slug}/", date.format("/%Y/%m/%d")));
            }
            paths.push(format!("/{old_slug}/"));
        }
        let mut redirects = Vec::new();
        let new_path = article.permalink(self.tz);
        push_redirects(
            &mut redirects,
            paths.into_iter().filter(|p| *p != new_path).collect(),
            LegacyTarget::Article(article.id),
        );
        self.save_redirects(redirects, "old URLs").await
    }

    /// Imports a post's comments, parents before replies, in one store call per
    /// batch. `fresh`: the post was created by this run, so none of its comments can
    /// have been imported before (no need to ask for each).
    async fn comments(
        &mut self,
        item: &Item,
        article: ArticleId,
        fresh: bool,
    ) -> Result<(), StoreError> {
        let present: HashSet<i64> = item.comments.iter().filter_map(|c| c.id).collect();
        let mut rest: Vec<&ItemComment> = item.comments.iter().collect();
        rest.sort_by_key(|c| c.id);
        // Replies may precede their parents in a file: place a comment once its parent
        // is placed (or is not in the file at all).
        let mut placed = HashSet::new();
        let mut ordered = Vec::with_capacity(rest.len());
        loop {
            let before = rest.len();
            let mut waiting = Vec::new();
            for comment in rest {
                match comment.parent {
                    Some(parent) if present.contains(&parent) && !placed.contains(&parent) => {
                        waiting.push(comment)
                    }
                    _ => {
                        placed.extend(comment.id);
                        ordered.push(comment);
                    }
                }
            }
            if waiting.is_empty() || waiting.len() == before {
                // A cycle of replies: their parents will not be found, and they fail.
                ordered.extend(waiting);
                break;
            }
            rest = waiting;
        }
        let mut batch = Vec::with_capacity(ordered.len());
        let mut labels = Vec::with_capacity(ordered.len());
        for comment in ordered {
            if let Some((imported, label)) = self
                .comment(item, article, comment, fresh, &present)
                .await?
            {
                batch.push(imported);
                labels.push(label);
            }
        }
        for (chunk, labels) in batch
            .chunks(COMMENTS_PER_WRITE)
            .zip(labels.chunks(COMMENTS_PER_WRITE))
        {
            let results = self.store.import_comments(&self.source, chunk).await?;
            for ((result, wanted), label) in results.into_iter().zip(chunk).zip(labels) {
                match result {
                    Ok(stored) => {
                        self.summary.count(
                            match stored.kind {
                                CommentKind::Comment => "comments",
                                CommentKind::Pingback => "pingbacks",
                                CommentKind::Trackback => "trackbacks",
                            },
                            1,
                        );
                        if Some(stored.id) != wanted.wanted {
                            self.summary.warn(
                                label,
                                format!("its id was taken; it is comment {} now", stored.id),
                            );
                        }
                    }
                    Err(StoreError::NotFound) => {
                        self.summary
                            .fail(label, "its parent comment could not be imported");
                    }
                    Err(e) => self.summary.fail(label, e.to_string()),
                }
            }
        }
        Ok(())
    }

    /// One comment made ready for the store, with its label; `None` when it is not
    /// imported (noted).
    async fn comment(
        &mut self,
        item: &Item,
        article: ArticleId,
        comment: &ItemComment,
        fresh: bool,
        present: &HashSet<i64>,
    ) -> Result<Option<(ImportedComment, String)>, StoreError> {
        let label = format!(
            "comment {} on {}",
            comment.id.map(|i| i.to_string()).unwrap_or_default(),
            label(item)
        );
        let Some(wp_id) = comment.id else {
            self.summary.fail(label, "no wp:comment_id");
            return Ok(None);
        };
        if !fresh
            && self
                .store
                .imported_id(&self.source, ImportKind::Comment, &wp_id.to_string())
                .await?
                .is_some()
        {
            self.summary.skip(label, "imported before");
            return Ok(None);
        }
        let parent = match comment.parent {
            Some(parent) if present.contains(&parent) => Some(parent.to_string()),
            Some(parent) => {
                self.summary.warn(
                    &label,
                    format!("its parent comment {parent} is not in the file; kept as a top-level comment"),
                );
                None
            }
            None => None,
        };
        let kind = match comment.kind.as_str() {
            "" | "comment" => CommentKind::Comment,
            "pingback" => CommentKind::Pingback,
            "trackback" => CommentKind::Trackback,
            other => {
                self.summary
                    .skip(label, format!("a \"{other}\" note, not a comment"));
                return Ok(None);
            }
        };
        let status = match comment.approved.as_str() {
            "1" | "approve" | "approved" => CommentStatus::Approved,
            "0" | "hold" | "" => CommentStatus::Pending,
            "spam" => CommentStatus::Spam,
            "trash" | "post-trashed" => CommentStatus::Trash,
            other => {
                self.summary.warn(
                    &label,
                    format!("has the unknown status \"{other}\", held for moderation"),
                );
                CommentStatus::Pending
            }
        };
        let now = broadsheet_domain::clock::now();
        let created_at = instant(&comment.date_gmt, &comment.date, self.tz)
            .unwrap_or(now)
            .min(now);
        let body = comment_text(&comment.content);
        let body = if body.is_empty() {
            "(empty)".to_owned()
        } else {
            body
        };
        let author_name = {
            let name: String = comment
                .author
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ");
            let name: String = name
                .chars()
                .take(broadsheet_domain::comment::MAX_NAME)
                .collect();
            if name.is_empty() {
                broadsheet_domain::comment::ERASED_NAME.to_owned()
            } else {
                name
            }
        };
        let url = comment.author_url.trim();
        let new = NewComment {
            article_id: article,
            parent_id: None,
            status,
            author_name,
            author_email: comment.author_email.trim().to_lowercase(),
            author_url: is_web_url(url).then(|| url.to_owned()),
            body_html: render_comment(&body),
            body,
            reader: None,
            network: NetworkHash(String::new()),
            notify_replies: false,
            reason: (status != CommentStatus::Approved)
                .then(|| format!("imported from WordPress as {status}")),
            day: created_at.with_timezone(&self.tz).date_naive(),
            created_at,
        };
        Ok(Some((
            ImportedComment {
                source_id: wp_id.to_string(),
                wanted: Some(CommentId(wp_id)),
                parent,
                comment: new,
                kind,
            },
            label,
        )))
    }
}

/// Comments per store call: one transaction each, small enough to keep the write
/// lock briefly.
const COMMENTS_PER_WRITE: usize = 500;

/// The slug a post gets: WordPress's own when it is a valid slug here, else one made
/// from it or the title, else `post-ID`.
fn slug_for(item: &Item, title: &str, kind: ContentKind, wp_id: i64) -> String {
    let decoded = broadsheet_domain::import::percent_decode(item.post_name.trim());
    [
        decoded.clone(),
        slug::slugify(&decoded),
        slug::slugify(title),
    ]
    .into_iter()
    .find(|s| slug::validate(s).is_ok())
    .unwrap_or_else(|| format!("{}-{wp_id}", kind.as_str()))
}

fn label(item: &Item) -> String {
    let id = item.post_id.map(|i| i.to_string()).unwrap_or_default();
    let kind = if item.post_type.is_empty() {
        "item"
    } else {
        item.post_type.as_str()
    };
    let title: String = item.title.chars().take(60).collect();
    format!("{kind} {id} \"{title}\" (line {})", item.line)
}

/// Adds a redirect per distinct, valid path, skipping any already listed.
fn push_redirects(redirects: &mut Vec<LegacyRedirect>, paths: Vec<String>, target: LegacyTarget) {
    for path in paths {
        let Some(path) = normalise_path(&path) else {
            continue;
        };
        // A path that leads to itself would loop.
        if matches!(&target, LegacyTarget::Location(l) if normalise_path(l).as_deref() == Some(path.as_str()))
            || redirects.iter().any(|r| r.path == path)
        {
            continue;
        }
        redirects.push(LegacyRedirect {
            path,
            target: target.clone(),
        });
    }
}

/// A WordPress comment's HTML as the site's plain-text comment: tags dropped (a
/// link's address kept after its text), paragraphs kept, entities decoded.
fn comment_text(html: &str) -> String {
    let html = html.replace("\r\n", "\n");
    let mut out = String::with_capacity(html.len());
    let mut rest = html.as_str();
    while let Some(start) = rest.find('<') {
        out.push_str(&rest[..start]);
        let Some(end) = rest[start..].find('>') else {
            out.push_str(&rest[start..]);
            rest = "";
            break;
        };
        let tag = &rest[start + 1..start + end];
        let name = tag
            .trim_start_matches('/')
            .split(|c: char| c.is_whitespace() || c == '/')
            .next()
            .unwrap_or("")
            .to_ascii_lowercase();
        match name.as_str() {
            "br" => out.push('\n'),
            "p" | "div" | "blockquote" | "li" if tag.starts_with('/') => out.push_str("\n\n"),
            "a" if !tag.starts_with('/') => {
                if let Some(href) = attr_value(tag, "href")
                    && is_web_url(&href)
                {
                    // Shown after the text as plain URL, which the renderer links.
                    let close = rest[start + end..].find("</a>").map(|c| start + end + c);
                    if let Some(close) = close {
                        let inner = &rest[start + end + 1..close];
                        let inner_text = comment_text(inner);
                        out.push_str(inner_text.trim());
                        if inner_text.trim() != href {
                            out.push_str(" (");
                            out.push_str(&href);
                            out.push(')');
                        }
                        rest = &rest[close + 4..];
                        continue;
                    }
                }
            }
            _ => {}
        }
        rest = &rest[start + end + 1..];
    }
    out.push_str(rest);
    let decoded = html_escape::decode_html_entities(&out).into_owned();
    decoded
        .split("\n\n")
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join("\n\n")
}

fn attr_value(tag: &str, name: &str) -> Option<String> {
    let lower = tag.to_ascii_lowercase();
    let at = lower.find(&format!("{name}="))?;
    let value = &tag[at + name.len() + 1..];
    let value = match value.chars().next()? {
        q @ ('"' | '\'') => value[1..].split(q).next()?,
        _ => value.split(char::is_whitespace).next()?,
    };
    Some(html_escape::decode_html_entities(value).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn old_links_become_paths() {
        assert_eq!(
            link_path("https://example.com/2013/01/10/hello-world/").as_deref(),
            Some("/2013/01/10/hello-world/")
        );
        assert_eq!(
            link_path("http://example.com/?p=12").as_deref(),
            Some("/?p=12")
        );
        assert_eq!(link_path("https://example.com").as_deref(), Some("/"));
    }

    #[test]
    fn dates_prefer_gmt_and_skip_the_zero_date() {
        let tz: Tz = "Europe/Berlin".parse().unwrap();
        let gmt = instant("2013-01-10 20:15:40", "2013-01-10 21:15:40", tz).unwrap();
        assert_eq!(gmt.to_rfc3339(), "2013-01-10T20:15:40+00:00");
        let local = instant("0000-00-00 00:00:00", "2013-07-01 12:00:00", tz).unwrap();
        assert_eq!(local.to_rfc3339(), "2013-07-01T10:00:00+00:00");
        assert_eq!(instant("", "nonsense", tz), None);
    }

    #[test]
    fn comment_html_becomes_text() {
        assert_eq!(
            comment_text(
                "<p>Hi &amp; <strong>welcome</strong><br/>see <a href=\"https://x.example/\">this</a></p><p>Bye</p>"
            ),
            "Hi & welcome\nsee this (https://x.example/)\n\nBye"
        );
        assert_eq!(comment_text("plain <3 text"), "plain <3 text");
    }
}
