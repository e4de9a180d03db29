-- Revisions (issue 5): every save of an article keeps a snapshot of the fields its
-- writer controls, written in the same transaction as the save. What the domain
-- derives (HTML, text, read time) is left out: restoring prepares the snapshot again.
CREATE TABLE article_revisions (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    -- Deleting an article deletes its history with it.
    article_id   INTEGER NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
    kind         TEXT    NOT NULL CHECK (kind IN ('article', 'page')),
    title        TEXT    NOT NULL,
    slug         TEXT    NOT NULL,
    excerpt      TEXT    NOT NULL,
    source       TEXT    NOT NULL,
    format       TEXT    NOT NULL CHECK (format IN ('markdown', 'html')),
    -- Tag names in the writer's order, as a JSON array: a revision is read whole and
    -- never searched by tag.
    tags         TEXT    NOT NULL CHECK (json_valid(tags)),
    status       TEXT    NOT NULL CHECK (status IN ('draft', 'scheduled', 'published')),
    published_at INTEGER,
    cover_image  TEXT,
    featured     INTEGER NOT NULL CHECK (featured IN (0, 1)),
    saved_at     INTEGER NOT NULL,
    -- No ON DELETE, as for articles' authors: users are deactivated, not deleted.
    saved_by     INTEGER NOT NULL REFERENCES users (id),
    -- An autosave is replaced by the next autosave unless a real save came between.
    autosave     INTEGER NOT NULL CHECK (autosave IN (0, 1))
) STRICT;

-- An article's history, newest first; also finds the latest revision an autosave
-- may replace.
CREATE INDEX article_revisions_by_article ON article_revisions (article_id, id DESC);

-- The key that signs preview links, one per database so that every node accepts a
-- link any node made. Created on first use.
CREATE TABLE signing_key (
    id  INTEGER PRIMARY KEY CHECK (id = 1),
    key BLOB    NOT NULL CHECK (length(key) = 32)
) STRICT;
