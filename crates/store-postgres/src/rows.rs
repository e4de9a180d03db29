//! Rows as PostgreSQL returns them, the conversions to and from domain values, and the
//! mapping of PostgreSQL's errors onto [`StoreError`].

use broadsheet_domain::read_time::ReadTime;
use broadsheet_domain::store::StoreResult;
use broadsheet_domain::{Article, ArticleId, AuthorRef, NewUser, StoreError, Tag, User, UserId};
use chrono::{DateTime, Utc};
use sqlx::error::ErrorKind;

/// Turns a sqlx error into one the HTTP layer can answer: a unique violation names the
/// field that clashed, a reference to a missing row (the author of a new article) is
/// `NotFound`, and anything else is for the logs.
pub(crate) fn db_error(err: sqlx::Error) -> StoreError {
    let sqlx::Error::Database(db) = &err else {
        return match err {
            sqlx::Error::RowNotFound => StoreError::NotFound,
            other => StoreError::backend(other),
        };
    };
    match db.kind() {
        ErrorKind::UniqueViolation => match db.constraint() {
            Some("users_email_key") => StoreError::Conflict { field: "email" },
            Some("users_slug_key" | "articles_slug_key" | "slug_redirects_pkey") => {
                StoreError::Conflict { field: "slug" }
            }
            _ => StoreError::backend(err),
        },
        ErrorKind::ForeignKeyViolation => StoreError::NotFound,
        _ => StoreError::backend(err),
    }
}

pub(crate) fn to_u32(value: i64) -> StoreResult<u32> {
    u32::try_from(value).map_err(StoreError::backend)
}

#[derive(sqlx::FromRow)]
pub(crate) struct UserRow {
    id: i64,
    slug: String,
    display_name: String,
    email: String,
    role: String,
    bio: String,
    active: bool,
    password_hash: Option<String>,
    created_at: DateTime<Utc>,
}

impl TryFrom<UserRow> for User {
    type Error = StoreError;

    fn try_from(row: UserRow) -> StoreResult<User> {
        Ok(User {
            id: UserId(row.id),
            slug: row.slug,
            display_name: row.display_name,
            email: row.email,
            role: row.role.parse().map_err(StoreError::Backend)?,
            bio: row.bio,
            active: row.active,
            password_hash: row.password_hash,
            created_at: row.created_at,
        })
    }
}

/// An article joined to its author's name, without its tags (they are read for a whole
/// page of articles at once).
#[derive(sqlx::FromRow)]
pub(crate) struct ArticleRow {
    pub(crate) id: i64,
    kind: String,
    pub(crate) slug: String,
    title: String,
    excerpt: String,
    source: String,
    format: String,
    body_html: String,
    body_text: String,
    author_id: i64,
    author_slug: String,
    author_name: String,
    status: String,
    published_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    read_time: i64,
    word_count: i64,
    cover_image: Option<String>,
    featured: bool,
}

impl ArticleRow {
    pub(crate) fn into_article(self, tags: Vec<Tag>) -> StoreResult<Article> {
        Ok(Article {
            id: ArticleId(self.id),
            kind: self.kind.parse().map_err(StoreError::Backend)?,
            slug: self.slug,
            title: self.title,
            excerpt: self.excerpt,
            source: self.source,
            format: self.format.parse().map_err(StoreError::Backend)?,
            body_html: self.body_html,
            body_text: self.body_text,
            tags,
            author: AuthorRef {
                id: UserId(self.author_id),
                slug: self.author_slug,
                display_name: self.author_name,
            },
            status: self.status.parse().map_err(StoreError::Backend)?,
            published_at: self.published_at,
            created_at: self.created_at,
            updated_at: self.updated_at,
            read_time: ReadTime(to_u32(self.read_time)?),
            word_count: to_u32(self.word_count)?,
            cover_image: self.cover_image,
            featured: self.featured,
        })
    }
}

/// A dumped user as the insert that restores it takes it.
pub(crate) fn new_user_of(user: &User) -> NewUser {
    NewUser {
        slug: user.slug.clone(),
        display_name: user.display_name.clone(),
        email: user.email.clone(),
        role: user.role,
        bio: user.bio.clone(),
        password_hash: user.password_hash.clone(),
    }
}
