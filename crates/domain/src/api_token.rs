//! API tokens: how scripts, apps and headless front-ends act for a newsroom user
//! through `/api/v1`, with the [`ApiTokenStore`] trait that keeps them.
//!
//! A token is created in the admin for one user and shown once; the store keeps only
//! its SHA-256 (as for sessions, a copied database holds no usable token) and a short
//! prefix so people can tell their tokens apart. A token is *scoped*: it can do at
//! most what its [`Scope`] allows and at most what its user's role allows
//! ([`crate::permission::permits`]), so a token never outranks its user, and
//! demoting or deactivating the user limits or stops the token at once.
//! Revoking is permanent; a revoked token answers like an unknown one.

use std::fmt;
use std::str::FromStr;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::permission::Action;
use crate::store::StoreResult;
use crate::user::{User, UserId};
use crate::{ValidationErrors, permission};

/// Longest token name, in characters.
pub const MAX_NAME_CHARS: usize = 100;

/// What a token may be used for, each including the ones before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// Read what the user may see in the newsroom (drafts, sources).
    Read,
    /// Also write: create, edit, publish, schedule and delete articles; upload media.
    Write,
    /// Also the newsroom's site-wide work: moderating comments.
    Admin,
}

impl Scope {
    pub const ALL: [Scope; 3] = [Scope::Read, Scope::Write, Scope::Admin];

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Read => "read",
            Scope::Write => "write",
            Scope::Admin => "admin",
        }
    }

    /// The scope a request for `action` needs.
    pub fn needed_for(action: Action) -> Scope {
        use Action::*;
        match action {
            ViewArticle | ViewDashboard => Scope::Read,
            CreateArticle | EditArticle | PublishArticle | DeleteArticle | UploadMedia
            | DeleteMedia => Scope::Write,
            ModerateComments | ManageUsers | ManageSettings | Operate | ManagePersonalData => {
                Scope::Admin
            }
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Scope {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "read" => Ok(Scope::Read),
            "write" => Ok(Scope::Write),
            "admin" => Ok(Scope::Admin),
            _ => Err(format!(
                "unknown scope \"{s}\"; expected read, write or admin"
            )),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ApiTokenId(pub i64);

impl fmt::Display for ApiTokenId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A token as stored (never the token itself).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApiToken {
    pub id: ApiTokenId,
    pub user_id: UserId,
    /// What the person who made it called it ("Wire desk script").
    pub name: String,
    pub scope: Scope,
    /// The token's first characters, to tell tokens apart; not enough to use it.
    pub prefix: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl ApiToken {
    pub fn is_revoked(&self) -> bool {
        self.revoked_at.is_some()
    }
}

/// A token to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewApiToken {
    pub user_id: UserId,
    pub name: String,
    pub scope: Scope,
    /// Hex SHA-256 of the token.
    pub token_hash: String,
    pub prefix: String,
    pub created_at: DateTime<Utc>,
}

/// The name a token is given, trimmed, or the problem with it.
pub fn check_name(name: &str) -> Result<String, ValidationErrors> {
    let name = name.trim();
    if name.is_empty() {
        Err(ValidationErrors::single(
            "name",
            "is required (say what the token is for)",
        ))
    } else if name.chars().count() > MAX_NAME_CHARS {
        Err(ValidationErrors::single(
            "name",
            format!("must be at most {MAX_NAME_CHARS} characters"),
        ))
    } else {
        Ok(name.to_owned())
    }
}

/// Why a token may not do something.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The token's scope is too narrow; it names the scope needed.
    Scope(Scope),
    /// The user's role does not allow it.
    Role,
}

/// Whether a token of `scope` acting for `user` may do `action` on `target`: both its
/// scope and its user's permissions must allow it.
pub fn token_permits(
    scope: Scope,
    user: &User,
    action: Action,
    target: permission::Target,
) -> Result<(), Refusal> {
    let needed = Scope::needed_for(action);
    if scope < needed {
        return Err(Refusal::Scope(needed));
    }
    if !permission::user_permits(user, action, target) {
        return Err(Refusal::Role);
    }
    Ok(())
}

/// Where API tokens are kept.
#[async_trait]
pub trait ApiTokenStore: Send + Sync {
    /// Stores a new token. `NotFound` when the user does not exist.
    async fn create_api_token(&self, token: &NewApiToken) -> StoreResult<ApiToken>;

    /// The live token with this hash and its user; `NotFound` when there is none, it
    /// was revoked, or its user is deactivated.
    async fn api_token_user(&self, token_hash: &str) -> StoreResult<(ApiToken, User)>;

    /// Records a use at `now` (callers write it at most once a minute per token).
    async fn touch_api_token(&self, id: ApiTokenId, now: DateTime<Utc>) -> StoreResult<()>;

    /// The tokens of one user, or of everyone, newest first, revoked ones included.
    async fn list_api_tokens(&self, user: Option<UserId>) -> StoreResult<Vec<ApiToken>>;

    async fn api_token_by_id(&self, id: ApiTokenId) -> StoreResult<ApiToken>;

    /// Revokes a token at `now` (revoking a revoked one keeps the first time);
    /// `NotFound` for an unknown id.
    async fn revoke_api_token(&self, id: ApiTokenId, now: DateTime<Utc>) -> StoreResult<ApiToken>;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::permission::Target;
    use crate::user::Role;

    fn user(role: Role) -> User {
        User {
            id: UserId(1),
            slug: "a".into(),
            display_name: "A".into(),
            email: "a@example.org".into(),
            role,
            bio: String::new(),
            active: true,
            password_hash: None,
            created_at: chrono::Utc::now(),
        }
    }

    #[test]
    fn scope_and_role_both_limit_a_token() {
        let own_draft = Target::Article {
            own: true,
            live: false,
        };
        let others = Target::Article {
            own: false,
            live: true,
        };
        let author = user(Role::Author);
        assert_eq!(
            token_permits(Scope::Read, &author, Action::EditArticle, own_draft),
            Err(Refusal::Scope(Scope::Write))
        );
        assert_eq!(
            token_permits(Scope::Write, &author, Action::EditArticle, own_draft),
            Ok(())
        );
        assert_eq!(
            token_permits(Scope::Admin, &author, Action::EditArticle, others),
            Err(Refusal::Role),
            "an admin-scoped token never outranks its author"
        );
        assert_eq!(
            token_permits(
                Scope::Write,
                &user(Role::Editor),
                Action::ModerateComments,
                Target::Site
            ),
            Err(Refusal::Scope(Scope::Admin))
        );
        assert_eq!(
            token_permits(
                Scope::Admin,
                &user(Role::Editor),
                Action::ModerateComments,
                Target::Site
            ),
            Ok(())
        );
        let mut gone = user(Role::Admin);
        gone.active = false;
        assert_eq!(
            token_permits(Scope::Admin, &gone, Action::ViewArticle, own_draft),
            Err(Refusal::Role)
        );
    }

    #[test]
    fn scopes_parse_and_every_action_needs_one() {
        for scope in Scope::ALL {
            assert_eq!(scope.as_str().parse::<Scope>(), Ok(scope));
        }
        assert!("owner".parse::<Scope>().is_err());
        assert!(Scope::Read < Scope::Write && Scope::Write < Scope::Admin);
        for action in Action::ALL {
            let _ = Scope::needed_for(action);
        }
        assert!(check_name("  ").is_err());
        assert_eq!(check_name(" Wire desk ").unwrap(), "Wire desk");
        assert!(check_name(&"x".repeat(MAX_NAME_CHARS + 1)).is_err());
    }
}
