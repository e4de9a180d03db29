//! Accounts: sign-in sessions, the login lockout, password resets, changes to users
//! and the audit log of admin actions, with the [`AccountStore`] trait that keeps them.
//!
//! Sessions live in the database so that a session started on one node works on every
//! node, and so that deactivating a user or changing a password ends their sessions at
//! once everywhere. The cookie holds a random token; the store keeps only its SHA-256
//! (a stolen database copy holds no usable session), which the server computes.
//!
//! The lockout counts failed sign-ins per email address, whether or not an account has
//! that address, so a locked-out answer never tells an attacker which addresses exist.
//! The policy is [`LoginFailures::after_failure`]; stores apply it inside a transaction
//! so that failures arriving at several nodes at once all count.

use async_trait::async_trait;
use chrono::{DateTime, TimeDelta, Utc};
use serde::Serialize;

use crate::article::Paged;
use crate::store::StoreResult;
use crate::user::{NewUser, Role, User, UserId};

/// How long a session lasts without use: each use pushes its end this far out again.
pub const SESSION_LIFETIME: TimeDelta = TimeDelta::days(14);

/// How often a session's last use is written: once a minute is precise enough for a
/// 14-day expiry and keeps page views from writing on every request.
pub const TOUCH_EVERY: TimeDelta = TimeDelta::minutes(1);

/// Failed sign-ins for one address within [`FAILURE_WINDOW`] that lock it.
pub const MAX_FAILURES: u32 = 5;
/// The window in which failures add up.
pub const FAILURE_WINDOW: TimeDelta = TimeDelta::minutes(15);
/// How long an address stays locked.
pub const LOCKED_FOR: TimeDelta = TimeDelta::minutes(15);

/// How long an emailed password-reset link works.
pub const RESET_LIFETIME: TimeDelta = TimeDelta::hours(1);

/// A signed-in session as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// Hex SHA-256 of the cookie's token.
    pub token_hash: String,
    pub user_id: UserId,
    /// The per-session token every cookie-authenticated write must carry.
    pub csrf: String,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

impl Session {
    /// A new session for `user_id`, starting at `now`.
    pub fn start(token_hash: String, user_id: UserId, csrf: String, now: DateTime<Utc>) -> Self {
        Session {
            token_hash,
            user_id,
            csrf,
            created_at: now,
            last_seen_at: now,
            expires_at: now + SESSION_LIFETIME,
        }
    }

    /// Whether a use at `now` should be written (sliding the expiry); at most once per
    /// [`TOUCH_EVERY`].
    pub fn needs_touch(&self, now: DateTime<Utc>) -> bool {
        now - self.last_seen_at >= TOUCH_EVERY
    }
}

/// Failed sign-ins for one address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LoginFailures {
    /// Failures since `window_start`.
    pub count: u32,
    pub window_start: Option<DateTime<Utc>>,
    pub locked_until: Option<DateTime<Utc>>,
}

impl LoginFailures {
    /// Until when the address is locked, if it is at `now`.
    pub fn locked_at(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.locked_until.filter(|until| *until > now)
    }

    /// The state after one more failure at `now`: failures older than the window are
    /// forgotten, and the [`MAX_FAILURES`]th in a window locks for [`LOCKED_FOR`].
    pub fn after_failure(self, now: DateTime<Utc>) -> LoginFailures {
        let in_window = self
            .window_start
            .is_some_and(|start| now - start < FAILURE_WINDOW);
        let (count, window_start) = if in_window {
            (self.count + 1, self.window_start)
        } else {
            (1, Some(now))
        };
        let locked_until = if count >= MAX_FAILURES {
            Some(now + LOCKED_FOR)
        } else {
            self.locked_at(now)
        };
        LoginFailures {
            count: if count >= MAX_FAILURES { 0 } else { count },
            window_start: if count >= MAX_FAILURES {
                None
            } else {
                window_start
            },
            locked_until,
        }
    }

    /// When this record stops mattering (its window and its lock are over), so
    /// stores can prune it.
    pub fn forgotten_after(&self) -> DateTime<Utc> {
        let window_end = self.window_start.map(|start| start + FAILURE_WINDOW);
        window_end
            .into_iter()
            .chain(self.locked_until)
            .max()
            .unwrap_or(DateTime::<Utc>::MIN_UTC)
    }
}

/// Changes to a user from the admin; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserChanges {
    pub display_name: Option<String>,
    pub role: Option<Role>,
    pub active: Option<bool>,
}

/// One admin action, as recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditEntry {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub actor_id: UserId,
    /// The actor's display name now (the log keeps the id).
    pub actor_name: String,
    /// What was done, e.g. `article.publish`, `user.role`.
    pub action: String,
    /// What it was done to, e.g. `user:7`, `article:42`, `settings`.
    pub target: String,
    /// A short human-readable note; never a secret.
    pub detail: String,
}

/// An admin action to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAuditEntry {
    pub at: DateTime<Utc>,
    pub actor_id: UserId,
    pub action: String,
    pub target: String,
    pub detail: String,
}

/// Whether `users` holds an active admin (first-run setup runs only while none does).
pub fn has_active_admin(users: &[User]) -> bool {
    users.iter().any(|u| u.active && u.role == Role::Admin)
}

