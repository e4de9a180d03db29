//! [`AccountStore`] on PostgreSQL: sessions, the login lockout, user changes, password
//! resets and the audit log (see `migrations/0004_accounts.sql`).
//!
//! Writes that read before they write lock what they read: a lockout record is read
//! `FOR UPDATE` (a missing one is first inserted, so there is a row to lock), and a
//! change that could leave no active admin locks the admins' rows first, so that
//! several nodes acting at once see each other's commits.

use async_trait::async_trait;
use broadsheet_domain::store::StoreResult;
use broadsheet_domain::{
    AccountStore, AuditEntry, Change, LoginFailures, NewAuditEntry, NewUser, Paged, Role, Session,
    Store, StoreError, User, UserChanges, UserId, account, clock,
};
use chrono::{DateTime, Utc};
use sqlx::PgConnection;

use crate::rows::db_error;
use crate::{PgStore, insert_user};

/// Deletes the rows of a table whose time column is past `$1`, skipping rows another
/// transaction holds: two writers pruning at once would otherwise lock the same old
/// rows in different orders and deadlock.
macro_rules! prune {
    ($table:literal, $key:literal, $time:literal) => {
        concat!(
            "DELETE FROM ",
            $table,
            " WHERE ",
            $key,
            " IN (SELECT ",
            $key,
            " FROM ",
            $table,
            " WHERE ",
            $time,
            " <= $1 FOR UPDATE SKIP LOCKED)"
        )
    };
}

type SessionRow = (
    String,
    i64,
    String,
    DateTime<Utc>,
    DateTime<Utc>,
    DateTime<Utc>,
);

/// `count, window_start, locked_until` of a `login_failures` row.
type FailuresRow = (i32, Option<DateTime<Utc>>, Option<DateTime<Utc>>);

fn session_of(row: SessionRow) -> Session {
    let (token_hash, user_id, csrf, created_at, last_seen_at, expires_at) = row;
    Session {
        token_hash,
        user_id: UserId(user_id),
        csrf,
        created_at,
        last_seen_at,
        expires_at,
    }
}

async fn failures_of(
    conn: &mut PgConnection,
    email: &str,
    lock: &str,
) -> StoreResult<LoginFailures> {
    let sql = format!(
        "SELECT count, window_start, locked_until FROM login_failures WHERE email = $1 {lock}"
    );
    let row: Option<FailuresRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(email)
        .fetch_optional(conn)
        .await
        .map_err(db_error)?;
    match row {
        None => Ok(LoginFailures::default()),
        Some((count, window_start, locked_until)) => Ok(LoginFailures {
            count: u32::try_from(count).map_err(StoreError::backend)?,
            window_start,
            locked_until,
        }),
    }
}

async fn active_admins(conn: &mut PgConnection) -> StoreResult<i64> {
    sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE role = 'admin' AND active")
        .fetch_one(conn)
        .await
        .map_err(db_error)
}

/// Locks the active admins' rows, so two transactions that might each remove one run
/// one after the other.
async fn lock_admins(conn: &mut PgConnection) -> StoreResult<()> {
    sqlx::query("SELECT id FROM users WHERE role = 'admin' AND active FOR UPDATE")
        .fetch_all(conn)
        .await
        .map_err(db_error)?;
    Ok(())
}

async fn end_sessions(conn: &mut PgConnection, user: UserId) -> StoreResult<()> {
    sqlx::query("DELETE FROM sessions WHERE user_id = $1")
        .bind(user.0)
        .execute(conn)
        .await
        .map_err(db_error)?;
    Ok(())
}

