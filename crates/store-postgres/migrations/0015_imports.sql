-- Moving a site in (issue 10); the same tables as the SQLite store's 0017_imports.
--
-- Pingbacks and trackbacks arrive with WordPress sites beside comments; they are kept
-- as such rather than dressed up as comments. Readers only ever write 'comment'.
ALTER TABLE comments ADD COLUMN kind TEXT NOT NULL DEFAULT 'comment'
    CHECK (kind IN ('comment', 'pingback', 'trackback'));

-- What every imported item became, written in the same transaction as the item, so an
-- import run again (or resumed after a crash) skips what it already did. No foreign
-- key: `local_id` names an article, comment or user by `kind`.
CREATE TABLE import_map (
    source    TEXT   NOT NULL,
    kind      TEXT   NOT NULL CHECK (kind IN ('post', 'comment', 'user')),
    source_id TEXT   NOT NULL,
    local_id  BIGINT NOT NULL,
    PRIMARY KEY (source, kind, source_id)
);

-- Old paths that answer 301: to an article's current permalink (looked up on each
-- request) or to a fixed location, exactly one of the two.
CREATE TABLE legacy_redirects (
    path       TEXT   PRIMARY KEY,
    article_id BIGINT REFERENCES articles (id) ON DELETE CASCADE,
    location   TEXT,
    CHECK ((article_id IS NULL) <> (location IS NULL))
);
