-- Broadsheet's schema for SQLite: users, articles and pages, their tags, old slugs and
-- the site settings.
--
-- Tables are STRICT so that SQLite refuses a value of the wrong type instead of keeping
-- it silently. Ids are AUTOINCREMENT so an id is never handed out twice, even after its
-- row is gone (ids end up in caches, feeds and webhooks), and so that rows imported with
-- their own ids move the counter past them. Timestamps are INTEGER milliseconds since
-- the Unix epoch, UTC: they compare as numbers, and milliseconds are the precision
-- every Broadsheet store keeps, so a site copied to PostgreSQL and back is unchanged.

CREATE TABLE users (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    slug          TEXT    NOT NULL UNIQUE,
    display_name  TEXT    NOT NULL,
    -- The domain lowercases addresses before they get here.
    email         TEXT    NOT NULL UNIQUE,
    role          TEXT    NOT NULL CHECK (role IN ('contributor', 'author', 'editor', 'admin')),
    bio           TEXT    NOT NULL,
    active        INTEGER NOT NULL CHECK (active IN (0, 1)),
    -- NULL for people who cannot log in, such as imported authors.
    password_hash TEXT,
    created_at    INTEGER NOT NULL
) STRICT;

-- Articles and pages share one table because they share one slug namespace: `/slug/`
-- may name either, so one unique index keeps them apart.
CREATE TABLE articles (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    kind         TEXT    NOT NULL CHECK (kind IN ('article', 'page')),
    slug         TEXT    NOT NULL UNIQUE,
    title        TEXT    NOT NULL,
    excerpt      TEXT    NOT NULL,
    -- What the writer wrote next to what the domain made of it (sanitised HTML, plain
    -- text, reading time), so that a page view never renders or counts.
    source       TEXT    NOT NULL,
    format       TEXT    NOT NULL CHECK (format IN ('markdown', 'html')),
    body_html    TEXT    NOT NULL,
    body_text    TEXT    NOT NULL,
    -- No ON DELETE: a user who wrote something cannot vanish from under it.
    author_id    INTEGER NOT NULL REFERENCES users (id),
    status       TEXT    NOT NULL CHECK (status IN ('draft', 'scheduled', 'published')),
    -- NULL for a draft that has no date yet.
    published_at INTEGER,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    -- Seconds. The bounds are those of the u32 the domain counts in.
    read_time    INTEGER NOT NULL CHECK (read_time BETWEEN 0 AND 4294967295),
    word_count   INTEGER NOT NULL CHECK (word_count BETWEEN 0 AND 4294967295),
    cover_image  TEXT,
    featured     INTEGER NOT NULL CHECK (featured IN (0, 1))
) STRICT;

-- The listings readers see (home, feeds): only rows that can be public, newest first,
-- so the page is read off the index in order. SQLite uses a partial index only when the
-- query repeats its WHERE clause, which the store's listing query does word for word.
CREATE INDEX articles_public_listing ON articles (kind, published_at DESC, id DESC)
    WHERE status IN ('published', 'scheduled');

-- The newsroom's listing of everything, drafts included.
CREATE INDEX articles_listing ON articles (kind, published_at DESC, id DESC);

-- Author pages.
CREATE INDEX articles_by_author ON articles (author_id, published_at DESC, id DESC);

-- Slugs an article had before, answered with a redirect to its current URL so that
-- links never break. A slug is unique across articles.slug and this table together; no
-- index spans two tables, so the store checks it inside the write transaction.
CREATE TABLE slug_redirects (
    slug       TEXT    PRIMARY KEY,
    article_id INTEGER NOT NULL REFERENCES articles (id) ON DELETE CASCADE
) STRICT, WITHOUT ROWID;

-- A tag keeps the name it was first written with; articles refer to it by id.
CREATE TABLE tags (
    id   INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT    NOT NULL,
    slug TEXT    NOT NULL UNIQUE
) STRICT;

CREATE TABLE article_tags (
    article_id INTEGER NOT NULL REFERENCES articles (id) ON DELETE CASCADE,
    tag_id     INTEGER NOT NULL REFERENCES tags (id),
    -- The writer's order, which is the order the hashtags are shown in.
    position   INTEGER NOT NULL,
    PRIMARY KEY (article_id, tag_id)
) STRICT, WITHOUT ROWID;

-- Tag pages: from a tag to its articles.
CREATE INDEX article_tags_by_tag ON article_tags (tag_id, article_id);

-- The site settings as one JSON document in a single row: a new setting needs no
-- migration, and fields missing from an older document take their defaults when read.
CREATE TABLE settings (
    id       INTEGER PRIMARY KEY CHECK (id = 1),
    document TEXT    NOT NULL CHECK (json_valid(document))
) STRICT;