#[async_trait]
impl AccountStore for PgStore {
    async fn create_session(&self, session: &Session) -> StoreResult<()> {
        let mut tx = self.pool.begin().await.map_err(db_error)?;
        // Expired sessions go whenever a new one starts: sign-ins are rare enough
        // for this to cost nothing, and frequent enough to keep the table small.
        sqlx::query(prune!("sessions", "token_hash", "expires_at"))
            .bind(session.created_at)
            .execute(&mut *tx)
            .await
            .map_err(db_error)?;
        sqlx::query(
            "INSERT INTO sessions (token_hash, user_id, csrf, created_at, last_seen_at, \
             expires_at) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&session.token_hash)
        .bind(session.user_id.0)
        .bind(&session.csrf)
        .bind(session.created_at)
        .bind(session.last_seen_at)
        .bind(session.expires_at)
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
        tx.commit().await.map_err(db_error)
    }

    async fn session_user(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<(Session, User)> {
        let row: SessionRow = sqlx::query_as(
            "SELECT s.token_hash, s.user_id, s.csrf, s.created_at, s.last_seen_at, \
             s.expires_at FROM sessions s JOIN users u ON u.id = s.user_id \
             WHERE s.token_hash = $1 AND s.expires_at > $2 AND u.active",
        )
        .bind(token_hash)
        .bind(now)
        .fetch_one(&self.pool)
        .await
        .map_err(db_error)?;
        let session = session_of(row);
        let user = self.user_by_id(session.user_id).await?;
        Ok((session, user))
    }

    async fn touch_session(&self, token_hash: &str, now: DateTime<Utc>) -> StoreResult<()> {
        sqlx::query("UPDATE sessions SET last_seen_at = $1, expires_at = $2 WHERE token_hash = $3")
            .bind(now)
            .bind(now + account::SESSION_LIFETIME)
            .bind(token_hash)
            .execute(&self.pool)
            .await
            .map_err(db_error)?;
        Ok(())
    }

    async fn delete_session(&self, token_hash: &str) -> StoreResult<()> {
        sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
            .bind(token_hash)
            .execute(&self.pool)
            .await
            .map_err(db_error)?;
        Ok(())
    }

    async fn delete_user_sessions(&self, user: UserId) -> StoreResult<()> {
        let mut conn = self.pool.acquire().await.map_err(db_error)?;
        end_sessions(&mut conn, user).await
    }

    async fn login_failures(&self, email: &str) -> StoreResult<LoginFailures> {
        let mut conn = self.pool.acquire().await.map_err(db_error)?;
        failures_of(&mut conn, email, "").await
    }

    async fn record_login_failure(
        &self,
        email: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<LoginFailures> {
        let mut tx = self.pool.begin().await.map_err(db_error)?;
        sqlx::query(prune!("login_failures", "email", "forget_at"))
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(db_error)?;
        // A row to lock, so concurrent failures for a new address queue up too.
        sqlx::query(
            "INSERT INTO login_failures (email, count, forget_at) VALUES ($1, 0, $2) \
             ON CONFLICT (email) DO NOTHING",
        )
        .bind(email)
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
        let next = failures_of(&mut tx, email, "FOR UPDATE")
            .await?
            .after_failure(now);
        sqlx::query(
            "UPDATE login_failures SET count = $2, window_start = $3, locked_until = $4, \
             forget_at = $5 WHERE email = $1",
        )
        .bind(email)
        .bind(i32::try_from(next.count).map_err(StoreError::backend)?)
        .bind(next.window_start)
        .bind(next.locked_until)
        .bind(next.forgotten_after())
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
        tx.commit().await.map_err(db_error)?;
        Ok(next)
    }

    async fn clear_login_failures(&self, email: &str) -> StoreResult<()> {
        sqlx::query("DELETE FROM login_failures WHERE email = $1")
            .bind(email)
            .execute(&self.pool)
            .await
            .map_err(db_error)?;
        Ok(())
    }

    async fn create_first_admin(&self, user: &NewUser) -> StoreResult<User> {
        let mut tx = self.pool.begin().await.map_err(db_error)?;
        // No admin row to lock while there is none: the table lock makes two setups
        // run one after the other (it does not block readers).
        sqlx::query("LOCK TABLE users IN SHARE ROW EXCLUSIVE MODE")
            .execute(&mut *tx)
            .await
            .map_err(db_error)?;
        if active_admins(&mut tx).await? > 0 {
            return Err(StoreError::Conflict { field: "admin" });
        }
        let admin = NewUser {
            role: Role::Admin,
            ..user.clone()
        };
        let created = insert_user(&mut tx, None, &admin, true, clock::now()).await?;
        self.publish(&mut tx, Change::Users).await?;
        tx.commit().await.map_err(db_error)?;
        Ok(created)
    }

    async fn update_user(&self, id: UserId, changes: &UserChanges) -> StoreResult<User> {
        let mut tx = self.pool.begin().await.map_err(db_error)?;
        lock_admins(&mut tx).await?;
        let updated = sqlx::query(
            "UPDATE users SET display_name = COALESCE($1, display_name), \
             role = COALESCE($2, role), active = COALESCE($3, active) WHERE id = $4",
        )
        .bind(changes.display_name.as_deref())
        .bind(changes.role.map(Role::as_str))
        .bind(changes.active)
        .bind(id.0)
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
        if updated.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        if active_admins(&mut tx).await? == 0 {
            // Dropping the transaction rolls the change back.
            let field = if changes.active == Some(false) {
                "active"
            } else {
                "role"
            };
            return Err(StoreError::Conflict { field });
        }
        if changes.active == Some(false) {
            end_sessions(&mut tx, id).await?;
        }
        self.publish(&mut tx, Change::Users).await?;
        tx.commit().await.map_err(db_error)?;
        self.user_by_id(id).await
    }

    async fn set_password(&self, id: UserId, password_hash: &str) -> StoreResult<()> {
        let mut tx = self.pool.begin().await.map_err(db_error)?;
        let updated = sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
            .bind(password_hash)
            .bind(id.0)
            .execute(&mut *tx)
            .await
            .map_err(db_error)?;
        if updated.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        end_sessions(&mut tx, id).await?;
        tx.commit().await.map_err(db_error)
    }

    async fn create_password_reset(
        &self,
        token_hash: &str,
        user: UserId,
        expires_at: DateTime<Utc>,
    ) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO password_resets (token_hash, user_id, expires_at) VALUES ($1, $2, $3)",
        )
        .bind(token_hash)
        .bind(user.0)
        .bind(expires_at)
        .execute(&self.pool)
        .await
        .map_err(db_error)?;
        Ok(())
    }

    async fn take_password_reset(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<UserId> {
        let mut tx = self.pool.begin().await.map_err(db_error)?;
        // DELETE ... RETURNING hands the row to exactly one of two racing takers.
        let taken: Option<(i64, DateTime<Utc>)> = sqlx::query_as(
            "DELETE FROM password_resets WHERE token_hash = $1 RETURNING user_id, expires_at",
        )
        .bind(token_hash)
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_error)?;
        sqlx::query(prune!("password_resets", "token_hash", "expires_at"))
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(db_error)?;
        tx.commit().await.map_err(db_error)?;
        match taken {
            Some((user, expires_at)) if expires_at > now => Ok(UserId(user)),
            _ => Err(StoreError::NotFound),
        }
    }

    async fn record_audit(&self, entry: &NewAuditEntry) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO audit_log (at, actor_id, action, target, detail) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(entry.at)
        .bind(entry.actor_id.0)
        .bind(&entry.action)
        .bind(&entry.target)
        .bind(&entry.detail)
        .execute(&self.pool)
        .await
        .map_err(db_error)?;
        Ok(())
    }

