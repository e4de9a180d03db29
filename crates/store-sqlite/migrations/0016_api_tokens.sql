-- API tokens (issue 9): scripts and apps act for a newsroom user through /api/v1.
-- Only the token's SHA-256 (hex) is kept, as for sessions, with its first characters
-- (`prefix`) so people can tell their tokens apart in the admin. A revoked token keeps
-- its row (revoked_at set) so the admin can show when and that it was revoked.
CREATE TABLE api_tokens (
    id           INTEGER PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         TEXT    NOT NULL,
    scope        TEXT    NOT NULL CHECK (scope IN ('read', 'write', 'admin')),
    token_hash   TEXT    NOT NULL UNIQUE,
    prefix       TEXT    NOT NULL,
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER,
    revoked_at   INTEGER
) STRICT;

CREATE INDEX api_tokens_by_user ON api_tokens (user_id);