#[async_trait]
pub trait AccountStore: Send + Sync {
    // --- sessions ---

    async fn create_session(&self, session: &Session) -> StoreResult<()>;

    /// The live session with this token hash and its user; `NotFound` when there is
    /// none, it expired at `now`, or its user is deactivated.
    async fn session_user(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<(Session, User)>;

    /// Records a use at `now` and moves the expiry to `now + SESSION_LIFETIME`.
    async fn touch_session(&self, token_hash: &str, now: DateTime<Utc>) -> StoreResult<()>;

    /// Ends one session (sign-out); ending one that is gone is not an error.
    async fn delete_session(&self, token_hash: &str) -> StoreResult<()>;

    /// Ends every session of a user.
    async fn delete_user_sessions(&self, user: UserId) -> StoreResult<()>;

    // --- the lockout (keyed by lowercased email) ---

    async fn login_failures(&self, email: &str) -> StoreResult<LoginFailures>;

    /// Counts a failure at `now` by [`LoginFailures::after_failure`], atomically, and
    /// returns the new state. Also prunes records that no longer matter.
    async fn record_login_failure(
        &self,
        email: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<LoginFailures>;

    async fn clear_login_failures(&self, email: &str) -> StoreResult<()>;

    // --- users ---

    /// Creates `user` as the first admin: `Conflict { field: "admin" }` when an active
    /// admin exists already, checked in the same transaction, so two setup forms sent
    /// at once cannot both succeed.
    async fn create_first_admin(&self, user: &NewUser) -> StoreResult<User>;

    /// Applies `changes`. Refuses, with `Conflict { field: "role" }` or
    /// `Conflict { field: "active" }`, a change that would leave no active admin (the
    /// rule is checked in the store's transaction, so two admins demoting each other
    /// at once cannot both succeed). Deactivating ends the user's sessions.
    /// Publishes `Users`.
    async fn update_user(&self, id: UserId, changes: &UserChanges) -> StoreResult<User>;

    /// Sets a new password hash and ends all of the user's sessions.
    async fn set_password(&self, id: UserId, password_hash: &str) -> StoreResult<()>;

    // --- password resets ---

    async fn create_password_reset(
        &self,
        token_hash: &str,
        user: UserId,
        expires_at: DateTime<Utc>,
    ) -> StoreResult<()>;

    /// Uses up a reset token: its user, once; `NotFound` when unknown, used or expired
    /// at `now`. Also drops expired tokens.
    async fn take_password_reset(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<UserId>;

    // --- the audit log ---

    async fn record_audit(&self, entry: &NewAuditEntry) -> StoreResult<()>;

    /// A page of the log, newest first (1-based `page`).
    async fn list_audit(&self, page: u32, per_page: u32) -> StoreResult<Paged<AuditEntry>>;

    // --- comment notices ---

    /// Turns a user's "a comment awaits moderation" emails off or back on. Setting
    /// what is set already changes nothing; an unknown user is ignored.
    async fn set_comment_notices(
        &self,
        user: UserId,
        on: bool,
        now: DateTime<Utc>,
    ) -> StoreResult<()>;

    /// The users who turned those emails off, by id.
    async fn comment_notices_off(&self) -> StoreResult<Vec<UserId>>;
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(minute: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap() + TimeDelta::minutes(minute)
    }

    #[test]
    fn five_failures_in_the_window_lock_for_a_while() {
        let mut f = LoginFailures::default();
        for minute in 0..4 {
            f = f.after_failure(at(minute));
            assert_eq!(f.locked_at(at(minute)), None);
        }
        f = f.after_failure(at(4));
        assert_eq!(f.locked_at(at(4)), Some(at(4) + LOCKED_FOR));
        assert_eq!(f.locked_at(at(4) + LOCKED_FOR), None, "the lock ends");
        assert_eq!(f.forgotten_after(), at(4) + LOCKED_FOR);
    }

    #[test]
    fn failures_outside_the_window_start_over() {
        let mut f = LoginFailures::default();
        for minute in 0..4 {
            f = f.after_failure(at(minute));
        }
        // The fifth comes after the window of the first: a new window begins.
        f = f.after_failure(at(20));
        assert_eq!((f.count, f.locked_at(at(20))), (1, None));
        assert_eq!(f.forgotten_after(), at(20) + FAILURE_WINDOW);
    }

    #[test]
    fn sessions_are_touched_at_most_once_a_minute() {
        let s = Session::start("h".into(), UserId(1), "c".into(), at(0));
        assert_eq!(s.expires_at, at(0) + SESSION_LIFETIME);
        assert!(!s.needs_touch(at(0) + TimeDelta::seconds(59)));
        assert!(s.needs_touch(at(1)));
    }

    #[test]
    fn setup_is_needed_until_an_active_admin_exists() {
        let admin = |active| User {
            id: UserId(1),
            slug: "a".into(),
            display_name: "A".into(),
            email: "a@example.org".into(),
            role: Role::Admin,
            bio: String::new(),
            active,
            password_hash: None,
            created_at: at(0),
        };
        assert!(!has_active_admin(&[]));
        assert!(!has_active_admin(&[admin(false)]));
        assert!(has_active_admin(&[admin(true)]));
    }
}
