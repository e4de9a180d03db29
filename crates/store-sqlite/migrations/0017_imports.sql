-- Moving a site in (issue 10).
--
-- Pingbacks and trackbacks arrive with WordPress sites beside comments; they are kept
-- as such rather than dressed up as comments. Readers only ever write 'comment'.
ALTER TABLE comments ADD COLUMN kind TEXT NOT NULL DEFAULT 'comment'
    CHECK (kind IN ('comment', 'pingback', 'trackback'));

-- What every imported item became: written in the same transaction as the item, so an
-- import run again (or resumed after a crash) skips what it already did. `source` is
-- the old site's URL; `source_id` its id for the item (a post id, a comment id, an
-- author's login). No foreign key: `local_id` names an article, comment or user by
-- `kind`, and a deleted item simply stays deleted on the next run.
CREATE TABLE import_map (
    source    TEXT    NOT NULL,
    kind      TEXT    NOT NULL CHECK (kind IN ('post', 'comment', 'user')),
    source_id TEXT    NOT NULL,
    local_id  INTEGER NOT NULL,
    PRIMARY KEY (source, kind, source_id)
) STRICT;

-- Old paths (`/?p=12`, `/category/news/`, an attachment page) that answer 301: to an
-- article's current permalink (looked up on each request, so later slug changes are
-- followed) or to a fixed location. Exactly one of the two targets is set; deleting
-- the article deletes its old paths, which then answer 404 like the article.
CREATE TABLE legacy_redirects (
    path       TEXT    PRIMARY KEY,
    article_id INTEGER REFERENCES articles (id) ON DELETE CASCADE,
    location   TEXT,
    CHECK ((article_id IS NULL) <> (location IS NULL))
) STRICT;
