//! Users: the newsroom's people. Every author of an article is a user.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

use crate::ValidationErrors;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct UserId(pub i64);

/// The usual newsroom roles, from least to most trusted (the order is used for
/// "at least editor" checks).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Writes drafts; cannot publish.
    Contributor,
    /// Publishes their own articles.
    Author,
    /// Publishes and edits everyone's articles and moderates comments.
    Editor,
    /// Also manages users and settings.
    Admin,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Contributor, Role::Author, Role::Editor, Role::Admin];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Contributor => "contributor",
            Role::Author => "author",
            Role::Editor => "editor",
            Role::Admin => "admin",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| {
                format!("unknown role \"{s}\"; expected contributor, author, editor or admin")
            })
    }
}

/// A user as stored. `password_hash` is a PHC string (argon2id) or `None` for people
/// who cannot log in (imported authors, the built-in welcome author).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub id: UserId,
    pub slug: String,
    pub display_name: String,
    pub email: String,
    pub role: Role,
    pub bio: String,
    pub active: bool,
    pub password_hash: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl User {
    pub fn url(&self) -> String {
        format!("/author/{}/", self.slug)
    }
}

/// A user to create, already validated by [`NewUser::validate`].
#[derive(Debug, Clone)]
pub struct NewUser {
    pub slug: String,
    pub display_name: String,
    pub email: String,
    pub role: Role,
    pub bio: String,
    pub password_hash: Option<String>,
}

impl NewUser {
    /// Builds a user from what an operator typed: the name must be there, the email must
    /// look like one, and the slug comes from the name.
    pub fn validate(
        display_name: &str,
        email: &str,
        role: Role,
        password_hash: Option<String>,
    ) -> Result<NewUser, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let display_name = display_name.trim();
        let email = email.trim();
        let slug = crate::slug::slugify(display_name);
        if display_name.is_empty() {
            errors.add("name", "is required");
        } else if display_name.chars().count() > 100 {
            errors.add("name", "must be at most 100 characters");
        } else if slug.is_empty() {
            errors.add("name", "must contain at least one letter or digit");
        }
        if !looks_like_email(email) {
            errors.add("email", "must be an email address like name@example.com");
        }
        errors.into_result()?;
        Ok(NewUser {
            slug,
            display_name: display_name.to_owned(),
            email: email.to_lowercase(),
            role,
            bio: String::new(),
            password_hash,
        })
    }
}

/// A deliberately simple check: one `@`, something before it, a dot in the domain, no
/// spaces. Deliverability is proved by confirmation emails, not by a regex.
pub fn looks_like_email(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains('@')
        && s.len() <= 254
        && !s.chars().any(|c| c.is_whitespace() || c.is_control())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_parse_and_order() {
        assert_eq!("Editor".parse::<Role>(), Ok(Role::Editor));
        assert!("boss".parse::<Role>().unwrap_err().contains("unknown role"));
        assert!(Role::Admin > Role::Editor && Role::Author > Role::Contributor);
    }

    #[test]
    fn new_user_validates_each_field() {
        let user =
            NewUser::validate(" Ada Lovelace ", "Ada@Example.org", Role::Author, None).unwrap();
        assert_eq!(user.slug, "ada-lovelace");
        assert_eq!(user.email, "ada@example.org");
        let errors = NewUser::validate("", "nope", Role::Author, None).unwrap_err();
        assert_eq!(errors.for_field("name"), Some("is required"));
        assert!(errors.for_field("email").is_some());
    }

    #[test]
    fn email_check_is_plain() {
        assert!(looks_like_email("a@b.co"));
        for bad in ["", "a", "a@b", "@b.co", "a@.co", "a b@c.de", "a@b.co."] {
            assert!(!looks_like_email(bad), "{bad}");
        }
    }
}
