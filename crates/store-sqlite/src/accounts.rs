//! [`AccountStore`] on SQLite: sessions, the login lockout, user changes, password
//! resets and the audit log (see `migrations/0006_accounts.sql`). Writes that read
//! before they write run in `BEGIN IMMEDIATE` transactions, so the read and the write
//! see no other writer in between.

use async_trait::async_trait;
use broadsheet_domain::store::StoreResult;
use broadsheet_domain::{
    AccountStore, AuditEntry, Change, LoginFailures, NewAuditEntry, NewUser, Paged, Role, Session,
    Store, StoreError, User, UserChanges, UserId, account, clock,
};
use chrono::{DateTime, Utc};
use sqlx::SqliteConnection;

use crate::rows::{db_error, from_millis, millis};
use crate::{SqliteStore, changes, insert_user};

type SessionRow = (String, i64, String, i64, i64, i64);

fn session_of(row: SessionRow) -> StoreResult<Session> {
    let (token_hash, user_id, csrf, created_at, last_seen_at, expires_at) = row;
    Ok(Session {
        token_hash,
        user_id: UserId(user_id),
        csrf,
        created_at: from_millis(created_at)?,
        last_seen_at: from_millis(last_seen_at)?,
        expires_at: from_millis(expires_at)?,
    })
}

fn opt_millis(ms: Option<i64>) -> StoreResult<Option<DateTime<Utc>>> {
    ms.map(from_millis).transpose()
}

async fn failures_of(conn: &mut SqliteConnection, email: &str) -> StoreResult<LoginFailures> {
    let row: Option<(i64, Option<i64>, Option<i64>)> = sqlx::query_as(
        "SELECT count, window_start, locked_until FROM login_failures WHERE email = ?",
    )
    .bind(email)
    .fetch_optional(conn)
    .await
    .map_err(db_error)?;
    match row {
        None => Ok(LoginFailures::default()),
        Some((count, window_start, locked_until)) => Ok(LoginFailures {
            count: u32::try_from(count).map_err(StoreError::backend)?,
            window_start: opt_millis(window_start)?,
            locked_until: opt_millis(locked_until)?,
        }),
    }
}

async fn active_admins(conn: &mut SqliteConnection) -> StoreResult<i64> {
    sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE role = 'admin' AND active = 1")
        .fetch_one(conn)
        .await
        .map_err(db_error)
}

