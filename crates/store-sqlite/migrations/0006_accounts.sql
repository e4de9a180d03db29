-- Accounts: sign-in sessions, the login lockout, password resets and the audit log.
--
-- Sessions are kept here rather than in a node's memory so that every process on this
-- database accepts them, and ending one (sign-out, a new password, deactivation) ends
-- it everywhere at once. Tokens are stored only as their SHA-256 (hex): the cookie's
-- token and the emailed reset token never reach the database.

CREATE TABLE sessions (
    token_hash   TEXT    PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    csrf         TEXT    NOT NULL,
    created_at   INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL
) STRICT;

CREATE INDEX sessions_by_user ON sessions (user_id);
CREATE INDEX sessions_by_expiry ON sessions (expires_at);

-- Failed sign-ins per address, whether or not an account has it, so the lockout
-- cannot tell which addresses exist. `forget_at` is when a row stops mattering (its
-- window and its lock are over); writes prune rows past it.
CREATE TABLE login_failures (
    email        TEXT    PRIMARY KEY,
    count        INTEGER NOT NULL,
    window_start INTEGER,
    locked_until INTEGER,
    forget_at    INTEGER NOT NULL
) STRICT;

CREATE INDEX login_failures_by_forget_at ON login_failures (forget_at);

CREATE TABLE password_resets (
    token_hash TEXT    PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    expires_at INTEGER NOT NULL
) STRICT;

-- Who did what in the admin. Users are never deleted (they author articles), so the
-- reference always resolves.
CREATE TABLE audit_log (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    at       INTEGER NOT NULL,
    actor_id INTEGER NOT NULL REFERENCES users (id),
    action   TEXT    NOT NULL,
    target   TEXT    NOT NULL,
    detail   TEXT    NOT NULL
) STRICT;