    async fn list_audit(&self, page: u32, per_page: u32) -> StoreResult<Paged<AuditEntry>> {
        let page = page.max(1);
        let total: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM audit_log")
            .fetch_one(&self.pool)
            .await
            .map_err(db_error)?;
        let rows: Vec<(i64, DateTime<Utc>, i64, String, String, String, String)> = sqlx::query_as(
            "SELECT a.id, a.at, a.actor_id, u.display_name, a.action, a.target, a.detail \
                 FROM audit_log a JOIN users u ON u.id = a.actor_id \
                 ORDER BY a.at DESC, a.id DESC LIMIT $1 OFFSET $2",
        )
        .bind(i64::from(per_page))
        .bind(i64::from(page - 1) * i64::from(per_page))
        .fetch_all(&self.pool)
        .await
        .map_err(db_error)?;
        let items = rows
            .into_iter()
            .map(
                |(id, at, actor, actor_name, action, target, detail)| AuditEntry {
                    id,
                    at,
                    actor_id: UserId(actor),
                    actor_name,
                    action,
                    target,
                    detail,
                },
            )
            .collect();
        Ok(Paged {
            items,
            total: u64::try_from(total).map_err(StoreError::backend)?,
            page,
            per_page,
        })
    }

    async fn set_comment_notices(
        &self,
        user: UserId,
        on: bool,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        let query = if on {
            sqlx::query("DELETE FROM comment_notice_optouts WHERE user_id = $1").bind(user.0)
        } else {
            sqlx::query(
                "INSERT INTO comment_notice_optouts (user_id, stopped_at) \
                 SELECT id, $2 FROM users WHERE id = $1 ON CONFLICT DO NOTHING",
            )
            .bind(user.0)
            .bind(now)
        };
        query.execute(&self.pool).await.map_err(db_error)?;
        Ok(())
    }

    async fn comment_notices_off(&self) -> StoreResult<Vec<UserId>> {
        let mut conn = self.pool.acquire().await.map_err(db_error)?;
        export_comment_notices(&mut conn).await
    }
}

/// The users who turned moderation emails off, for a dump.
pub(crate) async fn export_comment_notices(conn: &mut PgConnection) -> StoreResult<Vec<UserId>> {
    let ids: Vec<i64> =
        sqlx::query_scalar("SELECT user_id FROM comment_notice_optouts ORDER BY user_id")
            .fetch_all(&mut *conn)
            .await
            .map_err(db_error)?;
    Ok(ids.into_iter().map(UserId).collect())
}

/// Restores a dump's opt-outs. A dump keeps who, not when: the import is when.
pub(crate) async fn import_comment_notices(
    conn: &mut PgConnection,
    users: &[UserId],
) -> StoreResult<()> {
    for user in users {
        sqlx::query("INSERT INTO comment_notice_optouts (user_id, stopped_at) VALUES ($1, $2)")
            .bind(user.0)
            .bind(broadsheet_domain::clock::now())
            .execute(&mut *conn)
            .await
            .map_err(db_error)?;
    }
    Ok(())
}
