//! People and articles for the stories, prepared by the domain exactly as the site
//! would, on a fixed clock so that the stories do not depend on the day they run.

use broadsheet_domain::read_time::ReadingSpeed;
use broadsheet_domain::{
    ArticleInput, ArticleWrite, ContentKind, NewUser, Role, SourceFormat, Status, Store, User,
};
use chrono::{DateTime, TimeDelta, TimeZone, Utc};

/// "Now" for the stories: what the domain prepares against and what readers see at.
pub fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 6, 1, 12, 0, 0).unwrap()
}

/// `hours` before [`now`].
pub fn hours_ago(hours: i64) -> DateTime<Utc> {
    now() - TimeDelta::hours(hours)
}

/// `hours` after [`now`].
pub fn hours_ahead(hours: i64) -> DateTime<Utc> {
    now() + TimeDelta::hours(hours)
}

pub async fn author(store: &dyn Store, name: &str) -> User {
    let email = format!("{}@example.org", broadsheet_domain::slug::slugify(name));
    let user = NewUser::validate(name, &email, Role::Author, None).expect("valid user");
    store.create_user(&user).await.expect("create user")
}

/// A published Markdown article by `author`, an hour old, changed by `edit` before the
/// domain prepares it.
pub fn article(author: &User, title: &str, edit: impl FnOnce(&mut ArticleInput)) -> ArticleWrite {
    let mut input = ArticleInput {
        kind: ContentKind::Article,
        title: title.to_owned(),
        slug: None,
        excerpt: None,
        source: format!("Words about {title}, written for the story."),
        format: SourceFormat::Markdown,
        tags: Vec::new(),
        author_id: author.id,
        status: Status::Published,
        published_at: Some(hours_ago(1)),
        cover_image: None,
        featured: false,
    };
    edit(&mut input);
    input
        .prepare(ReadingSpeed::default(), now())
        .expect("valid article")
}

pub fn tags(names: &[&str]) -> Vec<String> {
    names.iter().map(|n| (*n).to_owned()).collect()
}
