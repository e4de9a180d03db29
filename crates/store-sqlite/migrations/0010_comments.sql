-- Readers' comments (issue 6). `thread_id` is the id of the thread's top-level comment
-- (its own id for a top-level one), so a page of threads is one indexed range per
-- thread. `day` is the posting day in the site's time zone: the dashboard counts an
-- approved comment there.
--
-- `article_counters.comments` and `daily_counters.comments` count approved comments
-- only; every status change moves them in the same transaction (see `comments.rs`).
-- The email is for moderation and notifications: no public read selects it.
CREATE TABLE comments (
    id             INTEGER PRIMARY KEY,
    article_id     INTEGER NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
    parent_id      INTEGER REFERENCES comments (id) ON DELETE CASCADE,
    thread_id      INTEGER NOT NULL,
    status         TEXT    NOT NULL
                   CHECK (status IN ('pending', 'approved', 'spam', 'trash')),
    author_name    TEXT    NOT NULL,
    author_email   TEXT    NOT NULL,
    author_url     TEXT,
    body           TEXT    NOT NULL,
    body_html      TEXT    NOT NULL,
    reader_id      TEXT,
    network        TEXT    NOT NULL,
    notify_replies INTEGER NOT NULL,
    reason         TEXT,
    day            TEXT    NOT NULL,
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL
) STRICT;

CREATE INDEX comments_by_thread ON comments (article_id, thread_id, id);
CREATE INDEX comments_by_status ON comments (status, id);
CREATE INDEX comments_by_email ON comments (author_email);