#[async_trait]
impl AccountStore for SqliteStore {
    async fn create_session(&self, session: &Session) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        // Expired sessions go whenever a new one starts: sign-ins are rare enough
        // for this to cost nothing, and frequent enough to keep the table small.
        sqlx::query("DELETE FROM sessions WHERE expires_at <= ?")
            .bind(millis(session.created_at))
            .execute(&mut *tx)
            .await
            .map_err(db_error)?;
        sqlx::query(
            "INSERT INTO sessions (token_hash, user_id, csrf, created_at, last_seen_at, \
             expires_at) VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(&session.token_hash)
        .bind(session.user_id.0)
        .bind(&session.csrf)
        .bind(millis(session.created_at))
        .bind(millis(session.last_seen_at))
        .bind(millis(session.expires_at))
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
             WHERE s.token_hash = ? AND s.expires_at > ? AND u.active = 1",
        )
        .bind(token_hash)
        .bind(millis(now))
        .fetch_one(&self.pool)
        .await
        .map_err(db_error)?;
        let session = session_of(row)?;
        let user = self.user_by_id(session.user_id).await?;
        Ok((session, user))
    }

    async fn touch_session(&self, token_hash: &str, now: DateTime<Utc>) -> StoreResult<()> {
        sqlx::query("UPDATE sessions SET last_seen_at = ?, expires_at = ? WHERE token_hash = ?")
            .bind(millis(now))
            .bind(millis(now + account::SESSION_LIFETIME))
            .bind(token_hash)
            .execute(&self.pool)
            .await
            .map_err(db_error)?;
        Ok(())
    }

    async fn delete_session(&self, token_hash: &str) -> StoreResult<()> {
        sqlx::query("DELETE FROM sessions WHERE token_hash = ?")
            .bind(token_hash)
            .execute(&self.pool)
            .await
            .map_err(db_error)?;
        Ok(())
    }

    async fn delete_user_sessions(&self, user: UserId) -> StoreResult<()> {
        sqlx::query("DELETE FROM sessions WHERE user_id = ?")
            .bind(user.0)
            .execute(&self.pool)
            .await
            .map_err(db_error)?;
        Ok(())
    }

    async fn login_failures(&self, email: &str) -> StoreResult<LoginFailures> {
        let mut conn = self.pool.acquire().await.map_err(db_error)?;
        failures_of(&mut conn, email).await
    }

    async fn record_login_failure(
        &self,
        email: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<LoginFailures> {
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM login_failures WHERE forget_at <= ?")
            .bind(millis(now))
            .execute(&mut *tx)
            .await
            .map_err(db_error)?;
        let next = failures_of(&mut tx, email).await?.after_failure(now);
        sqlx::query(
            "INSERT INTO login_failures (email, count, window_start, locked_until, forget_at) \
             VALUES (?, ?, ?, ?, ?) ON CONFLICT (email) DO UPDATE SET count = excluded.count, \
             window_start = excluded.window_start, locked_until = excluded.locked_until, \
             forget_at = excluded.forget_at",
        )
        .bind(email)
        .bind(i64::from(next.count))
        .bind(next.window_start.map(millis))
        .bind(next.locked_until.map(millis))
        .bind(millis(next.forgotten_after()))
        .execute(&mut *tx)
        .await
        .map_err(db_error)?;
        tx.commit().await.map_err(db_error)?;
        Ok(next)
    }

    async fn clear_login_failures(&self, email: &str) -> StoreResult<()> {
        sqlx::query("DELETE FROM login_failures WHERE email = ?")
            .bind(email)
            .execute(&self.pool)
            .await
            .map_err(db_error)?;
        Ok(())
    }

    async fn create_first_admin(&self, user: &NewUser) -> StoreResult<User> {
        let mut tx = self.begin_write().await?;
        if active_admins(&mut tx).await? > 0 {
            return Err(StoreError::Conflict { field: "admin" });
        }
        let admin = NewUser {
            role: Role::Admin,
            ..user.clone()
        };
        let created = insert_user(&mut tx, None, &admin, true, clock::now()).await?;
        changes::publish(&mut tx, Change::Users).await?;
        tx.commit().await.map_err(db_error)?;
        Ok(created)
    }

    async fn update_user(&self, id: UserId, changes: &UserChanges) -> StoreResult<User> {
        let mut tx = self.begin_write().await?;
        let updated = sqlx::query(
            "UPDATE users SET display_name = COALESCE(?, display_name), \
             role = COALESCE(?, role), active = COALESCE(?, active) WHERE id = ?",
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
            sqlx::query("DELETE FROM sessions WHERE user_id = ?")
                .bind(id.0)
                .execute(&mut *tx)
                .await
                .map_err(db_error)?;
        }
        changes::publish(&mut tx, Change::Users).await?;
        tx.commit().await.map_err(db_error)?;
        self.user_by_id(id).await
    }

    async fn set_password(&self, id: UserId, password_hash: &str) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        let updated = sqlx::query("UPDATE users SET password_hash = ? WHERE id = ?")
            .bind(password_hash)
            .bind(id.0)
            .execute(&mut *tx)
            .await
            .map_err(db_error)?;
        if updated.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        sqlx::query("DELETE FROM sessions WHERE user_id = ?")
            .bind(id.0)
            .execute(&mut *tx)
            .await
            .map_err(db_error)?;
        tx.commit().await.map_err(db_error)
    }

    async fn create_password_reset(
        &self,
        token_hash: &str,
        user: UserId,
        expires_at: DateTime<Utc>,
    ) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO password_resets (token_hash, user_id, expires_at) VALUES (?, ?, ?)",
        )
        .bind(token_hash)
        .bind(user.0)
        .bind(millis(expires_at))
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
        let mut tx = self.begin_write().await?;
        let taken: Option<(i64, i64)> = sqlx::query_as(
            "DELETE FROM password_resets WHERE token_hash = ? RETURNING user_id, expires_at",
        )
        .bind(token_hash)
        .fetch_optional(&mut *tx)
        .await
        .map_err(db_error)?;
        sqlx::query("DELETE FROM password_resets WHERE expires_at <= ?")
            .bind(millis(now))
            .execute(&mut *tx)
            .await
            .map_err(db_error)?;
        tx.commit().await.map_err(db_error)?;
        match taken {
            Some((user, expires_at)) if expires_at > millis(now) => Ok(UserId(user)),
            _ => Err(StoreError::NotFound),
        }
    }

    async fn record_audit(&self, entry: &NewAuditEntry) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO audit_log (at, actor_id, action, target, detail) VALUES (?, ?, ?, ?, ?)",
        )
        .bind(millis(entry.at))
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
        let mut tx = self.pool.begin().await.map_err(db_error)?;
        let total: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM audit_log")
            .fetch_one(&mut *tx)
            .await
            .map_err(db_error)?;
        let rows: Vec<(i64, i64, i64, String, String, String, String)> = sqlx::query_as(
            "SELECT a.id, a.at, a.actor_id, u.display_name, a.action, a.target, a.detail \
             FROM audit_log a JOIN users u ON u.id = a.actor_id \
             ORDER BY a.at DESC, a.id DESC LIMIT ? OFFSET ?",
        )
        .bind(i64::from(per_page))
        .bind(i64::from(page - 1) * i64::from(per_page))
        .fetch_all(&mut *tx)
        .await
        .map_err(db_error)?;
        tx.commit().await.map_err(db_error)?;
        let items = rows
            .into_iter()
            .map(|(id, at, actor, actor_name, action, target, detail)| {
                Ok(AuditEntry {
                    id,
                    at: from_millis(at)?,
                    actor_id: UserId(actor),
                    actor_name,
                    action,
                    target,
                    detail,
                })
            })
            .collect::<StoreResult<_>>()?;
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
            sqlx::query("DELETE FROM comment_notice_optouts WHERE user_id = ?").bind(user.0)
        } else {
            sqlx::query(
                "INSERT INTO comment_notice_optouts (user_id, stopped_at) \
                 SELECT id, ? FROM users WHERE id = ? ON CONFLICT DO NOTHING",
            )
            .bind(millis(now))
            .bind(user.0)
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
pub(crate) async fn export_comment_notices(
    conn: &mut SqliteConnection,
) -> StoreResult<Vec<UserId>> {
    let ids: Vec<i64> =
        sqlx::query_scalar("SELECT user_id FROM comment_notice_optouts ORDER BY user_id")
            .fetch_all(&mut *conn)
            .await
            .map_err(db_error)?;
    Ok(ids.into_iter().map(UserId).collect())
}

/// Restores a dump's opt-outs. A dump keeps who, not when: the import is when.
pub(crate) async fn import_comment_notices(
    conn: &mut SqliteConnection,
    users: &[UserId],
) -> StoreResult<()> {
    for user in users {
        sqlx::query("INSERT INTO comment_notice_optouts (user_id, stopped_at) VALUES (?, ?)")
            .bind(user.0)
            .bind(millis(broadsheet_domain::clock::now()))
            .execute(&mut *conn)
            .await
            .map_err(db_error)?;
    }
    Ok(())
}
